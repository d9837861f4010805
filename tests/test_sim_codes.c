/*
 * test_sim_codes.c - Poisson input, the spike codes (ttfs,
 * ttfs_dyn_thresh, ttfs_corrective, temporal_pattern), early stopping and
 * reset_between_nth_sample, on tiny nets whose spike times are worked out
 * by hand in the comments and compared exactly.
 */
#include "testutil.h"

#include <math.h>
#include <omp.h>
#include <string.h>

#include "sim/input.h"
#include "snntb/net.h"
#include "snntb/sim.h"

#define STEPS 6

/* Input (2) -> Dense w1, b1 (2, IF) -> Dense w2, b2 (2, ReLU: an IF
 * output, as softmax_to_relu makes it).  Weights are (out, in). */
static void build_net(snn_net *net, const float w1[4], const float w2[4],
                      const float b2[2])
{
    snn_graph g;
    snn_error err;
    snn_graph_init(&g);
    snn_layer in, d1, d2;
    size_t wd[2] = {2, 2}, bd[1] = {2};
    snn_layer_defaults(&in, SNN_OP_INPUT, "in", NULL);
    in.shape = (snn_shape){1, {2}};
    tu_add_layer(&g, &in, -1);
    snn_layer_defaults(&d1, SNN_OP_DENSE, "hidden", NULL);
    assert_int_equal(snn_tensor_init(&d1.weight, 2, wd, &err), SNN_OK);
    memcpy(d1.weight.data, w1, 4 * sizeof *w1);
    d1.act = SNN_ACT_RELU;
    tu_add_layer(&g, &d1, 0);
    snn_layer_defaults(&d2, SNN_OP_DENSE, "out", NULL);
    assert_int_equal(snn_tensor_init(&d2.weight, 2, wd, &err), SNN_OK);
    assert_int_equal(snn_tensor_init(&d2.bias, 1, bd, &err), SNN_OK);
    memcpy(d2.weight.data, w2, 4 * sizeof *w2);
    memcpy(d2.bias.data, b2, 2 * sizeof *b2);
    d2.act = SNN_ACT_RELU;
    tu_add_layer(&g, &d2, 1);
    assert_int_equal(snn_graph_infer_shapes(&g, &err), SNN_OK);
    snn_convert_opts o = {1.0f, SNN_RESET_SUBTRACT, 1.0f};
    assert_int_equal(snn_convert(&g, &o, net, &err), SNN_OK);
    snn_graph_free(&g);
}

/* One sample, x, label y (one-hot). */
static void one_sample(snn_tensor *x, snn_tensor *y, const float *xv,
                       size_t n, int label)
{
    snn_error err;
    size_t xd[2] = {1, n}, yd[2] = {1, 2};
    assert_int_equal(snn_tensor_init(x, 2, xd, &err), SNN_OK);
    assert_int_equal(snn_tensor_init(y, 2, yd, &err), SNN_OK);
    memcpy(x->data, xv, n * sizeof *xv);
    y->data[label] = 1;
}

/* The first sample's rasters of both layers (2 neurons each). */
typedef struct rasters {
    unsigned char hid[STEPS * 2], out[STEPS * 2];
    size_t top1[STEPS];
    snn_sim_result res;
} rasters;

static void run_code(const snn_net *net, const float xv[2], snn_spike_code c,
                     int top_k, rasters *r)
{
    snn_tensor x, y;
    snn_error err;
    unsigned char *raster[2] = {r->hid, r->out};
    snn_sim_record rec = {0};
    rec.raster0 = raster;
    rec.top1_at_step = r->top1;
    one_sample(&x, &y, xv, 2, 0);
    snn_sim_opts o = {.steps = STEPS, .batch_size = 1, .top_k = top_k,
                      .seed = 1, .record = &rec, .code = c};
    assert_int_equal(snn_simulate(net, &x, &y, 1, &o, &r->res, &err), SNN_OK);
    snn_tensor_free(&x);
    snn_tensor_free(&y);
}

/* A raster row as a bitmask of steps, for neuron k of a 2-neuron layer. */
static unsigned train(const unsigned char *raster, int k)
{
    unsigned m = 0;
    for (int t = 0; t < STEPS; t++)
        m |= (unsigned)raster[t * 2 + k] << t;
    return m;
}

