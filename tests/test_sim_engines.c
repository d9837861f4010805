/*
 * test_sim_engines.c - the simulator's engines against each other and
 * the synaptic-operation counts against a brute-force count.
 *
 * The fan-out of every input neuron is checked against the ANN kernel
 * itself: with all-ones weights, a one-hot input reaches exactly the
 * outputs whose value becomes non-zero.  The engines are run on small
 * random nets whose weights, biases and inputs are multiples of powers of
 * two, so every sum is exact in float whatever its order: the reference
 * engine (ANN kernels on the whole batch), the event engine, the dense
 * per-sample engine and the automatic one must then give the very same
 * spikes, sample by sample, for any batch size and thread count.
 */
#include "testutil.h"

#include <omp.h>
#include <stdio.h>
#include <string.h>

#include "ann/ops.h"
#include "sim/event.h"
#include "sim/plan.h"
#include "snntb/net.h"
#include "snntb/sim.h"

typedef struct lcg {
    uint64_t s;
} lcg;

static uint32_t lcg_next(lcg *r)
{
    r->s = r->s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(r->s >> 33);
}

/* A multiple of 1/den in [lo, hi]. */
static float dyadic(lcg *r, int lo, int hi, int den)
{
    return (float)(lo + (int)(lcg_next(r) % (uint32_t)(hi - lo + 1))) / (float)den;
}

typedef struct geom {
    int kernel[2], stride[2], dilation[2], pad[4], groups;
} geom;

static void set_window(snn_layer *l, const geom *w)
{
    for (int i = 0; i < 2; i++) {
        l->win.kernel[i] = w->kernel[i];
        l->win.stride[i] = w->stride[i];
        l->win.dilation[i] = w->dilation[i];
    }
    memcpy(l->win.pad, w->pad, sizeof w->pad);
}

static void fill_tensor(snn_tensor *t, int nd, const size_t *dims, lcg *r,
                        int lo, int hi, int den)
{
    snn_error err;
    assert_int_equal(snn_tensor_init(t, nd, dims, &err), SNN_OK);
    for (size_t i = 0; i < snn_tensor_numel(t); i++)
        t->data[i] = r ? dyadic(r, lo, hi, den) : 1.0f;
}

/* A convolution (or op CONV2D_T, a transposed one); weights all ones
 * when r is NULL. */
static void add_conv_op(snn_graph *g, snn_op op, int input, size_t in_c,
                        size_t out_c, const geom *w, lcg *r)
{
    snn_layer l;
    snn_layer_defaults(&l, op, "conv", NULL);
    set_window(&l, w);
    l.groups = w->groups;
    l.act = SNN_ACT_RELU;
    size_t groups = (size_t)w->groups;
    size_t wd[4] = {out_c, in_c / groups, (size_t)w->kernel[0],
                    (size_t)w->kernel[1]};
    if (op == SNN_OP_CONV2D_T) {
        wd[0] = in_c;
        wd[1] = out_c / groups;
    }
    fill_tensor(&l.weight, 4, wd, r, -16, 16, 16);
    size_t bd[1] = {out_c};
    fill_tensor(&l.bias, 1, bd, r, -2, 4, 32);
    if (!r)
        memset(l.bias.data, 0, out_c * sizeof(float));
    tu_add_layer(g, &l, input);
}

static void add_conv(snn_graph *g, int input, size_t in_c, size_t out_c,
                     const geom *w, lcg *r)
{
    add_conv_op(g, SNN_OP_CONV2D, input, in_c, out_c, w, r);
}

static void add_pool(snn_graph *g, int input, snn_op op, const geom *w)
{
    snn_layer l;
    snn_layer_defaults(&l, op, "pool", NULL);
    set_window(&l, w);
    tu_add_layer(g, &l, input);
}

static void add_dense(snn_graph *g, int input, size_t in, size_t out, lcg *r,
                      snn_activation act)
{
    snn_layer l;
    snn_layer_defaults(&l, SNN_OP_DENSE, "dense", NULL);
    l.act = act;
    size_t wd[2] = {out, in};
    fill_tensor(&l.weight, 2, wd, r, -16, 16, 16);
    size_t bd[1] = {out};
    fill_tensor(&l.bias, 1, bd, r, -2, 4, 32);
    if (!r)
        memset(l.bias.data, 0, out * sizeof(float));
    tu_add_layer(g, &l, input);
}

