/*
 * test_lasagne.c - the Lasagne reader and the BatchNorm folding it needs,
 * against an independent numpy implementation of Lasagne's inference
 * (scripts/gen_lasagne_fixtures.py; Lasagne itself no longer installs):
 * outputs of the parsed graph before and after folding, the shared
 * Lasagne LeNet's predictions on MNIST, and the errors for scripts and
 * parameter files outside what the reader handles.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse/lasagne.h"
#include "snntb/ann.h"
#include "snntb/dataset.h"
#include "snntb/normalize.h"
#include "snntb/parse.h"
#include "testutil.h"

static void parse_pair(const char *script, const char *params, snn_graph *g)
{
    snn_error err = {0};
    if (snn_parse_lasagne(script, params, g, &err) != SNN_OK)
        fail_msg("%s", err.msg);
}

static void parse_fixture(const char *name, snn_graph *g)
{
    char script[512], params[512], rel[128];
    snprintf(rel, sizeof rel, "lasagne/%s.py", name);
    tu_fixture(script, sizeof script, rel);
    snprintf(rel, sizeof rel, "lasagne/%s.h5", name);
    tu_fixture(params, sizeof params, rel);
    parse_pair(script, params, g);
}

static void run(const snn_graph *g, const snn_tensor *x, snn_tensor *out)
{
    tu_ann_output(g, x, out, "lasagne model");
}

static void assert_close(const snn_tensor *got, const snn_tensor *want)
{
    tu_assert_close(got, want, TU_TOL_REL, "lasagne model", "numpy");
}

static int count_op(const snn_graph *g, snn_op op)
{
    int n = 0;
    for (int i = 0; i < g->n_layers; i++)
        n += g->layers[i].op == op;
    return n;
}

/* Output equals numpy's as parsed, and again after BatchNorm folding,
 * which must leave no BatchNorm and no standalone ReLU behind. */
static void check_fixture(const char *name)
{
    char rel[128];
    snn_tensor x, y, out;
    snn_graph g;
    snprintf(rel, sizeof rel, "lasagne/%s_x.npy", name);
    tu_load_npy(rel, &x);
    snprintf(rel, sizeof rel, "lasagne/%s_y.npy", name);
    tu_load_npy(rel, &y);
    parse_fixture(name, &g);
    run(&g, &x, &out);
    assert_close(&out, &y);
    snn_tensor_free(&out);

    snn_error err = {0};
    if (snn_fold_batchnorm(&g, &err) != SNN_OK)
        fail_msg("%s: %s", name, err.msg);
    assert_int_equal(count_op(&g, SNN_OP_BATCHNORM), 0);
    run(&g, &x, &out);
    assert_close(&out, &y);
    snn_tensor_free(&out);
    snn_tensor_free(&x);
    snn_tensor_free(&y);
    snn_graph_free(&g);
}

static void test_convolutions(void **state)
{
    (void)state;
    check_fixture("convs");
}

static void test_batchnorm_after_activation(void **state)
{
    (void)state;
    check_fixture("bnafter");
}

/* bnafter's layers: batch_norm() moved the conv's rectify behind a new
 * BatchNormLayer and dropped its bias; DenseLayer got a Flatten. */
static void test_layer_list(void **state)
{
    (void)state;
    static const snn_op ops[] = {
        SNN_OP_INPUT,   SNN_OP_BATCHNORM, SNN_OP_CONV2D,    SNN_OP_BATCHNORM,
        SNN_OP_ACTIVATION, SNN_OP_MAXPOOL2D, SNN_OP_CONV2D, SNN_OP_BATCHNORM,
        SNN_OP_ACTIVATION, SNN_OP_FLATTEN, SNN_OP_DENSE,    SNN_OP_BATCHNORM,
        SNN_OP_ACTIVATION, SNN_OP_DENSE};
    snn_graph g;
    parse_fixture("bnafter", &g);
    assert_int_equal(g.n_layers, (int)(sizeof ops / sizeof *ops));
    for (int i = 0; i < g.n_layers; i++)
        assert_int_equal(g.layers[i].op, ops[i]);
    const snn_layer *pool = &g.layers[5], *wrapped = &g.layers[6];
    assert_int_equal(pool->win.ceil_mode, 1);
    /* 6x6 pooled 2x2 stride 2 keeps 3x3 */
    assert_int_equal(pool->shape.dims[1], 3);
    assert_null(wrapped->bias.data);
    assert_int_equal(wrapped->act, SNN_ACT_LINEAR);
    assert_int_equal(g.layers[8].act, SNN_ACT_RELU);
    assert_int_equal(g.layers[9].flatten_hwc, 0);
    assert_string_equal(g.source, "lasagne");
    snn_graph_free(&g);
}