static const float W1[4] = {1, 0, 0, 1};
static const float W2[4] = {0.5f, 0, 0.25f, 1};
static const float B2[2] = {0, 0.5f};
static const float X[2] = {0.5f, 0.25f};

/* ttfs, v_thresh 1, dt 1.  Hidden currents are x * dt = .5, .25 every
 * step: h0 reaches 1 at t1, h1 at t3; each fires once and is then sent
 * on as dt every step.  Output o0 = .5 h0, o1 = .25 h0 + h1 + .5 (bias),
 * current only in steps where some hidden neuron is on:
 *   t0: none on, V = 0, 0 (without that rule o1's bias would give .5)
 *   t1: h0 on: V = .5, .75      t2: V = 1 -> o0 fires, 1.5 -> o1 fires
 * Both first fire at t2: the first class on ties wins, class 0.  With
 * top_k 2 the run stops once two (class, step) outputs are on: after t2.
 * Without the input rule o1 would fire at t1 (.5 + .75) and win. */
static void test_ttfs_spike_times(void **state)
{
    (void)state;
    snn_net net;
    rasters r;
    build_net(&net, W1, W2, B2);
    run_code(&net, X, SNN_CODE_TTFS, 2, &r);
    assert_int_equal(train(r.hid, 0), 1u << 1);
    assert_int_equal(train(r.hid, 1), 0u); /* stopped before t3 */
    assert_int_equal(train(r.out, 0), 1u << 2);
    assert_int_equal(train(r.out, 1), 1u << 2);
    assert_int_equal(r.res.predictions[0], 0);
    /* 3 steps of 4 neurons; spikes h0, o0, o1; synops: h0's spike into
     * 2 outputs. */
    assert_true(r.res.neuron_steps == 12.0);
    assert_true(r.res.spikes == 3.0);
    assert_true(r.res.synops == 2.0);
    /* Accuracy against time: class 0 from t2 on (the rest keeps it). */
    const size_t top1[STEPS] = {0, 0, 1, 1, 1, 1};
    assert_memory_equal(r.top1, top1, sizeof top1);
    snn_sim_result_free(&r.res);
    /* top_k 3: runs on until t3, where h1 fires; nothing fires twice. */
    run_code(&net, X, SNN_CODE_TTFS, 3, &r);
    assert_int_equal(train(r.hid, 1), 1u << 3);
    assert_int_equal(train(r.out, 0) | train(r.out, 1), 1u << 2);
    assert_true(r.res.spikes == 4.0);
    assert_true(r.res.synops == 4.0);
    snn_sim_result_free(&r.res);
    snn_net_free(&net);
}

/* A ttfs softmax output fires with probability softmax(V) and is never
 * reset nor refractory: its potential is the running sum of its current
 * (V o0: 0 .5 1 1.5 2 2.5; o1: 0 .75 1.5 3.25 5 6.75, h1 on from t3),
 * and the run goes on for all steps. */
static void test_ttfs_softmax_output_not_reset(void **state)
{
    (void)state;
    snn_net net;
    snn_tensor x, y;
    snn_error err;
    build_net(&net, W1, W2, B2);
    net.layers[1].unit = SNN_UNIT_SOFTMAX;
    float v_out[STEPS * 2];
    float *vmem[2] = {NULL, v_out};
    snn_sim_record rec = {0};
    rec.vmem0 = vmem;
    one_sample(&x, &y, X, 2, 0);
    snn_sim_opts o = {.steps = STEPS, .batch_size = 1, .top_k = 1, .seed = 1,
                      .record = &rec, .code = SNN_CODE_TTFS};
    snn_sim_result r;
    assert_int_equal(snn_simulate(&net, &x, &y, 1, &o, &r, &err), SNN_OK);
    const float want[STEPS * 2] = {0,    0,    0.5f, 0.75f, 1,    1.5f,
                                   1.5f, 3.25f, 2,   5,     2.5f, 6.75f};
    assert_memory_equal(v_out, want, sizeof want);
    assert_true(r.neuron_steps == 4.0 * STEPS);
    snn_sim_result_free(&r);
    snn_tensor_free(&x);
    snn_tensor_free(&y);
    snn_net_free(&net);
}

