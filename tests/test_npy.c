/*
 * test_npy.c - the .npy/.npz reader against files numpy wrote
 * (scripts/gen_npy_fixtures.py): every dtype in both byte orders, header
 * versions 1-3, Fortran order, scalars, stored and deflated archives, and
 * files numpy would refuse or that are broken.  Values follow the
 * generator's formulas of the flat C-order index, recomputed here.
 */
#include "testutil.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "snntb/dataset.h"

typedef enum kind { K_FLOAT, K_SINT, K_UINT, K_BOOL } kind;

/* The generator's SCALE: significant bits in the high bytes. */
static int64_t scale(unsigned size)
{
    switch (size) {
    case 2: return 256;
    case 4: return INT64_C(1) << 20;
    case 8: return INT64_C(1) << 40;
    default: return 1;
    }
}

static float expected(kind k, unsigned size, size_t i)
{
    int64_t n = (int64_t)i;
    switch (k) {
    case K_FLOAT: return (float)((double)n * 0.5 - 3.0);
    case K_SINT: return (float)((n * 37 - 100) * scale(size));
    case K_UINT: return (float)((n * 50 + 3) * scale(size));
    case K_BOOL: return n % 3 == 0 ? 1.0f : 0.0f;
    }
    return 0.0f;
}

static void assert_formula(const snn_tensor *t, kind k, unsigned size)
{
    size_t n = snn_tensor_numel(t);
    for (size_t i = 0; i < n; i++)
        if (t->data[i] != expected(k, size, i))
            fail_msg("element %zu is %g, expected %g", i, (double)t->data[i],
                     (double)expected(k, size, i));
}

static void assert_shape(const snn_tensor *t, int ndim, const size_t *dims)
{
    assert_int_equal(t->ndim, ndim);
    for (int i = 0; i < ndim; i++)
        assert_int_equal(t->dims[i], dims[i]);
}

static snn_status load_fixture(const char *name, snn_tensor *t,
                               snn_error *err)
{
    char path[1024], rel[256];
    snprintf(rel, sizeof rel, "npy/%s", name);
    return snn_npy_load(tu_fixture(path, sizeof path, rel), t, err);
}

static void test_every_dtype_and_byte_order(void **state)
{
    (void)state;
    static const struct {
        const char *file;
        kind k;
        unsigned size;
    } cases[] = {
        {"f4_le.npy", K_FLOAT, 4}, {"f4_be.npy", K_FLOAT, 4},
        {"f8_le.npy", K_FLOAT, 8}, {"f8_be.npy", K_FLOAT, 8},
        {"i1.npy", K_SINT, 1},     {"i2_le.npy", K_SINT, 2},
        {"i2_be.npy", K_SINT, 2},  {"i4_le.npy", K_SINT, 4},
        {"i4_be.npy", K_SINT, 4},  {"i8_le.npy", K_SINT, 8},
        {"i8_be.npy", K_SINT, 8},  {"u1.npy", K_UINT, 1},
        {"u2_le.npy", K_UINT, 2},  {"u2_be.npy", K_UINT, 2},
        {"u4_le.npy", K_UINT, 4},  {"u4_be.npy", K_UINT, 4},
        {"u8_le.npy", K_UINT, 8},  {"u8_be.npy", K_UINT, 8},
        {"b1.npy", K_BOOL, 1},
    };
    const size_t dims[] = {2, 3};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        snn_tensor t;
        snn_error err;
        print_message("%s\n", cases[c].file);
        assert_int_equal(load_fixture(cases[c].file, &t, &err), SNN_OK);
        assert_shape(&t, 2, dims);
        assert_formula(&t, cases[c].k, cases[c].size);
        snn_tensor_free(&t);
    }
}