/* The shared LeNet through snn_model_load, as a config names it. */
static int load_shared(snn_graph *g)
{
    char path[512];
    if (!tu_shared(path, sizeof path, "models/lenet5/lasagne/99.02.py"))
        return 0;
    *strrchr(path, '/') = '\0';
    snn_error err = {0};
    if (snn_model_load(path, "99.02", "lasagne", g, &err) != SNN_OK)
        fail_msg("%s", err.msg);
    return 1;
}

static void load_mnist(snn_tensor *x, snn_tensor *y)
{
    char path[512];
    snn_error err = {0};
    if (snn_npz_load(tu_shared(path, sizeof path, "data/mnist/x_test.npz"),
                     "arr_0", x, &err) != SNN_OK ||
        snn_npz_load(tu_shared(path, sizeof path, "data/mnist/y_test.npz"),
                     "arr_0", y, &err) != SNN_OK)
        fail_msg("%s", err.msg);
}

/* Predictions equal numpy's on every sample scored (all 10000, or the
 * first 500 in sanitizer runs), folded or not; the full run also gives
 * numpy's accuracy. */
static void check_lenet_predictions(const snn_graph *g, const snn_tensor *x,
                                    const snn_tensor *y, size_t n)
{
    snn_tensor pred, out;
    tu_load_npy("lasagne/lenet_shared_pred.npy", &pred);
    size_t correct = 0, per = snn_tensor_numel(x) / x->dims[0];
    for (size_t s = 0; s < n; s += 500) {
        snn_tensor batch = *x;
        batch.dims[0] = n - s < 500 ? n - s : 500;
        batch.data = x->data + s * per;
        run(g, &batch, &out);
        for (size_t i = 0; i < batch.dims[0]; i++) {
            const float *o = out.data + i * 10, *t = y->data + (s + i) * 10;
            int best = 0, label = 0;
            for (int c = 1; c < 10; c++) {
                best = o[c] > o[best] ? c : best;
                label = t[c] > t[label] ? c : label;
            }
            if (best != (int)pred.data[s + i])
                fail_msg("sample %zu: class %d, numpy %d", s + i, best,
                         (int)pred.data[s + i]);
            correct += best == label;
        }
        snn_tensor_free(&out);
    }
    if (n == 10000)
        assert_int_equal(correct, 9902); /* lenet_shared_correct.txt */
    snn_tensor_free(&pred);
}

static void test_shared_lenet(void **state)
{
    (void)state;
    snn_graph g;
    if (!load_shared(&g))
        skip();
    snn_tensor x, y, want, out;
    load_mnist(&x, &y);
    tu_load_npy("lasagne/lenet_shared_out16.npy", &want);
    snn_tensor first = x;
    first.dims[0] = 16;
    run(&g, &first, &out);
    assert_close(&out, &want);
    snn_tensor_free(&out);

    size_t n = tu_quick() ? 500 : 10000;
    check_lenet_predictions(&g, &x, &y, n);
    snn_error err = {0};
    if (snn_fold_batchnorm(&g, &err) != SNN_OK)
        fail_msg("%s", err.msg);
    /* conv, conv, dense keep their ReLUs; the NonlinearityLayers go */
    assert_int_equal(count_op(&g, SNN_OP_BATCHNORM), 0);
    assert_int_equal(count_op(&g, SNN_OP_ACTIVATION), 0);
    check_lenet_predictions(&g, &x, &y, n);
    snn_tensor_free(&want);
    snn_tensor_free(&x);
    snn_tensor_free(&y);
    snn_graph_free(&g);
}

/* ---- refusals ----------------------------------------------------------- */

/* Folding the fixture fails with a message holding needle; its ANN output
 * (exact in Lasagne) still matches numpy. */
static void fold_refused(const char *name, const char *needle)
{
    char rel[128];
    snn_tensor x, y, out;
    snn_graph g;
    snprintf(rel, sizeof rel, "lasagne/%s_x.npy", name);
    tu_load_npy(rel, &x);
    snprintf(rel, sizeof rel, "lasagne/%s_y.npy", name);
    tu_load_npy(rel, &y);
    parse_fixture(name, &g);
    run(&g, &x, &out);
    assert_close(&out, &y);
    snn_error err = {0};
    assert_int_equal(snn_fold_batchnorm(&g, &err), SNN_E_UNSUPPORTED);
    if (!strstr(err.msg, needle))
        fail_msg("message '%s' lacks '%s'", err.msg, needle);
    snn_tensor_free(&out);
    snn_tensor_free(&x);
    snn_tensor_free(&y);
    snn_graph_free(&g);
}