/* ttfs through max-pooling and flattening: input (1, 2, 2) = .25 .5 /
 * .125 0 -> 1x1 conv (weight 1, IF) -> 2x2 max-pool -> flatten -> Dense
 * (1 -> 2, weights 1 and .5, IF).  Conv neurons fire at t3 (.25), t1
 * (.5), t7 (.125, after the run), never; the pool's window turns on with
 * the first of them, at t1; o0 gets 1 from t1 and fires at t1, o1 .5 a
 * step and fires at t2.  top_k 2: stop after t2.  Spikes: conv 1 (t3 is
 * not reached), outputs 2; synops: the window's one spike into 2
 * outputs. */
static void test_ttfs_through_maxpool(void **state)
{
    (void)state;
    snn_graph g;
    snn_net net;
    snn_error err;
    snn_layer in, conv, pool, flat, dense;
    snn_graph_init(&g);
    snn_layer_defaults(&in, SNN_OP_INPUT, "in", NULL);
    in.shape = (snn_shape){3, {1, 2, 2}};
    tu_add_layer(&g, &in, -1);
    snn_layer_defaults(&conv, SNN_OP_CONV2D, "conv", NULL);
    size_t cd[4] = {1, 1, 1, 1}, dd[2] = {2, 1};
    assert_int_equal(snn_tensor_init(&conv.weight, 4, cd, &err), SNN_OK);
    conv.weight.data[0] = 1;
    conv.act = SNN_ACT_RELU;
    tu_add_layer(&g, &conv, 0);
    snn_layer_defaults(&pool, SNN_OP_MAXPOOL2D, "pool", NULL);
    pool.win.kernel[0] = pool.win.kernel[1] = 2;
    pool.win.stride[0] = pool.win.stride[1] = 2;
    tu_add_layer(&g, &pool, 1);
    snn_layer_defaults(&flat, SNN_OP_FLATTEN, "flat", NULL);
    tu_add_layer(&g, &flat, 2);
    snn_layer_defaults(&dense, SNN_OP_DENSE, "out", NULL);
    assert_int_equal(snn_tensor_init(&dense.weight, 2, dd, &err), SNN_OK);
    dense.weight.data[0] = 1;
    dense.weight.data[1] = 0.5f;
    dense.act = SNN_ACT_RELU;
    tu_add_layer(&g, &dense, 3);
    assert_int_equal(snn_graph_infer_shapes(&g, &err), SNN_OK);
    snn_convert_opts co = {1.0f, SNN_RESET_SUBTRACT, 1.0f};
    assert_int_equal(snn_convert(&g, &co, &net, &err), SNN_OK);
    snn_graph_free(&g);
    unsigned char r_conv[STEPS * 4], r_pool[STEPS], r_flat[STEPS],
        r_out[STEPS * 2];
    unsigned char *raster[4] = {r_conv, r_pool, r_flat, r_out};
    snn_sim_record rec = {0};
    rec.raster0 = raster;
    snn_tensor x, y;
    const float xv[4] = {0.25f, 0.5f, 0.125f, 0};
    one_sample(&x, &y, xv, 4, 0);
    snn_sim_opts o = {.steps = STEPS, .batch_size = 1, .top_k = 2, .seed = 1,
                      .record = &rec, .code = SNN_CODE_TTFS};
    snn_sim_result r;
    assert_int_equal(snn_simulate(&net, &x, &y, 1, &o, &r, &err), SNN_OK);
    unsigned char want_conv[STEPS * 4] = {0}, want_1[STEPS] = {0};
    want_conv[1 * 4 + 1] = 1;
    want_1[1] = 1;
    assert_memory_equal(r_conv, want_conv, sizeof want_conv);
    assert_memory_equal(r_pool, want_1, sizeof want_1);
    assert_memory_equal(r_flat, want_1, sizeof want_1);
    assert_int_equal(train(r_out, 0), 1u << 1);
    assert_int_equal(train(r_out, 1), 1u << 2);
    assert_int_equal(r.predictions[0], 0);
    assert_true(r.spikes == 3.0);
    assert_true(r.synops == 2.0);
    snn_sim_result_free(&r);
    snn_tensor_free(&x);
    snn_tensor_free(&y);
    snn_net_free(&net);
}

