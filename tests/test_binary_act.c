/*
 * test_binary_act.c - the original toolbox's binary activations,
 * binary_sigmoid and binary_tanh: read from Keras files saved with custom
 * functions of those names (scripts/gen_binary_fixtures.py) and run
 * against Keras' outputs; the ANN op, the binary neurons and a tiny
 * converted net against spike trains and membranes worked out by hand;
 * and what refuses them (exports, the event engine, payloads).
 */
#include "testutil.h"

#include <stdio.h>
#include <string.h>

#include "ann/ops.h"
#include "sim/neuron.h"
#include "snntb/net.h"
#include "snntb/parse.h"
#include "snntb/sim.h"

/* Keras 3 records a custom function as {"class_name": "function",
 * "config": "binary_sigmoid", ...}, Keras 2 by its name: both read, and
 * the ANN gives Keras' outputs. */
static void test_keras_binary_matches_keras(void **state)
{
    (void)state;
    static const char *const files[] = {"keras/binary.h5",
                                        "keras/binary_k2.h5"};
    snn_tensor x, y;
    tu_load_npy("keras/binary_x_nchw.npy", &x);
    tu_load_npy("keras/binary_y.npy", &y);
    for (size_t i = 0; i < 2; i++) {
        char path[512];
        snn_graph g;
        snn_error err = {0};
        if (snn_parse_keras(tu_fixture(path, sizeof path, files[i]), &g,
                            &err) != SNN_OK)
            fail_msg("%s: %s", files[i], err.msg);
        assert_int_equal(tu_layer(&g, "bs")->act, SNN_ACT_BINARY_SIGMOID);
        assert_int_equal(tu_layer(&g, "bt")->act, SNN_ACT_BINARY_TANH);
        snn_tensor out;
        tu_ann_output(&g, &x, &out, files[i]);
        tu_assert_close(&out, &y, TU_TOL_REL, files[i], "Keras");
        snn_tensor_free(&out);
        snn_graph_free(&g);
    }
    snn_tensor_free(&x);
    snn_tensor_free(&y);
}

/* binary.h5 converted with reset to zero and its softmax made a ReLU:
 * a binary neuron whose input is constant fires every step or never,
 * exactly its ANN value, and the binary_sigmoid layer (fed by the constant
 * input) makes the binary_tanh layer's input constant too; so the SNN's
 * classes are Keras' on all 16 samples. */
static void test_keras_binary_net_classes(void **state)
{
    (void)state;
    char path[512];
    snn_graph g;
    snn_net net;
    snn_error err = {0};
    if (snn_parse_keras(tu_fixture(path, sizeof path, "keras/binary.h5"), &g,
                        &err) != SNN_OK)
        fail_msg("%s", err.msg);
    g.layers[g.n_layers - 1].act = SNN_ACT_RELU;
    snn_convert_opts co = {1.0f, SNN_RESET_ZERO, 1.0f};
    assert_int_equal(snn_convert(&g, &co, &net, &err), SNN_OK);
    snn_tensor x, ky, y;
    tu_load_npy("keras/binary_x_nchw.npy", &x);
    tu_load_npy("keras/binary_y.npy", &ky);
    size_t n = ky.dims[0], classes = ky.dims[1];
    assert_int_equal(snn_tensor_init(&y, 2, ky.dims, &err), SNN_OK);
    memset(y.data, 0, n * classes * sizeof *y.data);
    for (size_t s = 0; s < n; s++) {
        size_t best = 0;
        for (size_t k = 1; k < classes; k++)
            best = ky.data[s * classes + k] > ky.data[s * classes + best]
                       ? k : best;
        y.data[s * classes + best] = 1;
    }
    snn_sim_opts o = {.steps = 100, .batch_size = 8, .top_k = 1, .seed = 1};
    snn_sim_result r;
    assert_int_equal(snn_simulate(&net, &x, &y, n, &o, &r, &err), SNN_OK);
    assert_int_equal(r.top1, n);
    snn_sim_result_free(&r);
    snn_tensor_free(&x);
    snn_tensor_free(&ky);
    snn_tensor_free(&y);
    snn_net_free(&net);
    snn_graph_free(&g);
}

/* round(clip(x / 2 + 1 / 2, 0, 1)), half to even: 0 at x = 0. */
static void test_binary_op_values(void **state)
{
    (void)state;
    const float x[6] = {-2.0f, -0.5f, 0.0f, 0.001f, 1.0f, 3.0f};
    const float sig[6] = {0, 0, 0, 1, 1, 1}, tanh_[6] = {-1, -1, -1, 1, 1, 1};
    float y[6];
    memcpy(y, x, sizeof y);
    snn_op_activate(SNN_ACT_BINARY_SIGMOID, y, 1, 6);
    for (int i = 0; i < 6; i++)
        assert_true(y[i] == sig[i]);
    memcpy(y, x, sizeof y);
    snn_op_activate(SNN_ACT_BINARY_TANH, y, 1, 6);
    for (int i = 0; i < 6; i++)
        assert_true(y[i] == tanh_[i]);
}

