/*
 * test_sim.c - the simulator's units against hand-computed spike trains,
 * and a whole (tiny) network simulated end to end.
 */
#include "testutil.h"

#include <string.h>

#include "sim/neuron.h"
#include "snntb/net.h"
#include "snntb/sim.h"

/* Runs one IF neuron with constant current for `steps` and returns the
 * steps at which it fired, as a bitmask. */
static unsigned if_train(snn_reset reset, float cur, int steps, float *v_end)
{
    snn_neuron_params p = {.v_thresh = 1.0f, .reset = reset};
    float v = 0, spk;
    unsigned mask = 0;
    for (int t = 0; t < steps; t++) {
        snn_if_fire(&p, &cur, &v, &spk, 1);
        if (spk != 0) {
            assert_true(spk == 1.0f);
            mask |= 1u << t;
        }
    }
    *v_end = v;
    return mask;
}

static void test_if_reset_by_subtraction(void **state)
{
    (void)state;
    float v;
    /* V: .625 1.25>.25 .875 1.5>.5 1.125>.125 .75 1.375>.375 */
    assert_int_equal(if_train(SNN_RESET_SUBTRACT, 0.625f, 7, &v),
                     (1u << 1) | (1u << 3) | (1u << 4) | (1u << 6));
    assert_true(v == 0.375f);
}

static void test_if_reset_to_zero(void **state)
{
    (void)state;
    float v;
    /* V: .625 1.25>0 .625 1.25>0 ... */
    assert_int_equal(if_train(SNN_RESET_ZERO, 0.625f, 8, &v),
                     (1u << 1) | (1u << 3) | (1u << 5) | (1u << 7));
    assert_true(v == 0.0f);
}

static void test_if_reset_modulo(void **state)
{
    (void)state;
    float v;
    /* V: 2.5>.5 3>0 2.5>.5: fires every step, keeps V mod 1. */
    assert_int_equal(if_train(SNN_RESET_MODULO, 2.5f, 3, &v), 7u);
    assert_true(v == 0.5f);
    /* Subtraction keeps the excess instead: 2.5>1.5 4>3 5.5>4.5. */
    assert_int_equal(if_train(SNN_RESET_SUBTRACT, 2.5f, 3, &v), 7u);
    assert_true(v == 4.5f);
}

static void test_maxgate_passes_most_active_input(void **state)
{
    (void)state;
    snn_layer pool;
    snn_layer_defaults(&pool, SNN_OP_MAXPOOL2D, "pool", NULL);
    pool.win.kernel[0] = pool.win.kernel[1] = 2;
    pool.win.stride[0] = pool.win.stride[1] = 2;
    pool.shape = (snn_shape){3, {1, 1, 1}};
    snn_shape in = {3, {1, 2, 2}};
    /* Inputs A (0,0) and B (0,1) of one 2x2 window; C, D stay silent. */
    const float a[6] = {1, 1, 1, 0, 0, 0};
    const float b[6] = {1, 0, 0, 1, 1, 1};
    /* Counts A/B after each step: 1/1 2/1 3/1 3/2 3/3 3/4.  The leader
     * (first on ties) is A, A, A, A, A, B: it passes its own spike. */
    const float expect[6] = {1, 1, 1, 0, 0, 1};
    float count[4] = {0};
    for (int t = 0; t < 6; t++) {
        float spikes[4] = {a[t], b[t], 0, 0}, out = -1;
        snn_maxgate_step(&pool, &in, SNN_MAXPOOL_FIR, spikes, count, 1, &out);
        assert_true(out == expect[t]);
    }
    assert_true(count[0] == 3 && count[1] == 4 && count[2] == 0);
}

static void test_softmax_fires_with_softmax_probability(void **state)
{
    (void)state;
    snn_neuron_params p = {.v_thresh = 1.0f, .reset = SNN_RESET_SUBTRACT};
    snn_rng_key key = {42, 0, 0, 0};
    int fired[2] = {0, 0};
    const int draws = 20000;
    for (int t = 0; t < draws; t++) {
        /* V = (ln 3, 0) each draw: probabilities 3/4 and 1/4. */
        float v[2] = {0, 0}, cur[2] = {1.0986123f, 0}, spk[2];
        key.step = (uint64_t)t;
        snn_softmax_fire(&p, cur, v, spk, 1, 2, &key);
        fired[0] += spk[0] != 0;
        fired[1] += spk[1] != 0;
    }
    assert_in_range(fired[0], (int)(0.73 * draws), (int)(0.77 * draws));
    assert_in_range(fired[1], (int)(0.23 * draws), (int)(0.27 * draws));
    /* The same key gives the same draw; another key another one. */
    snn_rng_key k2 = key;
    assert_true(snn_rng_uniform(&key, 3, 5) == snn_rng_uniform(&k2, 3, 5));
    assert_true(snn_rng_uniform(&key, 3, 5) != snn_rng_uniform(&key, 4, 5));
}