/* ttfs_dyn_thresh on the same net.  Prospective hidden spikes (not yet
 * fired, current > 0): t0 (1,1), t1 (0,1), t2 (0,1), t3 (0,0).  The
 * output's threshold for the next step is 1 + |W2| p (no bias):
 *   t0: thr (1, 1) used;  V 0, 0;        next thr (1.5, 2.25)
 *   t1: V .5, .75 < (1.5, 2.25);         next thr (1, 2)
 *   t2: V 1 >= 1: o0 fires; 1.5 < 2;     next thr (1, 2)
 *   t3: h1 on: o1 += .25 + 1 + .5: V 3.25 >= 2: o1 fires.
 * Class 0 (first to fire); plain ttfs fired o1 at t2. */
static void test_ttfs_dyn_thresh_spike_times(void **state)
{
    (void)state;
    snn_net net;
    rasters r;
    build_net(&net, W1, W2, B2);
    run_code(&net, X, SNN_CODE_TTFS_DYN_THRESH, 3, &r);
    assert_int_equal(train(r.hid, 0), 1u << 1);
    assert_int_equal(train(r.hid, 1), 1u << 3);
    assert_int_equal(train(r.out, 0), 1u << 2);
    assert_int_equal(train(r.out, 1), 1u << 3);
    assert_int_equal(r.res.predictions[0], 0);
    snn_sim_result_free(&r.res);
    snn_net_free(&net);
}

/* ttfs_corrective: no reset, +1 spikes crossing up, -1 crossing down.
 * Hidden as above (up at t1 and t3, never down).  Output o0 = h0 - 2 h1,
 * o1 = .25 h0, no bias:
 *   t1: o0 1 (up), o1 .25   t2: 2, .5   t3: 1 (still on), .75
 *   t4: o0 0 (down), o1 1 (up)          t5: -1, 1.25
 * Output on-steps: o0 t1-t3 (3), o1 t4-t5 (2): class 0.  Spikes: 2 + 3;
 * synops: h0 and h1 once each into 2 outputs. */
static void test_ttfs_corrective_spike_times(void **state)
{
    (void)state;
    snn_net net;
    rasters r;
    const float w2[4] = {1, -2, 0.25f, 0}, b2[2] = {0, 0};
    build_net(&net, W1, w2, b2);
    run_code(&net, X, SNN_CODE_TTFS_CORRECTIVE, 1, &r);
    assert_int_equal(train(r.hid, 0), 1u << 1);
    assert_int_equal(train(r.hid, 1), 1u << 3);
    assert_int_equal(train(r.out, 0), (1u << 1) | (1u << 4));
    assert_int_equal(train(r.out, 1), 1u << 4);
    assert_int_equal(r.res.predictions[0], 0);
    assert_true(r.res.spikes == 5.0);
    assert_true(r.res.synops == 4.0);
    assert_true(r.res.neuron_steps == 4.0 * STEPS);
    snn_sim_result_free(&r.res);
    snn_net_free(&net);
}

/* temporal_pattern with 4 bits (steps = num_bits).  Inputs .6, .3 cut to
 * digits 2^-1..2^-4: .6 -> 1001 (.5625), .3 -> 0100 (.25).  Hidden =
 * ReLU(W1 q) = .5625, .25: spikes h0 at t0, t3; h1 at t1.  Output
 * o0 = .5 * .5625 = .28125 -> 0100 (t1); o1 = .25 * .5625 + .25 + .5 =
 * .890625 -> 1110 (t0, t1, t2).  Read out digit t as 2^-t: o0 .5,
 * o1 1.75: class 1, from t0 on.  Spikes 3 + 4; synops twice the hidden
 * spikes times their fan-out 2: 12. */
