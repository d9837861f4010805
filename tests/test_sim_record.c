/*
 * test_sim_record.c - the simulator's optional recording (snn_sim_record)
 * against hand-computed spike trains, potentials, per-step accuracy and
 * synaptic operations on a tiny net, for every engine; and the engines
 * against each other on a random net whose sums are exact, so that they
 * must record byte for byte the same whatever the batch and threads.
 */
#include "testutil.h"

#include <omp.h>
#include <string.h>

#include "snntb/net.h"
#include "snntb/sim.h"

enum { STEPS = 8, MAX_LAYERS = 8 };

static void add_window(snn_graph *g, snn_op op, int input, int k, int stride,
                       int pad)
{
    snn_layer l;
    snn_layer_defaults(&l, op, "win", NULL);
    l.win.kernel[0] = l.win.kernel[1] = k;
    l.win.stride[0] = l.win.stride[1] = stride;
    for (int i = 0; i < 4; i++)
        l.win.pad[i] = pad;
    l.act = SNN_ACT_RELU;
    tu_add_layer(g, &l, input);
}

/* The last layer added gets (out, in) weights / OIHW kernels from w. */
static void set_weights(snn_graph *g, int nd, const size_t *dims,
                        const float *w)
{
    snn_error err;
    snn_layer *l = &g->layers[g->n_layers - 1];
    assert_int_equal(snn_tensor_init(&l->weight, nd, dims, &err), SNN_OK);
    memcpy(l->weight.data, w, snn_tensor_numel(&l->weight) * sizeof *w);
}

static void start_graph(snn_graph *g, snn_shape in_shape)
{
    snn_error err;
    snn_layer in;
    snn_graph_init(g);
    snn_layer_defaults(&in, SNN_OP_INPUT, "in", NULL);
    in.shape = in_shape;
    assert_int_equal(snn_graph_add(g, &in, NULL, &err), SNN_OK);
}

static void finish_net(snn_graph *g, snn_net *net)
{
    snn_error err;
    assert_int_equal(snn_graph_infer_shapes(g, &err), SNN_OK);
    snn_convert_opts o = {1.0f, SNN_RESET_SUBTRACT, 1.0f};
    assert_int_equal(snn_convert(g, &o, net, &err), SNN_OK);
    snn_graph_free(g);
}

/* Input (1, 2, 2) -> 1x1 conv to 2 channels, weights 1/2 and 1/8 ->
 * 2x2 max-pool gate -> flatten -> dense 0.5 * identity (2 outputs). */
static void build_tiny_net(snn_net *net)
{
    snn_graph g;
    start_graph(&g, (snn_shape){3, {1, 2, 2}});
    add_window(&g, SNN_OP_CONV2D, 0, 1, 1, 0);
    const size_t cd[4] = {2, 1, 1, 1};
    set_weights(&g, 4, cd, (const float[]){0.5f, 0.125f});
    add_window(&g, SNN_OP_MAXPOOL2D, 1, 2, 2, 0);
    snn_layer f, d;
    snn_layer_defaults(&f, SNN_OP_FLATTEN, "flat", NULL);
    tu_add_layer(&g, &f, 2);
    snn_layer_defaults(&d, SNN_OP_DENSE, "out", NULL);
    d.act = SNN_ACT_RELU;
    tu_add_layer(&g, &d, 3);
    const size_t dd[2] = {2, 2};
    set_weights(&g, 2, dd, (const float[]){0.5f, 0, 0, 0.5f});
    finish_net(&g, net);
}

/* Room for every recorded quantity of a net. */
typedef struct recording {
    size_t top1[STEPS], topk[STEPS];
    double synops[STEPS];
    float *counts[MAX_LAYERS], *vmem[MAX_LAYERS];
    unsigned char *raster[MAX_LAYERS];
    snn_sim_record rec;
    snn_sim_result res;
} recording;

static void recording_init(recording *r, const snn_net *net, size_t samples)
{
    memset(r, 0, sizeof *r);
    assert_true(net->n_layers <= MAX_LAYERS);
    for (int i = 0; i < net->n_layers; i++) {
        size_t n = snn_net_layer_size(net, i);
        /* Garbage in: the simulator must zero what it fills. */
        r->counts[i] = test_malloc(samples * n * sizeof(float));
        memset(r->counts[i], 0x7f, samples * n * sizeof(float));
        r->raster[i] = test_malloc(STEPS * n);
        memset(r->raster[i], 0x55, STEPS * n);
        int neurons = net->layers[i].unit == SNN_UNIT_IF ||
                      net->layers[i].unit == SNN_UNIT_SOFTMAX;
        if (neurons)
            r->vmem[i] = test_calloc(STEPS * n, sizeof(float));
    }
    memset(r->top1, 0x33, sizeof r->top1);
    r->rec = (snn_sim_record){r->top1, r->topk, r->synops, r->counts,
                              samples, r->raster, r->vmem};
}

