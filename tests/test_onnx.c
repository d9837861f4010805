/*
 * test_onnx.c - the ONNX reader against PyTorch: models exported by
 * torch.onnx.export at several opsets with both exporters
 * (scripts/gen_onnx_fixtures.py), each with PyTorch's outputs on fixed
 * inputs; a hand-computed model with typed (not raw) weights; and broken
 * or unsupported files that must fail with a clear error.
 */
#include "testutil.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snntb/ann.h"
#include "snntb/dataset.h"
#include "snntb/net.h"
#include "snntb/parse.h"

static const char *fixture(char *buf, size_t n, const char *name)
{
    char rel[320];
    snprintf(rel, sizeof rel, "onnx/%.300s", name);
    return tu_fixture(buf, n, rel);
}

static void parse_ok(const char *path, snn_graph *g)
{
    snn_error err = {0};
    if (snn_parse_onnx(path, g, &err) != SNN_OK)
        fail_msg("%s: %s", path, err.msg);
}

static const snn_layer *layer_of(const snn_graph *g, snn_op op, int nth)
{
    for (int i = 0; i < g->n_layers; i++)
        if (g->layers[i].op == op && nth-- == 0)
            return &g->layers[i];
    fail_msg("no %s layer", snn_op_name(op));
    return NULL;
}

static void load_npy(const char *name, snn_tensor *t)
{
    char path[512];
    snn_error err = {0};
    if (snn_npy_load(fixture(path, sizeof path, name), t, &err) != SNN_OK)
        fail_msg("%s: %s", name, err.msg);
}

/* The last layer's output on x, compared with y to 1e-4 relative (of the
 * largest output, so that values near zero do not demand more). */
static void check_against(const char *path, const snn_tensor *x,
                          const snn_tensor *y)
{
    snn_graph g;
    parse_ok(path, &g);
    snn_tensor out;
    tu_ann_output(&g, x, &out, path);
    tu_assert_close(&out, y, TU_TOL_SCALE, path, "the framework");
    snn_tensor_free(&out);
    snn_graph_free(&g);
}

/* Every <model>_o<opset>[_dynamo].onnx against <model>_y.npy; returns how
 * many files there were. */
static int check_model(const char *model)
{
    char path[512], name[256], prefix[64];
    snn_tensor x, y;
    snprintf(name, sizeof name, "%s_x.npy", model);
    load_npy(name, &x);
    snprintf(name, sizeof name, "%s_y.npy", model);
    load_npy(name, &y);
    snprintf(prefix, sizeof prefix, "%s_o", model);
    DIR *d = opendir(fixture(path, sizeof path, ""));
    assert_non_null(d);
    int files = 0;
    for (struct dirent *e; (e = readdir(d));) {
        size_t len = strlen(e->d_name);
        if (strncmp(e->d_name, prefix, strlen(prefix)) != 0 || len < 5 ||
            strcmp(e->d_name + len - 5, ".onnx") != 0)
            continue;
        check_against(fixture(path, sizeof path, e->d_name), &x, &y);
        files++;
    }
    closedir(d);
    snn_tensor_free(&x);
    snn_tensor_free(&y);
    return files;
}

static void test_outputs_match_pytorch(void **state)
{
    (void)state;
    /* Opsets 11, 13, 17 and the newest, TorchScript and dynamo. */
    assert_true(check_model("cnn") >= 5);
    assert_true(check_model("gap") >= 5);
    assert_true(check_model("mlp") >= 5);
}

/* What the reader made of the exports: activations folded into their
 * layers, Pad nodes merged into the next window op, the integer shape
 * arithmetic before Reshape evaluated away. */
static void test_structure(void **state)
{
    (void)state;
    char path[512];
    snn_graph g;
    parse_ok(fixture(path, sizeof path, "cnn_o13.onnx"), &g);
    assert_int_equal(g.n_layers, 8);
    assert_int_equal(layer_of(&g, SNN_OP_CONV2D, 0)->act, SNN_ACT_RELU);
    assert_int_equal(layer_of(&g, SNN_OP_CONV2D, 1)->act, SNN_ACT_RELU);
    assert_int_equal(layer_of(&g, SNN_OP_CONV2D, 1)->groups, 2);
    assert_true(layer_of(&g, SNN_OP_MAXPOOL2D, 0)->win.ceil_mode);
    assert_true(layer_of(&g, SNN_OP_AVGPOOL2D, 0)->win.count_pad);
    assert_int_equal(layer_of(&g, SNN_OP_DENSE, 1)->act, SNN_ACT_SOFTMAX);
    assert_string_equal(g.source, "onnx opset 13");
    snn_graph_free(&g);

    parse_ok(fixture(path, sizeof path, "gap_o11.onnx"), &g);
    const snn_layer *conv2 = layer_of(&g, SNN_OP_CONV2D, 1);
    /* ZeroPad2d((left 1, right 2, top 0, bottom 1)). */
    assert_int_equal(conv2->win.pad[0], 0);
    assert_int_equal(conv2->win.pad[1], 1);
    assert_int_equal(conv2->win.pad[2], 1);
    assert_int_equal(conv2->win.pad[3], 2);
    const snn_layer *pool = layer_of(&g, SNN_OP_AVGPOOL2D, 0);
    assert_true(pool->win.count_pad);
    assert_int_equal(pool->win.pad[0], 1);
    assert_int_equal(layer_of(&g, SNN_OP_BATCHNORM, 0)->n_inputs, 1);
    assert_int_equal(g.layers[g.n_layers - 1].op, SNN_OP_DENSE);
    assert_int_equal(g.layers[g.n_layers - 2].op, SNN_OP_FLATTEN);
    snn_graph_free(&g);
}