static void test_temporal_pattern_bits(void **state)
{
    (void)state;
    snn_net net;
    snn_tensor x, y;
    snn_error err;
    unsigned char hid[4 * 2], out[4 * 2];
    unsigned char *raster[2] = {hid, out};
    size_t top1[4];
    snn_sim_record rec = {0};
    rec.raster0 = raster;
    rec.top1_at_step = top1;
    build_net(&net, W1, W2, B2);
    const float xv[2] = {0.6f, 0.3f};
    one_sample(&x, &y, xv, 2, 1);
    snn_sim_opts o = {.steps = 4, .batch_size = 1, .top_k = 1, .seed = 1,
                      .record = &rec, .code = SNN_CODE_PATTERN, .num_bits = 4};
    snn_sim_result r;
    assert_int_equal(snn_simulate(&net, &x, &y, 1, &o, &r, &err), SNN_OK);
    const unsigned char want_hid[8] = {1, 0, 0, 1, 0, 0, 1, 0};
    const unsigned char want_out[8] = {0, 1, 1, 1, 0, 1, 0, 0};
    assert_memory_equal(hid, want_hid, sizeof want_hid);
    assert_memory_equal(out, want_out, sizeof want_out);
    assert_int_equal(r.predictions[0], 1);
    assert_true(r.spikes == 7.0);
    assert_true(r.synops == 12.0);
    const size_t want_top1[4] = {1, 1, 1, 1};
    assert_memory_equal(top1, want_top1, sizeof want_top1);
    snn_sim_result_free(&r);
    /* num_bits must be the number of steps. */
    o.steps = 5;
    assert_int_equal(snn_simulate(&net, &x, &y, 1, &o, &r, &err),
                     SNN_E_INVALID);
    assert_non_null(strstr(err.msg, "num_bits"));
    snn_tensor_free(&x);
    snn_tensor_free(&y);
    snn_net_free(&net);
}

static void test_codes_refuse_event_engine(void **state)
{
    (void)state;
    snn_net net;
    snn_tensor x, y;
    snn_error err;
    snn_sim_result r;
    build_net(&net, W1, W2, B2);
    one_sample(&x, &y, X, 2, 0);
    snn_sim_opts o = {.steps = 4, .batch_size = 1, .top_k = 1,
                      .engine = SNN_ENGINE_EVENT, .code = SNN_CODE_TTFS};
    assert_int_equal(snn_simulate(&net, &x, &y, 1, &o, &r, &err),
                     SNN_E_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "reference"));
    snn_tensor_free(&x);
    snn_tensor_free(&y);
    snn_net_free(&net);
}

/* Poisson frames: input k fires with probability |x_k| / max(x) * rate *
 * dt / 1000 and carries max(x) * sign(x_k).  At 500 Hz and dt 1 the
 * values 1, .5, -.25, 0 fire with p = .5, .25, .125, 0.  Over T steps a
 * count is binomial: within 5 standard deviations of p T. */
static void test_poisson_rates(void **state)
{
    (void)state;
    enum { T = 20000 };
    const float x[4] = {1, 0.5f, -0.25f, 0};
    const double p[4] = {0.5, 0.25, 0.125, 0};
    snn_sim_opts o = {.seed = 42, .input_rate = 500, .poisson_events = -1};
    float peak = sim_input_peak(x, 4), frame[4];
    long fired = 0, count[4] = {0}, total = 0;
    assert_true(peak == 1.0f);
    for (int t = 0; t < T; t++) {
        total += (long)sim_input_frame(&o, 1.0, x, 4, peak, 7, t, &fired, frame);
        for (int k = 0; k < 4; k++) {
            assert_true(frame[k] == 0 || frame[k] == (x[k] < 0 ? -1.0f : 1.0f));
            count[k] += frame[k] != 0;
        }
    }
    for (int k = 0; k < 4; k++) {
        double sd = sqrt(T * p[k] * (1 - p[k]));
        assert_true(fabs((double)count[k] - p[k] * T) <= 5 * sd);
    }
    assert_int_equal(fired, total);
    assert_int_equal(total, count[0] + count[1] + count[2]);
    /* The same key draws the same frame; the sample index changes it. */
    float again[4], other[4];
    long f2 = 0;
    sim_input_frame(&o, 1.0, x, 4, peak, 7, 3, &f2, frame);
    sim_input_frame(&o, 1.0, x, 4, peak, 7, 3, &f2, again);
    assert_memory_equal(frame, again, sizeof frame);
    int differ = 0;
    for (int t = 0; t < 8; t++) {
        sim_input_frame(&o, 1.0, x, 4, peak, 7, t, &f2, frame);
        sim_input_frame(&o, 1.0, x, 4, peak, 8, t, &f2, other);
        differ |= memcmp(frame, other, sizeof frame) != 0;
    }
    assert_true(differ);
}