static void test_header_versions(void **state)
{
    (void)state;
    const char *files[] = {"v1.npy", "v2.npy", "v3.npy"};
    const size_t dims[] = {2, 3};
    for (int v = 0; v < 3; v++) {
        snn_tensor t;
        snn_error err;
        assert_int_equal(load_fixture(files[v], &t, &err), SNN_OK);
        assert_shape(&t, 2, dims);
        assert_formula(&t, K_FLOAT, 4);
        snn_tensor_free(&t);
    }
}

static void test_fortran_order_becomes_c_order(void **state)
{
    (void)state;
    snn_tensor t;
    snn_error err;
    const size_t d3[] = {2, 3, 4}, d2[] = {3, 2};
    assert_int_equal(load_fixture("fortran_f8.npy", &t, &err), SNN_OK);
    assert_shape(&t, 3, d3);
    assert_formula(&t, K_FLOAT, 8);
    snn_tensor_free(&t);
    assert_int_equal(load_fixture("fortran_i2_be.npy", &t, &err), SNN_OK);
    assert_shape(&t, 2, d2);
    assert_formula(&t, K_SINT, 2);
    snn_tensor_free(&t);
}

static void test_scalar_vector_and_empty(void **state)
{
    (void)state;
    snn_tensor t;
    snn_error err;
    const size_t d1[] = {5}, d0[] = {0, 3};
    assert_int_equal(load_fixture("scalar.npy", &t, &err), SNN_OK);
    assert_int_equal(t.ndim, 0);
    assert_int_equal(snn_tensor_numel(&t), 1);
    assert_true(t.data[0] == 7.25f);
    snn_tensor_free(&t);
    assert_int_equal(load_fixture("vector.npy", &t, &err), SNN_OK);
    assert_shape(&t, 1, d1);
    assert_formula(&t, K_FLOAT, 4);
    snn_tensor_free(&t);
    assert_int_equal(load_fixture("empty.npy", &t, &err), SNN_OK);
    assert_shape(&t, 2, d0);
    snn_tensor_free(&t);
}

/* Writes a .npy with the given version and header text, then data. */
static void write_npy(const char *path, int major, const char *header,
                      const void *data, size_t len)
{
    unsigned char buf[512];
    size_t hlen = strlen(header), pre = major == 1 ? 10 : 12;
    assert_true(pre + hlen + len <= sizeof buf);
    memcpy(buf, "\x93NUMPY", 6);
    buf[6] = (unsigned char)major;
    buf[7] = 0;
    for (size_t i = 0; i < pre - 8; i++)
        buf[8 + i] = (unsigned char)(hlen >> (8 * i));
    memcpy(buf + pre, header, hlen);
    memcpy(buf + pre + hlen, data, len);
    tu_write_file(path, (const char *)buf, pre + hlen + len);
}

static snn_status load_written(const char *dir, int major, const char *header,
                               const void *data, size_t len, snn_tensor *t,
                               snn_error *err)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/a.npy", dir);
    write_npy(path, major, header, data, len);
    return snn_npy_load(path, t, err);
}

static void test_python2_header_with_long_suffix(void **state)
{
    (void)state;
    char dir[512];
    tu_tempdir(dir, sizeof dir);
    const unsigned char data[] = {1, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff};
    snn_tensor t;
    snn_error err;
    assert_int_equal(
        load_written(dir, 1,
                     "{\"descr\": \"<i4\", \"fortran_order\": False, "
                     "\"shape\": (2L,)}   \n",
                     data, sizeof data, &t, &err),
        SNN_OK);
    assert_int_equal(t.ndim, 1);
    assert_int_equal(t.dims[0], 2);
    assert_true(t.data[0] == 1.0f && t.data[1] == -2.0f);
    snn_tensor_free(&t);
    tu_rmtree(dir);
}

static void expect_error(const char *dir, int major, const char *header,
                         size_t datalen, snn_status want, const char *needle)
{
    unsigned char data[64] = {0};
    snn_tensor t;
    snn_error err;
    print_message("header %s\n", header);
    assert_int_equal(load_written(dir, major, header, data, datalen, &t, &err),
                     want);
    assert_non_null(strstr(err.msg, "a.npy"));
    assert_non_null(strstr(err.msg, needle));
    assert_null(t.data);
}