/* typed.onnx stores W (4, 3) as float_data 0, 0.5, 1, ... and the bias
 * (1, -2, 0.25) in a Constant node: y = x W + b by hand. */
static void test_typed_fields(void **state)
{
    (void)state;
    char path[512];
    float xv[4] = {1.0f, -2.0f, 0.5f, 3.0f};
    snn_tensor x = {.ndim = 2, .dims = {1, 4}, .data = xv};
    float yv[3], b[3] = {1.0f, -2.0f, 0.25f};
    snn_tensor y = {.ndim = 2, .dims = {1, 3}, .data = yv};
    for (int j = 0; j < 3; j++) {
        yv[j] = b[j];
        for (int i = 0; i < 4; i++)
            yv[j] += xv[i] * 0.5f * (float)(i * 3 + j);
    }
    check_against(fixture(path, sizeof path, "typed.onnx"), &x, &y);
}

/* ---- broken and unsupported files --------------------------------------- */

static void expect_error(const char *path, snn_status want, const char *w1,
                         const char *w2)
{
    snn_graph g;
    snn_error err = {0};
    snn_status st = snn_parse_onnx(path, &g, &err);
    if (st != want)
        fail_msg("%s: status %s (%s), expected %s", path,
                 snn_status_name(st), err.msg, snn_status_name(want));
    if (!strstr(err.msg, w1) || (w2 && !strstr(err.msg, w2)))
        fail_msg("message '%s' does not mention '%s' and '%s'", err.msg, w1,
                 w2 ? w2 : "");
    assert_int_equal(g.n_layers, 0);
}

static void test_broken_files(void **state)
{
    (void)state;
    char src[512], dir[256], path[512];
    tu_tempdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/cut.onnx", dir);
    tu_copy_file(fixture(src, sizeof src, "cnn_o13.onnx"), path, 700);
    expect_error(path, SNN_E_FORMAT, "cut.onnx", NULL);

    snprintf(path, sizeof path, "%s/png.onnx", dir);
    tu_write_file(path, "\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16);
    expect_error(path, SNN_E_FORMAT, "png.onnx", NULL);

    snprintf(path, sizeof path, "%s/empty.onnx", dir);
    tu_write_file(path, "", 0);
    expect_error(path, SNN_E_FORMAT, "not an ONNX model", NULL);

    expect_error("/nonexistent.onnx", SNN_E_IO, "cannot open", NULL);
    tu_rmtree(dir);

    /* 2^40 x 2^40 weights claimed, 12 stored: refused, not allocated. */
    expect_error(fixture(src, sizeof src, "huge_dims.onnx"), SNN_E_FORMAT,
                 "'w'", "dimension");
    expect_error(fixture(src, sizeof src, "misfit.onnx"), SNN_E_SHAPE,
                 "Gemm", "do not fit");
    expect_error(fixture(src, sizeof src, "external.onnx"),
                 SNN_E_UNSUPPORTED, "external file", NULL);
}

static void test_unsupported_ops(void **state)
{
    (void)state;
    char path[512];
    expect_error(fixture(path, sizeof path, "sigmoid.onnx"),
                 SNN_E_UNSUPPORTED, "Sigmoid", "integrate-and-fire");
    expect_error(fixture(path, sizeof path, "unknown_op.onnx"),
                 SNN_E_UNSUPPORTED, "TopK", "not supported");
}

/* The reader keeps what the ANN computes; conversion refuses what the
 * simulator cannot run yet: torch's AvgPool2d(padding=1) averages over
 * its padding too. */
static void test_conversion(void **state)
{
    (void)state;
    char path[512];
    snn_graph g;
    snn_net net;
    snn_error err = {0};
    snn_convert_opts o = {.v_thresh = 1.0f, .dt = 1.0f};
    parse_ok(fixture(path, sizeof path, "mlp_o17.onnx"), &g);
    assert_int_equal(snn_convert(&g, &o, &net, &err), SNN_OK);
    snn_net_free(&net);
    snn_graph_free(&g);
    parse_ok(fixture(path, sizeof path, "cnn_o17.onnx"), &g);
    assert_int_equal(snn_convert(&g, &o, &net, &err), SNN_E_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "AveragePool"));
    assert_non_null(strstr(err.msg, "not supported by the spiking simulator"));
    snn_net_free(&net);
    snn_graph_free(&g);
}

/* model_lib = pytorch: filename_ann names <stem>.onnx; a .pth alone gets
 * told how to export it. */
static void test_model_load(void **state)
{
    (void)state;
    char dir[512], tmp[256], pth[512];
    snn_graph g;
    snn_error err = {0};
    tu_fixture(dir, sizeof dir, "onnx");
    if (snn_model_load(dir, "mlp_o17", "pytorch", &g, &err) != SNN_OK)
        fail_msg("%s", err.msg);
    assert_int_equal(g.layers[0].shape.dims[0], 12);
    snn_graph_free(&g);
    tu_tempdir(tmp, sizeof tmp);
    snprintf(pth, sizeof pth, "%s/net.pth", tmp);
    tu_write_file(pth, "x", 1);
    assert_int_equal(snn_model_load(tmp, "net", "pytorch", &g, &err),
                     SNN_E_IO);
    assert_non_null(strstr(err.msg, "pytorch_to_onnx.py"));
    tu_rmtree(tmp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_outputs_match_pytorch),
        cmocka_unit_test(test_structure),
        cmocka_unit_test(test_typed_fields),
        cmocka_unit_test(test_broken_files),
        cmocka_unit_test(test_unsupported_ops),
        cmocka_unit_test(test_conversion),
        cmocka_unit_test(test_model_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