/* Three samples through the 2-layer net (rate code) with Poisson input:
 * the same spikes, counts and predictions whatever the engine, batch
 * size or thread count. */
static void test_poisson_reproducible(void **state)
{
    (void)state;
    snn_net net;
    snn_error err;
    build_net(&net, W1, W2, B2);
    size_t xd[2] = {3, 2}, yd[2] = {3, 2};
    snn_tensor x, y;
    assert_int_equal(snn_tensor_init(&x, 2, xd, &err), SNN_OK);
    assert_int_equal(snn_tensor_init(&y, 2, yd, &err), SNN_OK);
    const float xv[6] = {0.9f, 0.2f, 0.3f, 0.8f, 0.5f, 0.5f};
    memcpy(x.data, xv, sizeof xv);
    y.data[0] = y.data[3] = y.data[4] = 1;
    float counts0[3 * 2], counts[3 * 2];
    float *cl0[2] = {NULL, counts0}, *cl[2] = {NULL, counts};
    snn_sim_result first = {0};
    const snn_sim_engine engines[2] = {SNN_ENGINE_AUTO, SNN_ENGINE_REFERENCE};
    for (int run = 0; run < 8; run++) {
        snn_sim_record rec = {0};
        rec.spike_counts = run ? cl : cl0;
        rec.record_samples = 3;
        snn_sim_opts o = {.steps = 40, .batch_size = (size_t)(1 + run % 3),
                          .top_k = 1, .seed = 9, .record = &rec,
                          .engine = engines[run / 4], .input_rate = 1000,
                          .poisson_events = -1};
        omp_set_num_threads(1 + run % 2);
        snn_sim_result r;
        assert_int_equal(snn_simulate(&net, &x, &y, 3, &o, &r, &err), SNN_OK);
        if (run == 0) {
            first = r;
            /* The input's spikes count (fan-out 2 each). */
            assert_true(first.synops > 0);
            continue;
        }
        assert_memory_equal(counts, counts0, sizeof counts);
        assert_true(r.spikes == first.spikes);
        assert_true(r.synops == first.synops);
        assert_memory_equal(r.predictions, first.predictions, 3 * sizeof(int));
        snn_sim_result_free(&r);
    }
    omp_set_num_threads(2);
    snn_sim_result_free(&first);
    snn_tensor_free(&x);
    snn_tensor_free(&y);
    snn_net_free(&net);
}

/* Input (2) -> identity Dense (IF output). */
static void build_identity(snn_net *net)
{
    const float w2[4] = {1, 0, 0, 1}, b2[2] = {0, 0};
    build_net(net, w2, w2, b2);
}

/* x = (1, 1) at 1000 Hz, dt 1: both inputs fire every step; with at most
 * 5 events the frames of t0-t2 hold 2 each (the limit is checked before
 * a frame is drawn: 0, 2, 4 < 5), t3 is empty.  Early stopping ends the
 * sample there: 3 steps of 4 neurons.  Spikes: both hidden and both
 * outputs fire at t0-t2 (current 1 each).  Synops: 6 input spikes and 6
 * hidden spikes, fan-out 2 each.  Without early stopping the run goes on
 * for 6 steps with a silent input. */
