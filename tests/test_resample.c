/*
 * test_resample.c - the layers that resample spikes: zero padding,
 * cropping, nearest upsampling and Reshape (re-indexings, no neurons) and
 * Conv2DTranspose (IF neurons fed by the kernel's scatter).  Tiny nets
 * against hand computations (spike counts, normalization, bias
 * calibration of an Add), then Keras fixtures with 1-D and 2-D resampling
 * layers whose ANN must give Keras' outputs and whose spike rates must
 * approximate it.
 */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <omp.h>

#include "pipeline/calibrate.h"
#include "snntb/dataset.h"
#include "snntb/export.h"
#include "snntb/net.h"
#include "snntb/normalize.h"
#include "snntb/parse.h"
#include "snntb/sim.h"

static void image_input(snn_graph *g, size_t c, size_t h, size_t w)
{
    snn_layer l;
    snn_layer_defaults(&l, SNN_OP_INPUT, "in", NULL);
    l.shape = (snn_shape){3, {c, h, w}};
    tu_add_layer(g, &l, -1);
}

static void vector_input(snn_graph *g, size_t n)
{
    snn_layer l;
    snn_layer_defaults(&l, SNN_OP_INPUT, "in", NULL);
    l.shape = (snn_shape){1, {n}};
    tu_add_layer(g, &l, -1);
}

static void set_tensor(snn_tensor *t, int ndim, const size_t *dims,
                       const float *v)
{
    snn_error err;
    assert_int_equal(snn_tensor_init(t, ndim, dims, &err), SNN_OK);
    memcpy(t->data, v, snn_tensor_numel(t) * sizeof *v);
}

/* A weighted layer: Dense (weight out x in), Conv2D or Conv2DTranspose
 * (weight dims as given, stride along W), with an optional bias. */
static void weighted(snn_graph *g, snn_op op, const char *name, int input,
                     int ndim, const size_t *wdims, const float *w,
                     const float *b, int stride_w, snn_activation act)
{
    snn_layer l;
    snn_layer_defaults(&l, op, name, NULL);
    l.act = act;
    set_tensor(&l.weight, ndim, wdims, w);
    if (op != SNN_OP_DENSE) {
        l.win.kernel[0] = (int)wdims[2];
        l.win.kernel[1] = (int)wdims[3];
        l.win.stride[1] = stride_w;
    }
    if (b) {
        size_t out = op == SNN_OP_CONV2D_T ? wdims[1] : wdims[0];
        set_tensor(&l.bias, 1, &out, b);
    }
    tu_add_layer(g, &l, input);
}

/* A: a 1x1 convolution of one channel with weight 1 (and a ReLU), so its
 * neurons get the input pixels as constant currents. */
static void identity_conv(snn_graph *g)
{
    static const size_t d[4] = {1, 1, 1, 1};
    weighted(g, SNN_OP_CONV2D, "A", 0, 4, d, (const float[]){1}, NULL, 1,
             SNN_ACT_RELU);
}

static void flatten(snn_graph *g, int input)
{
    snn_layer l;
    snn_layer_defaults(&l, SNN_OP_FLATTEN, "flat", NULL);
    tu_add_layer(g, &l, input);
}

static void convert(snn_graph *g, snn_net *net)
{
    snn_error err = {0};
    snn_convert_opts o = {1.0f, SNN_RESET_SUBTRACT, 1.0f};
    if (snn_graph_infer_shapes(g, &err) != SNN_OK ||
        snn_convert(g, &o, net, &err) != SNN_OK)
        fail_msg("%s", err.msg);
}

static void image(snn_tensor *x, size_t n, size_t c, size_t w, const float *v)
{
    size_t dims[4] = {n, c, 1, w};
    set_tensor(x, 4, dims, v);
}

/* One re-indexing M between A and out: in (1, 1, width) -> A -> M ->
 * Flatten -> out (Dense, one neuron, relu). */
typedef struct remap_case {
    const char *what;
    snn_op op;
    int pad[4];        /* PAD/CROP: top, left, bottom, right */
    int up;            /* UPSAMPLE: factor along W */
    size_t width;      /* of the input */
    float x[4];
    float w_out[6];
    float m_counts[6]; /* M's spike counts, by hand */
    size_t m_n;
    float out_count;
} remap_case;

