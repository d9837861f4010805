/*
 * test_keras.c - the Keras reader against files written by Keras itself
 * (scripts/gen_keras_fixtures.py): layer lists and shapes, kernel relayout
 * checked element by element against Keras' own arrays, outputs of the
 * parsed graph against model.predict, and the errors for broken or
 * unsupported files.
 */
#define _GNU_SOURCE /* memmem */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "snntb/ann.h"
#include "snntb/dataset.h"
#include "parse/keras_internal.h"
#include "snntb/parse.h"
#include "testutil.h"

typedef struct expect_layer {
    const char *name;
    snn_op op;
    snn_activation act;
    int ndim;
    size_t dims[3];
} expect_layer;

static void parse_ok(const char *path, snn_graph *g)
{
    snn_error err = {0};
    snn_status st = snn_parse_keras(path, g, &err);
    if (st != SNN_OK)
        fail_msg("%s: %s", path, err.msg);
}

static void parse_fixture(const char *rel, snn_graph *g)
{
    char path[512];
    parse_ok(tu_fixture(path, sizeof path, rel), g);
}

/* Parses path, expecting failure with status st and a message holding
 * both needles. */
static void parse_fails(const char *path, snn_status st, const char *needle1,
                        const char *needle2)
{
    snn_graph g;
    snn_error err = {0};
    assert_int_equal(snn_parse_keras(path, &g, &err), st);
    assert_int_equal(g.n_layers, 0);
    if (!strstr(err.msg, needle1) || !strstr(err.msg, needle2))
        fail_msg("message '%s' lacks '%s' or '%s'", err.msg, needle1,
                 needle2);
}

static void check_layers(const snn_graph *g, const expect_layer *e, int n)
{
    assert_int_equal(g->n_layers, n);
    for (int i = 0; i < n; i++) {
        const snn_layer *l = &g->layers[i];
        assert_string_equal(l->name, e[i].name);
        assert_int_equal(l->op, e[i].op);
        assert_int_equal(l->act, e[i].act);
        assert_int_equal(l->shape.ndim, e[i].ndim);
        for (int d = 0; d < e[i].ndim; d++)
            assert_int_equal(l->shape.dims[d], e[i].dims[d]);
        if (i > 0) {
            assert_int_equal(l->n_inputs, 1);
            assert_int_equal(l->inputs[0], i - 1);
        }
    }
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    rewind(f);
    char *buf = malloc(*len + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, *len, f), *len);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

/* ---- structure ---------------------------------------------------------- */

static const expect_layer CNN_LAYERS[] = {
    {"image", SNN_OP_INPUT, SNN_ACT_LINEAR, 3, {2, 14, 14}},
    {"conv", SNN_OP_CONV2D, SNN_ACT_LINEAR, 3, {3, 12, 12}},
    {"bn", SNN_OP_BATCHNORM, SNN_ACT_LINEAR, 3, {3, 12, 12}},
    {"relu", SNN_OP_ACTIVATION, SNN_ACT_RELU, 3, {3, 12, 12}},
    {"maxpool", SNN_OP_MAXPOOL2D, SNN_ACT_LINEAR, 3, {3, 6, 6}},
    {"conv_same", SNN_OP_CONV2D, SNN_ACT_RELU, 3, {4, 3, 3}},
    {"avgpool", SNN_OP_AVGPOOL2D, SNN_ACT_LINEAR, 3, {4, 2, 2}},
    {"flatten", SNN_OP_FLATTEN, SNN_ACT_LINEAR, 1, {16}},
    {"dense", SNN_OP_DENSE, SNN_ACT_RELU, 1, {8}},
    {"out", SNN_OP_DENSE, SNN_ACT_SOFTMAX, 1, {3}},
};
#define N_CNN (int)(sizeof CNN_LAYERS / sizeof CNN_LAYERS[0])

static void test_cnn_structure(void **state)
{
    (void)state;
    snn_graph g;
    parse_fixture("keras/cnn.h5", &g);
    check_layers(&g, CNN_LAYERS, N_CNN);
    /* 6 -> 3 with stride 2 and a 3x3 kernel needs 1 cell of padding, which
     * TensorFlow puts after. */
    const snn_layer *c = tu_layer(&g, "conv_same");
    int pads[4] = {0, 0, 1, 1};
    for (int i = 0; i < 4; i++)
        assert_int_equal(c->win.pad[i], pads[i]);
    assert_int_equal(c->win.stride[0], 2);
    const snn_layer *avg = tu_layer(&g, "avgpool");
    assert_int_equal(avg->win.kernel[1], 2);
    assert_int_equal(avg->win.stride[1], 1);
    assert_int_equal(tu_layer(&g, "maxpool")->win.stride[0], 2);
    assert_true(tu_layer(&g, "flatten")->flatten_hwc);
    assert_float_equal(tu_layer(&g, "bn")->eps, 1e-3, 1e-9);
    assert_string_equal(g.source, "keras 3.15.1");
    snn_graph_free(&g);
}