static void test_early_stopping(void **state)
{
    (void)state;
    snn_net net;
    snn_tensor x, y;
    snn_error err;
    build_identity(&net);
    const float xv[2] = {1, 1};
    one_sample(&x, &y, xv, 2, 0);
    size_t top1[STEPS];
    for (int e = 0; e < 2; e++) {
        snn_sim_record rec = {0};
        rec.top1_at_step = top1;
        snn_sim_opts o = {.steps = STEPS, .batch_size = 1, .top_k = 1,
                          .seed = 1, .record = &rec,
                          .engine = e ? SNN_ENGINE_REFERENCE : SNN_ENGINE_AUTO,
                          .input_rate = 1000, .poisson_events = 5,
                          .early_stopping = 1};
        snn_sim_result r;
        assert_int_equal(snn_simulate(&net, &x, &y, 1, &o, &r, &err), SNN_OK);
        assert_true(r.neuron_steps == 12.0);
        assert_true(r.spikes == 12.0);
        assert_true(r.synops == 24.0);
        /* Class 0 ties with class 1 and wins as the first; it stays. */
        const size_t want[STEPS] = {1, 1, 1, 1, 1, 1};
        assert_memory_equal(top1, want, sizeof want);
        snn_sim_result_free(&r);
        o.early_stopping = 0;
        assert_int_equal(snn_simulate(&net, &x, &y, 1, &o, &r, &err), SNN_OK);
        assert_true(r.neuron_steps == 4.0 * STEPS);
        assert_true(r.spikes == 12.0);
        snn_sim_result_free(&r);
    }
    snn_tensor_free(&x);
    snn_tensor_free(&y);
    snn_net_free(&net);
}

/* reset_between_nth_sample = 2 keeps the potentials of sample i into
 * i + 1 unless i % 2 == 0: samples 0, 1, 3 start at rest, sample 2 from
 * sample 1's end.  x = (.6, 0), 3 steps, reset by subtraction: from rest
 * V .6, 1.2 -> .2 (spike), .8: one spike per layer-0 neuron 0, ends at .8;
 * from .8: 1.4 -> .4, 1.0 -> 0, .6: two spikes.  The hidden layer's
 * counts per sample are 1, 1, 2, 1 on every engine and batch size. */
static void test_reset_between_nth_sample(void **state)
{
    (void)state;
    snn_net net;
    snn_error err;
    build_identity(&net);
    size_t xd[2] = {4, 2}, yd[2] = {4, 2};
    snn_tensor x, y;
    assert_int_equal(snn_tensor_init(&x, 2, xd, &err), SNN_OK);
    assert_int_equal(snn_tensor_init(&y, 2, yd, &err), SNN_OK);
    for (int j = 0; j < 4; j++) {
        x.data[2 * j] = 0.6f;
        y.data[2 * j] = 1;
    }
    const snn_sim_engine engines[2] = {SNN_ENGINE_AUTO, SNN_ENGINE_REFERENCE};
    for (int run = 0; run < 4; run++) {
        float hid[4 * 2];
        float *counts[2] = {hid, NULL};
        snn_sim_record rec = {0};
        rec.spike_counts = counts;
        rec.record_samples = 4;
        snn_sim_opts o = {.steps = 3, .batch_size = run % 2 ? 4 : 1,
                          .top_k = 1, .seed = 1, .record = &rec,
                          .engine = engines[run / 2], .reset_every = 2};
        snn_sim_result r;
        assert_int_equal(snn_simulate(&net, &x, &y, 4, &o, &r, &err), SNN_OK);
        const float want[8] = {1, 0, 1, 0, 2, 0, 1, 0};
        assert_memory_equal(hid, want, sizeof want);
        snn_sim_result_free(&r);
    }
    snn_tensor_free(&x);
    snn_tensor_free(&y);
    snn_net_free(&net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ttfs_spike_times),
        cmocka_unit_test(test_ttfs_softmax_output_not_reset),
        cmocka_unit_test(test_ttfs_through_maxpool),
        cmocka_unit_test(test_ttfs_dyn_thresh_spike_times),
        cmocka_unit_test(test_ttfs_corrective_spike_times),
        cmocka_unit_test(test_temporal_pattern_bits),
        cmocka_unit_test(test_codes_refuse_event_engine),
        cmocka_unit_test(test_poisson_rates),
        cmocka_unit_test(test_poisson_reproducible),
        cmocka_unit_test(test_early_stopping),
        cmocka_unit_test(test_reset_between_nth_sample),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