static void add_input(snn_graph *g, snn_shape shape)
{
    snn_layer in;
    snn_error err;
    snn_graph_init(g);
    snn_layer_defaults(&in, SNN_OP_INPUT, "in", NULL);
    in.shape = shape;
    assert_int_equal(snn_graph_add(g, &in, NULL, &err), SNN_OK);
}

static void to_net(snn_graph *g, snn_net *net)
{
    snn_error err;
    assert_int_equal(snn_graph_infer_shapes(g, &err), SNN_OK);
    snn_convert_opts o = {1.0f, SNN_RESET_SUBTRACT, 1.0f};
    assert_int_equal(snn_convert(g, &o, net, &err), SNN_OK);
    snn_graph_free(g);
}

/* Checks layer 0's fan-out table against one-hot inputs through the ANN
 * kernel (weights all ones, no bias). */
static void check_fanout(const snn_net *net)
{
    sim_plan plan;
    snn_error err;
    assert_int_equal(sim_plan_build(net, &plan, &err), SNN_OK);
    const snn_net_layer *l = &net->layers[0];
    size_t in_n = snn_shape_numel(&l->in_shape);
    size_t out_n = snn_net_layer_size(net, 0);
    float *x = test_calloc(in_n, sizeof *x), *y = test_calloc(out_n, sizeof *y);
    for (size_t i = 0; i < in_n; i++) {
        x[i] = 1.0f;
        snn_op_forward(&l->syn, &l->in_shape, x, 1, y);
        x[i] = 0.0f;
        uint32_t reached = 0;
        for (size_t o = 0; o < out_n; o++)
            reached += y[o] != 0.0f;
        assert_int_equal(plan.layers[0].fanout[i], reached);
    }
    test_free(x);
    test_free(y);
    sim_plan_free(&plan);
}

static void test_fanout_matches_brute_force(void **state)
{
    (void)state;
    const geom geoms[] = {
        {{3, 3}, {1, 1}, {1, 1}, {0, 0, 0, 0}, 1},
        {{5, 5}, {1, 1}, {1, 1}, {2, 2, 2, 2}, 1},   /* LeNet's 'same' */
        {{3, 2}, {2, 3}, {1, 1}, {1, 0, 2, 1}, 2},   /* strides, odd pads */
        {{3, 3}, {1, 2}, {2, 3}, {2, 3, 1, 0}, 4},   /* dilation, groups */
        {{2, 2}, {3, 3}, {1, 1}, {0, 0, 1, 1}, 1},   /* stride > kernel */
    };
    for (size_t i = 0; i < sizeof geoms / sizeof *geoms; i++) {
        snn_graph g;
        snn_net net;
        add_input(&g, (snn_shape){3, {4, 7, 8}});
        add_conv(&g, 0, 4, 8, &geoms[i], NULL);
        to_net(&g, &net);
        check_fanout(&net);
        snn_net_free(&net);
        add_input(&g, (snn_shape){3, {4, 7, 8}});
        add_pool(&g, 0, SNN_OP_AVGPOOL2D, &geoms[i]);
        to_net(&g, &net);
        check_fanout(&net);
        snn_net_free(&net);
        add_input(&g, (snn_shape){3, {4, 7, 8}});
        add_conv_op(&g, SNN_OP_CONV2D_T, 0, 4, 8, &geoms[i], NULL);
        to_net(&g, &net);
        check_fanout(&net);
        snn_net_free(&net);
    }
    snn_graph g;
    snn_net net;
    add_input(&g, (snn_shape){1, {13}});
    add_dense(&g, 0, 13, 5, NULL, SNN_ACT_RELU);
    to_net(&g, &net);
    check_fanout(&net);
    snn_net_free(&net);
}

/* Input (2, 11, 10) -> strided conv -> max pool -> dilated grouped conv
 * -> average pool -> flatten (H, W, C) -> dense -> dense output (softmax
 * or IF).  The max pool's windows overlap, or (apart) do not, as LeNet's,
 * which the event engine gates through a direct table; then the last
 * input column is in no window. */