static void remap_graph(snn_graph *g, const remap_case *rc)
{
    snn_layer m;
    snn_graph_init(g);
    image_input(g, 1, 1, rc->width);
    identity_conv(g);
    snn_layer_defaults(&m, rc->op, "M", NULL);
    memcpy(m.win.pad, rc->pad, sizeof m.win.pad);
    if (rc->op == SNN_OP_UPSAMPLE)
        m.win.stride[1] = rc->up;
    if (rc->op == SNN_OP_RESHAPE) {
        /* Keras' (H, W, C) order at both ends: (1, 1, 4) as (2, 1, 2). */
        m.target = (snn_shape){3, {2, 1, 2}};
        m.flatten_hwc = 1;
    }
    tu_add_layer(g, &m, 1);
    flatten(g, 2);
    size_t wd[2] = {1, rc->m_n};
    weighted(g, SNN_OP_DENSE, "out", 3, 2, wd, rc->w_out, NULL, 1,
             SNN_ACT_RELU);
}

/* 8 steps, v_thresh 1.  A's constant currents 1, .5, .25 (and .125) fire
 * every step, at steps 2, 4, 6, 8, at 4 and 8 (and at 8): counts 8, 4, 2
 * (, 1).  M's counts are A's re-indexed; out's current is the weighted
 * sum of M's spikes of the same step:
 *  crop (left 1): M = (4, 2); out .5 M0 + .25 M1: .5 at 2 and 6, .75 at
 *    4 and 8: V .5, 1.25 > .25 (4), .75, 1.5 > .5 (8): 2 spikes.
 *  pad (left 2, right 1): M = (0, 0, 8, 4, 2, 0); out .25 A0 + .5 A1 +
 *    .5 A2: .25, .75, .25, 1.25, ...: V .25, 1 > 0 (2), .25, 1.5 > .5 (4),
 *    .75, 1.5 > .5 (6), .75, 2 > 1 (8): 4 spikes.
 *  upsample (x2 along W): M = (8, 8, 4, 4, 2, 2); out .125 M0 + .25 M3 +
 *    .25 M4: .125 at odd steps, .375 at 2 and 6, .625 at 4 and 8:
 *    V .125, .5, .625, 1.25 > .25 (4), .375, .75, .875, 1.5 > .5 (8): 2.
 *  reshape to (2, 1, 2) in (H, W, C) order: element i of the input goes
 *    to channel i % 2, column i / 2, so M = (A0, A2, A1, A3) = (8, 2, 4,
 *    1); out .125 M0 + .5 M1: .125, then .625 at 4 and 8: V .375, 1 > 0
 *    (4), .375, 1 > 0 (8): 2 spikes. */
static void test_remaps_by_hand(void **state)
{
    (void)state;
    static const remap_case cases[] = {
        {"crop", SNN_OP_CROP, {0, 1, 0, 0}, 1, 3, {1, .5f, .25f},
         {.5f, .25f}, {4, 2}, 2, 2},
        {"pad", SNN_OP_PAD, {0, 2, 0, 1}, 1, 3, {1, .5f, .25f},
         {1, 1, .25f, .5f, .5f, 1}, {0, 0, 8, 4, 2, 0}, 6, 4},
        {"upsample", SNN_OP_UPSAMPLE, {0, 0, 0, 0}, 2, 3, {1, .5f, .25f},
         {.125f, 0, 0, .25f, .25f, 0}, {8, 8, 4, 4, 2, 2}, 6, 2},
        {"reshape", SNN_OP_RESHAPE, {0, 0, 0, 0}, 1, 4,
         {1, .5f, .25f, .125f}, {.125f, .5f, 0, 0}, {8, 2, 4, 1}, 4, 2},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const remap_case *rc = &cases[k];
        snn_graph g;
        snn_net net;
        snn_tensor x;
        snn_sim_result res;
        snn_error err = {0};
        float *counts[4];
        remap_graph(&g, rc);
        convert(&g, &net);
        assert_int_equal(net.n_layers, 4);
        assert_int_equal(net.layers[1].unit, SNN_UNIT_RESHAPE);
        assert_int_equal(net.layers[1].syn.op, rc->op);
        assert_ptr_equal(snn_net_resampling(&net), &net.layers[1]);
        assert_null(snn_sim_event_unsupported(&net));
        image(&x, 1, 1, rc->width, rc->x);
        for (int e = SNN_ENGINE_EVENT; e <= SNN_ENGINE_REFERENCE; e += 2) {
            assert_int_equal(tu_simulate(&net, &x, 1, 8, (snn_sim_engine)e,
                                         counts, &res, &err), SNN_OK);
            for (size_t j = 0; j < rc->m_n; j++)
                if (counts[1][j] != rc->m_counts[j])
                    fail_msg("%s, engine %d: M neuron %zu fired %g times, "
                             "by hand %g", rc->what, e, j,
                             (double)counts[1][j], (double)rc->m_counts[j]);
            if (counts[3][0] != rc->out_count)
                fail_msg("%s, engine %d: out fired %g times, by hand %g",
                         rc->what, e, (double)counts[3][0],
                         (double)rc->out_count);
            snn_sim_result_free(&res);
            tu_counts_free(counts, 4);
        }
        snn_tensor_free(&x);
        snn_net_free(&net);
        snn_graph_free(&g);
    }
}

