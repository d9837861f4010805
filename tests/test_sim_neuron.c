/*
 * test_sim_neuron.c - the neuron model's and the conversion's options of
 * the original ([cell] tau_refrac, v_reset, leak, v_clip, payloads,
 * bias_relaxation; [normalization] online_normalization; [conversion]
 * maxpool_type, max2avg_pool; binarize_weights, quantize_weights; clamping
 * by filename_clamp_indices) on tiny nets whose spike trains and membrane
 * potentials are worked out by hand in the comments, in every engine that
 * runs them; and the errors for input they cannot honour.
 */
#include "testutil.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "sim/neuron.h"
#include "snntb/config.h"
#include "snntb/dataset.h"
#include "snntb/net.h"
#include "snntb/run.h"
#include "snntb/sim.h"

enum { STEPS = 8, MAX_LAYERS = 4, WIDE = 20 };

static void add_dense(snn_graph *g, int input, size_t in, size_t out,
                      const float *w, const float *b)
{
    snn_error err;
    snn_layer d;
    snn_layer_defaults(&d, SNN_OP_DENSE, "dense", NULL);
    d.act = SNN_ACT_RELU;
    size_t wd[2] = {out, in};
    assert_int_equal(snn_tensor_init(&d.weight, 2, wd, &err), SNN_OK);
    memcpy(d.weight.data, w, out * in * sizeof *w);
    if (b) {
        assert_int_equal(snn_tensor_init(&d.bias, 1, &out, &err), SNN_OK);
        memcpy(d.bias.data, b, out * sizeof *b);
    }
    tu_add_layer(g, &d, input);
}

static void start_graph(snn_graph *g, snn_shape shape)
{
    snn_error err;
    snn_layer in;
    snn_graph_init(g);
    snn_layer_defaults(&in, SNN_OP_INPUT, "in", NULL);
    in.shape = shape;
    assert_int_equal(snn_graph_add(g, &in, NULL, &err), SNN_OK);
}

static void finish_net(snn_graph *g, snn_net *net, float dt)
{
    snn_error err;
    assert_int_equal(snn_graph_infer_shapes(g, &err), SNN_OK);
    snn_convert_opts o = {1.0f, SNN_RESET_SUBTRACT, dt};
    assert_int_equal(snn_convert(g, &o, net, &err), SNN_OK);
    snn_graph_free(g);
}

/* Input (n) -> one dense IF layer with identity weights: neuron k's
 * current is x[k] every step. */
static void identity_net(snn_net *net, size_t n, float dt)
{
    snn_graph g;
    float *w = test_calloc(n * n, sizeof *w);
    for (size_t k = 0; k < n; k++)
        w[k * n + k] = 1;
    start_graph(&g, (snn_shape){1, {n}});
    add_dense(&g, 0, n, n, w, NULL);
    test_free(w);
    finish_net(&g, net, dt);
}

/* One sample's rasters and potentials, every layer. */
typedef struct trace {
    unsigned char *raster[MAX_LAYERS];
    float *vmem[MAX_LAYERS];
    snn_sim_record rec;
    snn_sim_result res;
} trace;

static snn_status run_net(const snn_net *net, const float *xv,
                          snn_sim_engine engine, trace *tr, snn_error *err)
{
    snn_tensor x, y;
    size_t in_n = snn_shape_numel(&net->input_shape);
    size_t n_out = snn_net_layer_size(net, net->n_layers - 1);
    size_t xd[2] = {1, in_n}, yd[2] = {1, n_out};
    assert_int_equal(snn_tensor_init(&x, 2, xd, err), SNN_OK);
    assert_int_equal(snn_tensor_init(&y, 2, yd, err), SNN_OK);
    memcpy(x.data, xv, in_n * sizeof *xv);
    y.data[0] = 1;
    memset(tr, 0, sizeof *tr);
    assert_true(net->n_layers <= MAX_LAYERS);
    for (int i = 0; i < net->n_layers; i++) {
        size_t n = snn_net_layer_size(net, i);
        tr->raster[i] = test_calloc(STEPS * n, 1);
        if (net->layers[i].unit == SNN_UNIT_IF ||
            net->layers[i].unit == SNN_UNIT_SOFTMAX)
            tr->vmem[i] = test_calloc(STEPS * n, sizeof(float));
    }
    tr->rec = (snn_sim_record){NULL, NULL, NULL, NULL, 0, tr->raster,
                               tr->vmem};
    snn_sim_opts o = {.steps = STEPS, .batch_size = 1, .top_k = 1, .seed = 5,
                      .engine = engine, .record = &tr->rec};
    snn_status st = snn_simulate(net, &x, &y, 1, &o, &tr->res, err);
    snn_tensor_free(&x);
    snn_tensor_free(&y);
    return st;
}

/* Spikes of the neuron layers over `n` copies of the one-input sample x,
 * simulated in batches of `batch` (per-sample state must not leak
 * between the samples of a batch). */
static double batch_spikes(const snn_net *net, float x, size_t n,
                           size_t batch, snn_sim_engine engine)
{
    snn_tensor xs, y;
    snn_error err;
    size_t n_out = snn_net_layer_size(net, net->n_layers - 1);
    size_t xd[2] = {n, 1}, yd[2] = {n, n_out};
    assert_int_equal(snn_tensor_init(&xs, 2, xd, &err), SNN_OK);
    assert_int_equal(snn_tensor_init(&y, 2, yd, &err), SNN_OK);
    for (size_t j = 0; j < n; j++) {
        xs.data[j] = x;
        y.data[j * n_out] = 1;
    }
    snn_sim_opts o = {.steps = STEPS, .batch_size = batch, .top_k = 1,
                      .seed = 5, .engine = engine};
    snn_sim_result res;
    assert_int_equal(snn_simulate(net, &xs, &y, n, &o, &res, &err), SNN_OK);
    double spikes = res.spikes;
    snn_sim_result_free(&res);
    snn_tensor_free(&xs);
    snn_tensor_free(&y);
    return spikes;
}