static void test_fold_refusals(void **state)
{
    (void)state;
    fold_refused("negscale", "negative scale");
    fold_refused("padfold", "zero padding");
}

/* Writes script text to dir/model.py and parses it with params. */
static snn_status parse_text(const char *dir, const char *text,
                             const char *params, snn_error *err)
{
    char script[512];
    snn_graph g;
    snprintf(script, sizeof script, "%s/model.py", dir);
    tu_write_file(script, text, strlen(text));
    snn_status st = snn_parse_lasagne(script, params, &g, err);
    assert_int_equal(g.n_layers, 0);
    return st;
}

typedef struct bad_script {
    const char *body; /* lines of build_network after the InputLayer */
    const char *needle1, *needle2;
} bad_script;

#define HEAD "from lasagne.layers import *\n\n\ndef build_network():\n" \
             "    net = InputLayer((None, 1, 8, 8))\n"

static void test_script_errors(void **state)
{
    (void)state;
    static const bad_script cases[] = {
        {"    net = Conv3DLayer(net, 3, 3)\n", "model.py:6:", "Conv3DLayer"},
        {"    for i in range(3):\n        net = DenseLayer(net, 3)\n",
         "model.py:6:", "assignments"},
        {"    net = DenseLayer(net, 3, nonlinearity=sigmoid)\n",
         "model.py:6:", "sigmoid"},
        {"    net = Conv2DLayer(net, 3, 3, untie_biases=True)\n",
         "model.py:6:", "untie_biases"},
        {"    net = DenseLayer(net, 3, nonlinearty=None)\n", "model.py:6:",
         "no argument 'nonlinearty'"},
        {"    net = Conv2DLayer(net, 3, 4, pad='same')\n", "model.py:6:",
         "odd"},
        {"    net = DenseLayer(net, 'ten')\n", "model.py:6:",
         "num_units must be a positive integer"},
        {"    net = DenseLayer(net, 3 * 2)\n", "model.py:6:", "'*'"},
        {"    a = DenseLayer(net, 3)\n    b = DenseLayer(net, 3)\n"
         "    return b\n", "model.py:6:", "not part of the returned network"},
        {"    a = Conv2DLayer(net, 2, 3)\n    b = Conv2DLayer(net, 2, 3)\n"
         "    net = ConcatLayer([b, a])\n", "model.py:7:", "Lasagne's order"},
        {"    net = ConcatLayer([net, net], axis=2)\n", "model.py:6:",
         "axis must be 1"},
        {"    net = ElemwiseSumLayer([net])\n", "model.py:6:",
         "incomings must be a list of 2 to 8 layers"},
        {"    net = ElemwiseSumLayer([net, net], coeffs=[1, 2, 3])\n",
         "model.py:6:", "coeffs must be a number or one per input"},
        {"    net = DenseLayer(net, (3\n", "model.py:6:", "never closed"},
        {"    net = DenseLayer(net, 'x)\n", "model.py:6:",
         "unterminated string"},
        {"    net = Pool2DLayer(net, 2, pad=1, mode='average_inc_pad')\n",
         "model.py:6:", "mode"},
        {"    net = DenseLayer(inputs, 3)\n", "model.py:6:",
         "incoming must be a layer"},
        {"    net = DenseLayer(net, 3)\n", "model.py:", "no build_network"},
    };
    char dir[256], params[512], text[1024];
    tu_tempdir(dir, sizeof dir);
    tu_fixture(params, sizeof params, "lasagne/convs.h5");
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int no_return = strstr(cases[i].body, "return") != NULL ||
                        strstr(cases[i].needle2, "no build_network");
        snprintf(text, sizeof text, "%s%s%s", HEAD, cases[i].body,
                 no_return ? "" : "    return net\n");
        snn_error err = {0};
        assert_int_not_equal(parse_text(dir, text, params, &err), SNN_OK);
        if (!strstr(err.msg, cases[i].needle1) ||
            !strstr(err.msg, cases[i].needle2))
            fail_msg("case %zu: message '%s' lacks '%s' or '%s'", i, err.msg,
                     cases[i].needle1, cases[i].needle2);
    }
    snn_error err = {0};
    assert_int_equal(parse_text(dir, "x = 1\n", params, &err),
                     SNN_E_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "model.py:1:"));
    char script[512];
    snn_graph g;
    snprintf(script, sizeof script, "%s/model.py", dir);
    tu_write_file(script, "def build_network():\n\0\n", 23);
    assert_int_equal(snn_parse_lasagne(script, params, &g, &err),
                     SNN_E_FORMAT);
    assert_non_null(strstr(err.msg, "NUL"));
    tu_rmtree(dir);
}