/* in (1, 1, 2) -> A -> T: Conv2DTranspose of one channel, kernel 1 x 2
 * (.5, .75), stride 2 (output width 4) or 1 (width 3, overlapping), relu.
 * 4 steps: A's currents 1 and .5: A0 fires every step, A1 at 2 and 4.
 * Stride 2: T = (.5 A0, .75 A0, .5 A1, .75 A1): .5 a step: 2 spikes;
 * .75: V .75, 1.5 > .5, 1.25 > .25, 1 > 0: 3; .5 at 2, 4: V .5, 1: 1;
 * .75 at 2, 4: 1.  Stride 1: T = (.5 A0, .75 A0 + .5 A1, .75 A1): 2;
 * .75, 1.25, .75, 1.25: V .75, 2 > 1, 1.75 > .75, 2 > 1: 3; 1.
 * Synaptic operations: A's 6 spikes reach 2 outputs each either way. */
static void test_conv_transpose_by_hand(void **state)
{
    (void)state;
    static const float want[2][4] = {{2, 3, 1, 1}, {2, 3, 1, 0}};
    for (int stride = 2; stride >= 1; stride--) {
        snn_graph g;
        snn_net net;
        snn_tensor x;
        snn_sim_result res;
        snn_error err = {0};
        float *counts[2];
        size_t wd[4] = {1, 1, 1, 2}, width = stride == 2 ? 4 : 3;
        snn_graph_init(&g);
        image_input(&g, 1, 1, 2);
        identity_conv(&g);
        weighted(&g, SNN_OP_CONV2D_T, "T", 1, 4, wd,
                 (const float[]){.5f, .75f}, NULL, stride, SNN_ACT_RELU);
        convert(&g, &net);
        assert_int_equal(net.n_layers, 2);
        assert_int_equal(net.layers[1].unit, SNN_UNIT_IF);
        assert_int_equal(net.layers[1].syn.shape.dims[2], width);
        image(&x, 1, 1, 2, (const float[]){1, .5f});
        for (int e = SNN_ENGINE_EVENT; e <= SNN_ENGINE_REFERENCE; e += 2) {
            assert_int_equal(tu_simulate(&net, &x, 1, 4, (snn_sim_engine)e,
                                         counts, &res, &err), SNN_OK);
            for (size_t j = 0; j < width; j++)
                if (counts[1][j] != want[2 - stride][j])
                    fail_msg("stride %d, engine %d: T neuron %zu fired %g "
                             "times, by hand %g", stride, e, j,
                             (double)counts[1][j],
                             (double)want[2 - stride][j]);
            assert_true(res.synops == 12);
            snn_sim_result_free(&res);
            tu_counts_free(counts, 2);
        }
        snn_tensor_free(&x);
        snn_net_free(&net);
        snn_graph_free(&g);
    }
}

static void close_to(double got, double want, const char *what)
{
    if (fabs(got - want) > 1e-6 * fabs(want) + 1e-7)
        fail_msg("%s: got %.9g, want %.9g", what, got, want);
}