static void trace_free(trace *tr)
{
    for (int i = 0; i < MAX_LAYERS; i++) {
        if (tr->raster[i])
            test_free(tr->raster[i]);
        if (tr->vmem[i])
            test_free(tr->vmem[i]);
    }
    snn_sim_result_free(&tr->res);
}

/* Steps (bit t) at which neuron k of layer i (n neurons) fired. */
static unsigned spikes_of(const trace *tr, int i, size_t n, size_t k)
{
    unsigned bits = 0;
    for (size_t t = 0; t < STEPS; t++)
        bits |= (unsigned)tr->raster[i][t * n + k] << t;
    return bits;
}

#define BITS(...) bits_of((const int[]){__VA_ARGS__, -1})
static unsigned bits_of(const int *steps)
{
    unsigned bits = 0;
    for (; *steps >= 0; steps++)
        bits |= 1u << *steps;
    return bits;
}

/* A neuron's expected run: its input, spike steps and potentials. */
typedef struct expect {
    float x;
    unsigned spikes;
    float v[STEPS];
    float tol; /* 0: exact */
} expect;

static void check_neuron(const trace *tr, int i, size_t n, size_t k,
                         const expect *e)
{
    assert_int_equal(spikes_of(tr, i, n, k), e->spikes);
    for (int t = 0; t < STEPS; t++) {
        float got = tr->vmem[i][(size_t)t * n + k];
        if (e->tol == 0)
            assert_true(got == e->v[t]);
        else
            assert_float_equal(got, e->v[t], e->tol);
    }
}

static const snn_sim_engine all_engines[] = {
    SNN_ENGINE_REFERENCE, SNN_ENGINE_EVENT, SNN_ENGINE_DENSE,
    SNN_ENGINE_AUTO};

/* WIDE neurons, neuron k fed by cases[k % nc].x: the event engine does
 * the first 16 with AVX-512 (where the CPU has it) and the rest one by
 * one, so both paths meet every case.  Checks every engine listed. */
static void check_cases(snn_net *net, const expect *cases, size_t nc,
                        const snn_sim_engine *engines, size_t ne)
{
    float x[WIDE];
    for (size_t k = 0; k < WIDE; k++)
        x[k] = cases[k % nc].x;
    for (size_t e = 0; e < ne; e++) {
        trace tr;
        snn_error err;
        assert_int_equal(run_net(net, x, engines[e], &tr, &err), SNN_OK);
        for (size_t k = 0; k < WIDE; k++)
            check_neuron(&tr, 0, WIDE, k, &cases[k % nc]);
        trace_free(&tr);
    }
}

static void test_refrac_steps(void **state)
{
    (void)state;
    /* The d >= 1 with d * dt < tau_refrac. */
    assert_int_equal(snn_refrac_steps(0, 1), 0);
    assert_int_equal(snn_refrac_steps(0.5f, 1), 0);
    assert_int_equal(snn_refrac_steps(1, 1), 0);
    assert_int_equal(snn_refrac_steps(2, 1), 1);
    assert_int_equal(snn_refrac_steps(2.5f, 1), 2);
    assert_int_equal(snn_refrac_steps(3, 0.5f), 5);
    /* Longer than any run: capped, not looping or wrapping. */
    assert_int_equal(snn_refrac_steps(1e30f, 1e-6f), 1u << 30);
}

/*
 * tau_refrac = 2 ms, dt = 1 ms: after a spike at step k the neuron
 * ignores its input at step k + 1 only ((k + 1) - k = 1 < 2; 2 < 2 is
 * false), as the original's refrac_until > t.  Reset by subtraction.
 * x = 3/4: V .75, 1.5 > .5 (spike 1), held .5, 1.25 > .25 (3), held .25,
 *          1 > 0 (5), held 0, .75.
 * x = 1/4: .25 .5 .75, 1 > 0 (3), held 0, .25 .5 .75.
 * x = 2:   2 > 1 (0); held, but V = 1 >= v_thresh still fires: 1 > 0
 *          (1); held 0 (2, after the spike at 1); 2 > 1 (3); held 1 > 0
 *          (4); held 0 (5); 2 > 1 (6); held 1 > 0 (7).
 */
static void test_refractory_period(void **state)
{
    (void)state;
    static const expect cases[] = {
        {0.75f, 0x2a, {.75f, .5f, .5f, .25f, .25f, 0, 0, .75f}, 0},
        {0.25f, 0x08, {.25f, .5f, .75f, 0, 0, .25f, .5f, .75f}, 0},
        {2.0f, 0xdb, {1, 0, 0, 1, 0, 0, 1, 0}, 0},
    };
    assert_int_equal(cases[0].spikes, BITS(1, 3, 5));
    assert_int_equal(cases[2].spikes, BITS(0, 1, 3, 4, 6, 7));
    snn_net net;
    snn_error err;
    identity_net(&net, WIDE, 1);
    snn_cell cell = {.tau_refrac = 2};
    assert_int_equal(snn_net_set_cell(&net, &cell, &err), SNN_OK);
    check_cases(&net, cases, 3, all_engines, 4);
    snn_net_free(&net);
    /* Per-sample refractory state in a batch: x = 3/4 fires 3 times. */
    identity_net(&net, 1, 1);
    assert_int_equal(snn_net_set_cell(&net, &cell, &err), SNN_OK);
    for (size_t e = 0; e < 4; e++)
        assert_true(batch_spikes(&net, 0.75f, 3, 3, all_engines[e]) == 9);
    snn_net_free(&net);
}