/* Keras 3 Flatten(data_format="channels_first") flattens in (H, W, C)
 * order too. */
static void test_channels_first_structure(void **state)
{
    (void)state;
    snn_graph g;
    parse_fixture("keras/cnn_cf.h5", &g);
    check_layers(&g, CNN_LAYERS, N_CNN);
    assert_true(tu_layer(&g, "flatten")->flatten_hwc);
    snn_graph_free(&g);
}

static void test_functional_structure(void **state)
{
    (void)state;
    static const expect_layer e[] = {
        {"image", SNN_OP_INPUT, SNN_ACT_LINEAR, 3, {1, 9, 9}},
        {"conv_dil", SNN_OP_CONV2D, SNN_ACT_LINEAR, 3, {2, 5, 5}},
        {"bn", SNN_OP_BATCHNORM, SNN_ACT_LINEAR, 3, {2, 5, 5}},
        {"relu", SNN_OP_ACTIVATION, SNN_ACT_RELU, 3, {2, 5, 5}},
        {"flatten", SNN_OP_FLATTEN, SNN_ACT_LINEAR, 1, {50}},
        {"dense", SNN_OP_DENSE, SNN_ACT_LINEAR, 1, {4}},
        {"softmax", SNN_OP_ACTIVATION, SNN_ACT_SOFTMAX, 1, {4}},
    };
    snn_graph g;
    parse_fixture("keras/func.h5", &g);
    check_layers(&g, e, 7);
    const snn_layer *conv = tu_layer(&g, "conv_dil");
    assert_int_equal(conv->win.dilation[0], 2);
    assert_int_equal(conv->win.dilation[1], 2);
    assert_null(conv->bias.data);
    assert_null(tu_layer(&g, "dense")->bias.data);
    /* center=False, scale=False: stored as beta 0 and gamma 1. */
    const snn_layer *bn = tu_layer(&g, "bn");
    for (int i = 0; i < 2; i++) {
        assert_float_equal(bn->gamma.data[i], 1.0, 0);
        assert_float_equal(bn->beta.data[i], 0.0, 0);
    }
    snn_graph_free(&g);
}

/* Keras' (kh, kw, in, out) kernel against our (out, in, kh, kw), and
 * (in, out) against (out, in), every element. */
static void test_kernel_layout(void **state)
{
    (void)state;
    snn_graph g;
    snn_tensor k;
    parse_fixture("keras/cnn.h5", &g);

    tu_load_npy("keras/cnn_conv_kernel.npy", &k);
    const snn_tensor *w = &tu_layer(&g, "conv")->weight;
    assert_int_equal(k.ndim, 4);
    assert_int_equal(w->ndim, 4);
    size_t kh = k.dims[0], kw = k.dims[1], ci = k.dims[2], co = k.dims[3];
    assert_int_equal(w->dims[0], co);
    assert_int_equal(w->dims[1], ci);
    assert_int_equal(w->dims[2], kh);
    assert_int_equal(w->dims[3], kw);
    /* kernel[2][1][1][0] == weight[0][1][2][1] */
    assert_float_equal(k.data[((2 * kw + 1) * ci + 1) * co + 0],
                       w->data[((0 * ci + 1) * kh + 2) * kw + 1], 0);
    for (size_t h = 0; h < kh; h++)
        for (size_t x = 0; x < kw; x++)
            for (size_t i = 0; i < ci; i++)
                for (size_t o = 0; o < co; o++)
                    assert_float_equal(
                        k.data[((h * kw + x) * ci + i) * co + o],
                        w->data[((o * ci + i) * kh + h) * kw + x], 0);
    snn_tensor_free(&k);

    tu_load_npy("keras/cnn_dense_kernel.npy", &k);
    w = &tu_layer(&g, "dense")->weight;
    assert_int_equal(w->dims[0], k.dims[1]);
    assert_int_equal(w->dims[1], k.dims[0]);
    for (size_t i = 0; i < k.dims[0]; i++)
        for (size_t o = 0; o < k.dims[1]; o++)
            assert_float_equal(k.data[i * k.dims[1] + o],
                               w->data[o * k.dims[0] + i], 0);
    snn_tensor_free(&k);
    snn_graph_free(&g);
}

static void assert_same_tensor(const snn_tensor *a, const snn_tensor *b)
{
    assert_int_equal(a->ndim, b->ndim);
    assert_int_equal(snn_tensor_numel(a), snn_tensor_numel(b));
    if (a->data)
        assert_memory_equal(a->data, b->data,
                            snn_tensor_numel(a) * sizeof(float));
}

/* The .json + weights-only .h5 pair, and the Keras 2 string encoding
 * (fixed-length strings, weight_names0/1 chunks), read as cnn.h5 does. */
