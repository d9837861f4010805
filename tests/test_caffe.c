/*
 * test_caffe.c - the Caffe reader against an independent implementation:
 * fixture nets (scripts/gen_caffe_fixtures.py) whose outputs OpenCV's dnn
 * module computed (chains, and branches joined by Eltwise and Concat), the
 * shared LeNet whose MNIST accuracy OpenCV measured, and broken or
 * unsupported files that must fail with a clear error.
 */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snntb/ann.h"
#include "snntb/dataset.h"
#include "snntb/parse.h"

/* OpenCV 4.14's dnn module on ../shared/models/lenet5/caffe/96.13 with the
 * shared x_test as stored ([0, 1]): 9613 of 10000 correct, the 96.13 % in
 * the file's name. */
#define LENET_OPENCV_TOP1 9613

static void fixture_pair(const char *stem, char *proto, char *model,
                         size_t n)
{
    char rel[128];
    snprintf(rel, sizeof rel, "caffe/%s.prototxt", stem);
    tu_fixture(proto, n, rel);
    snprintf(rel, sizeof rel, "caffe/%s.caffemodel", stem);
    tu_fixture(model, n, rel);
}

static void parse_ok(const char *proto, const char *model, snn_graph *g)
{
    snn_error err = {0};
    if (snn_parse_caffe(proto, model, g, &err) != SNN_OK)
        fail_msg("%s: %s", proto, err.msg);
}

/* Runs <data>_x.npy through the parsed net <stem> and compares the last
 * layer with OpenCV's <data>_y.npy, to 1e-4 of the output's scale. */
static void check_outputs(const char *stem, const char *data)
{
    char proto[512], model[512], rel[128];
    snn_graph g;
    snn_tensor x, y;
    fixture_pair(stem, proto, model, sizeof proto);
    parse_ok(proto, model, &g);
    snprintf(rel, sizeof rel, "caffe/%s_x.npy", data);
    tu_load_npy(rel, &x);
    snprintf(rel, sizeof rel, "caffe/%s_y.npy", data);
    tu_load_npy(rel, &y);
    snn_tensor out;
    tu_ann_output(&g, &x, &out, stem);
    tu_assert_close(&out, &y, TU_TOL_SCALE, stem, "OpenCV");
    snn_tensor_free(&out);
    snn_tensor_free(&x);
    snn_tensor_free(&y);
    snn_graph_free(&g);
}

static void test_outputs_match_opencv(void **state)
{
    (void)state;
    check_outputs("mix", "mix");
    /* ip1 stored transposed (transpose: true) computes the same. */
    check_outputs("mix_t", "mix");
    check_outputs("global", "global");
    check_outputs("v1", "v1");
    check_outputs("dag", "dag");
    check_outputs("v1dag", "v1dag");
}

/* dag.prototxt: Eltwise SUM of three branches with coeff 1, -0.5, 2 (a
 * scale layer for each coefficient that is not 1), a plain Eltwise, and a
 * Concat; conv1 (its ReLU fused) feeds four layers. */
static void test_dag_structure(void **state)
{
    (void)state;
    char proto[512], model[512];
    snn_graph g;
    fixture_pair("dag", proto, model, sizeof proto);
    parse_ok(proto, model, &g);
    int conv1 = snn_graph_find(&g, "conv1");
    assert_int_equal(g.layers[conv1].act, SNN_ACT_RELU);
    assert_int_equal(snn_graph_consumers(&g, conv1), 4);
    assert_int_equal(snn_graph_find(&g, "sum_coeff0"), -1);
    const snn_layer *c1 = tu_layer(&g, "sum_coeff1");
    const snn_layer *c2 = tu_layer(&g, "sum_coeff2");
    assert_true(c1->gamma.data[3] == -0.5f && c2->gamma.data[0] == 2.0f);
    assert_int_equal(c1->inputs[0], snn_graph_find(&g, "conv2b"));
    assert_int_equal(c2->inputs[0], conv1);
    const snn_layer *sum = tu_layer(&g, "sum");
    assert_int_equal(sum->op, SNN_OP_ADD);
    assert_int_equal(sum->n_inputs, 3);
    assert_int_equal(sum->inputs[0], snn_graph_find(&g, "conv2a"));
    assert_int_equal(sum->inputs[1], snn_graph_find(&g, "sum_coeff1"));
    assert_int_equal(sum->inputs[2], snn_graph_find(&g, "sum_coeff2"));
    const snn_layer *plain = tu_layer(&g, "plain");
    assert_int_equal(plain->n_inputs, 2);
    assert_int_equal(plain->inputs[0], snn_graph_find(&g, "relu2"));
    const snn_layer *cat = tu_layer(&g, "cat");
    assert_int_equal(cat->op, SNN_OP_CONCAT);
    assert_int_equal(cat->inputs[1], conv1);
    assert_int_equal(cat->shape.dims[0], 8);
    snn_graph_free(&g);
}