/*
 * v_reset = -1/2.  Reset to zero sets V to v_reset:
 * x = 3/4: .75, 1.5 > -.5 (1), .25, 1 > -.5 (3), .25, (5), .25, (7).
 * Reset by subtraction ignores v_reset:
 * x = 3/4: .75, 1.5 > .5 (1), 1.25 > .25 (2), 1 > 0 (3), .75, (5) .5,
 *          (6) .25, (7) 0.
 */
static void test_v_reset(void **state)
{
    (void)state;
    static const expect to_zero = {
        0.75f, 0xaa, {.75f, -.5f, .25f, -.5f, .25f, -.5f, .25f, -.5f}, 0};
    static const expect by_subtraction[] = {
        {0.75f, 0xee, {.75f, .5f, .25f, 0, .75f, .5f, .25f, 0}, 0},
    };
    assert_int_equal(to_zero.spikes, BITS(1, 3, 5, 7));
    assert_int_equal(by_subtraction[0].spikes, BITS(1, 2, 3, 5, 6, 7));
    snn_net net;
    snn_error err;
    identity_net(&net, WIDE, 1);
    snn_cell cell = {.v_reset = -0.5f};
    assert_int_equal(snn_net_set_cell(&net, &cell, &err), SNN_OK);
    check_cases(&net, by_subtraction, 1, all_engines, 4);
    net.reset = SNN_RESET_ZERO;
    /* x = 1/4 reaches 1 at step 3 and fires: V = v_reset = -.5, then
     * -.25, 0, .25, .5. */
    expect quarter = {0.25f, BITS(3), {.25f, .5f, .75f, -.5f, -.25f, 0, .25f,
                                        .5f}, 0};
    const expect cases[] = {to_zero, quarter};
    check_cases(&net, cases, 2, all_engines, 4);
    snn_net_free(&net);
}

/*
 * leak with dt = 2.5 ms: V > 0 loses 0.1 * 2.5 = 1/4 every step, after
 * integrating and before the threshold test (the original's get_new_mem).
 * x = 3/4: .75 - .25 = .5; 1.25 - .25 = 1 > 0 (1); .5; (3); .5; (5); .5; (7).
 * x = 1/4: .25 - .25 = 0 every step: never fires.
 * x = -1/2: -.5, -1, -1.5 ...: no leak below zero.
 */
static void test_leak(void **state)
{
    (void)state;
    static const expect cases[] = {
        {0.75f, 0xaa, {.5f, 0, .5f, 0, .5f, 0, .5f, 0}, 0},
        {0.25f, 0, {0, 0, 0, 0, 0, 0, 0, 0}, 0},
        {-0.5f, 0, {-.5f, -1, -1.5f, -2, -2.5f, -3, -3.5f, -4}, 0},
    };
    snn_net net;
    snn_error err;
    identity_net(&net, WIDE, 2.5f);
    snn_cell cell = {.leak = 1};
    assert_int_equal(snn_net_set_cell(&net, &cell, &err), SNN_OK);
    check_cases(&net, cases, 3, all_engines, 4);
    snn_net_free(&net);
}

/*
 * v_clip to [-1, 3/2] (after integrating, before firing):
 * x = 5/2: 2.5 clipped to 1.5 > .5 every step (without clipping the
 *          residual would grow: 1.5, 3, 4.5 ...).
 * x = -3/4: -.75, -1.5 clipped to -1, then -1 (-1.75 clipped).
 */
static void test_v_clip(void **state)
{
    (void)state;
    static const expect cases[] = {
        {2.5f, 0xff, {.5f, .5f, .5f, .5f, .5f, .5f, .5f, .5f}, 0},
        {-0.75f, 0, {-.75f, -1, -1, -1, -1, -1, -1, -1}, 0},
    };
    snn_net net;
    snn_error err;
    identity_net(&net, WIDE, 1);
    snn_cell cell = {.v_clip = 1, .v_min = -1, .v_max = 1.5f};
    assert_int_equal(snn_net_set_cell(&net, &cell, &err), SNN_OK);
    check_cases(&net, cases, 2, all_engines, 4);
    snn_net_free(&net);
}

/*
 * Clamp {"0": 3} with dt = 1: layer 0 ignores its input while the time of
 * step k, (k + 1) dt, is below 3: steps 0 and 1.
 * x = 3/4: 0, 0, .75, 1.5 > .5 (3), 1.25 > .25 (4), 1 > 0 (5), .75,
 *          1.5 > .5 (7).
 */
static void test_clamp(void **state)
{
    (void)state;
    const expect cases[] = {
        {0.75f, BITS(3, 4, 5, 7), {0, 0, .75f, .5f, .25f, 0, .75f, .5f}, 0},
    };
    char dir[256], path[300];
    tu_tempdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/clamp.json", dir);
    tu_write_file(path, "{\"0\": 3}", 8);
    snn_net net;
    snn_error err;
    identity_net(&net, WIDE, 1);
    assert_int_equal(snn_net_load_clamps(&net, path, &err), SNN_OK);
    assert_true(net.layers[0].clamp_until == 3);
    assert_string_equal(snn_net_sim_only_option(&net),
                        "[paths] filename_clamp_indices");
    check_cases(&net, cases, 1, all_engines, 4);
    snn_net_free(&net);
    tu_rmtree(dir);
}