/* One binary neuron with a constant current: the spikes' values. */
static void binary_train(snn_activation act, snn_reset reset, float cur,
                         int steps, float *spikes, float *v_end)
{
    snn_neuron_params p = {.v_thresh = 1.0f, .reset = reset, .binary = act};
    float v = 0;
    for (int t = 0; t < steps; t++)
        snn_if_fire(&p, &cur, &v, &spikes[t], 1);
    *v_end = v;
}

static void assert_train(const float *got, const float *want, int n)
{
    for (int t = 0; t < n; t++)
        if (got[t] != want[t])
            fail_msg("step %d: spike %g, expected %g", t, (double)got[t],
                     (double)want[t]);
}

static void test_binary_neurons_by_hand(void **state)
{
    (void)state;
    float s[4], v;
    /* binary_sigmoid fires at V > 0.  Reset to zero: V = .25 every step,
     * a spike every step, the ANN's 1 for a positive input. */
    binary_train(SNN_ACT_BINARY_SIGMOID, SNN_RESET_ZERO, 0.25f, 4, s, &v);
    assert_train(s, (float[]){1, 1, 1, 1}, 4);
    assert_true(v == 0.0f);
    /* Subtraction: .25>-.75, -.5, -.25, 0: V = 0 does not fire. */
    binary_train(SNN_ACT_BINARY_SIGMOID, SNN_RESET_SUBTRACT, 0.25f, 4, s,
                 &v);
    assert_train(s, (float[]){1, 0, 0, 0}, 4);
    assert_true(v == 0.0f);
    /* A negative input never fires a binary_sigmoid. */
    binary_train(SNN_ACT_BINARY_SIGMOID, SNN_RESET_SUBTRACT, -0.25f, 3, s,
                 &v);
    assert_train(s, (float[]){0, 0, 0}, 3);
    assert_true(v == -0.75f);
    /* binary_tanh also fires -1 at V < 0 and gets v_thresh back:
     * -.25>.75, .5>-.5, -.75>.25, 0: no spike. */
    binary_train(SNN_ACT_BINARY_TANH, SNN_RESET_SUBTRACT, -0.25f, 4, s, &v);
    assert_train(s, (float[]){-1, 1, -1, 0}, 4);
    assert_true(v == 0.0f);
    /* Modulo as Python's %: -.25 % 1 = .75, then 0.5 % 1 = .5. */
    binary_train(SNN_ACT_BINARY_TANH, SNN_RESET_MODULO, -0.25f, 2, s, &v);
    assert_train(s, (float[]){-1, 1}, 2);
    assert_true(v == 0.5f);
}

static void dense(snn_graph *g, const char *name, snn_activation act,
                  const float *w, const float *b)
{
    snn_layer l;
    snn_error err;
    snn_layer_defaults(&l, SNN_OP_DENSE, name, NULL);
    size_t wd[2] = {2, 2}, bd[1] = {2};
    assert_int_equal(snn_tensor_init(&l.weight, 2, wd, &err), SNN_OK);
    assert_int_equal(snn_tensor_init(&l.bias, 1, bd, &err), SNN_OK);
    memcpy(l.weight.data, w, 4 * sizeof *w);
    memcpy(l.bias.data, b, 2 * sizeof *b);
    l.act = act;
    tu_add_layer(g, &l, g->n_layers - 1);
}

/* Input (2) -> Dense "h" (2, linear) -> Activation binary_tanh -> Dense
 * "out" (2, relu). */
static void build_tanh_net(snn_net *net, snn_reset reset)
{
    snn_graph g;
    snn_error err;
    snn_graph_init(&g);
    snn_layer l;
    snn_layer_defaults(&l, SNN_OP_INPUT, "in", NULL);
    l.shape = (snn_shape){1, {2}};
    tu_add_layer(&g, &l, -1);
    dense(&g, "h", SNN_ACT_LINEAR, (float[]){1, -1, -0.5f, 0.25f},
          (float[]){0, 0.125f});
    snn_layer_defaults(&l, SNN_OP_ACTIVATION, "bt", NULL);
    l.act = SNN_ACT_BINARY_TANH;
    tu_add_layer(&g, &l, 1);
    dense(&g, "out", SNN_ACT_RELU, (float[]){1, 0.5f, 0.5f, -1},
          (float[]){0, 0});
    assert_int_equal(snn_graph_infer_shapes(&g, &err), SNN_OK);
    snn_convert_opts o = {1.0f, reset, 1.0f};
    assert_int_equal(snn_convert(&g, &o, net, &err), SNN_OK);
    snn_graph_free(&g);
}

