/*
 * normalize.c - data-based weight normalization, as the original toolbox's
 * normalize_parameters does it: each weighted layer's scale factor lambda
 * is a percentile of its non-zero (post-activation) outputs over the
 * normalization set, and W <- W * lambda_prev / lambda, b <- b / lambda.
 *
 * Like the original, the set is cut to a whole number of batches (Keras
 * predict was given x[:-(len(x) % batch)]); a set smaller than one batch
 * is used whole instead of failing.
 *
 * Storing every non-zero activation (10000 MNIST samples through one conv
 * layer is ~100M floats) is replaced by an exact two-pass radix select:
 * pass 1 histograms the high 16 bits of each value's order-preserving key,
 * which locates the buckets holding the two ranks numpy interpolates
 * between; pass 2 histograms the low 16 bits inside those buckets, which
 * gives the two values exactly.  Memory is 1 MiB per weighted layer
 * whatever the data set size; the price is running the ANN twice.
 */
#include "snntb/normalize.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "snntb/ann.h"

#define RADIX 65536

/* Radix-select state of one weighted layer. */
typedef struct layer_stat {
    int layer;          /* the weighted layer */
    int src;            /* the layer whose output holds its activations */
    uint64_t count;     /* non-zero values seen */
    int has_nan;
    uint64_t *hist[2];  /* pass 1: hist[0] over high bits; pass 2: per rank */
    uint32_t bucket[2]; /* high 16 bits of the two wanted values */
    uint64_t rank[2];   /* their ranks, then ranks within the bucket */
    double t;           /* interpolation weight between them */
} layer_stat;

typedef struct scale_job {
    const snn_graph *g;
    const snn_tensor *x;
    size_t n_used, batch;
    snn_tensor *acts;
    layer_stat *stats;
    int n_stats;
} scale_job;

/* numpy's _lerp: the form used depends on t so that t = 1 gives b. */
static double lerp_np(double a, double b, double t)
{
    double d = b - a;
    return t >= 0.5 ? b - d * (1.0 - t) : a + d * t;
}

/* Ranks (0-based, of n sorted values) that numpy's linear percentile
 * interpolates between, and the weight of the upper one. */
static void percentile_ranks(uint64_t n, double p, uint64_t rank[2],
                             double *t)
{
    double pos = p / 100.0 * (double)(n - 1);
    if (!(pos > 0.0))
        pos = 0.0;
    if (pos > (double)(n - 1))
        pos = (double)(n - 1);
    rank[0] = (uint64_t)floor(pos);
    rank[1] = rank[0] + 1 < n ? rank[0] + 1 : rank[0];
    *t = pos - (double)rank[0];
}

/* Hoare quickselect: puts the k-th smallest at v[k], smaller ones before
 * it and larger ones after it. */
static float select_kth(float *v, ptrdiff_t n, ptrdiff_t k)
{
    ptrdiff_t lo = 0, hi = n - 1;
    while (lo < hi) {
        float a = v[lo], b = v[lo + (hi - lo) / 2], c = v[hi];
        float pivot = a < b ? (b < c ? b : (a < c ? c : a))
                            : (a < c ? a : (b < c ? c : b));
        ptrdiff_t i = lo, j = hi;
        while (i <= j) {
            while (v[i] < pivot)
                i++;
            while (v[j] > pivot)
                j--;
            if (i <= j) {
                float tmp = v[i];
                v[i++] = v[j];
                v[j--] = tmp;
            }
        }
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            break;
    }
    return v[k];
}

double snn_percentile_nonzero(float *v, size_t n, double p)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(v[i]))
            return NAN;
        if (v[i] != 0.0f)
            v[m++] = v[i];
    }
    if (m == 0)
        return 0.0;
    uint64_t rank[2];
    double t;
    percentile_ranks(m, p, rank, &t);
    float lo = select_kth(v, (ptrdiff_t)m, (ptrdiff_t)rank[0]);
    float hi = lo;
    if (rank[1] != rank[0]) {
        hi = v[rank[1]];
        for (size_t i = rank[1] + 1; i < m; i++)
            hi = v[i] < hi ? v[i] : hi;
    }
    return lerp_np(lo, hi, t);
}

/* Maps a float to a key whose unsigned order is the float order. */
static uint32_t float_key(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return (u & 0x80000000u) ? ~u : u | 0x80000000u;
}