static void recording_free(recording *r, const snn_net *net)
{
    for (int i = 0; i < net->n_layers; i++) {
        test_free(r->counts[i]);
        test_free(r->raster[i]);
        if (r->vmem[i])
            test_free(r->vmem[i]);
    }
    snn_sim_result_free(&r->res);
}

static void simulate(const snn_net *net, const snn_tensor *x,
                     const snn_tensor *y, snn_sim_engine engine, size_t batch,
                     recording *r)
{
    snn_error err;
    snn_sim_opts o = {.steps = STEPS, .batch_size = batch, .top_k = 2,
                      .seed = 3, .engine = engine, .record = &r->rec};
    assert_int_equal(snn_simulate(net, x, y, x->dims[0], &o, &r->res, &err),
                     SNN_OK);
}

static void make_data(snn_tensor *x, snn_tensor *y, size_t n, size_t in_n,
                      const float *xv, size_t classes, const int *labels)
{
    snn_error err;
    size_t xd[2] = {n, in_n}, yd[2] = {n, classes};
    assert_int_equal(snn_tensor_init(x, 2, xd, &err), SNN_OK);
    assert_int_equal(snn_tensor_init(y, 2, yd, &err), SNN_OK);
    memcpy(x->data, xv, n * in_n * sizeof *xv);
    for (size_t j = 0; j < n; j++)
        y->data[j * classes + (size_t)labels[j]] = 1;
}