/* Input (1) -> dense A (1, weight 1) -> dense B (1, weight wb, bias bb). */
static void chain_net(snn_net *net, float wb, const float *bb, float dt)
{
    snn_graph g;
    start_graph(&g, (snn_shape){1, {1}});
    add_dense(&g, 0, 1, 1, (const float[]){1}, NULL);
    add_dense(&g, 1, 1, 1, (const float[]){wb}, bb);
    finish_net(&g, net, dt);
}

/*
 * Payloads, the original's update_payload: at a spike with potential V,
 * payload <- (V - v_thresh) - sum, sum <- sum + the previous payload; the
 * spike carries v_thresh + payload; reset by subtraction becomes reset to
 * zero.  A with x = 3/4 fires at 1 3 5 7 with V = 1.5 each time:
 *   1: payload .5 - 0 = .5, sum 0 + 0 = 0: value 1.5
 *   3: payload .5 - 0 = .5, sum 0 + .5 = .5: value 1.5
 *   5: payload .5 - .5 = 0, sum .5 + .5 = 1: value 1
 *   7: payload .5 - 1 = -.5, sum 1 + 0 = 1: value .5
 * B (weight 1) integrates those: 1.5 > 0 (1; payload .5, sum 0),
 * 1.5 > 0 (3; payload .5 - 0, sum .5), 1 > 0 (5; payload 0 - .5, sum 1),
 * .5 at 7: no spike.
 */
static void test_payloads(void **state)
{
    (void)state;
    /* The neuron update alone: the spikes' values. */
    snn_neuron_params p = {.v_thresh = 1, .reset = SNN_RESET_SUBTRACT,
                           .v_thresh0 = 1};
    float pay = 0, sum = 0, v = 0, cur = 0.75f, spk;
    p.payload = &pay;
    p.payload_sum = &sum;
    const float values[STEPS] = {0, 1.5f, 0, 1.5f, 0, 1.0f, 0, 0.5f};
    for (int t = 0; t < STEPS; t++) {
        snn_if_fire(&p, &cur, &v, &spk, 1);
        assert_true(spk == values[t]);
        assert_true(v == (t % 2 ? 0.0f : 0.75f));
    }
    snn_net net;
    snn_error err;
    chain_net(&net, 1, NULL, 1);
    snn_cell cell = {.payloads = 1};
    assert_int_equal(snn_net_set_cell(&net, &cell, &err), SNN_OK);
    const expect a = {0.75f, BITS(1, 3, 5, 7), {.75f, 0, .75f, 0, .75f, 0,
                                                 .75f, 0}, 0};
    const expect b = {0, BITS(1, 3, 5), {0, 0, 0, 0, 0, 0, 0, .5f}, 0};
    const snn_sim_engine ok[] = {SNN_ENGINE_REFERENCE, SNN_ENGINE_AUTO};
    for (size_t e = 0; e < 2; e++) {
        trace tr;
        assert_int_equal(run_net(&net, (const float[]){0.75f}, ok[e], &tr,
                                 &err), SNN_OK);
        check_neuron(&tr, 0, 1, 0, &a);
        check_neuron(&tr, 1, 1, 0, &b);
        trace_free(&tr);
    }
    /* 4 + 3 spikes per sample, whatever the batch. */
    assert_true(batch_spikes(&net, 0.75f, 3, 1, SNN_ENGINE_AUTO) == 21);
    assert_true(batch_spikes(&net, 0.75f, 3, 3, SNN_ENGINE_AUTO) == 21);
    /* The event engine sends spikes without values: refused by name. */
    trace tr;
    assert_int_equal(run_net(&net, (const float[]){0.75f}, SNN_ENGINE_EVENT,
                             &tr, &err), SNN_E_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "[cell] payloads"));
    trace_free(&tr);
    snn_net_free(&net);
}

/*
 * Online normalization, x = 1/2 into one neuron, v_thresh 1, dt 1: the
 * threshold of step k is 1/100 + 99/100 * r * dt, r = the layer's top
 * spike count after step k - 1 divided by k (0 at step 0); a spike
 * carries the threshold and reset subtracts it.
 *   k=0: th .01;  V .5 > .49 (spike), r = 1/1
 *   k=1: th 1;    V .99 (none), r = 1/2
 *   k=2: th .505; V 1.49 > .985 (spike), r = 2/3
 *   k=3: th .67;  V 1.485 > .815 (spike), r = 3/4
 *   k=4: th .7525; V 1.315 > .5625 (spike), r = 4/5
 *   k=5: th .802; V 1.0625 > .2605 (spike), r = 5/6
 *   k=6: th .835; V .7605 (none), r = 5/7
 *   k=7: th .71714; V 1.2605 > .54336 (spike)
 */
static void test_online_normalization(void **state)
{
    (void)state;
    const expect a = {0.5f, BITS(0, 2, 3, 4, 5, 7),
                      {.49f, .99f, .985f, .815f, .5625f, .2605f, .7605f,
                       .5433571f}, 1e-5f};
    snn_net net;
    snn_error err;
    identity_net(&net, 1, 1);
    snn_cell cell = {.online_normalization = 1};
    assert_int_equal(snn_net_set_cell(&net, &cell, &err), SNN_OK);
    const snn_sim_engine ok[] = {SNN_ENGINE_REFERENCE, SNN_ENGINE_AUTO};
    for (size_t e = 0; e < 2; e++) {
        trace tr;
        assert_int_equal(run_net(&net, (const float[]){0.5f}, ok[e], &tr,
                                 &err), SNN_OK);
        check_neuron(&tr, 0, 1, 0, &a);
        trace_free(&tr);
    }
    /* 6 spikes per sample, whatever the batch. */
    assert_true(batch_spikes(&net, 0.5f, 3, 1, SNN_ENGINE_AUTO) == 18);
    assert_true(batch_spikes(&net, 0.5f, 3, 3, SNN_ENGINE_AUTO) == 18);
    trace tr;
    assert_int_equal(run_net(&net, (const float[]){0.5f}, SNN_ENGINE_DENSE,
                             &tr, &err), SNN_E_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "online_normalization"));
    trace_free(&tr);
    snn_net_free(&net);
}