static void build_random_net(snn_net *net, uint64_t seed, int softmax,
                             int apart)
{
    lcg r = {seed};
    snn_graph g;
    add_input(&g, (snn_shape){3, {2, 11, 10}});
    geom c1 = {{3, 3}, {2, 1}, {1, 1}, {1, 1, 1, 0}, 1};
    add_conv(&g, 0, 2, 6, &c1, &r);                          /* 6x6x9 */
    geom p1 = {{3, 2}, {1, 2}, {1, 1}, {1, 0, 1, 0}, 1};
    geom p1_apart = {{1, 2}, {1, 2}, {1, 1}, {0, 0, 0, 0}, 1};
    add_pool(&g, 1, SNN_OP_MAXPOOL2D, apart ? &p1_apart : &p1); /* 6x6x4 */
    geom c2 = {{3, 3}, {1, 1}, {2, 1}, {2, 1, 2, 1}, 2};
    add_conv(&g, 2, 6, 8, &c2, &r);                          /* 8x6x4 */
    geom p2 = {{2, 3}, {2, 2}, {1, 1}, {0, 1, 0, 1}, 1};
    add_pool(&g, 3, SNN_OP_AVGPOOL2D, &p2);                  /* 8x3x2 */
    snn_layer f;
    snn_layer_defaults(&f, SNN_OP_FLATTEN, "flat", NULL);
    f.flatten_hwc = 1;
    tu_add_layer(&g, &f, 4);
    /* 140 wide: the event engine sums a dense layer's currents in
     * registers 128 at a time, and 140 takes a second, partial block. */
    add_dense(&g, 5, 48, 140, &r, SNN_ACT_RELU);
    add_dense(&g, 6, 140, 4, &r, softmax ? SNN_ACT_SOFTMAX : SNN_ACT_RELU);
    to_net(&g, net);
}

enum { N_SAMPLES = 12, N_CLASSES = 4, STEPS = 30 };

/* Inputs in [lo / 8, 1]. */
static void random_data(snn_tensor *x, snn_tensor *y, uint64_t seed, int lo)
{
    lcg r = {seed};
    snn_error err;
    size_t xd[4] = {N_SAMPLES, 2, 11, 10}, yd[2] = {N_SAMPLES, N_CLASSES};
    fill_tensor(x, 4, xd, &r, lo, 8, 8);
    assert_int_equal(snn_tensor_init(y, 2, yd, &err), SNN_OK);
    for (size_t j = 0; j < N_SAMPLES; j++)
        y->data[j * N_CLASSES + j % N_CLASSES] = 1;
}

typedef struct outcome {
    double spikes[N_SAMPLES], synops[N_SAMPLES];
    int pred[N_SAMPLES];
    double spikes_all, synops_all;
} outcome;

/* Per sample (each simulated alone) and all samples in one call. */
static void run_engine(const snn_net *net, const snn_tensor *x,
                       const snn_tensor *y, snn_sim_engine engine,
                       size_t batch, int threads, double input_rate,
                       outcome *out)
{
    snn_error err;
    snn_sim_result r;
    snn_sim_opts o = {.steps = STEPS, .batch_size = batch, .top_k = 2,
                      .seed = 7, .engine = engine, .input_rate = input_rate,
                      .poisson_events = -1};
    omp_set_num_threads(threads);
    size_t in_n = snn_tensor_numel(x) / N_SAMPLES;
    for (size_t j = 0; j < N_SAMPLES; j++) {
        snn_tensor xj = *x, yj = *y;
        xj.dims[0] = yj.dims[0] = 1;
        xj.data = x->data + j * in_n;
        yj.data = y->data + j * N_CLASSES;
        assert_int_equal(snn_simulate(net, &xj, &yj, 1, &o, &r, &err), SNN_OK);
        out->spikes[j] = r.spikes;
        out->synops[j] = r.synops;
        snn_sim_result_free(&r);
    }
    assert_int_equal(snn_simulate(net, x, y, N_SAMPLES, &o, &r, &err), SNN_OK);
    memcpy(out->pred, r.predictions, sizeof out->pred);
    out->spikes_all = r.spikes;
    out->synops_all = r.synops;
    snn_sim_result_free(&r);
    omp_set_num_threads(2);
}

static void assert_same(const outcome *a, const outcome *b)
{
    for (size_t j = 0; j < N_SAMPLES; j++) {
        assert_true(a->spikes[j] == b->spikes[j]);
        assert_true(a->synops[j] == b->synops[j]);
        assert_int_equal(a->pred[j], b->pred[j]);
    }
    assert_true(a->spikes_all == b->spikes_all);
    assert_true(a->synops_all == b->synops_all);
}