/* What the reader made of mix.prototxt: BatchNorm took the Scale's gamma
 * and beta and the ReLU, pooling kept Caffe's rounding and averaging, and
 * a Flatten came before the first InnerProduct. */
static void test_mix_structure(void **state)
{
    (void)state;
    char proto[512], model[512];
    snn_graph g;
    fixture_pair("mix", proto, model, sizeof proto);
    parse_ok(proto, model, &g);
    assert_int_equal(g.n_layers, 9);
    const snn_layer *bn = tu_layer(&g, "bn1");
    assert_int_equal(bn->op, SNN_OP_BATCHNORM);
    assert_int_equal(bn->act, SNN_ACT_RELU);
    assert_non_null(bn->gamma.data);
    assert_non_null(bn->beta.data);
    assert_int_equal(snn_graph_find(&g, "sc1"), -1);
    const snn_layer *pool = tu_layer(&g, "pool1");
    assert_true(pool->win.ceil_mode);
    assert_true(pool->win.count_pad);
    assert_int_equal(pool->shape.dims[1], 6);
    const snn_layer *conv2 = tu_layer(&g, "conv2");
    assert_int_equal(conv2->groups, 2);
    assert_int_equal(conv2->win.dilation[0], 2);
    assert_int_equal(conv2->win.stride[1], 2);
    assert_int_equal(conv2->win.pad[1], 1);
    assert_int_equal(conv2->act, SNN_ACT_RELU);
    assert_int_equal(tu_layer(&g, "ip1_flatten")->op, SNN_OP_FLATTEN);
    assert_false(tu_layer(&g, "ip1_flatten")->flatten_hwc);
    assert_int_equal(tu_layer(&g, "ip2")->act, SNN_ACT_SOFTMAX);
    assert_string_equal(g.source, "caffe");
    snn_graph_free(&g);
}

/* ---- the shared LeNet --------------------------------------------------- */

static void test_shared_lenet(void **state)
{
    (void)state;
    char proto[512], model[512], data[512], rel[512];
    if (!tu_shared(proto, sizeof proto, "models/lenet5/caffe/96.13.prototxt") ||
        !tu_shared(model, sizeof model,
                   "models/lenet5/caffe/96.13.caffemodel") ||
        !tu_shared(rel, sizeof rel, "data/mnist/x_test.npz"))
        skip();
    snprintf(data, sizeof data, "%.*s", (int)(strrchr(rel, '/') - rel), rel);
    snn_graph g;
    snn_dataset d = {0};
    snn_error err = {0};
    parse_ok(proto, model, &g);
    assert_int_equal(tu_layer(&g, "pool1")->shape.dims[1], 12);
    assert_int_equal(tu_layer(&g, "ip1")->weight.dims[1], 800);
    assert_int_equal(tu_layer(&g, "ip2")->act, SNN_ACT_SOFTMAX);
    if (snn_dataset_load_npz(&d, data, &err) != SNN_OK)
        fail_msg("%s", err.msg);
    /* The sanitizer pass scores a fifth and compares predictions only. */
    size_t n = tu_quick() ? 2000 : snn_dataset_size(&d);
    snn_tensor pred, *acts = calloc((size_t)g.n_layers, sizeof *acts);
    tu_load_npy("caffe/lenet_opencv_pred.npy", &pred);
    snn_score score;
    if (snn_ann_score(&g, &d.x, &d.y, n, 250, 1, &score, &err) != SNN_OK)
        fail_msg("%s", err.msg);
    if (!tu_quick())
        assert_int_equal(score.top1, LENET_OPENCV_TOP1);
    snn_tensor batch = {.ndim = 4, .dims = {100, 1, 28, 28}};
    size_t differ = 0;
    for (size_t b = 0; b < n; b += 100) {
        batch.data = d.x.data + b * 784;
        if (snn_ann_forward(&g, &batch, acts, &err) != SNN_OK)
            fail_msg("%s", err.msg);
        for (size_t i = 0; i < 100; i++)
            differ += snn_in_top_k(acts[g.n_layers - 1].data + 10 * i, 10,
                                   (int)pred.data[b + i], 1) == 0;
    }
    /* 0.01 % of the test set. */
    assert_true(differ <= 1);
    snn_ann_acts_free(acts, g.n_layers);
    free(acts);
    snn_tensor_free(&pred);
    snn_dataset_free(&d);
    snn_graph_free(&g);
}