/*
 * Bias relaxation, duration 4 ms, dt 1: layer 1's bias (1/2) is scaled at
 * step k by clip(1 - (1 - 2 (k + 1) / 4) * 1 / 50, 0, 1): .99 at k = 0,
 * then 1.  Its input A never fires (x = 0).
 * Relaxed: .495, .995, 1.495 > .495 (2), .995, 1.495 > .495 (4), .995,
 *          1.495 > .495 (6), .995.
 * Plain:   .5, 1 > 0 (1), .5, (3), .5, (5), .5, (7).
 */
static void test_bias_relaxation(void **state)
{
    (void)state;
    const float bias = 0.5f;
    const expect relaxed = {0, BITS(2, 4, 6), {.495f, .995f, .495f, .995f,
                                               .495f, .995f, .495f, .995f},
                            1e-6f};
    const expect plain = {0, BITS(1, 3, 5, 7), {.5f, 0, .5f, 0, .5f, 0, .5f,
                                                0}, 0};
    snn_net net;
    snn_error err;
    chain_net(&net, 0, &bias, 1);
    trace tr;
    assert_int_equal(run_net(&net, (const float[]){0}, SNN_ENGINE_EVENT, &tr,
                             &err), SNN_OK);
    check_neuron(&tr, 1, 1, 0, &plain);
    trace_free(&tr);
    snn_cell cell = {.bias_relaxation = 1, .duration = 4};
    assert_int_equal(snn_net_set_cell(&net, &cell, &err), SNN_OK);
    const snn_sim_engine ok[] = {SNN_ENGINE_REFERENCE, SNN_ENGINE_AUTO};
    for (size_t e = 0; e < 2; e++) {
        assert_int_equal(run_net(&net, (const float[]){0}, ok[e], &tr, &err),
                         SNN_OK);
        check_neuron(&tr, 1, 1, 0, &relaxed);
        trace_free(&tr);
    }
    snn_net_free(&net);
}

/*
 * One 2x2 window; its first cell B spikes at step 1, its second A at
 * step 0 (C, D silent).
 * Counts (fir_max, avg_max): A 1 after step 0 (leads, passes its spike);
 * a tie at step 1, won by the first cell B, whose spike passes: 1, 1.
 * exp_max (r <- 1.005 r + .995 s): after step 1 r_A = .999975 > r_B =
 * .995: A keeps the lead and B's spike is blocked: 1, 0.
 */
static void test_maxpool_types(void **state)
{
    (void)state;
    snn_layer pool;
    snn_layer_defaults(&pool, SNN_OP_MAXPOOL2D, "pool", NULL);
    pool.win.kernel[0] = pool.win.kernel[1] = 2;
    pool.win.stride[0] = pool.win.stride[1] = 2;
    pool.shape = (snn_shape){3, {1, 1, 1}};
    snn_shape in = {3, {1, 2, 2}};
    const snn_maxpool types[] = {SNN_MAXPOOL_FIR, SNN_MAXPOOL_AVG,
                                 SNN_MAXPOOL_EXP};
    const float expect_out[3][2] = {{1, 1}, {1, 1}, {1, 0}};
    for (int k = 0; k < 3; k++) {
        float rate[4] = {0};
        for (int t = 0; t < 2; t++) {
            float spikes[4] = {t == 1, t == 0, 0, 0}, out = -1;
            snn_maxgate_step(&pool, &in, types[k], spikes, rate, 1, &out);
            assert_true(out == expect_out[k][t]);
        }
    }
}

/* Input (1, 2, 2) -> 1x1 conv (weight 1) -> 2x2 max pool -> flatten
 * -> dense (1, weight 1); the pool is layer 1 of the net. */
static void pool_net(snn_graph *g)
{
    snn_error err;
    start_graph(g, (snn_shape){3, {1, 2, 2}});
    snn_layer c, p, f;
    snn_layer_defaults(&c, SNN_OP_CONV2D, "conv", NULL);
    c.act = SNN_ACT_RELU;
    c.win.kernel[0] = c.win.kernel[1] = 1;
    size_t cd[4] = {1, 1, 1, 1};
    assert_int_equal(snn_tensor_init(&c.weight, 4, cd, &err), SNN_OK);
    c.weight.data[0] = 1;
    tu_add_layer(g, &c, 0);
    snn_layer_defaults(&p, SNN_OP_MAXPOOL2D, "pool", "MaxPooling2D");
    p.win.kernel[0] = p.win.kernel[1] = 2;
    p.win.stride[0] = p.win.stride[1] = 2;
    tu_add_layer(g, &p, 1);
    snn_layer_defaults(&f, SNN_OP_FLATTEN, "flat", NULL);
    tu_add_layer(g, &f, 2);
    add_dense(g, 3, 1, 1, (const float[]){1}, NULL);
    assert_int_equal(snn_graph_infer_shapes(g, &err), SNN_OK);
}

/*
 * The net's gate under exp_max, input (1/2, 1, 0, 0): cell 1 (x = 1)
 * fires every step, cell 0 (x = 1/2) at 1 3 5 7.  Cell 1 leads from step
 * 0 under every estimate, so all its spikes pass and the output (weight
 * 1) fires every step.  exp_max runs on the reference engine only.
 */