/* The event engine itself (sim.c might choose another) on each sample
 * alone, as run_engine's single-sample runs: Poisson input. */
static void check_event_engine(const snn_net *net, const snn_tensor *x,
                               double input_rate, const outcome *ref)
{
    snn_error err;
    sim_plan plan;
    sim_work *w;
    snn_sim_opts o = {.steps = STEPS, .batch_size = 1, .top_k = 2, .seed = 7,
                      .engine = SNN_ENGINE_EVENT, .input_rate = input_rate,
                      .poisson_events = -1};
    assert_int_equal(sim_plan_build(net, &plan, &err), SNN_OK);
    assert_int_equal(sim_work_create(net, &plan, &w, &err), SNN_OK);
    size_t in_n = snn_tensor_numel(x) / N_SAMPLES;
    float counts[N_CLASSES];
    double layer_spikes[16] = {0};
    assert_true(net->n_layers <= 16);
    for (size_t j = 0; j < N_SAMPLES; j++) {
        sim_sample out = {.out_count = counts, .x = x->data + j * in_n,
                          .layer_spikes = layer_spikes};
        assert_int_equal(sim_event_sample(net, &plan, w, NULL, 0, &o, &out,
                                          &err), SNN_OK);
        assert_true(out.spikes == ref->spikes[j]);
        assert_true(out.synops == ref->synops[j]);
        assert_int_equal(out.steps_run, STEPS);
    }
    sim_work_free(w);
    sim_plan_free(&plan);
}

/* Whether the event engine gates the net's max pool through its direct
 * table. */
static int direct_gate(const snn_net *net)
{
    sim_plan plan;
    snn_error err;
    assert_int_equal(sim_plan_build(net, &plan, &err), SNN_OK);
    int direct = plan.layers[1].gate_o != NULL;
    sim_plan_free(&plan);
    return direct;
}

/* input_rate > 0: Poisson input (the event engine scatters its spikes);
 * lo < 0: inputs down to lo / 8, whose Poisson spikes are negative. */
static void check_engines_agree(int softmax, double input_rate, int lo)
{
    for (uint64_t seed = 1; seed <= 4; seed++) {
        snn_net net;
        snn_tensor x, y;
        build_random_net(&net, seed, softmax, seed > 2);
        random_data(&x, &y, seed * 31, lo);
        assert_true(direct_gate(&net) == (seed > 2));
        outcome ref, other;
        run_engine(&net, &x, &y, SNN_ENGINE_REFERENCE, 5, 2, input_rate, &ref);
        /* Activity, so that the comparison means something. */
        assert_true(ref.spikes_all > 100 && ref.synops_all > 1000);
        /* Poisson draws are keyed by the dataset index: a sample run
         * alone (index 0) gets other spikes than in the whole run. */
        double total = 0;
        for (size_t j = 0; j < N_SAMPLES; j++)
            total += ref.synops[j];
        assert_true(input_rate > 0 || total == ref.synops_all);
        if (input_rate > 0)
            check_event_engine(&net, &x, input_rate, &ref);
        const snn_sim_engine engines[] = {SNN_ENGINE_EVENT, SNN_ENGINE_DENSE,
                                          SNN_ENGINE_AUTO};
        for (size_t e = 0; e < 3; e++) {
            run_engine(&net, &x, &y, engines[e], 5, 2, input_rate, &other);
            assert_same(&ref, &other);
        }
        /* Neither batch size nor thread count changes a result. */
        run_engine(&net, &x, &y, SNN_ENGINE_AUTO, 1, 1, input_rate, &other);
        assert_same(&ref, &other);
        snn_tensor_free(&x);
        snn_tensor_free(&y);
        snn_net_free(&net);
    }
}

static void test_engines_agree_if_output(void **state)
{
    (void)state;
    check_engines_agree(0, 0, 0);
}

static void test_engines_agree_softmax_output(void **state)
{
    (void)state;
    check_engines_agree(1, 0, 0);
}

static void test_engines_agree_poisson_input(void **state)
{
    (void)state;
    check_engines_agree(0, 700, 0);
}

/* Negative inputs fire negative Poisson spikes, which the event engine
 * subtracts as the reference engine's kernels do. */