/* Parses fixture script `name` with parameter file `params`, expecting
 * status st and both needles in the message. */
static void params_fail(const char *name, const char *params, snn_status st,
                        const char *needle1, const char *needle2)
{
    char script[512], rel[128];
    snprintf(rel, sizeof rel, "lasagne/%s.py", name);
    tu_fixture(script, sizeof script, rel);
    snn_graph g;
    snn_error err = {0};
    assert_int_equal(snn_parse_lasagne(script, params, &g, &err), st);
    assert_int_equal(g.n_layers, 0);
    if (!strstr(err.msg, needle1) || !strstr(err.msg, needle2))
        fail_msg("message '%s' lacks '%s' or '%s'", err.msg, needle1,
                 needle2);
}

static void test_parameter_errors(void **state)
{
    (void)state;
    char bn[512], convs[512], neg[512], bad[512], dir[256], cut[512];
    tu_fixture(bn, sizeof bn, "lasagne/bnafter.h5");
    tu_fixture(convs, sizeof convs, "lasagne/convs.h5");
    tu_fixture(neg, sizeof neg, "lasagne/negscale.h5");
    tu_fixture(bad, sizeof bad, "lasagne/negscale_badinv.h5");
    /* bnafter's first parameter is a BatchNorm beta, not a 4-D W */
    params_fail("convs", bn, SNN_E_SHAPE, "W 'param_00'", "line 9");
    /* convs' first W is (4, 2, 3, 3); negscale wants (2, 1, 3, 3) */
    params_fail("negscale", convs, SNN_E_SHAPE, "param_00", "does not fit");
    /* padfold's layers take 8 parameters, as negscale's file holds, but
     * in another order */
    params_fail("padfold", neg, SNN_E_SHAPE, "beta 'param_00'", "(2, 1, 3, 3)");
    params_fail("negscale", bad, SNN_E_FORMAT, "inv_std[0]", "positive");
    params_fail("negscale", "/nonexistent/x.h5", SNN_E_IO, "x.h5", "open");

    tu_tempdir(dir, sizeof dir);
    snprintf(cut, sizeof cut, "%s/cut.h5", dir);
    tu_copy_file(neg, cut, 3000);
    snn_graph g;
    snn_error err = {0};
    char script[512];
    tu_fixture(script, sizeof script, "lasagne/negscale.py");
    assert_int_not_equal(snn_parse_lasagne(script, cut, &g, &err), SNN_OK);
    assert_non_null(strstr(err.msg, "cut.h5"));
    /* the script where the parameters should be: not HDF5 */
    params_fail("negscale", script, SNN_E_FORMAT, "negscale.py", "HDF5");
    tu_rmtree(dir);
}

/* A script needing fewer parameters than the file holds. */
static void test_extra_parameters(void **state)
{
    (void)state;
    char dir[256], params[512];
    tu_tempdir(dir, sizeof dir);
    tu_fixture(params, sizeof params, "lasagne/negscale.h5");
    snn_error err = {0};
    const char *text = HEAD
        "    net = Conv2DLayer(net, 2, 3, name='c')\n"
        "    return {'model': net, 'other': 1}\n";
    assert_int_equal(parse_text(dir, text, params, &err), SNN_E_SHAPE);
    /* 8 x 8 input is fine for a 3x3 conv; W and b are taken, 6 left */
    if (!strstr(err.msg, "holds 8 parameters") || !strstr(err.msg, "take 2"))
        fail_msg("message '%s'", err.msg);
    tu_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_convolutions),
        cmocka_unit_test(test_batchnorm_after_activation),
        cmocka_unit_test(test_layer_list),
        cmocka_unit_test(test_shared_lenet),
        cmocka_unit_test(test_fold_refusals),
        cmocka_unit_test(test_script_errors),
        cmocka_unit_test(test_parameter_errors),
        cmocka_unit_test(test_extra_parameters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