static void test_maxpool_exp_in_net(void **state)
{
    (void)state;
    snn_graph g;
    snn_net net;
    snn_error err;
    pool_net(&g);
    finish_net(&g, &net, 1);
    snn_cell cell = {.maxpool = SNN_MAXPOOL_EXP};
    assert_int_equal(snn_net_set_cell(&net, &cell, &err), SNN_OK);
    assert_string_equal(snn_sim_event_unsupported(&net),
                        "[conversion] maxpool_type = exp_max");
    const float x[4] = {0.5f, 1, 0, 0};
    trace tr;
    assert_int_equal(run_net(&net, x, SNN_ENGINE_AUTO, &tr, &err), SNN_OK);
    assert_int_equal(spikes_of(&tr, 0, 4, 0), BITS(1, 3, 5, 7));
    assert_int_equal(spikes_of(&tr, 0, 4, 1), 0xff);
    assert_int_equal(spikes_of(&tr, 1, 1, 0), 0xff);
    assert_int_equal(spikes_of(&tr, 3, 1, 0), 0xff);
    trace_free(&tr);
    assert_int_equal(run_net(&net, x, SNN_ENGINE_EVENT, &tr, &err),
                     SNN_E_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "exp_max"));
    trace_free(&tr);
    snn_net_free(&net);
}

/* max2avg_pool: the pool becomes an average pooling IF layer, whose
 * current is the window's mean input spike: with input (1/2, 1, 0, 0),
 * (1 + 0 + 0 + 0) / 4 at step 0, (1 + 1) / 4 at odd steps, 1/4 at even:
 * V .25, .75, 1 > 0 (2), .5, .75, 1.25 > .25 (5), .5, 1 > 0 (7). */
static void test_max2avg_pool(void **state)
{
    (void)state;
    snn_graph g;
    snn_net net;
    snn_error err;
    pool_net(&g);
    snn_graph_max2avg_pool(&g);
    assert_int_equal(g.layers[2].op, SNN_OP_AVGPOOL2D);
    assert_int_equal(g.layers[2].win.count_pad, 0);
    assert_string_equal(g.layers[2].type, "AveragePooling2D");
    finish_net(&g, &net, 1);
    assert_int_equal(net.layers[1].unit, SNN_UNIT_IF);
    const expect avg = {0, BITS(2, 5, 7), {.25f, .75f, 0, .5f, .75f, .25f,
                                           .5f, 0}, 0};
    for (size_t e = 0; e < 4; e++) {
        trace tr;
        assert_int_equal(run_net(&net, (const float[]){0.5f, 1, 0, 0},
                                 all_engines[e], &tr, &err), SNN_OK);
        check_neuron(&tr, 1, 1, 0, &avg);
        trace_free(&tr);
    }
    snn_net_free(&net);
}

/* Expected values from numpy running the original's binarize and
 * reduce_precision (snntoolbox/utils/utils.py) on float32 arrays. */
static void test_binarize_and_quantize(void **state)
{
    (void)state;
    snn_graph g;
    snn_error err;
    const float w[8] = {0.3f, -0.2f, 0, 2, -5, 1e-9f, 1e-7f, -1};
    const float b[8] = {0.3f, 0.375f, 0.625f, -0.125f, 10, -10, 1.1f, -0.3f};
    start_graph(&g, (snn_shape){1, {1}});
    add_dense(&g, 0, 1, 8, w, b);
    snn_graph_binarize_weights(&g);
    /* numpy: [ 1. -1. -1.  1. -1. -1.  1. -1.]; biases unchanged. */
    const float wb[8] = {1, -1, -1, 1, -1, -1, 1, -1};
    assert_memory_equal(g.layers[1].weight.data, wb, sizeof wb);
    assert_memory_equal(g.layers[1].bias.data, b, sizeof b);
    /* Q2.2 on the biases' values, as weights and (with bias) biases.
     * numpy: [ 0.25  0.5  0.5  -0.  3.75 -3.75  1.  -0.25]. */
    memcpy(g.layers[1].weight.data, b, sizeof b);
    const float q[8] = {0.25f, 0.5f, 0.5f, -0.0f, 3.75f, -3.75f, 1, -0.25f};
    assert_int_equal(snn_graph_quantize_weights(&g, 2, 2, 0, &err), SNN_OK);
    assert_memory_equal(g.layers[1].weight.data, q, sizeof q);
    assert_memory_equal(g.layers[1].bias.data, b, sizeof b);
    assert_int_equal(snn_graph_quantize_weights(&g, 2, 2, 1, &err), SNN_OK);
    assert_memory_equal(g.layers[1].bias.data, q, sizeof q);
    assert_int_equal(snn_graph_quantize_weights(&g, 0, 4, 0, &err),
                     SNN_E_INVALID);
    assert_non_null(strstr(err.msg, "Q0.4"));
    snn_graph_free(&g);
}

