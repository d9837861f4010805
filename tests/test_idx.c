/*
 * test_idx.c - the IDX reader on files whose bytes are spelled out here
 * (one per element type, big-endian values decoded by hand), on the
 * gzip fixture Python's gzip module wrote, on gzip files zlib writes
 * here, and on broken or lying headers.
 */
#include "testutil.h"

#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include "snntb/dataset.h"

/* Writes header + payload; gz selects zlib's gzip writer. */
static void write_idx(const char *path, int gz, unsigned char type, int ndim,
                      const unsigned *dims, const void *payload, size_t len)
{
    unsigned char buf[256];
    size_t n = 0;
    buf[n++] = 0;
    buf[n++] = 0;
    buf[n++] = type;
    buf[n++] = (unsigned char)ndim;
    for (int i = 0; i < ndim; i++)
        for (int b = 3; b >= 0; b--)
            buf[n++] = (unsigned char)(dims[i] >> (8 * b));
    assert_true(n + len <= sizeof buf);
    memcpy(buf + n, payload, len);
    n += len;
    if (!gz) {
        tu_write_file(path, (const char *)buf, n);
        return;
    }
    gzFile f = gzopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(gzwrite(f, buf, (unsigned)n), (int)n);
    assert_int_equal(gzclose(f), Z_OK);
}

typedef struct idx_case {
    unsigned char type;
    unsigned n;
    const char *bytes;
    size_t len;
    float want[4];
} idx_case;

static void test_every_element_type(void **state)
{
    (void)state;
    static const idx_case cases[] = {
        {0x08, 4, "\x00\x01\x80\xff", 4, {0, 1, 128, 255}},
        {0x09, 4, "\x80\xff\x00\x7f", 4, {-128, -1, 0, 127}},
        {0x0B, 2, "\x80\x00\x01\x02", 4, {-32768, 258}},
        {0x0C, 2, "\xff\xff\xff\xfe\x00\x01\x00\x00", 8, {-2, 65536}},
        /* 1.5 and -10 as IEEE single */
        {0x0D, 2, "\x3f\xc0\x00\x00\xc1\x20\x00\x00", 8, {1.5f, -10}},
        /* 0.1 as IEEE double, rounded to float */
        {0x0E, 1, "\x3f\xb9\x99\x99\x99\x99\x99\x9a", 8, {0.1f}},
    };
    char dir[512], path[1024];
    tu_tempdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/a.idx", dir);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const idx_case *k = &cases[c];
        snn_tensor t;
        snn_error err;
        print_message("type 0x%02X\n", k->type);
        write_idx(path, 0, k->type, 1, &k->n, k->bytes, k->len);
        assert_int_equal(snn_idx_load(path, &t, &err), SNN_OK);
        assert_int_equal(t.ndim, 1);
        assert_int_equal(t.dims[0], k->n);
        for (unsigned i = 0; i < k->n; i++)
            assert_true(t.data[i] == k->want[i]);
        snn_tensor_free(&t);
    }
    tu_rmtree(dir);
}

static void test_gzip_fixture_from_python(void **state)
{
    (void)state;
    char path[1024];
    tu_fixture(path, sizeof path, "npy/dataset_idx/t10k-images-idx3-ubyte.gz");
    snn_tensor t;
    snn_error err;
    assert_int_equal(snn_idx_load(path, &t, &err), SNN_OK);
    assert_int_equal(t.ndim, 3);
    assert_int_equal(t.dims[0], 3);
    assert_int_equal(t.dims[1], 2);
    assert_int_equal(t.dims[2], 3);
    for (unsigned i = 0; i < 18; i++)
        assert_true(t.data[i] == (float)((i * 37) % 256));
    snn_tensor_free(&t);
}

static void test_gzip_written_by_zlib(void **state)
{
    (void)state;
    char dir[512], path[1024];
    tu_tempdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/a.idx.gz", dir);
    const unsigned dims[] = {2, 1};
    write_idx(path, 1, 0x0B, 2, dims, "\xff\x9c\x00\x64", 4);
    snn_tensor t;
    snn_error err;
    assert_int_equal(snn_idx_load(path, &t, &err), SNN_OK);
    assert_int_equal(t.ndim, 2);
    assert_true(t.data[0] == -100.0f && t.data[1] == 100.0f);
    snn_tensor_free(&t);
    tu_rmtree(dir);
}

static void expect_error(const char *path, snn_status want,
                         const char *needle)
{
    snn_tensor t;
    snn_error err;
    assert_int_equal(snn_idx_load(path, &t, &err), want);
    print_message("%s\n", err.msg);
    assert_non_null(strstr(err.msg, path));
    assert_non_null(strstr(err.msg, needle));
    assert_null(t.data);
}

static void test_broken_headers(void **state)
{
    (void)state;
    char dir[512], path[1024];
    tu_tempdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/bad", dir);
    const unsigned ten = 10, huge[3] = {65535, 65535, 65535};
    const unsigned nine[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    tu_write_file(path, "\x01\x00\x08\x01", 4);
    expect_error(path, SNN_E_FORMAT, "bad magic");
    write_idx(path, 0, 0x0A, 1, &ten, "", 0);
    expect_error(path, SNN_E_FORMAT, "type 0x0A");
    write_idx(path, 0, 0x08, 0, NULL, "", 0);
    expect_error(path, SNN_E_UNSUPPORTED, "rank 0");
    write_idx(path, 0, 0x08, 9, nine, "\x01", 1);
    expect_error(path, SNN_E_UNSUPPORTED, "rank 9");
    write_idx(path, 0, 0x08, 1, &ten, "\x01\x02\x03", 3);
    expect_error(path, SNN_E_FORMAT, "truncated");
    tu_write_file(path, "\x00\x00\x08\x02\x00\x00", 6);
    expect_error(path, SNN_E_FORMAT, "truncated");
    /* A gzip file cannot hold 2^48 bytes in a few dozen: refused before
     * allocating rather than after failing to read. */
    write_idx(path, 1, 0x08, 3, huge, "\x01", 1);
    expect_error(path, SNN_E_FORMAT, "(65535, 65535, 65535)");
    tu_rmtree(dir);
    expect_error(path, SNN_E_IO, "cannot open");
}

static void test_corrupt_gzip_stream(void **state)
{
    (void)state;
    char dir[512], path[1024];
    tu_tempdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/c.gz", dir);
    /* gzip magic and header, then bytes that are no deflate stream */
    tu_write_file(path, "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\xff\xff\xff"
                        "\xff\xff\xff\xff\xff", 18);
    expect_error(path, SNN_E_FORMAT, "c.gz");
    tu_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_element_type),
        cmocka_unit_test(test_gzip_fixture_from_python),
        cmocka_unit_test(test_gzip_written_by_zlib),
        cmocka_unit_test(test_broken_headers),
        cmocka_unit_test(test_corrupt_gzip_stream),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
