/*
 * test_dataset_fit.c - 1-D models' samples: a Conv1D model's input is held
 * as a (C, 1, steps) image, and snn_dataset_fit takes sequences in Keras'
 * (N, steps, C) and in (N, C, steps), checked value by value against the
 * transposes written out by hand; a one-channel sequence takes images of
 * as many pixels in row-major order; shapes that fit neither, or both
 * (steps equal to C), are refused with a message naming the data.
 */
#include "testutil.h"

#include <string.h>

#include "pipeline/dataset_fit.h"

/* 2 samples of 3 steps of 2 channels, value 100 n + 10 t + c, stored in
 * (N, steps, C) order. */
static void sequence_steps_last(snn_tensor *x)
{
    size_t dims[3] = {2, 3, 2};
    assert_int_equal(snn_tensor_init(x, 3, dims, NULL), SNN_OK);
    for (size_t n = 0; n < 2; n++)
        for (size_t t = 0; t < 3; t++)
            for (size_t c = 0; c < 2; c++)
                x->data[(n * 3 + t) * 2 + c] = (float)(100 * n + 10 * t + c);
}

/* What every accepted layout must become: (N, C, 1, steps), written out. */
static const float want_chw[12] = {0, 10, 20, 1, 11, 21,
                                   100, 110, 120, 101, 111, 121};

static const snn_shape seq_in = {3, {2, 1, 3}};

static void assert_fitted(const snn_tensor *x)
{
    assert_int_equal(x->ndim, 4);
    assert_int_equal(x->dims[0], 2);
    assert_int_equal(x->dims[1], 2);
    assert_int_equal(x->dims[2], 1);
    assert_int_equal(x->dims[3], 3);
    assert_memory_equal(x->data, want_chw, sizeof want_chw);
}

static void test_steps_channels_transposed(void **state)
{
    (void)state;
    snn_tensor x;
    snn_error err = {0};
    sequence_steps_last(&x);
    assert_int_equal(snn_dataset_fit(&x, &seq_in, "x", &err), SNN_OK);
    assert_fitted(&x);
    snn_tensor_free(&x);
}

static void test_channels_steps_kept(void **state)
{
    (void)state;
    snn_tensor x;
    snn_error err = {0};
    size_t dims[3] = {2, 2, 3};
    assert_int_equal(snn_tensor_init(&x, 3, dims, NULL), SNN_OK);
    memcpy(x.data, want_chw, sizeof want_chw);
    assert_int_equal(snn_dataset_fit(&x, &seq_in, "x", &err), SNN_OK);
    assert_fitted(&x);
    snn_tensor_free(&x);
}

/* (N, 1, steps, C), accepted before, still is. */
static void test_image_layout_still_taken(void **state)
{
    (void)state;
    snn_tensor x;
    snn_error err = {0};
    sequence_steps_last(&x);
    x.ndim = 4;
    x.dims[1] = 1;
    x.dims[2] = 3;
    x.dims[3] = 2;
    assert_int_equal(snn_dataset_fit(&x, &seq_in, "x", &err), SNN_OK);
    assert_fitted(&x);
    snn_tensor_free(&x);
}

/* A (1, 1, 6) input (one channel, 6 steps) takes (N, 2, 3) images as
 * their row-major pixel sequences, values unchanged. */
static void test_one_channel_sequence_takes_images(void **state)
{
    (void)state;
    snn_tensor x;
    snn_error err = {0};
    size_t dims[3] = {2, 2, 3};
    snn_shape in = {3, {1, 1, 6}};
    assert_int_equal(snn_tensor_init(&x, 3, dims, NULL), SNN_OK);
    memcpy(x.data, want_chw, sizeof want_chw);
    assert_int_equal(snn_dataset_fit(&x, &in, "x", &err), SNN_OK);
    assert_int_equal(x.ndim, 4);
    assert_int_equal(x.dims[0], 2);
    assert_int_equal(x.dims[1], 1);
    assert_int_equal(x.dims[2], 1);
    assert_int_equal(x.dims[3], 6);
    assert_memory_equal(x.data, want_chw, sizeof want_chw);
    snn_tensor_free(&x);
}

/* 3 steps of 3 channels: (3, 3) could be either, so it is refused. */
static void test_square_sequence_refused(void **state)
{
    (void)state;
    snn_tensor x;
    snn_error err = {0};
    size_t dims[3] = {2, 3, 3};
    snn_shape in = {3, {3, 1, 3}};
    assert_int_equal(snn_tensor_init(&x, 3, dims, NULL), SNN_OK);
    assert_int_equal(snn_dataset_fit(&x, &in, "x_test.npz", &err),
                     SNN_E_SHAPE);
    printf("error: %s\n", err.msg);
    assert_non_null(strstr(err.msg, "x_test.npz"));
    assert_non_null(strstr(err.msg, "cannot be told apart"));
    assert_non_null(strstr(err.msg, "(N, 3, 1, 3)"));
    snn_tensor_free(&x);
}

static void test_wrong_sequence_refused(void **state)
{
    (void)state;
    snn_tensor x;
    snn_error err = {0};
    size_t dims[3] = {2, 4, 2};
    assert_int_equal(snn_tensor_init(&x, 3, dims, NULL), SNN_OK);
    assert_int_equal(snn_dataset_fit(&x, &seq_in, "x_test.npz", &err),
                     SNN_E_SHAPE);
    printf("error: %s\n", err.msg);
    assert_non_null(strstr(err.msg, "x_test.npz"));
    assert_non_null(strstr(err.msg, "(4, 2)"));
    assert_non_null(strstr(err.msg, "(N, 3, 2)"));
    snn_tensor_free(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_steps_channels_transposed),
        cmocka_unit_test(test_channels_steps_kept),
        cmocka_unit_test(test_image_layout_still_taken),
        cmocka_unit_test(test_one_channel_sequence_takes_images),
        cmocka_unit_test(test_square_sequence_refused),
        cmocka_unit_test(test_wrong_sequence_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
