/*
 * test_normalize.c - percentiles against numpy's values (worked out with
 * np.percentile by hand for small lists, and against a sort-based
 * re-implementation of numpy's linear rule for larger ones), data-based
 * normalization of a tiny network against hand-scaled weights, and
 * BatchNorm folding against the unfolded network's outputs.
 */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "snntb/ann.h"
#include "snntb/normalize.h"

static snn_tensor tensor_of(int ndim, const size_t *dims, const float *vals)
{
    snn_tensor t;
    assert_int_equal(snn_tensor_init(&t, ndim, dims, NULL), SNN_OK);
    if (vals)
        memcpy(t.data, vals, snn_tensor_numel(&t) * sizeof(float));
    return t;
}

/* Deterministic values in [-1, 1). */
static void fill(float *v, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        v[i] = (float)((seed >> 8) & 0xffff) / 32768.0f - 1.0f;
    }
}

/* cmocka's assert_float_equal works in float; scale factors are double. */
static void expect_near(double got, double want, double tol)
{
    if (!(fabs(got - want) <= tol))
        fail_msg("got %.12g, want %.12g (tolerance %g)", got, want, tol);
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* numpy's linear percentile of the non-zero values, by full sort. */
static double percentile_by_sort(const float *v, size_t n, double p)
{
    float *s = malloc((n + 1) * sizeof *s);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (v[i] != 0.0f)
            s[m++] = v[i];
    qsort(s, m, sizeof *s, cmp_float);
    double pos = p / 100.0 * (double)(m - 1);
    size_t lo = (size_t)pos, hi = lo + 1 < m ? lo + 1 : lo;
    double r = s[lo] + (s[hi] - (double)s[lo]) * (pos - (double)lo);
    free(s);
    return r;
}

static void test_percentile_small(void **state)
{
    (void)state;
    /* np.percentile([1, 2, 3, 4, 10], 99.9) = 9.976; zeros are ignored. */
    float a[] = {0, 10, 1, 0, 3, 2, 4};
    expect_near(snn_percentile_nonzero(a, 7, 99.9), 9.976, 1e-9);
    float b[] = {5, 1, 4, 2, 3};
    expect_near(snn_percentile_nonzero(b, 5, 37.5), 2.5, 1e-12);
    float c[] = {-1, 0, 2};
    expect_near(snn_percentile_nonzero(c, 3, 50), 0.5, 1e-12);
    float d[] = {7, -3, 2, -1};
    expect_near(snn_percentile_nonzero(d, 4, 0), -3, 0);
    float e[] = {7, -3, 2, -1};
    expect_near(snn_percentile_nonzero(e, 4, 100), 7, 0);
    float f[] = {7, -3, 2, -1};
    expect_near(snn_percentile_nonzero(f, 4, 90), 5.5, 1e-9);
    float z[] = {0, 0, -0.0f};
    expect_near(snn_percentile_nonzero(z, 3, 50), 0, 0);
    float nan[] = {1, NAN};
    assert_true(isnan(snn_percentile_nonzero(nan, 2, 50)));
}

static void test_percentile_many(void **state)
{
    (void)state;
    enum { N = 1001 };
    float v[N], w[N];
    fill(v, N, 5);
    for (int i = 0; i < N; i += 7)
        v[i] = 0; /* zeros to skip */
    for (int i = 1; i < N; i += 13)
        v[i] = 0.25f; /* duplicates */
    const double ps[] = {0, 12.5, 50, 99, 99.9, 100};
    for (size_t k = 0; k < sizeof ps / sizeof ps[0]; k++) {
        memcpy(w, v, sizeof v);
        expect_near(snn_percentile_nonzero(w, N, ps[k]),
                           percentile_by_sort(v, N, ps[k]), 1e-7);
    }
}

static int add_layer(snn_graph *g, snn_layer *l, int input)
{
    snn_error err;
    int idx;
    if (input >= 0) {
        l->inputs[0] = input;
        l->n_inputs = 1;
    }
    assert_int_equal(snn_graph_add(g, l, &idx, &err), SNN_OK);
    return idx;
}

static int add_input(snn_graph *g, int ndim, const size_t *dims)
{
    snn_layer l;
    snn_layer_defaults(&l, SNN_OP_INPUT, "input", NULL);
    l.shape.ndim = ndim;
    for (int i = 0; i < ndim; i++)
        l.shape.dims[i] = dims[i];
    return add_layer(g, &l, -1);
}

static int add_dense(snn_graph *g, const char *name, int input, size_t out,
                     size_t in, const float *w, const float *b,
                     snn_activation act)
{
    snn_layer l;
    snn_layer_defaults(&l, SNN_OP_DENSE, name, NULL);
    l.weight = tensor_of(2, (size_t[]){out, in}, w);
    if (b)
        l.bias = tensor_of(1, &out, b);
    l.act = act;
    return add_layer(g, &l, input);
}

static int add_simple(snn_graph *g, snn_op op, const char *name, int input,
                      snn_activation act)
{
    snn_layer l;
    snn_layer_defaults(&l, op, name, NULL);
    l.act = act;
    return add_layer(g, &l, input);
}

/* Input(2) -> fc1 (relu) -> [middle] -> fc2 (act2), where middle is a
 * Flatten, or a relu Activation when fc1 itself is linear:
 *   W1 = [[1, 0], [0, 2]], b1 = [1, -1], W2 = [[1, 1]], b2 = [1]. */
static void tiny_net(snn_graph *g, snn_activation act1, snn_op middle,
                     snn_activation act2)
{
    snn_graph_init(g);
    int in = add_input(g, 1, (size_t[]){2});
    int fc1 = add_dense(g, "fc1", in, 2, 2, (const float[]){1, 0, 0, 2},
                        (const float[]){1, -1}, act1);
    int mid = add_simple(g, middle, "mid", fc1,
                         middle == SNN_OP_ACTIVATION ? SNN_ACT_RELU
                                                     : SNN_ACT_LINEAR);
    add_dense(g, "fc2", mid, 1, 2, (const float[]){1, 1},
              (const float[]){1}, act2);
    snn_error err;
    assert_int_equal(snn_graph_infer_shapes(g, &err), SNN_OK);
}

/* Four samples; the fifth, far larger, is cut off by whole batches of 2.
 * fc1 outputs (2,3) (4,0) (1,0) (3,1): non-zero median 2.5; fc2 outputs
 * 6 5 2 5: median 5 (np.percentile(..., 50) of each). */
static snn_tensor tiny_x(void)
{
    return tensor_of(2, (size_t[]){5, 2},
                     (const float[]){1, 2, 3, 0, 0, 0.5f, 2, 1, 100, 100});
}

static void expect_floats(const snn_tensor *t, const float *want, size_t n)
{
    assert_int_equal(snn_tensor_numel(t), n);
    for (size_t i = 0; i < n; i++)
        assert_float_equal(t->data[i], want[i], 1e-6f);
}

static void test_normalize_tiny_net(void **state)
{
    (void)state;
    snn_graph g;
    tiny_net(&g, SNN_ACT_RELU, SNN_OP_FLATTEN, SNN_ACT_RELU);
    snn_tensor x = tiny_x();
    snn_scales s;
    snn_error err;
    assert_int_equal(snn_compute_scales(&g, &x, 50, 2, &s, &err), SNN_OK);
    assert_int_equal(s.n, 4);
    expect_near(s.lambda[0], 1, 0);
    expect_near(s.lambda[1], 2.5, 1e-9);
    expect_near(s.lambda[2], 2.5, 1e-9); /* Flatten passes it on */
    expect_near(s.lambda[3], 5, 1e-9);
    assert_int_equal(snn_apply_scales(&g, &s, &err), SNN_OK);
    /* W1 / 2.5, b1 / 2.5, W2 * 2.5 / 5, b2 / 5 */
    expect_floats(&g.layers[1].weight, (const float[]){0.4f, 0, 0, 0.8f}, 4);
    expect_floats(&g.layers[1].bias, (const float[]){0.4f, -0.4f}, 2);
    expect_floats(&g.layers[3].weight, (const float[]){0.5f, 0.5f}, 2);
    expect_floats(&g.layers[3].bias, (const float[]){0.2f}, 1);
    snn_scales_free(&s);

    /* Batch 1 keeps the fifth sample, where fc1 gives 101 and 199 (over
     * 2.5 now that its weights are scaled). */
    assert_int_equal(snn_compute_scales(&g, &x, 100, 1, &s, &err), SNN_OK);
    expect_near(s.lambda[1], 199 / 2.5, 1e-4);
    snn_scales_free(&s);
    snn_tensor_free(&x);
    snn_graph_free(&g);
}

static void test_normalize_softmax_and_activation_layer(void **state)
{
    (void)state;
    snn_graph g;
    /* A linear fc1 measured after its relu Activation: still 2.5 (the raw
     * outputs, with the -1, would give 2); softmax fc2 keeps 1. */
    tiny_net(&g, SNN_ACT_LINEAR, SNN_OP_ACTIVATION, SNN_ACT_SOFTMAX);
    snn_tensor x = tiny_x();
    snn_scales s;
    snn_error err;
    assert_int_equal(snn_compute_scales(&g, &x, 50, 4, &s, &err), SNN_OK);
    expect_near(s.lambda[1], 2.5, 1e-9);
    expect_near(s.lambda[2], 2.5, 1e-9);
    expect_near(s.lambda[3], 1, 0);
    assert_int_equal(snn_apply_scales(&g, &s, &err), SNN_OK);
    expect_floats(&g.layers[3].weight, (const float[]){2.5f, 2.5f}, 2);
    expect_floats(&g.layers[3].bias, (const float[]){1}, 1);
    snn_scales_free(&s);
    snn_tensor_free(&x);
    snn_graph_free(&g);
}

static void test_normalize_matches_sorted_percentile(void **state)
{
    (void)state;
    /* A linear layer with negative outputs and values spread over many
     * radix buckets, against sorting all its outputs. */
    enum { IN = 8, OUT = 16, N = 37 };
    float w[OUT * IN], xv[N * IN];
    fill(w, OUT * IN, 17);
    fill(xv, N * IN, 19);
    snn_graph g;
    snn_graph_init(&g);
    int in = add_input(&g, 1, (size_t[]){IN});
    add_dense(&g, "fc", in, OUT, IN, w, NULL, SNN_ACT_LINEAR);
    snn_error err;
    assert_int_equal(snn_graph_infer_shapes(&g, &err), SNN_OK);
    snn_tensor x = tensor_of(2, (size_t[]){N, IN}, xv);
    snn_tensor acts[2];
    memset(acts, 0, sizeof acts);
    assert_int_equal(snn_ann_forward(&g, &x, acts, &err), SNN_OK);
    const double ps[] = {0, 37, 99.9, 100};
    for (size_t k = 0; k < sizeof ps / sizeof ps[0]; k++) {
        snn_scales s;
        assert_int_equal(snn_compute_scales(&g, &x, ps[k], 10, &s, &err),
                         SNN_OK);
        /* whole batches: the first 30 samples */
        expect_near(s.lambda[1],
                           percentile_by_sort(acts[1].data, 30 * OUT, ps[k]),
                           1e-6);
        snn_scales_free(&s);
    }
    snn_ann_acts_free(acts, 2);
    snn_tensor_free(&x);
    snn_graph_free(&g);
}

static void test_normalize_errors(void **state)
{
    (void)state;
    snn_graph g;
    tiny_net(&g, SNN_ACT_RELU, SNN_OP_FLATTEN, SNN_ACT_RELU);
    snn_tensor x = tensor_of(2, (size_t[]){2, 2}, (const float[]){0, 0, 0, 0});
    memset(g.layers[1].bias.data, 0, 2 * sizeof(float));
    snn_scales s;
    snn_error err;
    /* fc1 never fires on all-zero input without bias. */
    assert_int_equal(snn_compute_scales(&g, &x, 99, 2, &s, &err),
                     SNN_E_INVALID);
    assert_non_null(strstr(err.msg, "fc1"));
    assert_null(s.lambda);
    assert_int_equal(snn_compute_scales(&g, &x, 101, 2, &s, &err),
                     SNN_E_INVALID);
    assert_int_equal(snn_compute_scales(&g, &x, 50, 0, &s, &err),
                     SNN_E_INVALID);
    double bad[4] = {1, 0, 0, 1};
    snn_scales zero = {.lambda = bad, .n = 4};
    assert_int_equal(snn_apply_scales(&g, &zero, &err), SNN_E_INVALID);
    assert_non_null(strstr(err.msg, "fc1"));
    snn_scales short_ = {.lambda = bad, .n = 3};
    assert_int_equal(snn_apply_scales(&g, &short_, &err), SNN_E_INVALID);
    snn_tensor_free(&x);
    snn_graph_free(&g);
}

static int add_batchnorm(snn_graph *g, const char *name, int input,
                         size_t c, unsigned seed, snn_activation act)
{
    snn_layer l;
    snn_layer_defaults(&l, SNN_OP_BATCHNORM, name, NULL);
    snn_tensor *ts[] = {&l.gamma, &l.beta, &l.mean, &l.var};
    for (int i = 0; i < 4; i++) {
        *ts[i] = tensor_of(1, &c, NULL);
        fill(ts[i]->data, c, seed + (unsigned)i);
    }
    for (size_t i = 0; i < c; i++)
        l.var.data[i] = fabsf(l.var.data[i]) + 0.1f;
    l.act = act;
    return add_layer(g, &l, input);
}

/* Input(2, 5, 5) -> conv (3, 3x3 same) -> bn (relu) -> maxpool 2x2 ->
 * flatten -> fc (4, no bias) -> bn. */
static void bn_net(snn_graph *g)
{
    snn_graph_init(g);
    int in = add_input(g, 3, (size_t[]){2, 5, 5});
    snn_layer c;
    snn_layer_defaults(&c, SNN_OP_CONV2D, "conv", NULL);
    c.weight = tensor_of(4, (size_t[]){3, 2, 3, 3}, NULL);
    fill(c.weight.data, 54, 23);
    c.bias = tensor_of(1, (size_t[]){3}, (const float[]){0.1f, -0.2f, 0.3f});
    c.win.pad_mode = SNN_PAD_SAME;
    int conv = add_layer(g, &c, in);
    int bn1 = add_batchnorm(g, "bn1", conv, 3, 29, SNN_ACT_RELU);
    snn_layer p;
    snn_layer_defaults(&p, SNN_OP_MAXPOOL2D, "pool", NULL);
    p.win.kernel[0] = p.win.kernel[1] = 2;
    p.win.stride[0] = p.win.stride[1] = 2;
    int pool = add_layer(g, &p, bn1);
    int flat = add_simple(g, SNN_OP_FLATTEN, "flat", pool, SNN_ACT_LINEAR);
    float w[4 * 12];
    fill(w, 4 * 12, 31);
    int fc = add_dense(g, "fc", flat, 4, 12, w, NULL, SNN_ACT_LINEAR);
    add_batchnorm(g, "bn2", fc, 4, 37, SNN_ACT_LINEAR);
    snn_error err;
    assert_int_equal(snn_graph_infer_shapes(g, &err), SNN_OK);
}

static void forward_last(const snn_graph *g, const snn_tensor *x,
                         float *out, size_t n)
{
    snn_tensor *acts = calloc((size_t)g->n_layers, sizeof *acts);
    snn_error err;
    assert_int_equal(snn_ann_forward(g, x, acts, &err), SNN_OK);
    assert_int_equal(snn_tensor_numel(&acts[g->n_layers - 1]), n);
    memcpy(out, acts[g->n_layers - 1].data, n * sizeof *out);
    snn_ann_acts_free(acts, g->n_layers);
    free(acts);
}

static void test_fold_batchnorm(void **state)
{
    (void)state;
    snn_graph g;
    bn_net(&g);
    snn_tensor x = tensor_of(4, (size_t[]){3, 2, 5, 5}, NULL);
    fill(x.data, snn_tensor_numel(&x), 41);
    float before[12], after[12];
    forward_last(&g, &x, before, 12);

    snn_error err;
    assert_int_equal(snn_fold_batchnorm(&g, &err), SNN_OK);
    assert_int_equal(g.n_layers, 5);
    const char *names[] = {"input", "conv", "pool", "flat", "fc"};
    for (int i = 0; i < 5; i++) {
        assert_string_equal(g.layers[i].name, names[i]);
        if (i > 0)
            assert_int_equal(g.layers[i].inputs[0], i - 1);
    }
    assert_int_equal(g.layers[1].act, SNN_ACT_RELU);
    assert_non_null(g.layers[4].bias.data);
    assert_int_equal(snn_graph_infer_shapes(&g, &err), SNN_OK);
    forward_last(&g, &x, after, 12);
    for (int i = 0; i < 12; i++)
        assert_float_equal(after[i], before[i], 1e-5f);
    snn_tensor_free(&x);
    snn_graph_free(&g);
}

static void expect_fold_error(snn_graph *g, const char *name)
{
    snn_error err;
    assert_int_equal(snn_graph_infer_shapes(g, &err), SNN_OK);
    assert_int_equal(snn_fold_batchnorm(g, &err), SNN_E_UNSUPPORTED);
    assert_non_null(strstr(err.msg, name));
    snn_graph_free(g);
}

static void test_fold_batchnorm_refuses(void **state)
{
    (void)state;
    snn_graph g;
    /* After a relu Dense, folding would move the BN inside the relu. */
    snn_graph_init(&g);
    int in = add_input(&g, 1, (size_t[]){2});
    int fc = add_dense(&g, "fc", in, 2, 2, (const float[]){1, 0, 0, 1}, NULL,
                       SNN_ACT_RELU);
    add_batchnorm(&g, "bn_after_relu", fc, 2, 3, SNN_ACT_LINEAR);
    expect_fold_error(&g, "bn_after_relu");

    /* After a layer without weights. */
    snn_graph_init(&g);
    in = add_input(&g, 1, (size_t[]){2});
    int flat = add_simple(&g, SNN_OP_FLATTEN, "flat", in, SNN_ACT_LINEAR);
    add_batchnorm(&g, "bn_after_flatten", flat, 2, 3, SNN_ACT_LINEAR);
    expect_fold_error(&g, "bn_after_flatten");

    /* The Dense output is also read by another layer. */
    snn_graph_init(&g);
    in = add_input(&g, 1, (size_t[]){2});
    fc = add_dense(&g, "fc", in, 2, 2, (const float[]){1, 0, 0, 1}, NULL,
                   SNN_ACT_LINEAR);
    int bn = add_batchnorm(&g, "bn_shared", fc, 2, 3, SNN_ACT_LINEAR);
    add_simple(&g, SNN_OP_ACTIVATION, "act", fc, SNN_ACT_RELU);
    add_simple(&g, SNN_OP_ACTIVATION, "act2", bn, SNN_ACT_RELU);
    expect_fold_error(&g, "bn_shared");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_percentile_small),
        cmocka_unit_test(test_percentile_many),
        cmocka_unit_test(test_normalize_tiny_net),
        cmocka_unit_test(test_normalize_softmax_and_activation_layer),
        cmocka_unit_test(test_normalize_matches_sorted_percentile),
        cmocka_unit_test(test_normalize_errors),
        cmocka_unit_test(test_fold_batchnorm),
        cmocka_unit_test(test_fold_batchnorm_refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
