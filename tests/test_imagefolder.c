/*
 * test_imagefolder.c - image-folder datasets: the PNG and JPEG files
 * scripts/gen_dataset_fixtures.py wrote with OpenCV decode to the pixels
 * OpenCV's own decoder returned (.npy beside them); PIL's nearest resize
 * and luma conversion match the generator's numpy versions; class order,
 * labels and the datagen_kwargs standardizations; damaged files and
 * unsupported kwargs are refused by name.
 */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "io/image.h"
#include "io/pyliteral.h"
#include "snntb/config.h"
#include "snntb/dataset.h"

/* rel.npy (uint8 H x W [x C]) as the decoder's pixels of fixture img. */
static void check_decode(const char *img, const char *npy)
{
    char path[512];
    snn_tensor want;
    tu_load_npy(npy, &want);
    img8 im;
    snn_error err = {0};
    if (img_decode(tu_fixture(path, sizeof path, img), &im, &err) != SNN_OK)
        fail_msg("%s: %s", img, err.msg);
    int c = want.ndim == 3 ? (int)want.dims[2] : 1;
    assert_int_equal(im.c, c);
    assert_int_equal(im.h, want.dims[0]);
    assert_int_equal(im.w, want.dims[1]);
    size_t n = snn_tensor_numel(&want);
    for (size_t i = 0; i < n; i++)
        if ((float)im.px[i] != want.data[i])
            fail_msg("%s value %zu: %u, OpenCV %g", img, i, im.px[i],
                     want.data[i]);
    img_free(&im);
    snn_tensor_free(&want);
}

static void test_decode_matches_opencv(void **state)
{
    (void)state;
    /* Exact for both: libpng is lossless, and libjpeg-turbo's default
     * (accurate integer) IDCT gives the same pixels as OpenCV's. */
    check_decode("images/folder/cat/a.png", "images/decoded/cat/a.png.npy");
    check_decode("images/folder/dog/c.png", "images/decoded/dog/c.png.npy");
    check_decode("images/folder/cat/b.jpg", "images/decoded/cat/b.jpg.npy");
    check_decode("images/folder/dog/d.jpeg", "images/decoded/dog/d.jpeg.npy");
}

static void test_damaged_files(void **state)
{
    (void)state;
    const char *files[] = {"images/cut.png", "images/cut.jpg",
                           "images/decoded/b_gray.npy"};
    const char *why[] = {"bad PNG", "bad JPEG", "neither a JPEG nor a PNG"};
    for (int i = 0; i < 3; i++) {
        char path[512];
        img8 im;
        snn_error err = {0};
        tu_fixture(path, sizeof path, files[i]);
        assert_int_equal(img_decode(path, &im, &err), SNN_E_FORMAT);
        assert_non_null(strstr(err.msg, path));
        if (!strstr(err.msg, why[i]))
            fail_msg("'%s' lacks '%s'", err.msg, why[i]);
    }
}

static snn_config *image_config(const char *key, const char *value)
{
    char dir[512];
    snn_config *cfg;
    snn_error err = {0};
    assert_int_equal(snn_config_new(&cfg, &err), SNN_OK);
    assert_int_equal(snn_config_set(cfg, "paths", "dataset_path",
                                    tu_fixture(dir, sizeof dir,
                                               "images/folder"), &err),
                     SNN_OK);
    assert_int_equal(snn_config_set(cfg, "input", "dataset_format", "jpg",
                                    &err), SNN_OK);
    if (key && snn_config_set(cfg, "input", key, value, &err) != SNN_OK)
        fail_msg("%s: %s", key, err.msg);
    return cfg;
}

/* Sample i of a (c, h, w) image dataset configured by key = value. */
static void read_sample(const char *key, const char *value, size_t c,
                        size_t h, size_t w, size_t i, snn_tensor *x, int *label)
{
    snn_config *cfg = image_config(key, value);
    snn_dataset_src *src;
    snn_error err = {0};
    const size_t dims[3] = {c, h, w};
    assert_int_equal(snn_config_set(cfg, "simulation", "batch_size", "2",
                                    &err), SNN_OK);
    if (snn_dataset_open(&src, cfg, 3, dims, &err) != SNN_OK)
        fail_msg("%s", err.msg);
    assert_int_equal(snn_dataset_src_size(src), 4);
    assert_int_equal(snn_dataset_src_classes(src), 2);
    *label = snn_dataset_src_label(src, i);
    if (snn_dataset_src_read(src, &i, 1, x, NULL, &err) != SNN_OK)
        fail_msg("%s", err.msg);
    assert_int_equal(x->dims[1], c);
    snn_dataset_close(src);
    snn_config_free(cfg);
}