/* in (1, 1, 1) -> A -> U (upsample x2 along W) -> T (Conv2DTranspose 1x1,
 * one channel to two, weights (1, 3), bias (1, 0), relu), on x = 2 and 1,
 * at the 100th percentile: lambda_A = 2, and U keeps it.  T's outputs
 * are A + 1 = 3, 2 and 3 A = 6, 3: lambda_T = 6 (channel-wise 3, 6).
 * Normalized: W[c][o] lambda_A / lambda_T[o], b[o] / lambda_T[o]:
 * layer-wise (1/3, 1) and b0 = 1/6; channel-wise (2/3, 1) and 1/3. */
static void test_conv_transpose_normalization_by_hand(void **state)
{
    (void)state;
    static const double w0[2] = {1.0 / 3, 2.0 / 3}, b0[2] = {1.0 / 6, 1.0 / 3};
    for (int cw = 0; cw < 2; cw++) {
        snn_graph g;
        snn_net net;
        snn_tensor x;
        snn_scales s;
        snn_layer u;
        snn_error err = {0};
        size_t wd[4] = {1, 2, 1, 1};
        snn_graph_init(&g);
        image_input(&g, 1, 1, 1);
        identity_conv(&g);
        snn_layer_defaults(&u, SNN_OP_UPSAMPLE, "U", NULL);
        u.win.stride[1] = 2;
        tu_add_layer(&g, &u, 1);
        weighted(&g, SNN_OP_CONV2D_T, "T", 2, 4, wd, (const float[]){1, 3},
                 (const float[]){1, 0}, 1, SNN_ACT_RELU);
        image(&x, 2, 1, 1, (const float[]){2, 1});
        assert_int_equal(snn_graph_infer_shapes(&g, &err), SNN_OK);
        snn_status st = (cw ? snn_compute_channel_scales : snn_compute_scales)(
            &g, &x, 100.0, 2, &s, &err);
        if (st == SNN_OK)
            st = snn_apply_scales(&g, &s, &err);
        if (st != SNN_OK)
            fail_msg("%s", err.msg);
        close_to(s.lambda[1], 2, "lambda_A");
        close_to(s.lambda[2], 2, "lambda_U");
        close_to(s.lambda[3], 6, "lambda_T");
        convert(&g, &net);
        const snn_layer *t = &net.layers[2].syn;
        assert_int_equal(t->op, SNN_OP_CONV2D_T);
        close_to(t->weight.data[0], w0[cw], "T weight 0");
        close_to(t->weight.data[1], 1, "T weight 1");
        close_to(t->bias.data[0], b0[cw], "T bias 0");
        close_to(t->bias.data[1], 0, "T bias 1");
        snn_scales_free(&s);
        snn_net_free(&net);
        snn_tensor_free(&x);
        snn_graph_free(&g);
    }
}

/* A BatchNormalization of two channels with relu activation after
 * layer `input`. */
static void batchnorm_relu(snn_graph *g, int input)
{
    static const size_t c = 2;
    snn_layer bn;
    snn_layer_defaults(&bn, SNN_OP_BATCHNORM, "bn", NULL);
    bn.act = SNN_ACT_RELU;
    set_tensor(&bn.gamma, 1, &c, (const float[]){1.5f, .5f});
    set_tensor(&bn.beta, 1, &c, (const float[]){.25f, -.5f});
    set_tensor(&bn.mean, 1, &c, (const float[]){.1f, .3f});
    set_tensor(&bn.var, 1, &c, (const float[]){2, .5f});
    tu_add_layer(g, &bn, input);
}

/* in (1, 1, 2) -> A -> T (Conv2DTranspose, one channel to two, kernel
 * 1 x 2, stride 2, bias, linear) -> BatchNorm + relu: the BatchNorm folds
 * into T's output channels (weight (I, O, KH, KW)), and the folded graph
 * computes what the BatchNorm kernel did.  Folding forwards into a
 * transposed convolution is refused: each output cell sums its own
 * number of taps, so a shift of the input is no bias. */