static float key_float(uint32_t k)
{
    uint32_t u = (k & 0x80000000u) ? k & 0x7fffffffu : ~k;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static void hist_values(layer_stat *st, const snn_tensor *a, int pass)
{
    size_t n = snn_tensor_numel(a);
    for (size_t i = 0; i < n; i++) {
        float v = a->data[i];
        if (v == 0.0f)
            continue;
        if (isnan(v)) {
            st->has_nan = 1;
            continue;
        }
        uint32_t key = float_key(v);
        if (pass == 0) {
            st->hist[0][key >> 16]++;
            st->count++;
            continue;
        }
        for (int r = 0; r < 2; r++)
            if (key >> 16 == st->bucket[r])
                st->hist[r][key & 0xffffu]++;
    }
}

/* Index of the bucket holding rank *r; *r becomes the rank inside it. */
static uint32_t find_bucket(const uint64_t *hist, uint64_t *r)
{
    uint32_t b = 0;
    while (b < RADIX - 1 && hist[b] <= *r)
        *r -= hist[b++];
    return b;
}

static snn_status run_pass(scale_job *job, int pass, snn_error *err)
{
    for (size_t first = 0; first < job->n_used; first += job->batch) {
        size_t m = job->n_used - first < job->batch ? job->n_used - first
                                                    : job->batch;
        snn_tensor xb = *job->x;
        xb.dims[0] = m;
        xb.data = job->x->data + first * (snn_tensor_numel(job->x) /
                                          job->x->dims[0]);
        snn_status st = snn_ann_forward(job->g, &xb, job->acts, err);
        if (st != SNN_OK)
            return st;
        for (int i = 0; i < job->n_stats; i++)
            hist_values(&job->stats[i], &job->acts[job->stats[i].src], pass);
    }
    return SNN_OK;
}

/* After pass 1: which buckets pass 2 must resolve. */
static void locate_ranks(layer_stat *st, double p)
{
    percentile_ranks(st->count, p, st->rank, &st->t);
    for (int r = 0; r < 2; r++)
        st->bucket[r] = find_bucket(st->hist[0], &st->rank[r]);
    memset(st->hist[0], 0, RADIX * sizeof(uint64_t));
}

static double resolve_lambda(layer_stat *st)
{
    float v[2];
    for (int r = 0; r < 2; r++) {
        uint64_t rank = st->rank[r];
        uint32_t low = find_bucket(st->hist[r], &rank);
        v[r] = key_float(st->bucket[r] << 16 | low);
    }
    return lerp_np(v[0], v[1], st->t);
}

/* The layer holding k's activations: k itself, or the standalone
 * Activation that is the only consumer of a linear k (the original's
 * parser merged such pairs, so it measured after the nonlinearity). */
static int activation_source(const snn_graph *g, int k)
{
    if (g->layers[k].act != SNN_ACT_LINEAR)
        return k;
    int consumer = -1, uses = 0;
    for (int j = k + 1; j < g->n_layers; j++)
        for (int i = 0; i < g->layers[j].n_inputs; i++)
            if (g->layers[j].inputs[i] == k) {
                consumer = j;
                uses++;
            }
    if (uses == 1 && g->layers[consumer].op == SNN_OP_ACTIVATION)
        return consumer;
    return k;
}

static void stats_free(layer_stat *stats, int n)
{
    for (int i = 0; i < n; i++) {
        free(stats[i].hist[0]);
        free(stats[i].hist[1]);
    }
    free(stats);
}

/* One layer_stat per weighted layer whose lambda is measured (all but
 * softmax layers, whose lambda is 1). */
static snn_status stats_make(const snn_graph *g, layer_stat **out, int *n,
                             snn_error *err)
{
    layer_stat *stats = calloc((size_t)g->n_layers + 1, sizeof *stats);
    int m = 0;
    for (int k = 0; stats && k < g->n_layers; k++) {
        if (!snn_layer_has_weights(&g->layers[k]))
            continue;
        int src = activation_source(g, k);
        if (g->layers[src].act == SNN_ACT_SOFTMAX)
            continue;
        layer_stat *st = &stats[m++];
        st->layer = k;
        st->src = src;
        st->hist[0] = calloc(RADIX, sizeof(uint64_t));
        st->hist[1] = calloc(RADIX, sizeof(uint64_t));
        if (!st->hist[0] || !st->hist[1]) {
            stats_free(stats, m);
            stats = NULL;
        }
    }
    if (!stats)
        return snn_error_set(err, SNN_E_NOMEM,
                             "cannot allocate normalization histograms");
    *out = stats;
    *n = m;
    return SNN_OK;
}

static snn_status check_scale_args(const snn_graph *g, const snn_tensor *x,
                                   double percentile, size_t batch,
                                   snn_error *err)
{
    if (!(percentile >= 0.0 && percentile <= 100.0))
        return snn_error_set(err, SNN_E_INVALID,
                             "normalization percentile %g is outside 0..100",
                             percentile);
    if (batch == 0)
        return snn_error_set(err, SNN_E_INVALID,
                             "normalization batch size must be at least 1");
    if (g->n_layers < 1 || !x->data || x->ndim < 1 || x->dims[0] == 0)
        return snn_error_set(err, SNN_E_INVALID,
                             "normalization needs a graph and at least one "
                             "sample");
    return SNN_OK;
}

/* Measured lambdas into out; everything else is 1 (softmax, input) or,
 * for layers without weights, the lambda of their input. */
static snn_status fill_lambdas(const snn_graph *g, layer_stat *stats,
                               int n_stats, snn_scales *out, snn_error *err)
{
    for (int k = 0; k < g->n_layers; k++)
        out->lambda[k] = 1.0;
    for (int i = 0; i < n_stats; i++) {
        layer_stat *st = &stats[i];
        const char *name = g->layers[st->layer].name;
        if (st->has_nan)
            return snn_error_set(err, SNN_E_INVALID,
                                 "layer %s: activations contain NaN", name);
        if (st->count == 0)
            return snn_error_set(err, SNN_E_INVALID,
                                 "layer %s: no non-zero activation on the "
                                 "normalization set, cannot scale it",
                                 name);
        out->lambda[st->layer] = resolve_lambda(st);
    }
    for (int k = 1; k < g->n_layers; k++)
        if (!snn_layer_has_weights(&g->layers[k]) &&
            g->layers[k].n_inputs > 0)
            out->lambda[k] = out->lambda[g->layers[k].inputs[0]];
    return SNN_OK;
}

static snn_status measure(scale_job *job, double percentile, snn_error *err)
{
    snn_status st = run_pass(job, 0, err);
    if (st != SNN_OK)
        return st;
    for (int i = 0; i < job->n_stats; i++)
        if (job->stats[i].count > 0)
            locate_ranks(&job->stats[i], percentile);
    return run_pass(job, 1, err);
}

snn_status snn_compute_scales(const snn_graph *g, const snn_tensor *x,
                              double percentile, size_t batch,
                              snn_scales *out, snn_error *err)
{
    memset(out, 0, sizeof *out);
    snn_status st = check_scale_args(g, x, percentile, batch, err);
    if (st != SNN_OK)
        return st;
    size_t n = x->dims[0];
    scale_job job = {.g = g, .x = x, .batch = batch,
                     .n_used = n >= batch ? n - n % batch : n};
    job.acts = calloc((size_t)g->n_layers, sizeof *job.acts);
    out->lambda = calloc((size_t)g->n_layers, sizeof *out->lambda);
    out->n = g->n_layers;
    if (!job.acts || !out->lambda)
        st = snn_error_set(err, SNN_E_NOMEM, "cannot allocate scales");
    if (st == SNN_OK)
        st = stats_make(g, &job.stats, &job.n_stats, err);
    if (st == SNN_OK) {
        st = measure(&job, percentile, err);
        if (st == SNN_OK)
            st = fill_lambdas(g, job.stats, job.n_stats, out, err);
        stats_free(job.stats, job.n_stats);
    }
    if (job.acts)
        snn_ann_acts_free(job.acts, g->n_layers);
    free(job.acts);
    if (st != SNN_OK)
        snn_scales_free(out);
    return st;
}

static void scale_tensor(snn_tensor *t, double f)
{
    size_t n = snn_tensor_numel(t);
    for (size_t i = 0; i < n; i++)
        t->data[i] = (float)(t->data[i] * f);
}

snn_status snn_apply_scales(snn_graph *g, const snn_scales *s,
                            snn_error *err)
{
    if (s->n != g->n_layers)
        return snn_error_set(err, SNN_E_INVALID,
                             "%d scale factors for a graph of %d layers",
                             s->n, g->n_layers);
    for (int k = 0; k < g->n_layers; k++) {
        snn_layer *l = &g->layers[k];
        if (!snn_layer_has_weights(l))
            continue;
        if (l->n_inputs != 1 || l->inputs[0] < 0 || l->inputs[0] >= k)
            return snn_error_set(err, SNN_E_INVALID,
                                 "layer %s: needs one earlier input layer",
                                 l->name);
        double lam = s->lambda[k], prev = s->lambda[l->inputs[0]];
        if (!(lam > 0.0 && isfinite(lam) && prev > 0.0 && isfinite(prev)))
            return snn_error_set(err, SNN_E_INVALID,
                                 "layer %s: scale factors %g (own) and %g "
                                 "(input) must be finite and positive",
                                 l->name, lam, prev);
        scale_tensor(&l->weight, prev / lam);
        scale_tensor(&l->bias, 1.0 / lam);
    }
    return SNN_OK;
}

void snn_scales_free(snn_scales *s)
{
    free(s->lambda);
    memset(s, 0, sizeof *s);
}