/* want is H x W x C (or H x W) uint8; x is (1, C, H, W); v -> v * scale. */
static void assert_chw(const snn_tensor *x, const char *npy, size_t c,
                       double scale)
{
    snn_tensor want;
    tu_load_npy(npy, &want);
    size_t h = want.dims[0], w = want.dims[1];
    size_t wc = want.ndim == 3 ? want.dims[2] : 1;
    for (size_t k = 0; k < c; k++)
        for (size_t p = 0; p < h * w; p++) {
            float v = (float)(want.data[p * wc + (wc == 1 ? 0 : k)] * scale);
            if (x->data[k * h * w + p] != v)
                fail_msg("%s channel %zu pixel %zu: %g, want %g", npy, k, p,
                         x->data[k * h * w + p], v);
        }
    snn_tensor_free(&want);
}

static void test_samples_and_labels(void **state)
{
    (void)state;
    snn_tensor x = {0};
    int label;
    /* Sorted classes cat (0), dog (1); files a.png, b.jpg (notes.txt is
     * not an image), c.png, d.jpeg. */
    read_sample(NULL, NULL, 3, 12, 10, 0, &x, &label);
    assert_int_equal(label, 0);
    assert_chw(&x, "images/decoded/cat/a.png.npy", 3, 1);
    /* A gray PNG in an RGB dataset: the gray value in every channel. */
    read_sample(NULL, NULL, 3, 12, 10, 2, &x, &label);
    assert_int_equal(label, 1);
    assert_chw(&x, "images/decoded/dog/c.png.npy", 3, 1);
    /* The listed class order comes first: dog's files are samples 0, 1. */
    read_sample("dataflow_kwargs", "{'classes': ['dog', 'cat'], "
                "'shuffle': False, 'target_size': (12, 10)}", 3, 12, 10, 1,
                &x, &label);
    assert_int_equal(label, 0);
    assert_chw(&x, "images/decoded/dog/d.jpeg.npy", 3, 1);
    /* rescale, as Keras multiplies: float32(v) * float32(1/255). */
    read_sample("datagen_kwargs", "{'rescale': 0.00392156862745098}", 3, 12,
                10, 1, &x, &label);
    snn_tensor want;
    tu_load_npy("images/decoded/cat/b.jpg.npy", &want);
    for (size_t i = 0; i < 12 * 10; i++)
        assert_true(x.data[i] == want.data[i * 3] * (float)(1.0 / 255));
    /* Written as Keras users do: 1./255 is computed as eval would. */
    read_sample("datagen_kwargs", "{'rescale': 1./255}", 3, 12, 10, 1, &x,
                &label);
    for (size_t i = 0; i < 12 * 10; i++)
        assert_true(x.data[i] == want.data[i * 3] * (float)(1.0 / 255));
    snn_tensor_free(&want);
    snn_tensor_free(&x);
}

static void test_resize_and_gray(void **state)
{
    (void)state;
    snn_tensor x = {0};
    int label;
    /* Keras's default interpolation, nearest, by PIL's rule. */
    read_sample(NULL, NULL, 3, 7, 5, 0, &x, &label);
    assert_chw(&x, "images/decoded/a_resized_7x5.npy", 3, 1);
    /* color_mode grayscale: PIL's convert('L') of the RGB JPEG. */
    read_sample("dataflow_kwargs", "{'color_mode': 'grayscale'}", 1, 12, 10,
                1, &x, &label);
    assert_chw(&x, "images/decoded/b_gray.npy", 1, 1);
    snn_tensor_free(&x);
}

static void test_samplewise_center(void **state)
{
    (void)state;
    snn_tensor x = {0}, want;
    int label;
    read_sample("datagen_kwargs", "{'samplewise_center': True, "
                "'samplewise_std_normalization': True, 'zoom_range': 0}", 3,
                12, 10, 0, &x, &label);
    /* Independently: mean and (population) std of the decoded pixels. */
    tu_load_npy("images/decoded/cat/a.png.npy", &want);
    size_t n = snn_tensor_numel(&want);
    double s = 0, q = 0;
    for (size_t i = 0; i < n; i++)
        s += want.data[i];
    double mean = s / (double)n;
    for (size_t i = 0; i < n; i++)
        q += (want.data[i] - mean) * (want.data[i] - mean);
    double sd = sqrt(q / (double)n);
    for (size_t k = 0; k < 3; k++)
        for (size_t p = 0; p < 120; p++) {
            double v = (want.data[p * 3 + k] - mean) / (sd + 1e-6);
            assert_true(fabs(x.data[k * 120 + p] - v) < 1e-5);
        }
    snn_tensor_free(&want);
    snn_tensor_free(&x);
}