static void test_batchnorm_folds_into_conv_transpose(void **state)
{
    (void)state;
    static const size_t wd[4] = {1, 2, 1, 2}, cd[4] = {2, 1, 1, 1};
    snn_graph g;
    snn_tensor x, before, after;
    snn_error err = {0};
    snn_graph_init(&g);
    image_input(&g, 1, 1, 2);
    identity_conv(&g);
    weighted(&g, SNN_OP_CONV2D_T, "T", 1, 4, wd,
             (const float[]){1, -1, .5f, 2}, (const float[]){.1f, -.2f}, 2,
             SNN_ACT_LINEAR);
    batchnorm_relu(&g, 2);
    assert_int_equal(snn_graph_infer_shapes(&g, &err), SNN_OK);
    image(&x, 3, 1, 2, (const float[]){1, .5f, .25f, 2, 0, .75f});
    tu_ann_output(&g, &x, &before, "T -> BatchNorm");
    assert_int_equal(snn_fold_batchnorm(&g, &err), SNN_OK);
    assert_int_equal(snn_graph_find(&g, "bn"), -1);
    assert_int_equal(tu_layer(&g, "T")->act, SNN_ACT_RELU);
    tu_ann_output(&g, &x, &after, "T folded");
    tu_assert_close(&after, &before, TU_TOL_REL, "T folded", "the BatchNorm");
    snn_tensor_free(&before);
    snn_tensor_free(&after);
    snn_graph_free(&g);

    snn_graph_init(&g);
    image_input(&g, 1, 1, 2);
    weighted(&g, SNN_OP_CONV2D, "C", 0, 4, cd, (const float[]){1, 2}, NULL,
             1, SNN_ACT_RELU);
    batchnorm_relu(&g, 1);
    weighted(&g, SNN_OP_CONV2D_T, "T", 2, 4, (const size_t[]){2, 1, 1, 2},
             (const float[]){1, 1, 1, 1}, NULL, 2, SNN_ACT_RELU);
    assert_int_equal(snn_graph_infer_shapes(&g, &err), SNN_OK);
    assert_int_equal(snn_fold_batchnorm(&g, &err), SNN_E_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "forwards through 'T'"));
    assert_non_null(strstr(err.msg, "transposed convolution"));
    snn_tensor_free(&x);
    snn_graph_free(&g);
}

/* in (1) -> d1 (Dense 1, relu) -> d2 (Dense -0.5, linear) -> Add(d2, d1)
 * -> ReLU: the Add's neurons get (1 - .5) times d1's spikes.  Calibrated
 * on x = .3, .6, 1.5 over 4 steps: d1 first, as in test_lowlat (bias
 * .05; it then fires once, twice, 4 times).  The Add's ANN output is
 * .5 d1 = .15, .3, .75 (mean .4); its neurons get .5 per d1 spike:
 * V .5: none; .5, 1 > 0: one; 1 > 0 twice: two; rates 0, .25, .5 (mean
 * .25).  So its bias becomes .4 - .25 = .15. */
static void test_add_bias_calibration_by_hand(void **state)
{
    (void)state;
    static const size_t wd[2] = {1, 1};
    snn_graph g;
    snn_net net;
    snn_layer add, relu;
    snn_tensor x;
    snn_error err = {0};
    snn_graph_init(&g);
    vector_input(&g, 1);
    weighted(&g, SNN_OP_DENSE, "d1", 0, 2, wd, (const float[]){1}, NULL, 1,
             SNN_ACT_RELU);
    weighted(&g, SNN_OP_DENSE, "d2", 1, 2, wd, (const float[]){-.5f}, NULL,
             1, SNN_ACT_LINEAR);
    snn_layer_defaults(&add, SNN_OP_ADD, "add", NULL);
    add.inputs[0] = 2;
    add.inputs[1] = 1;
    add.n_inputs = 2;
    assert_int_equal(snn_graph_add(&g, &add, NULL, &err), SNN_OK);
    snn_layer_defaults(&relu, SNN_OP_ACTIVATION, "relu", NULL);
    relu.act = SNN_ACT_RELU;
    tu_add_layer(&g, &relu, 3);
    convert(&g, &net);
    assert_int_equal(net.n_layers, 2);
    assert_int_equal(net.layers[1].syn.op, SNN_OP_ADD);
    assert_null(net.layers[1].syn.bias.data);
    size_t xd[2] = {3, 1};
    set_tensor(&x, 2, xd, (const float[]){.3f, .6f, 1.5f});
    snn_sim_opts o = {.steps = 4, .batch_size = 2, .top_k = 1, .seed = 1,
                      .engine = SNN_ENGINE_AUTO};
    assert_int_equal(snn_calibrate_biases(&net, &g, &x, 3, &o, &err), SNN_OK);
    close_to(net.layers[0].syn.bias.data[0], .05, "d1 bias");
    close_to(net.layers[1].syn.bias.data[0], .15, "Add bias");
    snn_tensor_free(&x);
    snn_net_free(&net);
    snn_graph_free(&g);
}

