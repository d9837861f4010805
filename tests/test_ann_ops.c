/*
 * test_ann_ops.c - the ANN kernels against hand computations (dense, a
 * small convolution, pooling with padding and ceil_mode, flatten order,
 * softmax, BatchNorm, top-k ties, scoring) and, for convolutions with
 * stride, padding, dilation and groups, against a direct-loop reference
 * written here independently of the im2col path.
 */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ann/ops.h"
#include "snntb/ann.h"

static snn_tensor tensor_of(int ndim, const size_t *dims, const float *vals)
{
    snn_tensor t;
    assert_int_equal(snn_tensor_init(&t, ndim, dims, NULL), SNN_OK);
    if (vals)
        memcpy(t.data, vals, snn_tensor_numel(&t) * sizeof(float));
    return t;
}

/* A graph of an input of shape `in` and the one layer l reading it. */
static void graph_of(snn_graph *g, snn_shape in, snn_layer *l)
{
    snn_layer input;
    snn_error err;
    snn_graph_init(g);
    snn_layer_defaults(&input, SNN_OP_INPUT, "input", NULL);
    input.shape = in;
    assert_int_equal(snn_graph_add(g, &input, NULL, &err), SNN_OK);
    l->inputs[0] = 0;
    l->n_inputs = 1;
    assert_int_equal(snn_graph_add(g, l, NULL, &err), SNN_OK);
    assert_int_equal(snn_graph_infer_shapes(g, &err), SNN_OK);
}

/* Runs n samples x through the one-layer graph and compares the output
 * with want (length n * out numel). */
static void expect_layer(snn_shape in, snn_layer *l, const float *x, size_t n,
                         const float *want, float tol)
{
    snn_graph g;
    graph_of(&g, in, l);
    size_t dims[4] = {n, in.dims[0], in.dims[1], in.dims[2]};
    snn_tensor xt = tensor_of(1 + in.ndim, dims, x);
    snn_tensor acts[2];
    memset(acts, 0, sizeof acts);
    snn_error err;
    assert_int_equal(snn_ann_forward(&g, &xt, acts, &err), SNN_OK);
    size_t m = snn_tensor_numel(&acts[1]);
    assert_int_equal(m, n * snn_shape_numel(&g.layers[1].shape));
    for (size_t i = 0; i < m; i++)
        assert_float_equal(acts[1].data[i], want[i], tol);
    snn_ann_acts_free(acts, 2);
    snn_tensor_free(&xt);
    snn_graph_free(&g);
}

static snn_shape shape3(size_t c, size_t h, size_t w)
{
    snn_shape s = {3, {c, h, w}};
    return s;
}

static snn_shape shape1(size_t n)
{
    snn_shape s = {1, {n, 0, 0}};
    return s;
}

static void test_dense_by_hand(void **state)
{
    (void)state;
    snn_layer l;
    snn_layer_defaults(&l, SNN_OP_DENSE, "fc", NULL);
    const float w[] = {1, 2, 3, 4, 5, 6}, b[] = {0.5f, -1};
    l.weight = tensor_of(2, (size_t[]){2, 3}, w);
    l.bias = tensor_of(1, (size_t[]){2}, b);
    const float x[] = {1, 0, -1, 2, 1, 0};
    /* (1 - 3 + .5, 4 - 6 - 1), (2 + 2 + .5, 8 + 5 - 1) */
    const float want[] = {-1.5f, -3, 4.5f, 12};
    expect_layer(shape1(3), &l, x, 2, want, 1e-6f);
}

static void test_conv_by_hand(void **state)
{
    (void)state;
    snn_layer l;
    snn_layer_defaults(&l, SNN_OP_CONV2D, "conv", NULL);
    const float k[] = {1, 2, 3, 4}, b[] = {0.5f};
    l.weight = tensor_of(4, (size_t[]){1, 1, 2, 2}, k);
    l.bias = tensor_of(1, (size_t[]){1}, b);
    const float x[] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    /* top-left: 1*1 + 2*2 + 3*4 + 4*5 = 37, then +.5 */
    const float want[] = {37.5f, 47.5f, 67.5f, 77.5f};
    expect_layer(shape3(1, 3, 3), &l, x, 1, want, 1e-5f);
}

/* Deterministic values in [-1, 1). */
static void fill(float *v, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        v[i] = (float)((seed >> 8) & 0xffff) / 32768.0f - 1.0f;
    }
}

