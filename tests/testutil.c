/*
 * testutil.c - see testutil.h.
 */
#define _XOPEN_SOURCE 700
#include "testutil.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *tu_fixture(char *buf, size_t n, const char *rel)
{
    snprintf(buf, n, "%s/%s", SNNTB_FIXTURES, rel);
    return buf;
}

const char *tu_shared(char *buf, size_t n, const char *rel)
{
    snprintf(buf, n, "%s/%s", SNNTB_SHARED, rel);
    if (access(buf, R_OK) != 0) {
        printf("skipping: shared file %s is absent\n", buf);
        return NULL;
    }
    return buf;
}

const char *tu_tempdir(char *buf, size_t n)
{
    const char *base = getenv("TMPDIR");
    snprintf(buf, n, "%s/snntb-test-XXXXXX", base ? base : "/tmp");
    if (!mkdtemp(buf))
        fail_msg("mkdtemp failed");
    return buf;
}

static int rm_entry(const char *path, const struct stat *sb, int flag,
                    struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void tu_rmtree(const char *path)
{
    nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

void tu_write_file(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    fclose(f);
}

int tu_quick(void)
{
    const char *q = getenv("SNNTB_QUICK");
    return q && *q && strcmp(q, "0") != 0;
}