static void test_other_encodings_match(void **state)
{
    (void)state;
    static const char *const variants[] = {"keras/cnn_pair.json",
                                           "keras/cnn_chunked.h5"};
    snn_graph ref;
    parse_fixture("keras/cnn.h5", &ref);
    for (size_t v = 0; v < 2; v++) {
        snn_graph g;
        parse_fixture(variants[v], &g);
        check_layers(&g, CNN_LAYERS, N_CNN);
        for (int i = 0; i < g.n_layers; i++) {
            const snn_layer *a = &g.layers[i], *b = &ref.layers[i];
            assert_same_tensor(&a->weight, &b->weight);
            assert_same_tensor(&a->bias, &b->bias);
            assert_same_tensor(&a->gamma, &b->gamma);
            assert_same_tensor(&a->var, &b->var);
        }
        assert_non_null(tu_layer(&g, "dense")->bias.data);
        snn_graph_free(&g);
    }
    snn_graph_free(&ref);
}

/* ---- outputs against Keras' model.predict ------------------------------ */

/* Runs model on <stem>_x_nchw.npy and compares with <stem>_y.npy (stems
 * relative to tests/fixtures). */
static void check_outputs_of(const char *model, const char *stem)
{
    char rel[256];
    snn_graph g;
    snn_tensor x, y;
    parse_ok(model, &g);
    snprintf(rel, sizeof rel, "%s_x_nchw.npy", stem);
    tu_load_npy(rel, &x);
    snprintf(rel, sizeof rel, "%s_y.npy", stem);
    tu_load_npy(rel, &y);
    snn_tensor out;
    tu_ann_output(&g, &x, &out, model);
    tu_assert_close(&out, &y, TU_TOL_ABS, model, "Keras");
    snn_tensor_free(&out);
    snn_tensor_free(&x);
    snn_tensor_free(&y);
    snn_graph_free(&g);
}

static void check_outputs(const char *rel, const char *stem)
{
    char path[512];
    check_outputs_of(tu_fixture(path, sizeof path, rel), stem);
}

static void test_outputs_match_keras(void **state)
{
    (void)state;
    check_outputs("keras/cnn.h5", "keras/cnn");
    check_outputs("keras/cnn_pair.json", "keras/cnn");
    check_outputs("keras/cnn_chunked.h5", "keras/cnn");
    check_outputs("keras/cnn_cf.h5", "keras/cnn_cf");
    check_outputs("keras/cnn_cf_pair.json", "keras/cnn_cf");
    check_outputs("keras/func.h5", "keras/func");
    check_outputs("keras/func_pair.json", "keras/func");
}

/* ---- Keras 3 .keras archives ------------------------------------------- */

/* The same layers as cnn.h5, Sequential (also as .json + .weights.h5);
 * and the Functional DAG, whose repeated classes (two Conv2D) must find
 * their numbered variable groups. */
static void test_keras_archive_outputs(void **state)
{
    (void)state;
    check_outputs("keras/cnn3.keras", "keras/cnn3");
    check_outputs("keras/dag3.keras", "keras/dag3");
    /* Keras 3's to_json() + save_weights() pair (.weights.h5) */
    check_outputs("keras/cnn3_pair.json", "keras/cnn3");
    snn_graph g;
    parse_fixture("keras/cnn3.keras", &g);
    check_layers(&g, CNN_LAYERS, N_CNN);
    assert_string_equal(g.source, "keras 3.15.1");
    snn_graph_free(&g);
}

/* A Sequential used as a layer of a Functional model and the reverse,
 * from .keras (variables under the nested model's path) and legacy HDF5
 * (all of a nested model's weights in its group, a BatchNormalization's
 * moving statistics after every trainable weight). */
static void test_nested_models(void **state)
{
    (void)state;
    check_outputs("keras/nested.keras", "keras/nested");
    check_outputs("keras/nested.h5", "keras/nested");
    check_outputs("keras/nested_seq.keras", "keras/nested_seq");
    check_outputs("keras/nested_seq.h5", "keras/nested_seq");
    snn_graph g;
    parse_fixture("keras/nested.h5", &g);
    assert_int_equal(g.n_layers, 8);
    assert_int_equal(tu_layer(&g, "ic")->inputs[0],
                     snn_graph_find(&g, "conv"));
    assert_int_equal(tu_layer(&g, "out")->inputs[0],
                     snn_graph_find(&g, "idense"));
    snn_graph_free(&g);
}

/* Where Keras 3's saver puts a layer's variables: the class name as
 * keras.src.utils.naming.to_snake_case (Keras 3.15.1) gives it, numbered
 * from the second of its class. */