/* Exports name the layer they cannot carry and write nothing. */
static void test_export_refuses(void **state)
{
    (void)state;
    char dir[256], out[300];
    snn_graph g;
    snn_net net;
    snn_error err = {0};
    snn_export_opts eo = {0};
    size_t wd[4] = {1, 1, 1, 2};
    snn_graph_init(&g);
    image_input(&g, 1, 1, 2);
    identity_conv(&g);
    weighted(&g, SNN_OP_CONV2D_T, "T", 1, 4, wd, (const float[]){.5f, .75f},
             NULL, 2, SNN_ACT_RELU);
    convert(&g, &net);
    snprintf(out, sizeof out, "%s/net.nir", tu_tempdir(dir, sizeof dir));
    assert_int_equal(snn_export(&net, SNN_EXPORT_NIR, out, &eo, NULL, &err),
                     SNN_E_UNSUPPORTED);
    assert_string_equal(err.msg, "layer 'T' (Conv2DTranspose): exports do "
                                 "not carry Conv2DTranspose yet; the "
                                 "built-in simulator runs it");
    assert_false(tu_file_exists(out));
    tu_rmtree(dir);
    snn_net_free(&net);
    snn_graph_free(&g);
}

/* ---- Keras fixtures ---------------------------------------------------- */

/* A Keras file, or an ONNX one by its extension. */
static void parse_fixture(const char *rel, snn_graph *g)
{
    char path[512];
    snn_error err = {0};
    const char *ext = strrchr(rel, '.');
    tu_fixture(path, sizeof path, rel);
    snn_status st = strcmp(ext, ".onnx") == 0 ? snn_parse_onnx(path, g, &err)
                                              : snn_parse_keras(path, g, &err);
    if (st != SNN_OK)
        fail_msg("%s: %s", rel, err.msg);
}

static const snn_net_layer *net_layer(const snn_net *net, const char *name)
{
    for (int i = 0; i < net->n_layers; i++)
        if (strcmp(net->layers[i].syn.name, name) == 0)
            return &net->layers[i];
    fail_msg("the net has no layer '%s'", name);
    return NULL;
}

/* The first net layer with this op, or fails. */
static const snn_net_layer *net_op(const snn_net *net, snn_op op)
{
    for (int i = 0; i < net->n_layers; i++)
        if (net->layers[i].syn.op == op)
            return &net->layers[i];
    fail_msg("the net has no %s layer", snn_op_name(op));
    return NULL;
}

