/*
 * test_dataset.c - loading a test set (x, one-hot y) from the .npz pair
 * and from IDX files: small fixtures numpy and Python's gzip wrote, IDX
 * files spelled out here, and, where present, the real MNIST (.npz, from
 * ../shared) and Fashion-MNIST (IDX, from /usr/share/datasets).
 */
#include "testutil.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "snntb/dataset.h"

#define FASHION_DIR "/usr/share/datasets/fashion-mnist"

static void assert_dims(const snn_tensor *t, int ndim, const size_t *dims)
{
    assert_int_equal(t->ndim, ndim);
    for (int i = 0; i < ndim; i++)
        assert_int_equal(t->dims[i], dims[i]);
}

/* Each row of y sums to one, with a single 1: checked here directly rather
 * than through the loader's own check. */
static void assert_one_hot(const snn_tensor *y)
{
    for (size_t i = 0; i < y->dims[0]; i++) {
        float sum = 0, max = 0;
        for (size_t j = 0; j < y->dims[1]; j++) {
            sum += y->data[i * y->dims[1] + j];
            if (y->data[i * y->dims[1] + j] > max)
                max = y->data[i * y->dims[1] + j];
        }
        if (sum != 1.0f || max != 1.0f)
            fail_msg("row %zu is not one-hot", i);
    }
}

static void assert_in_unit_range(const snn_tensor *x, float *lo, float *hi)
{
    size_t n = snn_tensor_numel(x);
    *lo = x->data[0];
    *hi = x->data[0];
    for (size_t i = 0; i < n; i++) {
        assert_true(x->data[i] >= 0.0f && x->data[i] <= 1.0f);
        *lo = x->data[i] < *lo ? x->data[i] : *lo;
        *hi = x->data[i] > *hi ? x->data[i] : *hi;
    }
}

static void test_npz_pair(void **state)
{
    (void)state;
    char dir[1024];
    tu_fixture(dir, sizeof dir, "npy/dataset_npz");
    snn_dataset d;
    snn_error err;
    const size_t xd[] = {4, 1, 2, 2}, yd[] = {4, 3};
    const int labels[] = {2, 0, 1, 2};
    assert_int_equal(snn_dataset_load_npz(&d, dir, &err), SNN_OK);
    assert_int_equal(snn_dataset_size(&d), 4);
    assert_dims(&d.x, 4, xd);
    assert_dims(&d.y, 2, yd);
    for (size_t i = 0; i < 16; i++)
        assert_true(d.x.data[i] == (float)i * 0.5f - 3.0f);
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(snn_dataset_label(&d, i), labels[i]);
    assert_int_equal(snn_dataset_label(&d, 4), -1);
    snn_dataset_free(&d);
    assert_int_equal(snn_dataset_size(&d), 0);
}

static void test_npz_pair_problems(void **state)
{
    (void)state;
    char dir[1024];
    snn_dataset d;
    snn_error err;
    tu_fixture(dir, sizeof dir, "npy/dataset_count");
    assert_int_equal(snn_dataset_load_npz(&d, dir, &err), SNN_E_SHAPE);
    assert_non_null(strstr(err.msg, "x_test.npz has 4 samples"));
    assert_non_null(strstr(err.msg, "y_test.npz has 3 labels"));
    assert_null(d.x.data);
    tu_fixture(dir, sizeof dir, "npy/dataset_soft");
    assert_int_equal(snn_dataset_load_npz(&d, dir, &err), SNN_E_FORMAT);
    assert_non_null(strstr(err.msg, "y_test.npz: label row 1 is not one-hot"));
    tu_fixture(dir, sizeof dir, "npy/absent");
    assert_int_equal(snn_dataset_load_npz(&d, dir, &err), SNN_E_IO);
    assert_non_null(strstr(err.msg, "absent/x_test.npz"));
}

static void test_idx_gzip_pair(void **state)
{
    (void)state;
    char dir[1024];
    tu_fixture(dir, sizeof dir, "npy/dataset_idx");
    snn_dataset d;
    snn_error err;
    const size_t xd[] = {3, 1, 2, 3}, yd[] = {3, 10};
    const int labels[] = {9, 0, 3};
    assert_int_equal(snn_dataset_load_idx(&d, dir, &err), SNN_OK);
    assert_int_equal(snn_dataset_size(&d), 3);
    assert_dims(&d.x, 4, xd);
    assert_dims(&d.y, 2, yd);
    for (unsigned i = 0; i < 18; i++)
        assert_float_equal(d.x.data[i], (float)((i * 37) % 256) / 255.0f,
                           1e-7f);
    assert_one_hot(&d.y);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(snn_dataset_label(&d, i), labels[i]);
    snn_dataset_free(&d);
}