/* x = (.5, .25): h's currents are .25 and -.0625 every step.
 *   h0: .25>-.75 (+1), -.5>.5 (-1), .75>-.25 (+1), 0 (none)
 *   h1: -.0625>.9375 (-1), .875>-.125 (+1), -.1875>.8125 (-1),
 *       .75>-.25 (+1)
 * out = (h0 + h1 / 2, h0 / 2 - h1), each spike carrying +-1:
 *   out0 currents .5, -.5, .5, .5: V .5, 0, .5, 1>0 (fires at step 3)
 *   out1 currents 1.5, -1.5, 1.5, -1: V 1.5>.5 (fires), -1, .5, -.5
 * Spike counts (either sign): h 3 and 4, out 1 and 1. */
static void test_binary_net_by_hand(void **state)
{
    (void)state;
    snn_net net;
    snn_error err = {0};
    build_tanh_net(&net, SNN_RESET_SUBTRACT);
    assert_int_equal(net.n_layers, 2);
    assert_int_equal(net.layers[0].syn.act, SNN_ACT_BINARY_TANH);
    snn_tensor x, y;
    size_t xd[2] = {1, 2}, yd[2] = {1, 2};
    assert_int_equal(snn_tensor_init(&x, 2, xd, &err), SNN_OK);
    assert_int_equal(snn_tensor_init(&y, 2, yd, &err), SNN_OK);
    x.data[0] = 0.5f;
    x.data[1] = 0.25f;
    y.data[0] = 1;
    float counts[2][2] = {{0}}, vmem[2][8];
    float *cp[2] = {counts[0], counts[1]}, *vp[2] = {vmem[0], vmem[1]};
    snn_sim_record rec = {.spike_counts = cp, .record_samples = 1,
                          .vmem0 = vp};
    snn_sim_opts o = {.steps = 4, .batch_size = 1, .top_k = 1, .seed = 1,
                      .record = &rec};
    snn_sim_result r;
    assert_int_equal(snn_simulate(&net, &x, &y, 1, &o, &r, &err), SNN_OK);
    const float vh[8] = {-0.75f, 0.9375f, 0.5f, -0.125f,
                         -0.25f, 0.8125f, 0, -0.25f};
    const float vo[8] = {0.5f, 0.5f, 0, -1, 0.5f, 0.5f, 0, -0.5f};
    for (int k = 0; k < 8; k++) {
        if (vmem[0][k] != vh[k] || vmem[1][k] != vo[k])
            fail_msg("step %d neuron %d: V %g and %g, expected %g and %g",
                     k / 2, k % 2, (double)vmem[0][k], (double)vmem[1][k],
                     (double)vh[k], (double)vo[k]);
    }
    assert_true(counts[0][0] == 3 && counts[0][1] == 4);
    assert_true(counts[1][0] == 1 && counts[1][1] == 1);
    assert_int_equal(r.predictions[0], 0);
    snn_sim_result_free(&r);
    /* The event engine cannot carry negative spikes. */
    o.engine = SNN_ENGINE_EVENT;
    o.record = NULL;
    assert_int_equal(snn_simulate(&net, &x, &y, 1, &o, &r, &err),
                     SNN_E_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "binary_sigmoid / binary_tanh"));
    snn_tensor_free(&x);
    snn_tensor_free(&y);
    snn_net_free(&net);
}

/* Exports describe the plain IF neuron; payloads have nothing to carry on
 * a binary spike. */
static void test_binary_refusals(void **state)
{
    (void)state;
    snn_net net;
    snn_error err = {0};
    build_tanh_net(&net, SNN_RESET_SUBTRACT);
    const char *opt = snn_net_sim_only_option(&net);
    assert_non_null(opt);
    assert_non_null(strstr(opt, "binary_sigmoid / binary_tanh"));
    snn_cell c = net.cell;
    c.payloads = 1;
    assert_int_equal(snn_net_set_cell(&net, &c, &err), SNN_E_UNSUPPORTED);
    assert_string_equal(err.msg, "config [cell] payloads: layer 'h' has a "
                                 "binary activation (binary_tanh), whose "
                                 "spikes carry no payload");
    snn_net_free(&net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keras_binary_matches_keras),
        cmocka_unit_test(test_keras_binary_net_classes),
        cmocka_unit_test(test_binary_op_values),
        cmocka_unit_test(test_binary_neurons_by_hand),
        cmocka_unit_test(test_binary_net_by_hand),
        cmocka_unit_test(test_binary_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