/* A clamp file the net cannot honour is an error naming file and key. */
static void test_clamp_file_errors(void **state)
{
    (void)state;
    static const struct {
        const char *json, *says;
    } bad[] = {
        {"{\"7\": 3}", "key \"7\" names no layer"},
        {"{\"x\": 3}", "key \"x\" names no layer"},
        {"{\"-1\": 3}", "key \"-1\" names no layer"},
        {"{\"1\": 3}", "no membrane to clamp (it is a max-pool gate)"},
        {"{\"2\": 3}", "no membrane to clamp (it is a flatten)"},
        {"{\"0\": \"3\"}", "must be a time step"},
        {"{\"0\": -2}", "must be a time step"},
        {"[3, 4]", "expected a JSON object"},
        {"{\"0\": 3", "not valid JSON"},
    };
    char dir[256], path[300];
    tu_tempdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/clamp.json", dir);
    snn_graph g;
    snn_net net;
    snn_error err;
    pool_net(&g);
    finish_net(&g, &net, 1);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        tu_write_file(path, bad[i].json, strlen(bad[i].json));
        assert_int_not_equal(snn_net_load_clamps(&net, path, &err), SNN_OK);
        if (!strstr(err.msg, bad[i].says) || !strstr(err.msg, "clamp.json"))
            fail_msg("%s: got \"%s\"", bad[i].json, err.msg);
    }
    snprintf(path, sizeof path, "%s/missing.json", dir);
    assert_int_equal(snn_net_load_clamps(&net, path, &err), SNN_E_IO);
    assert_non_null(strstr(err.msg, "filename_clamp_indices"));
    snn_net_free(&net);
    tu_rmtree(dir);
}

/* Values of net->cell that describe no neuron. */
static void test_cell_errors(void **state)
{
    (void)state;
    snn_net net;
    snn_error err;
    identity_net(&net, 1, 1);
    snn_cell neg = {.tau_refrac = -1};
    assert_int_equal(snn_net_set_cell(&net, &neg, &err), SNN_E_INVALID);
    assert_non_null(strstr(err.msg, "[cell] tau_refrac"));
    snn_cell crossed = {.v_clip = 1, .v_min = 1, .v_max = -1};
    assert_int_equal(snn_net_set_cell(&net, &crossed, &err), SNN_E_INVALID);
    assert_non_null(strstr(err.msg, "v_clip_min"));
    snn_cell relax = {.bias_relaxation = 1};
    assert_int_equal(snn_net_set_cell(&net, &relax, &err), SNN_E_INVALID);
    assert_non_null(strstr(err.msg, "duration"));
    assert_null(snn_net_sim_only_option(&net));
    assert_null(snn_sim_event_unsupported(&net));
    snn_cell leak = {.leak = 1};
    assert_int_equal(snn_net_set_cell(&net, &leak, &err), SNN_OK);
    assert_string_equal(snn_net_sim_only_option(&net), "[cell] leak");
    assert_null(snn_sim_event_unsupported(&net));
    snn_net_free(&net);
}

/* Config combinations a run refuses before it loads anything. */
static void test_config_errors(void **state)
{
    (void)state;
    static const struct {
        const char *cell, *says;
    } bad[] = {
        {"binarize_weights = True\nquantize_weights = True\n",
         "binarize_weights and quantize_weights"},
        {"quantize_weights = True\n", "quantize_format = Qm.f"},
        {"quantize_weights = True\nquantize_format = Q2\n",
         "quantize_format = Qm.f"},
    };
    char dir[256], path[300], text[512];
    tu_tempdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/config.ini", dir);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int len = snprintf(text, sizeof text,
                           "[paths]\nfilename_ann = m\ndataset_path = %s\n"
                           "[cell]\n%s", dir, bad[i].cell);
        tu_write_file(path, text, (size_t)len);
        snn_config *cfg;
        snn_error err;
        snn_results res;
        char log_dir[512];
        assert_int_equal(snn_config_load(&cfg, path, NULL, &err), SNN_OK);
        assert_int_equal(snn_run(cfg, NULL, NULL, &res, log_dir,
                                 sizeof log_dir, &err), SNN_E_INVALID);
        if (!strstr(err.msg, bad[i].says))
            fail_msg("%s: got \"%s\"", bad[i].cell, err.msg);
        snn_config_free(cfg);
    }
    tu_rmtree(dir);
}

/* A folder with the Keras fixture cnn.h5 as model.h5 and its inputs as
 * x_test.npz (labels: class 0). */
static void fixture_wd(char *wd, size_t n)
{
    char path[600], buf[1024];
    snn_tensor x;
    snn_error err;
    tu_tempdir(wd, n);
    snprintf(path, sizeof path, "%s/model.h5", wd);
    tu_copy_file(tu_fixture(buf, sizeof buf, "keras/cnn.h5"), path,
                 (size_t)-1);
    assert_int_equal(snn_npy_load(tu_fixture(buf, sizeof buf,
                                             "keras/cnn_x.npy"), &x, &err),
                     SNN_OK);
    snprintf(path, sizeof path, "%s/x_test.npz", wd);
    tu_write_npz(path, x.ndim, x.dims, x.data);
    size_t yd[2] = {x.dims[0], 3};
    float *y = test_calloc(yd[0] * 3, sizeof *y);
    for (size_t j = 0; j < yd[0]; j++)
        y[j * 3] = 1;
    snprintf(path, sizeof path, "%s/y_test.npz", wd);
    tu_write_npz(path, 2, yd, y);
    test_free(y);
    snn_tensor_free(&x);
}

typedef struct setting {
    const char *section, *key, *value;
} setting;

/* snn_run on wd's model (2 steps, 1 sample, no ANN score) with the
 * settings; log_dir receives the run's folder. */
static snn_status run_with(const char *wd, const setting *set, size_t n,
                           char *log_dir, size_t log_n, snn_error *err)
{
    static const char base[] =
        "[paths]\ndataset_path = %(path_wd)s\nfilename_ann = model\n"
        "[tools]\nevaluate_ann = False\n[simulation]\nduration = 2\n";
    char path[800];
    snprintf(path, sizeof path, "%s/config.ini", wd);
    tu_write_file(path, base, sizeof base - 1);
    snn_config *cfg;
    snn_results res;
    assert_int_equal(snn_config_load(&cfg, path, NULL, err), SNN_OK);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(snn_config_set(cfg, set[i].section, set[i].key,
                                        set[i].value, err), SNN_OK);
    snn_status st = snn_run(cfg, NULL, NULL, &res, log_dir, log_n, err);
    snn_config_free(cfg);
    return st;
}