static void test_keras3_vars_paths(void **state)
{
    (void)state;
    static const struct {
        const char *prefix, *cls;
        int n;
        const char *path;
    } cases[] = {
        {"", "Conv2DTranspose", 0, "layers/conv2d_transpose/vars"},
        {"", "ReLU", 0, "layers/re_lu/vars"},
        {"", "PReLU", 0, "layers/p_re_lu/vars"},
        {"", "DepthwiseConv2D", 0, "layers/depthwise_conv2d/vars"},
        {"", "UpSampling2D", 0, "layers/up_sampling2d/vars"},
        {"", "GlobalAveragePooling1D", 0,
         "layers/global_average_pooling1d/vars"},
        {"", "MaxPool2D", 0, "layers/max_pool2d/vars"},
        {"", "ABCDef", 0, "layers/abc_def/vars"},
        {"", "XYZ", 0, "layers/xyz/vars"},
        {"layers/sequential/", "Dense", 2,
         "layers/sequential/layers/dense_2/vars"},
    };
    char buf[KERAS_VARS_MAX];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snn_keras_vars_path(cases[i].prefix, cases[i].cls, cases[i].n, buf,
                            sizeof buf);
        assert_string_equal(buf, cases[i].path);
    }
}

static void test_keras_archive_broken(void **state)
{
    (void)state;
    char src[512], dir[256], path[512];
    size_t len;
    char *bytes = read_all(tu_fixture(src, sizeof src, "keras/cnn3.keras"),
                           &len);
    tu_tempdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/cut.keras", dir);
    /* Cut inside the weights member, then inside the central directory. */
    tu_write_file(path, bytes, len / 2);
    parse_fails(path, SNN_E_FORMAT, "cut.keras: ", "archive");
    tu_write_file(path, bytes, len - 30);
    parse_fails(path, SNN_E_FORMAT, "cut.keras: ", "archive");
    static const char fake[] = "PK\3\4 not really";
    tu_write_file(path, fake, sizeof fake - 1);
    parse_fails(path, SNN_E_FORMAT, "cut.keras: ", "archive");
    /* The central directory claims 4 GiB for the weights member: refused
     * before anything is allocated. */
    char *copy = malloc(len);
    assert_non_null(copy);
    memcpy(copy, bytes, len);
    for (char *p = copy; (p = memmem(p, len - (size_t)(p - copy),
                                     "PK\1\2", 4)); p += 4)
        if (memcmp(p + 46, "model.weights.h5", 16) == 0)
            memcpy(p + 24, "\0\xff\xff\xff", 4);
    tu_write_file(path, copy, len);
    free(copy);
    parse_fails(path, SNN_E_FORMAT, "cut.keras: member model.weights.h5",
                "claims 4294967040 bytes from 32080 stored bytes");
    /* Zeroes over the weights file's superblock, the archive intact. */
    char *hdf = memmem(bytes, len, "\x89HDF", 4);
    assert_non_null(hdf);
    memset(hdf, 0, 200);
    tu_write_file(path, bytes, len);
    parse_fails(path, SNN_E_FORMAT, "cut.keras: member model.weights.h5",
                "CRC error");
    free(bytes);
    tu_rmtree(dir);

    parse_fails(tu_fixture(src, sizeof src, "keras/absent.keras"), SNN_E_IO,
                "absent.keras", "cannot open");
    parse_fails(tu_fixture(src, sizeof src, "keras/bad_noweights.keras"),
                SNN_E_FORMAT, "bad_noweights.keras: ",
                "no model.weights.h5 in the archive");
    parse_fails(tu_fixture(src, sizeof src, "keras/bad_shape.keras"),
                SNN_E_SHAPE, "bad_shape.keras: layer 'dense'",
                "kernel (16, 8) does not match");
    parse_fails(tu_fixture(src, sizeof src, "keras/bad_unknown.keras"),
                SNN_E_UNSUPPORTED, "bad_unknown.keras: ",
                "layer 'conv' of type 'Conv3D' is not supported");
    parse_fails(tu_fixture(src, sizeof src, "keras/bad_names.keras"),
                SNN_E_FORMAT, "bad_names.keras:model.weights.h5: ",
                "group layers/dense/vars holds the weights of layer 'out', "
                "not of layer 'dense'");
}

/* ---- Keras 1.2.2 files (scripts/gen_keras1_fixtures.py) ---------------- */

/* Outputs of an independent numpy forward pass: 'th' (kernels stored
 * (out, in, rows, cols), flattened as (C, H, W)) and 'tf' orderings, and a
 * functional Model. */
static void test_keras1_outputs(void **state)
{
    (void)state;
    check_outputs("keras1/th.h5", "keras1/th");
    check_outputs("keras1/tf.h5", "keras1/tf");
    check_outputs("keras1/func.h5", "keras1/func");
    /* Convolution1D's (length, 1, in, out) kernels, MaxPooling1D */
    check_outputs("keras1/seq.h5", "keras1/seq");
    /* Merge sum and concat: Add and Concatenate */
    check_outputs("keras1/merge.h5", "keras1/merge");
    snn_graph g;
    parse_fixture("keras1/merge.h5", &g);
    assert_int_equal(tu_layer(&g, "merge_1")->op, SNN_OP_ADD);
    assert_int_equal(tu_layer(&g, "merge_2")->op, SNN_OP_CONCAT);
    assert_int_equal(tu_layer(&g, "merge_2")->n_inputs, 2);
    snn_graph_free(&g);
}