/* The convolution straight from its definition. */
static float conv_ref_at(const snn_layer *l, const snn_shape *in,
                         const float *x, size_t o, long oh, long ow)
{
    const snn_window *w = &l->win;
    size_t og = l->shape.dims[0] / (size_t)l->groups;
    size_t cg = in->dims[0] / (size_t)l->groups;
    size_t grp = o / og;
    double acc = l->bias.data ? l->bias.data[o] : 0.0;
    for (size_t ci = 0; ci < cg; ci++)
        for (long i = 0; i < w->kernel[0]; i++)
            for (long j = 0; j < w->kernel[1]; j++) {
                long h = oh * w->stride[0] - w->pad[0] + i * w->dilation[0];
                long v = ow * w->stride[1] - w->pad[1] + j * w->dilation[1];
                if (h < 0 || v < 0 || h >= (long)in->dims[1] ||
                    v >= (long)in->dims[2])
                    continue;
                size_t c = grp * cg + ci;
                float xv = x[(c * in->dims[1] + (size_t)h) * in->dims[2] +
                             (size_t)v];
                float kv = l->weight.data[((o * cg + ci) * (size_t)w->kernel[0]
                                           + (size_t)i) * (size_t)w->kernel[1]
                                          + (size_t)j];
                acc += (double)xv * kv;
            }
    return (float)acc;
}

/* Builds a conv layer with the given window, runs 2 samples through the
 * library and compares every output with conv_ref_at. */
static void check_conv_against_reference(snn_shape in, size_t out_c,
                                         int groups, snn_window win)
{
    snn_layer l;
    snn_layer_defaults(&l, SNN_OP_CONV2D, "conv", NULL);
    l.win = win;
    l.groups = groups;
    size_t wd[4] = {out_c, in.dims[0] / (size_t)groups, (size_t)win.kernel[0],
                    (size_t)win.kernel[1]};
    l.weight = tensor_of(4, wd, NULL);
    fill(l.weight.data, snn_tensor_numel(&l.weight), 7);
    l.bias = tensor_of(1, &out_c, NULL);
    fill(l.bias.data, out_c, 11);

    snn_graph g;
    graph_of(&g, in, &l);
    const snn_layer *cl = &g.layers[1];
    size_t per_in = snn_shape_numel(&in), per_out = snn_shape_numel(&cl->shape);
    float *x = malloc(2 * per_in * sizeof *x);
    float *want = malloc(2 * per_out * sizeof *want);
    fill(x, 2 * per_in, 3);
    for (size_t s = 0; s < 2; s++)
        for (size_t o = 0; o < out_c; o++)
            for (size_t oh = 0; oh < cl->shape.dims[1]; oh++)
                for (size_t ow = 0; ow < cl->shape.dims[2]; ow++)
                    want[((s * out_c + o) * cl->shape.dims[1] + oh) *
                             cl->shape.dims[2] + ow] =
                        conv_ref_at(cl, &in, x + s * per_in, o, (long)oh,
                                    (long)ow);
    float *y = malloc(2 * per_out * sizeof *y);
    snn_op_forward(cl, &in, x, 2, y);
    for (size_t i = 0; i < 2 * per_out; i++)
        assert_float_equal(y[i], want[i], 1e-4f);
    free(y);
    free(want);
    free(x);
    snn_graph_free(&g);
}

static snn_window window(int kh, int kw, int stride, int dil,
                         const int pad[4])
{
    snn_window w;
    memset(&w, 0, sizeof w);
    w.kernel[0] = kh;
    w.kernel[1] = kw;
    w.stride[0] = w.stride[1] = stride;
    w.dilation[0] = w.dilation[1] = dil;
    memcpy(w.pad, pad, sizeof w.pad);
    return w;
}

static void test_conv_stride_pad_dilation_groups(void **state)
{
    (void)state;
    /* Asymmetric padding: top 1, left 1, bottom 0, right 2. */
    snn_window w = window(3, 2, 2, 2, (const int[]){1, 1, 0, 2});
    check_conv_against_reference(shape3(4, 7, 6), 6, 2, w);
}

static void test_conv_tiled(void **state)
{
    (void)state;
    /* 64 * 3 * 3 = 576 kernel rows and 11 * 11 positions: several row
     * chunks and column tiles of the im2col buffer. */
    snn_window w = window(3, 3, 1, 1, (const int[]){1, 1, 1, 1});
    check_conv_against_reference(shape3(64, 11, 11), 5, 1, w);
}