static void test_hostile_headers(void **state)
{
    (void)state;
    char dir[512];
    tu_tempdir(dir, sizeof dir);
    const char *f4 = "{'descr': '<f4', 'fortran_order': False, ";
    char h[256];
    snprintf(h, sizeof h, "%s'shape': (1099511627776, 1099511627776), }", f4);
    expect_error(dir, 1, h, 8, SNN_E_FORMAT, "truncated");
    snprintf(h, sizeof h, "%s'shape': (1,1,1,1,1,1,1,1,1), }", f4);
    expect_error(dir, 1, h, 8, SNN_E_UNSUPPORTED, "more than 8 dimensions");
    snprintf(h, sizeof h, "%s'shape': (99999999999999999999999,), }", f4);
    expect_error(dir, 1, h, 8, SNN_E_FORMAT, "malformed");
    snprintf(h, sizeof h, "%s}", f4);
    expect_error(dir, 2, h, 8, SNN_E_FORMAT, "malformed");
    snprintf(h, sizeof h, "%s'shape': (2,), 'extra': 1}", f4);
    expect_error(dir, 1, h, 8, SNN_E_FORMAT, "malformed");
    snprintf(h, sizeof h, "%s'shape': (2,), } trailing", f4);
    expect_error(dir, 1, h, 8, SNN_E_FORMAT, "malformed");
    expect_error(dir, 1, "{'descr': '<f2', 'fortran_order': False, "
                         "'shape': (2,), }",
                 8, SNN_E_UNSUPPORTED, "'<f2'");
    expect_error(dir, 1, "{'descr': '<M8[ns]', 'fortran_order': False, "
                         "'shape': (2,), }",
                 16, SNN_E_UNSUPPORTED, "'<M8[ns]'");
    expect_error(dir, 4, "{}", 0, SNN_E_UNSUPPORTED, "version 4.0");
    expect_error(dir, 1, "{'descr': '<f4'", 0, SNN_E_FORMAT, "malformed");
    tu_rmtree(dir);
}

static void test_bad_magic_and_short_files(void **state)
{
    (void)state;
    char dir[512], path[1024];
    tu_tempdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/b.npy", dir);
    snn_tensor t;
    snn_error err;
    tu_write_file(path, "PK\3\4 not npy at all", 19);
    assert_int_equal(snn_npy_load(path, &t, &err), SNN_E_FORMAT);
    assert_non_null(strstr(err.msg, "bad magic"));
    tu_write_file(path, "\x93NUMPY\1\0\xff\xff", 10);
    assert_int_equal(snn_npy_load(path, &t, &err), SNN_E_FORMAT);
    assert_non_null(strstr(err.msg, "exceeds the file"));
    tu_write_file(path, "", 0);
    assert_int_equal(snn_npy_load(path, &t, &err), SNN_E_FORMAT);
    assert_non_null(strstr(err.msg, "b.npy"));
    tu_rmtree(dir);
    assert_int_equal(snn_npy_load(path, &t, &err), SNN_E_IO);
    assert_non_null(strstr(err.msg, "b.npy"));
}

static void test_truncated_file(void **state)
{
    (void)state;
    snn_tensor t;
    snn_error err;
    assert_int_equal(load_fixture("truncated.npy", &t, &err), SNN_E_FORMAT);
    assert_non_null(strstr(err.msg, "truncated.npy: truncated"));
    assert_non_null(strstr(err.msg, "(2, 3)"));
    assert_null(t.data);
}