static void test_engines_agree_signed_poisson_input(void **state)
{
    (void)state;
    check_engines_agree(0, 700, -8);
    check_engines_agree(1, 1000, -5);
}

/* A transposed convolution in the middle of a net, at several
 * geometries: input (2, 11, 10) -> conv -> Conv2DTranspose -> flatten ->
 * dense output.  The event engine scatters each spike through the
 * kernel; the reference engine runs the ANN kernel: same spikes. */
static void test_conv_transpose_engines_agree(void **state)
{
    (void)state;
    const geom geoms[] = {
        {{3, 3}, {1, 1}, {1, 1}, {0, 0, 0, 0}, 1},
        {{3, 2}, {2, 3}, {1, 1}, {1, 0, 0, 1}, 2},   /* strides, pads */
        {{2, 3}, {2, 1}, {2, 2}, {0, 1, 1, 0}, 4},   /* dilation, groups */
    };
    for (size_t i = 0; i < sizeof geoms / sizeof *geoms; i++) {
        lcg r = {7 + i};
        char what[32];
        snn_graph g;
        snn_net net;
        snn_tensor x, y;
        snn_error err = {0};
        add_input(&g, (snn_shape){3, {2, 11, 10}});
        geom c1 = {{3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}, 1};
        add_conv(&g, 0, 2, 4, &c1, &r);                      /* 4x6x5 */
        add_conv_op(&g, SNN_OP_CONV2D_T, 1, 4, 8, &geoms[i], &r);
        snn_layer f;
        snn_layer_defaults(&f, SNN_OP_FLATTEN, "flat", NULL);
        tu_add_layer(&g, &f, 2);
        assert_int_equal(snn_graph_infer_shapes(&g, &err), SNN_OK);
        size_t n_t = snn_shape_numel(&g.layers[3].shape);
        add_dense(&g, 3, n_t, N_CLASSES, &r, SNN_ACT_RELU);
        to_net(&g, &net);
        assert_int_equal(net.layers[1].syn.op, SNN_OP_CONV2D_T);
        random_data(&x, &y, 11 + i, 0);
        snprintf(what, sizeof what, "transposed conv %zu", i);
        tu_engines_agree(&net, &x, N_SAMPLES, STEPS, 0, what);
        snn_tensor_free(&x);
        snn_tensor_free(&y);
        snn_net_free(&net);
    }
}

/* Hand-counted fan-outs: a dense layer's is its width; a spike into a
 * 'same' 5x5 convolution of a 4x4 map (LeNet's third) reaches the output
 * positions within 2 rows and columns of it: 3x3 from a corner, 4x4 from
 * an inner cell, times the output channels. */
static void test_synops_hand_count(void **state)
{
    (void)state;
    snn_graph g;
    snn_net net;
    add_input(&g, (snn_shape){1, {3}});
    add_dense(&g, 0, 3, 16, NULL, SNN_ACT_RELU);
    to_net(&g, &net);
    sim_plan plan;
    snn_error err;
    assert_int_equal(sim_plan_build(&net, &plan, &err), SNN_OK);
    assert_int_equal(plan.layers[0].fanout[2], 16);
    sim_plan_free(&plan);
    snn_net_free(&net);
    add_input(&g, (snn_shape){3, {2, 4, 4}});
    geom same = {{5, 5}, {1, 1}, {1, 1}, {2, 2, 2, 2}, 1};
    add_conv(&g, 0, 2, 3, &same, NULL);
    to_net(&g, &net);
    assert_int_equal(sim_plan_build(&net, &plan, &err), SNN_OK);
    assert_int_equal(plan.layers[0].fanout[0], 9 * 3);          /* (0,0,0) */
    assert_int_equal(plan.layers[0].fanout[16 + 5], 16 * 3);    /* (1,1,1) */
    assert_int_equal(plan.layers[0].fanout[3], 9 * 3);          /* (0,0,3) */
    sim_plan_free(&plan);
    snn_net_free(&net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fanout_matches_brute_force),
        cmocka_unit_test(test_conv_transpose_engines_agree),
        cmocka_unit_test(test_synops_hand_count),
        cmocka_unit_test(test_engines_agree_if_output),
        cmocka_unit_test(test_engines_agree_softmax_output),
        cmocka_unit_test(test_engines_agree_poisson_input),
        cmocka_unit_test(test_engines_agree_signed_poisson_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