static void pool_case(snn_op op, snn_window w, snn_shape in, const float *x,
                      const float *want)
{
    snn_layer l;
    snn_layer_defaults(&l, op, "pool", NULL);
    l.win = w;
    expect_layer(in, &l, x, 1, want, 1e-6f);
}

static void test_pool_padding(void **state)
{
    (void)state;
    float x[16];
    for (int i = 0; i < 16; i++)
        x[i] = (float)i;
    snn_window w = window(3, 3, 2, 1, (const int[]){1, 1, 1, 1});
    /* Windows cover rows/cols {0,1}, {1,2,3}: e.g. the first holds 0 1 4 5
     * (avg 10/4), the second 1 2 3 5 6 7 (avg 24/6). */
    pool_case(SNN_OP_MAXPOOL2D, w, shape3(1, 4, 4), x,
              (const float[]){5, 7, 13, 15});
    pool_case(SNN_OP_AVGPOOL2D, w, shape3(1, 4, 4), x,
              (const float[]){2.5f, 4, 8.5f, 10});
}

static void test_pool_ceil_mode(void **state)
{
    (void)state;
    float x[25];
    for (int i = 0; i < 25; i++)
        x[i] = (float)i;
    snn_window w = window(2, 2, 2, 1, (const int[]){0, 0, 0, 0});
    w.ceil_mode = 1;
    /* 3 x 3 outputs; the last row and column of windows hold one row or
     * column of the input: e.g. (0, 2) is {4, 9}. */
    pool_case(SNN_OP_MAXPOOL2D, w, shape3(1, 5, 5), x,
              (const float[]){6, 8, 9, 16, 18, 19, 21, 23, 24});
    pool_case(SNN_OP_AVGPOOL2D, w, shape3(1, 5, 5), x,
              (const float[]){3, 5, 6.5f, 13, 15, 16.5f, 20.5f, 22.5f, 24});
}

static void test_flatten_order(void **state)
{
    (void)state;
    float x[12];
    for (int c = 0; c < 2; c++)
        for (int h = 0; h < 2; h++)
            for (int w = 0; w < 3; w++)
                x[(c * 2 + h) * 3 + w] = (float)(c * 100 + h * 10 + w);
    snn_layer l;
    snn_layer_defaults(&l, SNN_OP_FLATTEN, "flat", NULL);
    l.flatten_hwc = 1;
    const float hwc[] = {0, 100, 1, 101, 2, 102, 10, 110, 11, 111, 12, 112};
    expect_layer(shape3(2, 2, 3), &l, x, 1, hwc, 0);
    snn_layer_defaults(&l, SNN_OP_FLATTEN, "flat", NULL);
    expect_layer(shape3(2, 2, 3), &l, x, 1, x, 0);
}

static void test_activations(void **state)
{
    (void)state;
    /* e^1, e^2, e^3 over their sum 30.19287485; shifted logits give the
     * same and must not overflow. */
    float y[] = {1, 2, 3, 1000, 1001, 1002};
    snn_op_activate(SNN_ACT_SOFTMAX, y, 2, 3);
    const float want[] = {0.09003057f, 0.24472847f, 0.66524096f};
    for (int i = 0; i < 6; i++)
        assert_float_equal(y[i], want[i % 3], 1e-6f);
    float r[] = {-2, 0, 3.5f, -0.1f};
    snn_op_activate(SNN_ACT_RELU, r, 1, 4);
    const float rw[] = {0, 0, 3.5f, 0};
    assert_memory_equal(r, rw, sizeof r);
    snn_op_activate(SNN_ACT_LINEAR, r, 1, 4);
    assert_memory_equal(r, rw, sizeof r);
}

static void batchnorm_layer(snn_layer *l)
{
    snn_layer_defaults(l, SNN_OP_BATCHNORM, "bn", NULL);
    size_t c = 2;
    l->gamma = tensor_of(1, &c, (const float[]){2, 3});
    l->beta = tensor_of(1, &c, (const float[]){0.5f, 0});
    l->mean = tensor_of(1, &c, (const float[]){1, -1});
    l->var = tensor_of(1, &c, (const float[]){3, 0});
    l->eps = 1;
}

static void test_batchnorm(void **state)
{
    (void)state;
    /* Channel 0: 2 * (x - 1) / sqrt(4) + .5; channel 1: 3 * (x + 1). */
    snn_layer l;
    batchnorm_layer(&l);
    expect_layer(shape3(2, 1, 2), &l, (const float[]){1, 3, 0, 1}, 1,
                 (const float[]){0.5f, 2.5f, 3, 6}, 1e-6f);
    batchnorm_layer(&l);
    expect_layer(shape1(2), &l, (const float[]){3, 1}, 1,
                 (const float[]){2.5f, 6}, 1e-6f);
}