/* Steps (bit t) at which neuron k of a (STEPS x n) raster fired. */
static unsigned raster_bits(const unsigned char *raster, size_t n, size_t k)
{
    unsigned bits = 0;
    for (size_t t = 0; t < STEPS; t++) {
        assert_true(raster[t * n + k] <= 1);
        bits |= (unsigned)raster[t * n + k] << t;
    }
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

/*
 * Sample 0, input (1, 1/2, 0, 0): the conv's currents are 1/2, 1/4, 0, 0
 * (channel 0) and 1/8, 1/16, 0, 0 (channel 1).  With reset by subtraction
 * a current of 1/2 fires at steps 1 3 5 7, 1/4 at 3 7, 1/8 at 7, 1/16
 * never in 8 steps.  Each channel's window passes position 0 (it leads
 * from the start and never falls behind): 1 3 5 7 and 7.  The output
 * neurons (weight 1/2) fire on every second input spike: 3 7, and none.
 * Sample 1, input (0, 0, 0, 2): position 3 fires every step (channel 0)
 * and at 3 7 (channel 1); its first spike makes it the leader of its
 * window, so the gate passes all of them; outputs: 1 3 5 7 and 7.
 */
static void check_tiny_recording(const recording *r)
{
    static const float counts0[2][8] = {{4, 2, 0, 0, 1, 0, 0, 0},
                                        {0, 0, 0, 8, 0, 0, 0, 2}};
    static const float gate[2][2] = {{4, 1}, {8, 2}};
    static const float out[2][2] = {{2, 0}, {4, 1}};
    for (int j = 0; j < 2; j++) {
        assert_memory_equal(r->counts[0] + j * 8, counts0[j], sizeof counts0[j]);
        assert_memory_equal(r->counts[1] + j * 2, gate[j], sizeof gate[j]);
        assert_memory_equal(r->counts[2] + j * 2, gate[j], sizeof gate[j]);
        assert_memory_equal(r->counts[3] + j * 2, out[j], sizeof out[j]);
    }
    /* Canonical order (channel, position) in the conv's raster. */
    const unsigned conv0[8] = {BITS(1, 3, 5, 7), BITS(3, 7), 0, 0, BITS(7),
                               0, 0, 0};
    for (size_t k = 0; k < 8; k++)
        assert_int_equal(raster_bits(r->raster[0], 8, k), conv0[k]);
    for (int i = 1; i <= 2; i++) {
        assert_int_equal(raster_bits(r->raster[i], 2, 0), BITS(1, 3, 5, 7));
        assert_int_equal(raster_bits(r->raster[i], 2, 1), BITS(7));
    }
    assert_int_equal(raster_bits(r->raster[3], 2, 0), BITS(3, 7));
    assert_int_equal(raster_bits(r->raster[3], 2, 1), 0);
    for (int t = 0; t < STEPS; t++) {
        const float *v = r->vmem[0] + t * 8;
        assert_true(v[0] == (t % 2 ? 0.0f : 0.5f));
        assert_true(v[1] == (float)((t + 1) % 4) * 0.25f);
        assert_true(v[4] == (float)((t + 1) % 8) * 0.125f);
        assert_true(v[5] == (float)(t + 1) * 0.0625f);
        assert_true(v[2] == 0 && v[3] == 0 && v[6] == 0 && v[7] == 0);
        const float *o = r->vmem[3] + t * 2;
        assert_true(o[0] == (t % 4 == 1 || t % 4 == 2 ? 0.5f : 0.0f));
        assert_true(o[1] == (t == 7 ? 0.5f : 0.0f));
    }
    /* Labels 0 and 1.  Sample 0's output first fires at step 3 (right
     * from then on); sample 1's class 0 leads from step 1 (wrong), its
     * label fires at 7, within the top 2. */
    const size_t top1[STEPS] = {0, 0, 0, 1, 1, 1, 1, 1};
    const size_t topk[STEPS] = {0, 0, 0, 1, 1, 1, 1, 2};
    assert_memory_equal(r->top1, top1, sizeof top1);
    assert_memory_equal(r->topk, topk, sizeof topk);
    /* Only the dense layer is fed by spikes: 2 synapses per flattened
     * spike; sample 0 sends 1 at steps 1 3 5 and 2 at 7, sample 1 one
     * every step and two at 3 and 7. */
    const double synops[STEPS] = {2, 4, 2, 6, 2, 4, 2, 8};
    assert_memory_equal(r->synops, synops, sizeof synops);
    assert_true(r->res.synops == 30);
    assert_int_equal(r->res.top1, r->top1[STEPS - 1]);
    assert_int_equal(r->res.topk, r->topk[STEPS - 1]);
}

static void test_record_tiny_net_by_hand(void **state)
{
    (void)state;
    snn_net net;
    build_tiny_net(&net);
    assert_int_equal(net.n_layers, 4);
    assert_int_equal(net.layers[1].unit, SNN_UNIT_MAXGATE);
    assert_int_equal(net.layers[2].unit, SNN_UNIT_RESHAPE);
    snn_tensor x, y;
    const float xv[8] = {1, 0.5f, 0, 0, 0, 0, 0, 2};
    make_data(&x, &y, 2, 4, xv, 2, (const int[]){0, 1});
    const snn_sim_engine engines[] = {SNN_ENGINE_REFERENCE, SNN_ENGINE_EVENT,
                                      SNN_ENGINE_DENSE, SNN_ENGINE_AUTO};
    for (size_t e = 0; e < 4; e++)
        for (size_t batch = 1; batch <= 2; batch++) {
            recording r;
            recording_init(&r, &net, 2);
            simulate(&net, &x, &y, engines[e], batch, &r);
            check_tiny_recording(&r);
            recording_free(&r, &net);
        }
    snn_tensor_free(&x);
    snn_tensor_free(&y);
    snn_net_free(&net);
}

static void test_record_rejects_vmem_of_gate(void **state)
{
    (void)state;
    snn_net net;
    snn_error err;
    build_tiny_net(&net);
    snn_tensor x, y;
    const float xv[4] = {1, 0, 0, 0};
    make_data(&x, &y, 1, 4, xv, 2, (const int[]){0});
    float gate_v[STEPS * 2];
    float *vmem[4] = {NULL, gate_v, NULL, NULL};
    snn_sim_record rec = {.vmem0 = vmem};
    snn_sim_opts o = {.steps = STEPS, .batch_size = 1, .top_k = 1, .seed = 3,
                      .engine = SNN_ENGINE_AUTO, .record = &rec};
    snn_sim_result res;
    assert_int_equal(snn_simulate(&net, &x, &y, 1, &o, &res, &err),
                     SNN_E_INVALID);
    assert_non_null(strstr(err.msg, "layer 1"));
    assert_null(res.predictions);
    snn_tensor_free(&x);
    snn_tensor_free(&y);
    snn_net_free(&net);
}

typedef struct lcg {
    uint64_t s;
} lcg;

/* A multiple of 1/16 in [lo, hi] / 16. */
static float dyadic(lcg *r, int lo, int hi)
{
    r->s = r->s * 6364136223846793005ULL + 1442695040888963407ULL;
    uint32_t u = (uint32_t)(r->s >> 33);
    return (float)(lo + (int)(u % (uint32_t)(hi - lo + 1))) / 16.0f;
}

static void random_weights(snn_graph *g, int nd, const size_t *dims, lcg *r)
{
    size_t n = 1;
    for (int i = 0; i < nd; i++)
        n *= dims[i];
    float *w = test_malloc(n * sizeof *w);
    for (size_t i = 0; i < n; i++)
        w[i] = dyadic(r, -12, 16);
    set_weights(g, nd, dims, w);
    test_free(w);
}

/* Input (2, 6, 5) -> 3x3 conv (4) -> overlapping 2x2 max gate -> 3x3
 * conv (3) -> 2x2 average pool -> flatten (H, W, C) -> dense softmax (3).
 * Weights and inputs are multiples of 1/16 (sums exact in any order). */
static void build_random_net(snn_net *net, lcg *r)
{
    snn_graph g;
    start_graph(&g, (snn_shape){3, {2, 6, 5}});
    add_window(&g, SNN_OP_CONV2D, 0, 3, 1, 1);
    random_weights(&g, 4, (const size_t[]){4, 2, 3, 3}, r);
    add_window(&g, SNN_OP_MAXPOOL2D, 1, 2, 1, 0);           /* 4x5x4 */
    add_window(&g, SNN_OP_CONV2D, 2, 3, 1, 1);
    random_weights(&g, 4, (const size_t[]){3, 4, 3, 3}, r);
    add_window(&g, SNN_OP_AVGPOOL2D, 3, 2, 2, 0);           /* 3x2x2 */
    snn_layer f, d;
    snn_layer_defaults(&f, SNN_OP_FLATTEN, "flat", NULL);
    f.flatten_hwc = 1;
    tu_add_layer(&g, &f, 4);
    snn_layer_defaults(&d, SNN_OP_DENSE, "out", NULL);
    d.act = SNN_ACT_SOFTMAX;
    tu_add_layer(&g, &d, 5);
    random_weights(&g, 2, (const size_t[]){3, 12}, r);
    finish_net(&g, net);
}

static void assert_same_recording(const recording *a, const recording *b,
                                  const snn_net *net, size_t samples)
{
    assert_memory_equal(a->top1, b->top1, sizeof a->top1);
    assert_memory_equal(a->topk, b->topk, sizeof a->topk);
    assert_memory_equal(a->synops, b->synops, sizeof a->synops);
    for (int i = 0; i < net->n_layers; i++) {
        size_t n = snn_net_layer_size(net, i);
        assert_memory_equal(a->counts[i], b->counts[i],
                            samples * n * sizeof(float));
        assert_memory_equal(a->raster[i], b->raster[i], STEPS * n);
        if (a->vmem[i])
            assert_memory_equal(a->vmem[i], b->vmem[i],
                                STEPS * n * sizeof(float));
    }
}

/* What the record must agree with in the run's own result. */
static void check_against_result(const recording *r, const snn_net *net,
                                 size_t samples)
{
    double spikes = 0, synops = 0;
    for (int i = 0; i < net->n_layers; i++) {
        size_t n = snn_net_layer_size(net, i);
        int neurons = r->vmem[i] != NULL;
        for (size_t k = 0; k < samples * n; k++)
            spikes += neurons ? r->counts[i][k] : 0;
        for (size_t k = 0; k < n; k++)
            assert_true(r->counts[i][k] ==
                        (float)__builtin_popcount(raster_bits(r->raster[i], n, k)));
    }
    for (int t = 0; t < STEPS; t++)
        synops += r->synops[t];
    assert_true(spikes == r->res.spikes);
    assert_true(synops == r->res.synops);
    assert_int_equal(r->top1[STEPS - 1], r->res.top1);
    assert_int_equal(r->topk[STEPS - 1], r->res.topk);
}

static void test_engines_record_identically(void **state)
{
    (void)state;
    enum { N = 5, IN_N = 60 };
    lcg r = {7};
    snn_net net;
    build_random_net(&net, &r);
    float xv[N * IN_N];
    for (size_t k = 0; k < N * IN_N; k++)
        xv[k] = dyadic(&r, 0, 16);
    snn_tensor x, y;
    make_data(&x, &y, N, IN_N, xv, 3, (const int[]){0, 1, 2, 0, 1});
    recording ref;
    recording_init(&ref, &net, N);
    simulate(&net, &x, &y, SNN_ENGINE_REFERENCE, 2, &ref);
    assert_true(ref.res.spikes > 200 && ref.res.synops > 1000);
    check_against_result(&ref, &net, N);
    const snn_sim_engine engines[] = {SNN_ENGINE_EVENT, SNN_ENGINE_DENSE,
                                      SNN_ENGINE_AUTO};
    for (size_t e = 0; e < 3; e++)
        for (int threads = 1; threads <= 2; threads++) {
            omp_set_num_threads(threads);
            recording other;
            recording_init(&other, &net, N);
            simulate(&net, &x, &y, engines[e], (size_t)threads * 2, &other);
            assert_same_recording(&ref, &other, &net, N);
            recording_free(&other, &net);
        }
    omp_set_num_threads(2);
    recording_free(&ref, &net);
    snn_tensor_free(&x);
    snn_tensor_free(&y);
    snn_net_free(&net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_tiny_net_by_hand),
        cmocka_unit_test(test_record_rejects_vmem_of_gate),
        cmocka_unit_test(test_engines_record_identically),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