/* ---- broken and unsupported files --------------------------------------- */

/* Parsing must fail with status want and a message containing each of
 * the NULL-terminated words. */
static void expect_error(const char *proto, const char *model,
                         snn_status want, ...)
{
    snn_graph g;
    snn_error err = {0};
    snn_status st = snn_parse_caffe(proto, model, &g, &err);
    if (st != want)
        fail_msg("status %s (%s), expected %s", snn_status_name(st), err.msg,
                 snn_status_name(want));
    va_list ap;
    va_start(ap, want);
    for (const char *w; (w = va_arg(ap, const char *));)
        if (!strstr(err.msg, w))
            fail_msg("message '%s' does not mention '%s'", err.msg, w);
    va_end(ap);
    assert_int_equal(g.n_layers, 0);
}

/* <stem>.prototxt with its text edited: from -> to. */
static void edited_prototxt(const char *stem, const char *dir,
                            const char *from, const char *to, char *out,
                            size_t n)
{
    char src[512], rel[128];
    snprintf(rel, sizeof rel, "caffe/%s.prototxt", stem);
    FILE *f = fopen(tu_fixture(src, sizeof src, rel), "rb");
    assert_non_null(f);
    char text[8192];
    size_t len = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[len] = '\0';
    char *at = strstr(text, from);
    assert_non_null(at);
    char edited[8192];
    snprintf(edited, sizeof edited, "%.*s%s%s", (int)(at - text), text, to,
             at + strlen(from));
    snprintf(out, n, "%s/edited.prototxt", dir);
    tu_write_file(out, edited, strlen(edited));
}