static const expect_layer KERAS1_TH[] = {
    {"convolution2d_1_input", SNN_OP_INPUT, SNN_ACT_LINEAR, 3, {2, 14, 14}},
    {"convolution2d_1", SNN_OP_CONV2D, SNN_ACT_LINEAR, 3, {4, 12, 12}},
    {"batchnormalization_1", SNN_OP_BATCHNORM, SNN_ACT_LINEAR, 3,
     {4, 12, 12}},
    {"activation_1", SNN_OP_ACTIVATION, SNN_ACT_RELU, 3, {4, 12, 12}},
    {"maxpooling2d_1", SNN_OP_MAXPOOL2D, SNN_ACT_LINEAR, 3, {4, 6, 6}},
    {"convolution2d_2", SNN_OP_CONV2D, SNN_ACT_RELU, 3, {3, 3, 3}},
    {"averagepooling2d_1", SNN_OP_AVGPOOL2D, SNN_ACT_LINEAR, 3, {3, 2, 2}},
    {"flatten_1", SNN_OP_FLATTEN, SNN_ACT_LINEAR, 1, {12}},
    {"dense_1", SNN_OP_DENSE, SNN_ACT_RELU, 1, {5}},
    {"dense_2", SNN_OP_DENSE, SNN_ACT_SOFTMAX, 1, {3}},
};

static void test_keras1_structure(void **state)
{
    (void)state;
    snn_graph g;
    parse_fixture("keras1/th.h5", &g);
    check_layers(&g, KERAS1_TH, 10);
    assert_false(tu_layer(&g, "flatten_1")->flatten_hwc);
    assert_int_equal(tu_layer(&g, "convolution2d_2")->win.stride[1], 2);
    assert_string_equal(g.source, "keras 1.2.2");
    snn_graph_free(&g);
    parse_fixture("keras1/tf.h5", &g);
    assert_true(tu_layer(&g, "flatten_1")->flatten_hwc);
    snn_graph_free(&g);
}

static void test_keras1_refused(void **state)
{
    (void)state;
    char path[512];
    parse_fails(tu_fixture(path, sizeof path, "keras1/lstm.h5"),
                SNN_E_UNSUPPORTED, "lstm.h5: ",
                "layer 'lstm_1' of type 'LSTM' is not supported");
    parse_fails(tu_fixture(path, sizeof path, "keras1/bnmode2.h5"),
                SNN_E_UNSUPPORTED,
                "bnmode2.h5: layer 'batchnormalization_1'",
                "mode 2 normalizes with the statistics of each batch");
    parse_fails(tu_fixture(path, sizeof path, "keras1/mergemul.h5"),
                SNN_E_UNSUPPORTED, "mergemul.h5: layer 'merge_1' of type "
                                   "'Merge'",
                "mode 'mul' is not supported (sum and concat are)");
}

/* ---- the shared Keras 2.2.4 LeNet (channels_first, no InputLayer) ------ */

static void test_shared_lenet(void **state)
{
    (void)state;
    char path[512];
    if (!tu_shared(path, sizeof path, "models/lenet5/keras/99.14.h5"))
        skip();
    static const expect_layer e[] = {
        {"conv2d_1_input", SNN_OP_INPUT, SNN_ACT_LINEAR, 3, {1, 28, 28}},
        {"conv2d_1", SNN_OP_CONV2D, SNN_ACT_RELU, 3, {6, 24, 24}},
        {"max_pooling2d_1", SNN_OP_MAXPOOL2D, SNN_ACT_LINEAR, 3, {6, 12, 12}},
        {"conv2d_2", SNN_OP_CONV2D, SNN_ACT_RELU, 3, {16, 8, 8}},
        {"max_pooling2d_2", SNN_OP_MAXPOOL2D, SNN_ACT_LINEAR, 3, {16, 4, 4}},
        {"conv2d_3", SNN_OP_CONV2D, SNN_ACT_RELU, 3, {120, 4, 4}},
        {"flatten_1", SNN_OP_FLATTEN, SNN_ACT_LINEAR, 1, {1920}},
        {"dense_1", SNN_OP_DENSE, SNN_ACT_RELU, 1, {84}},
        {"dense_2", SNN_OP_DENSE, SNN_ACT_SOFTMAX, 1, {10}},
    };
    snn_graph g;
    parse_ok(path, &g);
    check_layers(&g, e, 9);
    assert_true(tu_layer(&g, "flatten_1")->flatten_hwc);
    assert_int_equal(tu_layer(&g, "conv2d_3")->win.pad[0], 2);
    assert_int_equal(tu_layer(&g, "dense_1")->weight.dims[1], 1920);
    assert_string_equal(g.source, "keras 2.2.4");
    snn_graph_free(&g);
}

/* ---- broken and unsupported files -------------------------------------- */