/* What conversion made of the fixtures' resampling layers. */
static void check_structure(const char *stem, const snn_graph *g,
                            const snn_net *net)
{
    if (strcmp(stem, "onnx/res") == 0) {
        /* PyTorch's names differ by exporter: find the ops. */
        assert_int_equal(net_op(net, SNN_OP_CONV2D_T)->unit, SNN_UNIT_IF);
        assert_int_equal(net_op(net, SNN_OP_UPSAMPLE)->unit,
                         SNN_UNIT_RESHAPE);
        return;
    }
    if (strcmp(stem, "keras/seq_resample") == 0) {
        /* The padding before the Conv1D joined its window; the one before
         * the pooling stays a re-indexing, as do the crop and upsample. */
        assert_int_equal(snn_graph_find(g, "pad_conv"), -1);
        assert_int_equal(net_layer(net, "pad_pool")->syn.op, SNN_OP_PAD);
        assert_int_equal(net_layer(net, "crop")->unit, SNN_UNIT_RESHAPE);
        assert_int_equal(net_layer(net, "up")->syn.op, SNN_OP_UPSAMPLE);
        assert_int_equal(net_layer(net, "conv2")->syn.win.pad[1], 1);
        return;
    }
    /* The relu Conv2DTranspose has neurons; the linear one is a weighted
     * projection of the Add; the Reshape to a vector is a Flatten. */
    assert_int_equal(net_layer(net, "convt")->unit, SNN_UNIT_IF);
    const snn_net_layer *add = net_layer(net, "add");
    assert_int_equal(add->n_proj, 2);
    assert_int_equal(add->proj[0].syn.op, SNN_OP_CONV2D_T);
    assert_int_equal(add->proj[1].syn.op, SNN_OP_ACTIVATION);
    assert_int_equal(net_layer(net, "up")->syn.op, SNN_OP_UPSAMPLE);
    assert_int_equal(net_layer(net, "reshape")->syn.op, SNN_OP_FLATTEN);
}

/* The ANN of `model` gives the framework's outputs <stem>_y.npy on
 * <stem>_<xname>.npy; converted as a run does it (compose, fold, softmax
 * as ReLU, layer-wise normalization at the 100th percentile on the
 * fixture's inputs), the SNN's output rates approximate the normalized
 * ANN's. */
/* The conversion's graph passes, normalized on the first n samples of
 * x. */
static void normalize(snn_graph *g, const snn_tensor *x, size_t n,
                      const char *model)
{
    snn_scales s;
    snn_error err = {0};
    snn_status st = snn_compose_convs(g, &err);
    if (st == SNN_OK)
        st = snn_fold_batchnorm(g, &err);
    snn_graph_softmax_to_relu(g);
    if (st == SNN_OK)
        st = snn_graph_infer_shapes(g, &err);
    if (st == SNN_OK)
        st = snn_compute_scales(g, x, 100.0, n, &s, &err);
    if (st == SNN_OK)
        st = snn_apply_scales(g, &s, &err);
    if (st != SNN_OK)
        fail_msg("%s: %s", model, err.msg);
    snn_scales_free(&s);
}

static void check_fixture(const char *model, const char *stem,
                          const char *xname, int steps, double tol)
{
    char rel[128];
    snn_graph g;
    snn_net net;
    snn_tensor x, y, want;
    snn_sim_result res;
    snn_error err = {0};
    parse_fixture(model, &g);
    snprintf(rel, sizeof rel, "%s_%s.npy", stem, xname);
    tu_load_npy(rel, &x);
    snprintf(rel, sizeof rel, "%s_y.npy", stem);
    tu_load_npy(rel, &y);
    tu_ann_output(&g, &x, &want, model);
    tu_assert_close(&want, &y, TU_TOL_REL, model, "the framework");
    snn_tensor_free(&want);
    normalize(&g, &x, x.dims[0], model);
    tu_ann_output(&g, &x, &want, model);
    convert(&g, &net);
    check_structure(stem, &g, &net);
    float **counts = calloc((size_t)net.n_layers, sizeof *counts);
    assert_int_equal(tu_simulate(&net, &x, x.dims[0], steps, SNN_ENGINE_AUTO,
                                 counts, &res, &err), SNN_OK);
    tu_rates_agree(counts[net.n_layers - 1], &want, res.predictions, steps,
                   tol, model);
    snn_sim_result_free(&res);
    tu_counts_free(counts, net.n_layers);
    free(counts);
    snn_tensor_free(&want);
    snn_tensor_free(&x);
    snn_tensor_free(&y);
    snn_net_free(&net);
    snn_graph_free(&g);
}

/* The rates lag the ANN by a number of spikes that does not grow with
 * the run (the deepest, img_resample, with six layers of neurons: 0.020
 * at 1000 steps, 0.060 at 300, measured), so the tolerance is 30 spikes'
 * worth. */
static void check_fixtures(const char *const *models, size_t n,
                           const char *stem, const char *xname)
{
    int steps = tu_quick() ? 300 : 1000;
    for (size_t i = 0; i < n; i++)
        check_fixture(models[i], stem, xname, steps, 30.0 / steps);
}