static void test_top_k_ties(void **state)
{
    (void)state;
    const float s[] = {0.1f, 0.5f, 0.5f, 0.2f};
    /* Class 1 ties with 2 and ranks first by its lower index. */
    assert_true(snn_in_top_k(s, 4, 1, 1));
    assert_false(snn_in_top_k(s, 4, 2, 1));
    assert_true(snn_in_top_k(s, 4, 2, 2));
    assert_false(snn_in_top_k(s, 4, 3, 2));
    assert_true(snn_in_top_k(s, 4, 3, 3));
    assert_false(snn_in_top_k(s, 4, 0, 3));
    assert_true(snn_in_top_k(s, 4, 0, 4));
    assert_false(snn_in_top_k(s, 4, 4, 4));
}

static void test_score(void **state)
{
    (void)state;
    snn_layer l;
    snn_layer_defaults(&l, SNN_OP_DENSE, "fc", NULL);
    l.weight = tensor_of(2, (size_t[]){3, 3},
                         (const float[]){1, 0, 0, 0, 1, 0, 0, 0, 1});
    l.act = SNN_ACT_SOFTMAX;
    snn_graph g;
    graph_of(&g, shape1(3), &l);
    /* Outputs follow the inputs: argmax 0, 1 (label 2), 2, and a 0/1 tie
     * that class 0 wins (label 1). */
    snn_tensor x = tensor_of(2, (size_t[]){4, 3},
                             (const float[]){1, 0, 0, 0, 2, 1, 0, 1, 2, 1, 1,
                                             0});
    snn_tensor y = tensor_of(2, (size_t[]){4, 3},
                             (const float[]){1, 0, 0, 0, 0, 1, 0, 0, 1, 0, 1,
                                             0});
    snn_score sc;
    snn_error err;
    assert_int_equal(snn_ann_score(&g, &x, &y, 4, 3, 2, &sc, &err), SNN_OK);
    assert_int_equal(sc.n, 4);
    assert_int_equal(sc.top1, 2);
    assert_int_equal(sc.topk, 4);
    assert_int_equal(snn_ann_score(&g, &x, &y, 3, 2, 1, &sc, &err), SNN_OK);
    assert_int_equal(sc.n, 3);
    assert_int_equal(sc.top1, 2);
    assert_int_equal(snn_ann_score(&g, &x, &y, 5, 2, 1, &sc, &err),
                     SNN_E_SHAPE);
    snn_tensor_free(&x);
    snn_tensor_free(&y);
    snn_graph_free(&g);
}

static void test_bad_input_is_an_error(void **state)
{
    (void)state;
    snn_layer l;
    snn_layer_defaults(&l, SNN_OP_DENSE, "fc", NULL);
    l.weight = tensor_of(2, (size_t[]){2, 3}, NULL);
    snn_graph g;
    graph_of(&g, shape1(3), &l);
    snn_tensor acts[2];
    memset(acts, 0, sizeof acts);
    snn_error err;
    snn_tensor x = tensor_of(2, (size_t[]){2, 4}, NULL);
    assert_int_equal(snn_ann_forward(&g, &x, acts, &err), SNN_E_SHAPE);
    snn_tensor_free(&x);
    /* Weights swapped after shape inference must be caught before the
     * kernel reads past them. */
    x = tensor_of(2, (size_t[]){2, 3}, NULL);
    snn_tensor_free(&g.layers[1].weight);
    g.layers[1].weight = tensor_of(2, (size_t[]){2, 2}, NULL);
    assert_int_equal(snn_ann_forward(&g, &x, acts, &err), SNN_E_SHAPE);
    assert_non_null(strstr(err.msg, "fc"));
    snn_ann_acts_free(acts, 2);
    snn_tensor_free(&x);
    snn_graph_free(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dense_by_hand),
        cmocka_unit_test(test_conv_by_hand),
        cmocka_unit_test(test_conv_stride_pad_dilation_groups),
        cmocka_unit_test(test_conv_tiled),
        cmocka_unit_test(test_pool_padding),
        cmocka_unit_test(test_pool_ceil_mode),
        cmocka_unit_test(test_flatten_order),
        cmocka_unit_test(test_activations),
        cmocka_unit_test(test_batchnorm),
        cmocka_unit_test(test_top_k_ties),
        cmocka_unit_test(test_score),
        cmocka_unit_test(test_bad_input_is_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