/* featurewise: per-channel mean and std of the first batch (batch_size 2:
 * a.png and b.jpg), applied to every sample (here c.png, gray). */
static void test_featurewise(void **state)
{
    (void)state;
    snn_tensor x = {0}, a, b, c;
    int label;
    read_sample("datagen_kwargs", "{'featurewise_center': True, "
                "'featurewise_std_normalization': True}", 3, 12, 10, 2, &x,
                &label);
    tu_load_npy("images/decoded/cat/a.png.npy", &a);
    tu_load_npy("images/decoded/cat/b.jpg.npy", &b);
    tu_load_npy("images/decoded/dog/c.png.npy", &c);
    for (size_t k = 0; k < 3; k++) {
        double s = 0, q = 0;
        for (size_t p = 0; p < 120; p++)
            s += a.data[p * 3 + k] + b.data[p * 3 + k];
        double mean = s / 240;
        for (size_t p = 0; p < 120; p++)
            q += (a.data[p * 3 + k] - mean) * (a.data[p * 3 + k] - mean) +
                 (b.data[p * 3 + k] - mean) * (b.data[p * 3 + k] - mean);
        double sd = sqrt(q / 240);
        for (size_t p = 0; p < 120; p++) {
            double v = (c.data[p] - mean) / (sd + 1e-6);
            assert_true(fabs(x.data[k * 120 + p] - v) < 1e-5);
        }
    }
    snn_tensor_free(&a);
    snn_tensor_free(&b);
    snn_tensor_free(&c);
    snn_tensor_free(&x);
}

/* The arithmetic config values may use, as eval computes it. */
static void test_literal_arithmetic(void **state)
{
    (void)state;
    py_value *v;
    char why[128];
    assert_true(py_literal_parse("1./255", &v, why, sizeof why));
    assert_int_equal(v->kind, PY_FLOAT);
    assert_true(v->f == 1.0 / 255);
    py_value_free(v);
    assert_true(py_literal_parse("[2 * -3, 7 / 2 * 2]", &v, why, sizeof why));
    assert_int_equal(v->items[0]->kind, PY_INT);
    assert_true(v->items[0]->i == -6);
    assert_string_equal(v->items[0]->text, "-6");
    assert_true(v->items[1]->kind == PY_FLOAT && v->items[1]->f == 7.0);
    py_value_free(v);
    const char *bad[] = {"1/0", "2**3", "4//2", "3 * 'a'"};
    for (int i = 0; i < 4; i++) {
        if (py_literal_parse(bad[i], &v, why, sizeof why))
            fail_msg("'%s' parsed", bad[i]);
        assert_null(v);
    }
}

static void expect_refused(const char *key, const char *value, size_t c,
                           const char *what)
{
    snn_config *cfg = image_config(key, value);
    snn_dataset_src *src = NULL;
    snn_error err = {0};
    const size_t dims[3] = {c, 12, 10};
    assert_int_not_equal(snn_dataset_open(&src, cfg, 3, dims, &err), SNN_OK);
    assert_null(src);
    if (!strstr(err.msg, what))
        fail_msg("'%s' lacks '%s'", err.msg, what);
    snn_config_free(cfg);
}

static void test_refusals(void **state)
{
    (void)state;
    expect_refused("datagen_kwargs", "{'zca_whitening': True}", 3,
                   "'zca_whitening' is not supported");
    expect_refused("datagen_kwargs", "{'preprocessing_function': 'f'}", 3,
                   "'preprocessing_function' is not supported");
    expect_refused("dataflow_kwargs", "{'interpolation': 'bilinear'}", 3,
                   "interpolation 'bilinear'");
    expect_refused("dataflow_kwargs", "{'target_size': (64, 64)}", 3,
                   "target_size must be the model's input size (12, 10)");
    expect_refused("dataflow_kwargs", "{'follow_links': True}", 3,
                   "'follow_links' is not supported");
    expect_refused(NULL, NULL, 1, "color_mode gives 3");
    expect_refused("dataflow_kwargs", "{'classes': ['cat', 'bird']}", 3,
                   "bird: class folder not found");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_matches_opencv),
        cmocka_unit_test(test_damaged_files),
        cmocka_unit_test(test_samples_and_labels),
        cmocka_unit_test(test_resize_and_gray),
        cmocka_unit_test(test_samplewise_center),
        cmocka_unit_test(test_featurewise),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_literal_arithmetic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