static void test_broken_files(void **state)
{
    (void)state;
    char proto[512], model[512], dir[256], path[512], bad[512];
    fixture_pair("mix", proto, model, sizeof proto);
    tu_tempdir(dir, sizeof dir);

    snprintf(path, sizeof path, "%s/cut.caffemodel", dir);
    tu_copy_file(model, path, 1000);
    expect_error(proto, path, SNN_E_FORMAT, "cut.caffemodel", "NetParameter",
                 NULL);

    /* Another kind of file where the weights should be. */
    snprintf(path, sizeof path, "%s/png.caffemodel", dir);
    tu_write_file(path, "\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16);
    expect_error(proto, path, SNN_E_FORMAT, "png.caffemodel", NULL);
    expect_error(model, model, SNN_E_FORMAT, "mix.caffemodel", NULL);

    expect_error(proto, "/nonexistent/x.caffemodel", SNN_E_IO, "cannot open",
                 NULL);

    edited_prototxt("mix", dir, "top: \"pool2\"\n        pooling",
                    "top: \"pool2\" {\n        pooling", bad, sizeof bad);
    expect_error(bad, model, SNN_E_FORMAT, "edited.prototxt:", NULL);

    edited_prototxt("mix", dir, "dropout_ratio: 0.3 } }", "dropout_ratio: 0.3 }",
                    bad, sizeof bad);
    expect_error(bad, model, SNN_E_FORMAT, "missing closing bracket", NULL);

    edited_prototxt("mix", dir, "kernel_size: 3 pad: 1", "kernel_size: three pad: 1",
                    bad, sizeof bad);
    expect_error(bad, model, SNN_E_FORMAT, "kernel_size", NULL);
    tu_rmtree(dir);
}

static void test_weights_that_do_not_fit(void **state)
{
    (void)state;
    char proto[512], model[512], dir[256], bad[512];
    fixture_pair("mix", proto, model, sizeof proto);
    tu_tempdir(dir, sizeof dir);

    edited_prototxt("mix", dir, "num_output: 6", "num_output: 5", bad, sizeof bad);
    expect_error(bad, model, SNN_E_SHAPE, "conv1", "weights", NULL);

    /* An absurd layer size must be refused before anything is allocated. */
    edited_prototxt("mix", dir, "num_output: 7", "num_output: 4000000000", bad,
                    sizeof bad);
    expect_error(bad, model, SNN_E_SHAPE, "ip1", NULL);

    edited_prototxt("mix", dir, "name: \"ip2\"", "name: \"ip9\"", bad, sizeof bad);
    expect_error(bad, model, SNN_E_FORMAT, "ip9", "missing", NULL);

    edited_prototxt("mix", dir, "bottom: \"ip1\" top: \"ip2\"",
                    "bottom: \"ip0\" top: \"ip2\"", bad, sizeof bad);
    expect_error(bad, model, SNN_E_FORMAT, "'ip0'", NULL);
    tu_rmtree(dir);
}

static void test_unsupported_layers(void **state)
{
    (void)state;
    char proto[512], model[512], dir[256], bad[512];
    fixture_pair("mix", proto, model, sizeof proto);
    tu_tempdir(dir, sizeof dir);

    edited_prototxt("mix", dir, "type: \"Dropout\"", "type: \"LRN\"", bad,
                    sizeof bad);
    expect_error(bad, model, SNN_E_UNSUPPORTED, "'drop'", "LRN", NULL);

    edited_prototxt("mix", dir, "type: \"ReLU\" bottom: \"conv2\"",
                    "type: \"ReLU\" relu_param { negative_slope: 0.1 } "
                    "bottom: \"conv2\"", bad, sizeof bad);
    expect_error(bad, model, SNN_E_UNSUPPORTED, "relu2", "integrate-and-fire",
                 NULL);

    edited_prototxt("mix", dir, "type: \"Input\" top: \"data\"",
                    "type: \"Data\" top: \"data\"", bad, sizeof bad);
    expect_error(bad, model, SNN_E_UNSUPPORTED, "Input layer", NULL);

    edited_prototxt("mix", dir, "pool: AVE", "pool: STOCHASTIC", bad, sizeof bad);
    expect_error(bad, model, SNN_E_UNSUPPORTED, "pool1", "stochastic", NULL);
    tu_rmtree(dir);
}

/* Text-format details the fixtures do not use: comments, the [ ] list
 * form, enum values by number, quoted strings with escapes and
 * concatenation, `<...>` blocks, and unknown fields skipped with their
 * nested blocks. */
static void test_text_format(void **state)
{
    (void)state;
    char proto[512], model[512], dir[256], path[512];
    fixture_pair("v1", proto, model, sizeof proto);
    tu_tempdir(dir, sizeof dir);
    static const char text[] =
        "# a legacy net\n"
        "name: 'v' \"1\"  input: \"d\\x61ta\"\n"
        "input_dim: [1, 1, 8, 8]\n"
        "unknown_field { nested { deeper: \"}\" } x: 1 }\n"
        "layers < name: \"conv\" type: 4 bottom: 'data' top: \"conv\"\n"
        "  convolution_param { num_output: 3 kernel_size: 3 stride: 2\n"
        "    weight_filler { type: \"xavier\" } } >\n"
        "layers { name: \"relu\" type: RELU bottom: \"conv\" top: \"conv\" ;}\n"
        "layers { name: \"pool\" type: POOLING bottom: \"conv\" top: "
        "\"pool\"\n"
        "  pooling_param { pool: 0 kernel_size: 2 stride: 2 } }\n"
        "layers { name: \"ip\", type: INNER_PRODUCT, bottom: \"pool\", "
        "top: \"ip\",\n"
        "  inner_product_param { num_output: 3 } }\n";
    snprintf(path, sizeof path, "%s/v.prototxt", dir);
    tu_write_file(path, text, sizeof text - 1);
    snn_graph g;
    parse_ok(path, model, &g);
    assert_string_equal(g.layers[0].name, "data");
    assert_int_equal(g.layers[0].shape.dims[1], 8);
    assert_int_equal(tu_layer(&g, "conv")->act, SNN_ACT_RELU);
    assert_int_equal(tu_layer(&g, "pool")->op, SNN_OP_MAXPOOL2D);
    assert_int_equal(tu_layer(&g, "ip")->shape.dims[0], 3);
    snn_graph_free(&g);
    tu_rmtree(dir);
}

/* model_lib = caffe: filename_ann names <stem>.prototxt + .caffemodel. */
static void test_model_load(void **state)
{
    (void)state;
    char dir[512];
    snn_graph g;
    snn_error err = {0};
    tu_fixture(dir, sizeof dir, "caffe");
    static const char *const names[] = {"mix", "mix.prototxt",
                                        "mix.caffemodel"};
    for (size_t i = 0; i < 3; i++) {
        if (snn_model_load(dir, names[i], "caffe", &g, &err) != SNN_OK)
            fail_msg("%s: %s", names[i], err.msg);
        assert_int_equal(g.n_layers, 9);
        snn_graph_free(&g);
    }
    assert_int_equal(snn_model_load(dir, "nothing", "caffe", &g, &err),
                     SNN_E_IO);
    assert_non_null(strstr(err.msg, "caffe/nothing.prototxt"));
    assert_non_null(strstr(err.msg, "caffe/nothing.caffemodel"));
}

static void test_unsupported_joins(void **state)
{
    (void)state;
    char proto[512], model[512], dir[256], bad[512];
    fixture_pair("dag", proto, model, sizeof proto);
    tu_tempdir(dir, sizeof dir);
    edited_prototxt("dag", dir, "operation: SUM", "operation: PROD", bad,
                    sizeof bad);
    expect_error(bad, model, SNN_E_UNSUPPORTED, "layer 'sum' (Eltwise)",
                 "only operation SUM", NULL);
    edited_prototxt("dag", dir, "coeff: -0.5 coeff: 2", "coeff: -0.5", bad,
                    sizeof bad);
    expect_error(bad, model, SNN_E_FORMAT, "layer 'sum' (Eltwise)",
                 "has 2 coeff for 3 bottoms", NULL);
    edited_prototxt("dag", dir, "concat_param { axis: 1 }",
                    "concat_param { axis: 2 }", bad, sizeof bad);
    expect_error(bad, model, SNN_E_UNSUPPORTED, "layer 'cat' (Concat)",
                 "concatenating along axis 2 is not supported", NULL);
    edited_prototxt("dag", dir, "bottom: \"plain\" bottom: \"conv1\"",
                    "bottom: \"plain\"", bad, sizeof bad);
    expect_error(bad, model, SNN_E_UNSUPPORTED, "layer 'cat' (Concat)",
                 "has 1 bottoms", NULL);
    /* Branches whose shapes disagree. */
    edited_prototxt("dag", dir, "num_output: 4 kernel_size: 1",
                    "num_output: 5 kernel_size: 1", bad, sizeof bad);
    expect_error(bad, model, SNN_E_SHAPE, "conv2b", NULL);
    tu_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_outputs_match_opencv),
        cmocka_unit_test(test_mix_structure),
        cmocka_unit_test(test_dag_structure),
        cmocka_unit_test(test_unsupported_joins),
        cmocka_unit_test(test_shared_lenet),
        cmocka_unit_test(test_broken_files),
        cmocka_unit_test(test_weights_that_do_not_fit),
        cmocka_unit_test(test_unsupported_layers),
        cmocka_unit_test(test_text_format),
        cmocka_unit_test(test_model_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