static void test_non_numeric_dtypes_are_refused(void **state)
{
    (void)state;
    static const struct {
        const char *file, *dtype;
    } cases[] = {
        {"object.npy", "'|O'"},
        {"structured.npy", "[('a', '<i4'), ('b', '<f4')]"},
        {"unicode.npy", "'<U2'"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        snn_tensor t;
        snn_error err;
        assert_int_equal(load_fixture(cases[c].file, &t, &err),
                         SNN_E_UNSUPPORTED);
        print_message("%s\n", err.msg);
        assert_non_null(strstr(err.msg, cases[c].file));
        assert_non_null(strstr(err.msg, cases[c].dtype));
    }
}

/* numpy writes each member with a Zip64 local extra field (sizes
 * 0xffffffff), which the reader must follow. */
static void check_npz(const char *file)
{
    char path[1024], rel[256];
    snprintf(rel, sizeof rel, "npy/%s", file);
    tu_fixture(path, sizeof path, rel);
    snn_tensor t;
    snn_error err;
    const size_t d0[] = {2, 3}, d1[] = {3, 2}, dw[] = {4};
    assert_int_equal(snn_npz_load(path, "arr_0", &t, &err), SNN_OK);
    assert_shape(&t, 2, d0);
    assert_formula(&t, K_FLOAT, 4);
    snn_tensor_free(&t);
    assert_int_equal(snn_npz_load(path, "arr_1", &t, &err), SNN_OK);
    assert_shape(&t, 2, d1);
    assert_formula(&t, K_SINT, 2);
    snn_tensor_free(&t);
    assert_int_equal(snn_npz_load(path, "weights", &t, &err), SNN_OK);
    assert_shape(&t, 1, dw);
    assert_formula(&t, K_FLOAT, 8);
    snn_tensor_free(&t);
}

static void test_npz_stored_and_deflated(void **state)
{
    (void)state;
    check_npz("stored.npz");
    check_npz("deflated.npz");
}

static void test_npz_missing_key_lists_keys(void **state)
{
    (void)state;
    char path[1024];
    tu_fixture(path, sizeof path, "npy/deflated.npz");
    snn_tensor t;
    snn_error err;
    assert_int_equal(snn_npz_load(path, "arr_7", &t, &err), SNN_E_FORMAT);
    print_message("%s\n", err.msg);
    assert_non_null(strstr(err.msg, "deflated.npz"));
    assert_non_null(strstr(err.msg, "'arr_7'"));
    assert_non_null(strstr(err.msg, "arr_0"));
    assert_non_null(strstr(err.msg, "arr_1"));
    assert_non_null(strstr(err.msg, "weights"));
    assert_null(strstr(err.msg, ".npy"));
}

static void test_npz_that_is_not_a_zip(void **state)
{
    (void)state;
    char path[1024];
    tu_fixture(path, sizeof path, "npy/v1.npy");
    snn_tensor t;
    snn_error err;
    assert_int_equal(snn_npz_load(path, "arr_0", &t, &err), SNN_E_FORMAT);
    assert_non_null(strstr(err.msg, "v1.npy"));
    tu_fixture(path, sizeof path, "npy/absent.npz");
    assert_int_equal(snn_npz_load(path, "arr_0", &t, &err), SNN_E_IO);
    assert_non_null(strstr(err.msg, "absent.npz"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_dtype_and_byte_order),
        cmocka_unit_test(test_header_versions),
        cmocka_unit_test(test_fortran_order_becomes_c_order),
        cmocka_unit_test(test_scalar_vector_and_empty),
        cmocka_unit_test(test_python2_header_with_long_suffix),
        cmocka_unit_test(test_hostile_headers),
        cmocka_unit_test(test_bad_magic_and_short_files),
        cmocka_unit_test(test_truncated_file),
        cmocka_unit_test(test_non_numeric_dtypes_are_refused),
        cmocka_unit_test(test_npz_stored_and_deflated),
        cmocka_unit_test(test_npz_missing_key_lists_keys),
        cmocka_unit_test(test_npz_that_is_not_a_zip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