/* The scale factors a run at `percentile` saved. */
static json_t *run_scales(const char *wd, const char *percentile,
                          int schedule)
{
    const setting set[] = {
        {"normalization", "percentile", percentile},
        {"normalization", "normalization_schedule",
         schedule ? "True" : "False"}};
    char path[800], log_dir[512];
    snn_error err;
    if (run_with(wd, set, 2, log_dir, sizeof log_dir, &err) != SNN_OK)
        fail_msg("%s", err.msg);
    snprintf(path, sizeof path, "%s/normalization/scale_factors%s.json",
             log_dir, schedule ? "_schedule" : "");
    json_t *root = json_load_file(path, 0, NULL);
    assert_non_null(root);
    json_t *f = json_incref(json_object_get(root, "scale_factors"));
    json_decref(root);
    assert_non_null(f);
    return f;
}

static double factor(json_t *f, const char *layer)
{
    json_t *v = json_object_get(f, layer);
    assert_true(json_is_number(v));
    return json_number_value(v);
}

/*
 * normalization_schedule: the i-th layer with weights takes the
 * percentile int(p - 0.02 i).  With p = 100 in cnn.h5 (weighted layers
 * conv, conv_same, dense, out): conv at 100, conv_same and dense at
 * int(99.98) = int(99.96) = 99: the factors the plain runs at 100 and 99
 * give those layers.
 */
static void test_normalization_schedule(void **state)
{
    (void)state;
    char wd[256];
    fixture_wd(wd, sizeof wd);
    json_t *p100 = run_scales(wd, "100", 0), *p99 = run_scales(wd, "99", 0);
    json_t *sched = run_scales(wd, "100", 1);
    /* The two percentiles differ where it matters. */
    assert_true(factor(p100, "conv_same") != factor(p99, "conv_same"));
    assert_true(factor(sched, "conv") == factor(p100, "conv"));
    assert_true(factor(sched, "conv_same") == factor(p99, "conv_same"));
    assert_true(factor(sched, "dense") == factor(p99, "dense"));
    json_decref(p100);
    json_decref(p99);
    json_decref(sched);
    tu_rmtree(wd);
}

/* The options reach the simulator from a config, and what a run cannot
 * honour stops it with the option's name. */
static void test_run_options(void **state)
{
    (void)state;
    char wd[256], path[400], log_dir[512];
    snn_error err;
    fixture_wd(wd, sizeof wd);
    snprintf(path, sizeof path, "%s/clamp.json", wd);
    tu_write_file(path, "{\"9\": 1}", 8);
    const setting clamp[] = {
        {"paths", "filename_clamp_indices", "clamp.json"}};
    assert_int_equal(run_with(wd, clamp, 1, log_dir, sizeof log_dir, &err),
                     SNN_E_INVALID);
    assert_non_null(strstr(err.msg, path));
    assert_non_null(strstr(err.msg, "key \"9\" names no layer"));
    const setting forced[] = {{"simulation", "engine", "event"},
                              {"cell", "payloads", "True"}};
    assert_int_equal(run_with(wd, forced, 2, log_dir, sizeof log_dir, &err),
                     SNN_E_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "engine event cannot run [cell] payloads"));
    const setting export[] = {{"simulation", "simulator", "brian2"},
                              {"cell", "leak", "True"}};
    assert_int_equal(run_with(wd, export, 2, log_dir, sizeof log_dir, &err),
                     SNN_E_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "[cell] leak"));
    assert_non_null(strstr(err.msg, "brian2"));
    /* Every option at once runs (on the reference engine). */
    tu_write_file(path, "{\"2\": 1}", 8);
    const setting all[] = {
        {"paths", "filename_clamp_indices", "clamp.json"},
        {"cell", "tau_refrac", "1.5"}, {"cell", "leak", "True"},
        {"cell", "v_clip", "True"}, {"cell", "payloads", "True"},
        {"cell", "bias_relaxation", "True"},
        {"normalization", "online_normalization", "True"},
        {"normalization", "normalization_schedule", "True"},
        {"conversion", "maxpool_type", "exp_max"},
        {"cell", "quantize_weights", "True"},
        {"cell", "quantize_format", "Q3.12"}};
    if (run_with(wd, all, sizeof all / sizeof *all, log_dir, sizeof log_dir,
                 &err) != SNN_OK)
        fail_msg("%s", err.msg);
    tu_rmtree(wd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refrac_steps),
        cmocka_unit_test(test_refractory_period),
        cmocka_unit_test(test_v_reset),
        cmocka_unit_test(test_leak),
        cmocka_unit_test(test_v_clip),
        cmocka_unit_test(test_clamp),
        cmocka_unit_test(test_payloads),
        cmocka_unit_test(test_online_normalization),
        cmocka_unit_test(test_bias_relaxation),
        cmocka_unit_test(test_maxpool_types),
        cmocka_unit_test(test_maxpool_exp_in_net),
        cmocka_unit_test(test_max2avg_pool),
        cmocka_unit_test(test_binarize_and_quantize),
        cmocka_unit_test(test_clamp_file_errors),
        cmocka_unit_test(test_cell_errors),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_normalization_schedule),
        cmocka_unit_test(test_run_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