static void test_keras_fixtures(void **state)
{
    (void)state;
    static const char *const seq[] = {"keras/seq_resample.keras",
                                      "keras/seq_resample.h5"};
    static const char *const img[] = {"keras/img_resample.keras",
                                      "keras/img_resample.h5"};
    check_fixtures(seq, 2, "keras/seq_resample", "x_nchw");
    check_fixtures(img, 2, "keras/img_resample", "x_nchw");
}

/* PyTorch's res model (ConvTranspose, nearest Upsample/Resize, Add,
 * Concat, ReLU6; scripts/gen_onnx_fixtures.py) from every exporter. */
static void test_onnx_fixtures(void **state)
{
    (void)state;
    static const char *const res[] = {
        "onnx/res_o11.onnx", "onnx/res_o13.onnx", "onnx/res_o17.onnx",
        "onnx/res_o23.onnx", "onnx/res_o28_dynamo.onnx",
    };
    check_fixtures(res, 5, "onnx/res", "x");
}

#define FASHION_DIR "/usr/share/datasets/fashion-mnist"

/* The event engine against the reference engine on a fixture's net
 * (normalized, then weights and inputs made dyadic so that both engines
 * sum exactly): the same spikes in every layer, sample by sample.  xrel
 * NULL: the first Fashion-MNIST test images. */
static void engines_agree_on(const char *model, const char *xrel, size_t n,
                             int steps)
{
    snn_graph g;
    snn_net net;
    snn_tensor x;
    snn_error err = {0};
    parse_fixture(model, &g);
    if (xrel)
        tu_load_npy(xrel, &x);
    else if (snn_idx_load_images(FASHION_DIR, "t10k-images-idx3-ubyte", &x,
                                 &err) != SNN_OK)
        fail_msg("%s", err.msg);
    n = n < x.dims[0] ? n : x.dims[0];
    normalize(&g, &x, n, model);
    convert(&g, &net);
    assert_non_null(snn_net_resampling(&net));
    tu_net_dyadic(&net, &x, 256, 16);
    tu_engines_agree(&net, &x, n, steps, 0, model);
    tu_engines_agree(&net, &x, n, steps, 1000, model);
    tu_projections_matter(&net, &x, n, steps, model);
    snn_tensor_free(&x);
    snn_net_free(&net);
    snn_graph_free(&g);
}

static void test_engines_agree_on_fixtures(void **state)
{
    (void)state;
    static const char *const fx[][2] = {
        {"keras/seq_resample.keras", "keras/seq_resample_x_nchw.npy"},
        {"keras/img_resample.keras", "keras/img_resample_x_nchw.npy"},
        {"keras/img_resample.h5", "keras/img_resample_x_nchw.npy"},
        {"onnx/res_o17.onnx", "onnx/res_x.npy"},
        {"onnx/res_o28_dynamo.onnx", "onnx/res_x.npy"},
        {"snn_accuracy/resample.keras", NULL},
    };
    int fashion = access(FASHION_DIR "/t10k-images-idx3-ubyte.gz", R_OK) == 0;
    for (size_t i = 0; i < sizeof fx / sizeof fx[0]; i++) {
        if (!fx[i][1] && !fashion) {
            print_message("%s: skipped, %s is absent\n", fx[i][0],
                          FASHION_DIR);
            continue;
        }
        engines_agree_on(fx[i][0], fx[i][1], tu_quick() ? 4 : 12,
                         tu_quick() ? 30 : 80);
    }
}

int main(void)
{
    /* Many small parallel kernels per step: threads waiting at barriers
     * on a busy machine cost more than they save (see test_merge.c). */
    omp_set_num_threads(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_remaps_by_hand),
        cmocka_unit_test(test_conv_transpose_by_hand),
        cmocka_unit_test(test_conv_transpose_normalization_by_hand),
        cmocka_unit_test(test_batchnorm_folds_into_conv_transpose),
        cmocka_unit_test(test_add_bias_calibration_by_hand),
        cmocka_unit_test(test_export_refuses),
        cmocka_unit_test(test_keras_fixtures),
        cmocka_unit_test(test_onnx_fixtures),
        cmocka_unit_test(test_engines_agree_on_fixtures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
