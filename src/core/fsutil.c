/*
 * fsutil.c - see fsutil.h.
 */
#include "core/fsutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

snn_status snn_mkdirs(const char *path, snn_error *err)
{
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return snn_error_set(err, SNN_E_INVALID, "path too long: %s", path);
    for (char *p = buf + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return snn_error_set(err, SNN_E_IO, "cannot create folder %s: %s",
                                 buf, strerror(errno));
        *p = saved;
        if (saved == '\0')
            break;
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return snn_error_set(err, SNN_E_IO, "%s is not a folder", path);
    return SNN_OK;
}

snn_status snn_write_atomic(const char *path, const void *data, size_t len,
                            snn_error *err)
{
    char tmp[4200];
    if (snprintf(tmp, sizeof tmp, "%s.tmp-XXXXXX", path) >= (int)sizeof tmp)
        return snn_error_set(err, SNN_E_INVALID, "path too long: %s", path);
    int fd = mkstemp(tmp);
    if (fd < 0)
        return snn_error_set(err, SNN_E_IO, "cannot write %s: %s", path,
                             strerror(errno));
    const char *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = errno;
            close(fd);
            unlink(tmp);
            return snn_error_set(err, SNN_E_IO, "cannot write %s: %s", path,
                                 strerror(e));
        }
        p += w;
        left -= (size_t)w;
    }
    /* mkstemp makes the file 0600; outputs are ordinary files. */
    int failed = fchmod(fd, 0644) != 0;
    int e = errno;
    if (close(fd) != 0 && !failed) {
        failed = 1;
        e = errno;
    }
    if (!failed && rename(tmp, path) != 0) {
        failed = 1;
        e = errno;
    }
    if (failed) {
        unlink(tmp);
        return snn_error_set(err, SNN_E_IO, "cannot write %s: %s", path,
                             strerror(e));
    }
    return SNN_OK;
}

int snn_file_exists(const char *path)
{
    return access(path, F_OK) == 0;
}

snn_status snn_path_join(char *buf, size_t n, const char *dir,
                         const char *name, snn_error *err)
{
    size_t dl = strlen(dir);
    int slash = dl > 0 && dir[dl - 1] != '/';
    if (snprintf(buf, n, "%s%s%s", dir, slash ? "/" : "", name) >= (int)n)
        return snn_error_set(err, SNN_E_INVALID, "path too long: %s/%s", dir,
                             name);
    return SNN_OK;
}

snn_status snn_read_text(const char *path, size_t max, const char *what,
                         char **text, size_t *len, snn_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return snn_error_set(err, SNN_E_IO, "%s: cannot open: %s", path,
                             strerror(errno));
    char *buf = malloc(max + 1);
    size_t n = buf ? fread(buf, 1, max + 1, f) : 0;
    int failed = buf && ferror(f);
    fclose(f);
    snn_status st = SNN_OK;
    if (!buf)
        st = snn_error_set(err, SNN_E_NOMEM, "%s: out of memory", path);
    else if (failed)
        st = snn_error_set(err, SNN_E_IO, "%s: read error", path);
    else if (n > max)
        st = snn_error_set(err, SNN_E_FORMAT,
                           "%s: larger than %zu bytes; not %s", path, max,
                           what);
    else if (memchr(buf, '\0', n))
        st = snn_error_set(err, SNN_E_FORMAT,
                           "%s: contains a NUL byte; not %s", path, what);
    if (st != SNN_OK) {
        free(buf);
        return st;
    }
    buf[n] = '\0';
    *text = buf;
    if (len)
        *len = n;
    return SNN_OK;
}