/* Plain (not gzipped) IDX images (n, 2, 2) of value 255 and labels. */
static void write_plain_pair(const char *dir, unsigned char n,
                             const unsigned char *labels, size_t nlabels)
{
    char path[1024], buf[64] = {0, 0, 8, 3, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 2};
    buf[7] = (char)n;
    memset(buf + 16, 0xff, 4u * n);
    snprintf(path, sizeof path, "%s/t10k-images-idx3-ubyte", dir);
    tu_write_file(path, buf, 16 + 4u * n);
    char lab[32] = {0, 0, 8, 1, 0, 0, 0, 0};
    lab[7] = (char)nlabels;
    memcpy(lab + 8, labels, nlabels);
    snprintf(path, sizeof path, "%s/t10k-labels-idx1-ubyte", dir);
    tu_write_file(path, lab, 8 + nlabels);
}

static void test_idx_plain_pair_and_problems(void **state)
{
    (void)state;
    char dir[512];
    tu_tempdir(dir, sizeof dir);
    snn_dataset d;
    snn_error err;
    assert_int_equal(snn_dataset_load_idx(&d, dir, &err), SNN_E_IO);
    assert_non_null(strstr(err.msg, "t10k-images-idx3-ubyte.gz"));
    write_plain_pair(dir, 2, (const unsigned char *)"\x01\x07", 2);
    assert_int_equal(snn_dataset_load_idx(&d, dir, &err), SNN_OK);
    assert_true(d.x.data[0] == 1.0f && d.x.data[7] == 1.0f);
    assert_int_equal(snn_dataset_label(&d, 0), 1);
    assert_int_equal(snn_dataset_label(&d, 1), 7);
    snn_dataset_free(&d);
    write_plain_pair(dir, 2, (const unsigned char *)"\x01\x0a", 2);
    assert_int_equal(snn_dataset_load_idx(&d, dir, &err), SNN_E_FORMAT);
    assert_non_null(strstr(err.msg, "t10k-labels-idx1-ubyte: label 10 of "
                                    "sample 1"));
    write_plain_pair(dir, 2, (const unsigned char *)"\x01\x02\x03", 3);
    assert_int_equal(snn_dataset_load_idx(&d, dir, &err), SNN_E_SHAPE);
    assert_non_null(strstr(err.msg, "has 2 samples"));
    assert_non_null(strstr(err.msg, "has 3 labels"));
    assert_null(d.y.data);
    tu_rmtree(dir);
}

static void test_real_fashion_mnist(void **state)
{
    (void)state;
    if (access(FASHION_DIR "/t10k-images-idx3-ubyte.gz", R_OK) != 0) {
        print_message("skipping: %s is absent\n", FASHION_DIR);
        skip();
    }
    snn_dataset d;
    snn_error err;
    const size_t xd[] = {10000, 1, 28, 28};
    float lo, hi;
    assert_int_equal(snn_dataset_load_idx(&d, FASHION_DIR, &err), SNN_OK);
    assert_int_equal(snn_dataset_size(&d), 10000);
    assert_dims(&d.x, 4, xd);
    assert_in_unit_range(&d.x, &lo, &hi);
    assert_true(lo == 0.0f && hi == 1.0f);
    assert_one_hot(&d.y);
    /* The published test set starts with an ankle boot, then a pullover. */
    assert_int_equal(snn_dataset_label(&d, 0), 9);
    assert_int_equal(snn_dataset_label(&d, 1), 2);
    snn_dataset_free(&d);
}

static void test_shared_mnist_npz(void **state)
{
    (void)state;
    char path[1024];
    if (!tu_shared(path, sizeof path, "data/mnist/x_test.npz"))
        skip();
    *strrchr(path, '/') = '\0';
    snn_dataset d;
    snn_error err;
    const size_t xd[] = {10000, 1, 28, 28}, yd[] = {10000, 10};
    float lo, hi;
    assert_int_equal(snn_dataset_load_npz(&d, path, &err), SNN_OK);
    assert_dims(&d.x, 4, xd);
    assert_dims(&d.y, 2, yd);
    assert_in_unit_range(&d.x, &lo, &hi);
    assert_true(lo == 0.0f && hi == 1.0f);
    assert_one_hot(&d.y);
    /* MNIST's test set starts 7, 2, 1, 0, 4. */
    const int first[] = {7, 2, 1, 0, 4};
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(snn_dataset_label(&d, i), first[i]);
    snn_dataset_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_npz_pair),
        cmocka_unit_test(test_npz_pair_problems),
        cmocka_unit_test(test_idx_gzip_pair),
        cmocka_unit_test(test_idx_plain_pair_and_problems),
        cmocka_unit_test(test_real_fashion_mnist),
        cmocka_unit_test(test_shared_mnist_npz),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