static void test_truncated_file(void **state)
{
    (void)state;
    char src[512], dir[256], path[512];
    size_t len;
    char *bytes = read_all(tu_fixture(src, sizeof src, "keras/cnn.h5"), &len);
    tu_tempdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/half.h5", dir);
    tu_write_file(path, bytes, len / 2);
    parse_fails(path, SNN_E_FORMAT, "half.h5", "HDF5");
    tu_write_file(path, "not hdf5 at all", 15);
    parse_fails(path, SNN_E_FORMAT, "half.h5", "HDF5");
    free(bytes);
    tu_rmtree(dir);
}

static void test_missing_and_weights_only(void **state)
{
    (void)state;
    char path[512];
    parse_fails(tu_fixture(path, sizeof path, "keras/absent.h5"), SNN_E_IO,
                "absent.h5", "cannot open");
    parse_fails(tu_fixture(path, sizeof path, "keras/cnn_pair.h5"),
                SNN_E_FORMAT, "cnn_pair.h5", "model_config");
}

static void test_unknown_layer_type(void **state)
{
    (void)state;
    char path[512];
    parse_fails(tu_fixture(path, sizeof path, "keras/cnn_conv3d.h5"),
                SNN_E_UNSUPPORTED, "cnn_conv3d.h5: ",
                "layer 'conv' of type 'Conv3D' is not supported");
}

static void test_branching_model(void **state)
{
    (void)state;
    char path[512];
    parse_fails(tu_fixture(path, sizeof path, "keras/branch.h5"),
                SNN_E_UNSUPPORTED, "branch.h5: ",
                "a model with 1 inputs and 2 outputs is not supported");
}

static void copy_fixture(const char *rel, const char *dst)
{
    char src[512];
    size_t len;
    char *bytes = read_all(tu_fixture(src, sizeof src, rel), &len);
    tu_write_file(dst, bytes, len);
    free(bytes);
}

/* Writes <dir>/m.json (<stem>.json, a fixture, with `from` replaced by
 * `to`) and, when with_weights, the weights <stem>.h5 beside it as
 * <dir>/m.h5. */