/* Input (2) -> Dense identity (2), IF output: the rates are the inputs. */
static void build_identity_net(snn_net *net, int softmax)
{
    snn_graph g;
    snn_error err;
    snn_graph_init(&g);
    snn_layer in, d;
    snn_layer_defaults(&in, SNN_OP_INPUT, "in", NULL);
    in.shape = (snn_shape){1, {2}};
    assert_int_equal(snn_graph_add(&g, &in, NULL, &err), SNN_OK);
    snn_layer_defaults(&d, SNN_OP_DENSE, "out", NULL);
    size_t wd[2] = {2, 2};
    assert_int_equal(snn_tensor_init(&d.weight, 2, wd, &err), SNN_OK);
    d.weight.data[0] = d.weight.data[3] = 1;
    d.act = softmax ? SNN_ACT_SOFTMAX : SNN_ACT_RELU;
    d.n_inputs = 1;
    assert_int_equal(snn_graph_add(&g, &d, NULL, &err), SNN_OK);
    assert_int_equal(snn_graph_infer_shapes(&g, &err), SNN_OK);
    snn_convert_opts o = {1.0f, SNN_RESET_SUBTRACT, 1.0f};
    assert_int_equal(snn_convert(&g, &o, net, &err), SNN_OK);
    snn_graph_free(&g);
}

static void test_simulate_identity_net(void **state)
{
    (void)state;
    snn_net net;
    snn_error err;
    build_identity_net(&net, 0);
    assert_int_equal(net.n_layers, 1);
    assert_int_equal(net.layers[0].unit, SNN_UNIT_IF);
    size_t xd[2] = {3, 2}, yd[2] = {3, 2};
    snn_tensor x, y;
    assert_int_equal(snn_tensor_init(&x, 2, xd, &err), SNN_OK);
    assert_int_equal(snn_tensor_init(&y, 2, yd, &err), SNN_OK);
    const float xv[6] = {0.5f, 0.25f, 0.125f, 0.75f, 0, 0};
    memcpy(x.data, xv, sizeof xv);
    y.data[0] = 1; /* sample 0: class 0 (right) */
    y.data[2] = 1; /* sample 1: class 0 (wrong: input favours 1) */
    y.data[5] = 1; /* sample 2: no input, never fires: wrong */
    snn_sim_opts o = {.steps = 8, .batch_size = 2, .top_k = 1, .seed = 1,
                      .engine = SNN_ENGINE_AUTO};
    snn_sim_result r;
    assert_int_equal(snn_simulate(&net, &x, &y, 3, &o, &r, &err), SNN_OK);
    assert_int_equal(r.n, 3);
    assert_int_equal(r.top1, 1);
    assert_int_equal(r.silent, 1);
    assert_int_equal(r.predictions[0], 0);
    assert_int_equal(r.predictions[1], 1);
    assert_int_equal(r.predictions[2], -1);
    /* 8 steps: 4 + 2 spikes, 1 + 6, 0 + 0 = 13 over 3 x 2 x 8 neuron-steps. */
    assert_true(r.spikes == 13.0);
    assert_true(r.neuron_steps == 48.0);
    snn_sim_result_free(&r);
    snn_tensor_free(&x);
    snn_tensor_free(&y);
    snn_net_free(&net);
}

static void test_simulate_rejects_mismatched_labels(void **state)
{
    (void)state;
    snn_net net;
    snn_error err;
    build_identity_net(&net, 1);
    assert_int_equal(net.layers[0].unit, SNN_UNIT_SOFTMAX);
    size_t xd[2] = {1, 2}, yd[2] = {1, 3};
    snn_tensor x, y;
    assert_int_equal(snn_tensor_init(&x, 2, xd, &err), SNN_OK);
    assert_int_equal(snn_tensor_init(&y, 2, yd, &err), SNN_OK);
    snn_sim_opts o = {.steps = 8, .batch_size = 1, .top_k = 1, .seed = 1,
                      .engine = SNN_ENGINE_AUTO};
    snn_sim_result r;
    assert_int_equal(snn_simulate(&net, &x, &y, 1, &o, &r, &err),
                     SNN_E_SHAPE);
    assert_non_null(strstr(err.msg, "one-hot"));
    snn_tensor_free(&x);
    snn_tensor_free(&y);
    snn_net_free(&net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_if_reset_by_subtraction),
        cmocka_unit_test(test_if_reset_to_zero),
        cmocka_unit_test(test_if_reset_modulo),
        cmocka_unit_test(test_maxgate_passes_most_active_input),
        cmocka_unit_test(test_softmax_fires_with_softmax_probability),
        cmocka_unit_test(test_simulate_identity_net),
        cmocka_unit_test(test_simulate_rejects_mismatched_labels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