static void write_edited_pair(const char *dir, const char *stem,
                              const char *from, const char *to,
                              int with_weights)
{
    char src[512], rel[256], path[512];
    size_t len;
    snprintf(rel, sizeof rel, "%s.json", stem);
    char *json = read_all(tu_fixture(src, sizeof src, rel), &len);
    char *at = strstr(json, from);
    assert_non_null(at);
    snprintf(path, sizeof path, "%s/m.json", dir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fprintf(f, "%.*s%s%s", (int)(at - json), json, to, at + strlen(from));
    fclose(f);
    free(json);
    if (with_weights) {
        snprintf(path, sizeof path, "%s/m.h5", dir);
        snprintf(rel, sizeof rel, "%s.h5", stem);
        copy_fixture(rel, path);
    }
}

/* The model <stem>.json, edited, fails to parse; the message holds both
 * needles. */
static void stem_edited_fails(const char *stem, const char *from,
                              const char *to, int with_weights,
                              snn_status st, const char *needle1,
                              const char *needle2)
{
    char dir[256], path[512];
    tu_tempdir(dir, sizeof dir);
    write_edited_pair(dir, stem, from, to, with_weights);
    snprintf(path, sizeof path, "%s/m.json", dir);
    parse_fails(path, st, needle1, needle2);
    tu_rmtree(dir);
}

/* stem_edited_fails on the CNN's pair (keras/cnn_pair). */
static void edited_pair_fails(const char *from, const char *to,
                              int with_weights, snn_status st,
                              const char *needle1, const char *needle2)
{
    stem_edited_fails("keras/cnn_pair", from, to, with_weights, st, needle1,
                      needle2);
}

static void test_bad_architectures(void **state)
{
    (void)state;
    /* The first "relu" activation is conv_same's. */
    edited_pair_fails("\"activation\": \"relu\"", "\"activation\": \"tanh\"",
                      1, SNN_E_UNSUPPORTED, "layer 'conv_same'",
                      "activation 'tanh'");
    edited_pair_fails("\"units\": 8", "\"units\": 9", 1, SNN_E_SHAPE,
                      "layer 'dense'", "kernel (16, 8)");
    edited_pair_fails("\"filters\": 3", "\"filters\": 5", 1, SNN_E_SHAPE,
                      "layer 'conv'", "kernel (3, 3, 2, 3)");
    edited_pair_fails("\"padding\": \"valid\"", "\"padding\": \"causal\"", 1,
                      SNN_E_UNSUPPORTED, "layer 'conv'", "padding 'causal'");
    edited_pair_fails("\"class_name\": \"Sequential\"",
                      "\"class_name\": \"Sequential\",", 1, SNN_E_FORMAT,
                      "m.json", "invalid JSON");
    edited_pair_fails("\"class_name\": \"Sequential\"",
                      "\"class_name\": \"Sequential\"", 0, SNN_E_IO, "m.h5",
                      "cannot open");
}

/* The 1-D padding, cropping and upsampling layers (seq_resample_pair,
 * which parses as written) name the layer and key of a bad value. */
static void test_bad_1d_resampling(void **state)
{
    (void)state;
    static const char stem[] = "keras/seq_resample_pair";
    char path[512];
    snn_graph g;
    parse_ok(tu_fixture(path, sizeof path, "keras/seq_resample_pair.json"),
             &g);
    snn_graph_free(&g);
    stem_edited_fails(stem, "\"cropping\": [1, 2]", "\"cropping\": [1, -2]",
                      1, SNN_E_FORMAT, "layer 'crop' of type 'Cropping1D'",
                      "config 'cropping' must be n or (start, end) of "
                      "non-negative integers");
    stem_edited_fails(stem, "\"padding\": [2, 1]", "\"padding\": [2, 1, 0]",
                      1, SNN_E_FORMAT, "layer 'pad_pool' of type "
                      "'ZeroPadding1D'", "config 'padding' must be n or "
                      "(start, end)");
    stem_edited_fails(stem, "\"size\": 2", "\"size\": 0", 1, SNN_E_FORMAT,
                      "layer 'up' of type 'UpSampling1D'",
                      "config 'size' must be a positive integer");
    /* Cropping more than the sequence holds. */
    stem_edited_fails(stem, "\"cropping\": [1, 2]", "\"cropping\": [9, 9]",
                      1, SNN_E_SHAPE, "crop", "crops away the whole image");
}

/* ---- the JSON shapes older Keras wrote --------------------------------- */

static json_t *fixture_json(const char *rel)
{
    char path[512];
    json_error_t jerr;
    json_t *root = json_load_file(tu_fixture(path, sizeof path, rel), 0,
                                  &jerr);
    if (!root)
        fail_msg("%s: %s", rel, jerr.text);
    return root;
}

/* Writes root as <dir>/m.json with the weights of `weights` as m.h5, and
 * returns the .json path in buf. */
static const char *write_json_pair(const char *dir, json_t *root,
                                   const char *weights, char *buf, size_t n)
{
    snprintf(buf, n, "%s/m.h5", dir);
    copy_fixture(weights, buf);
    snprintf(buf, n, "%s/m.json", dir);
    assert_int_equal(json_dump_file(root, buf, 0), 0);
    return buf;
}

/* 100 Sequential models, each the only layer of the one around it: a
 * clear error, not a stack overflow. */
static void test_nested_too_deep(void **state)
{
    (void)state;
    char dir[256], path[512];
    json_t *model = json_pack("{s:s, s:{s:s, s:[{s:s, s:{s:s}}]}}",
                              "class_name", "Sequential", "config", "name",
                              "m100", "layers", "class_name", "Flatten",
                              "config", "name", "f");
    for (int depth = 99; depth > 0; depth--) {
        char name[16];
        snprintf(name, sizeof name, "m%d", depth);
        model = json_pack("{s:s, s:{s:s, s:[o]}}", "class_name",
                          "Sequential", "config", "name", name, "layers",
                          model);
    }
    json_t *root = json_pack(
        "{s:s, s:{s:s, s:[{s:s, s:{s:s, s:[n, i]}}, o]}}", "class_name",
        "Sequential", "config", "name", "top", "layers", "class_name",
        "InputLayer", "config", "name", "in", "batch_shape", 4, model);
    assert_non_null(root);
    tu_tempdir(dir, sizeof dir);
    write_json_pair(dir, root, "keras/cnn_pair.h5", path, sizeof path);
    parse_fails(path, SNN_E_UNSUPPORTED, "m.json: model 'm",
                "is nested too deeply");
    json_decref(root);
    tu_rmtree(dir);
}

/* Keras 2.0-2.2.2 Sequential: the config is the layer list itself and the
 * first layer carries batch_input_shape (no InputLayer). */
static void test_keras2_sequential_list(void **state)
{
    (void)state;
    char dir[256], path[512];
    json_t *root = fixture_json("keras/cnn_pair.json");
    json_t *layers = json_incref(json_object_get(json_object_get(root,
                                                                 "config"),
                                                 "layers"));
    json_t *shape = json_object_get(
        json_object_get(json_array_get(layers, 0), "config"), "batch_shape");
    json_object_set(json_object_get(json_array_get(layers, 1), "config"),
                    "batch_input_shape", shape);
    json_array_remove(layers, 0);
    json_object_set_new(root, "config", layers);
    tu_tempdir(dir, sizeof dir);
    write_json_pair(dir, root, "keras/cnn_pair.h5", path, sizeof path);

    snn_graph g;
    parse_ok(path, &g);
    expect_layer e[N_CNN];
    memcpy(e, CNN_LAYERS, sizeof e);
    e[0].name = "conv_input";
    check_layers(&g, e, N_CNN);
    snn_graph_free(&g);
    check_outputs_of(path, "keras/cnn");
    json_decref(root);
    tu_rmtree(dir);
}

/* Keras 2 Functional: class "Model", inbound_nodes [[[name, 0, 0, {}]]]
 * and nested input/output lists. */
static void test_keras2_functional(void **state)
{
    (void)state;
    char dir[256], path[512];
    json_t *root = fixture_json("keras/func_pair.json");
    json_t *config = json_object_get(root, "config");
    json_t *layer;
    size_t i;
    json_object_set_new(root, "class_name", json_string("Model"));
    json_array_foreach(json_object_get(config, "layers"), i, layer) {
        json_t *nodes = json_object_get(layer, "inbound_nodes");
        if (json_array_size(nodes) == 0)
            continue;
        json_t *history = json_object_get(
            json_object_get(json_array_get(json_object_get(
                                               json_array_get(nodes, 0),
                                               "args"),
                                           0),
                            "config"),
            "keras_history");
        const char *from = json_string_value(json_array_get(history, 0));
        assert_non_null(from);
        json_object_set_new(layer, "inbound_nodes",
                            json_pack("[[[s, i, i, {}]]]", from, 0, 0));
    }
    json_object_set_new(config, "input_layers",
                        json_pack("[[s, i, i]]", "image", 0, 0));
    json_object_set_new(config, "output_layers",
                        json_pack("[[s, i, i]]", "softmax", 0, 0));
    tu_tempdir(dir, sizeof dir);
    check_outputs_of(write_json_pair(dir, root, "keras/func_pair.h5", path,
                                     sizeof path),
                     "keras/func");
    json_decref(root);
    tu_rmtree(dir);
}

/* Keras before 2.2.3 flattened channels_first data as stored (C, H, W). */
static void test_old_keras_flatten_order(void **state)
{
    (void)state;
    char dir[256], path[512];
    json_t *root = fixture_json("keras/cnn_cf_pair.json");
    json_object_set_new(root, "keras_version", json_string("2.1.6"));
    tu_tempdir(dir, sizeof dir);
    write_json_pair(dir, root, "keras/cnn_cf_pair.h5", path, sizeof path);
    snn_graph g;
    parse_ok(path, &g);
    assert_false(tu_layer(&g, "flatten")->flatten_hwc);
    assert_string_equal(g.source, "keras 2.1.6");
    snn_graph_free(&g);
    json_decref(root);
    tu_rmtree(dir);
}

/* ---- snn_model_load: the original toolbox's file naming ---------------- */

static void test_model_load(void **state)
{
    (void)state;
    char dir[512];
    snn_graph g;
    snn_error err = {0};
    tu_fixture(dir, sizeof dir, "keras");
    static const char *const names[] = {"cnn", "cnn_pair", "cnn.h5",
                                        "cnn_pair.json"};
    for (size_t i = 0; i < 4; i++) {
        if (snn_model_load(dir, names[i], "keras", &g, &err) != SNN_OK)
            fail_msg("%s: %s", names[i], err.msg);
        check_layers(&g, CNN_LAYERS, N_CNN);
        snn_graph_free(&g);
    }

    /* Neither cnn3.json nor cnn3.h5: the Keras 3 archive. */
    if (snn_model_load(dir, "cnn3", "keras", &g, &err) != SNN_OK)
        fail_msg("cnn3: %s", err.msg);
    check_layers(&g, CNN_LAYERS, N_CNN);
    snn_graph_free(&g);

    assert_int_equal(snn_model_load(dir, "nothing", "keras", &g, &err),
                     SNN_E_IO);
    assert_non_null(strstr(err.msg, "keras/nothing.json"));
    assert_non_null(strstr(err.msg, "keras/nothing.h5"));
    assert_non_null(strstr(err.msg, "keras/nothing.keras"));

    assert_int_equal(snn_model_load(dir, "cnn", "theano", &g, &err),
                     SNN_E_UNSUPPORTED);
    assert_string_equal(err.msg, "model_lib 'theano' is not supported yet");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cnn_structure),
        cmocka_unit_test(test_channels_first_structure),
        cmocka_unit_test(test_functional_structure),
        cmocka_unit_test(test_kernel_layout),
        cmocka_unit_test(test_other_encodings_match),
        cmocka_unit_test(test_outputs_match_keras),
        cmocka_unit_test(test_keras_archive_outputs),
        cmocka_unit_test(test_nested_models),
        cmocka_unit_test(test_nested_too_deep),
        cmocka_unit_test(test_keras3_vars_paths),
        cmocka_unit_test(test_keras_archive_broken),
        cmocka_unit_test(test_keras1_outputs),
        cmocka_unit_test(test_keras1_structure),
        cmocka_unit_test(test_keras1_refused),
        cmocka_unit_test(test_shared_lenet),
        cmocka_unit_test(test_truncated_file),
        cmocka_unit_test(test_missing_and_weights_only),
        cmocka_unit_test(test_unknown_layer_type),
        cmocka_unit_test(test_branching_model),
        cmocka_unit_test(test_bad_architectures),
        cmocka_unit_test(test_bad_1d_resampling),
        cmocka_unit_test(test_keras2_sequential_list),
        cmocka_unit_test(test_keras2_functional),
        cmocka_unit_test(test_old_keras_flatten_order),
        cmocka_unit_test(test_model_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
