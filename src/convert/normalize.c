/*
 * normalize.c - data-based weight normalization, as the original toolbox's
 * normalize_parameters does it: each weighted layer's scale factor lambda
 * is a percentile of its non-zero (post-activation) outputs over the
 * normalization set, and W <- W * lambda_prev / lambda, b <- b / lambda.
 * Channel-wise, each output channel has its own lambda (low-latency
 * conversion: a channel with small activations is no longer scaled by its
 * layer's largest, so it fires at a useful rate).  A clipped ReLU's lambda
 * is its bound, which the IF neuron's saturation then reproduces
 * (QCFS-style conversion of nets trained with clipped activations).
 *
 * Like the original, the set is cut to a whole number of batches (Keras
 * predict was given x[:-(len(x) % batch)]); a set smaller than one batch
 * is used whole instead of failing.
 *
 * Storing every non-zero activation (10000 MNIST samples through one conv
 * layer is ~100M floats) is replaced by an exact radix select over the
 * values' order-preserving 32-bit keys: each pass runs the ANN and
 * histograms the next digit of the keys that share the prefix found so
 * far for each of the two ranks numpy interpolates between, so the last
 * pass gives the two values exactly.  Layer-wise: two passes of 16 bits,
 * 1 MiB per layer; channel-wise: three passes of 11, 11 and 10 bits, 32
 * KiB per channel.  Memory does not depend on the size of the set; the
 * price is running the ANN once per pass.
 *
 * Adds and Concatenates: see normalize.h.  An Add is measured like a
 * weighted layer (its neurons stand for its output, or for the ReLU
 * after it); the linear layers it absorbs (convert/merge.h) take its
 * factor, and it gets per-input factors lambda_j / lambda_add.
 */
#include "snntb/normalize.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ann/ops.h"
#include "convert/merge.h"
#include "convert/weights.h"
#include "snntb/ann.h"

#define MAX_PASSES 3

/* Digits of the radix select, most significant first (32 bits in all). */
typedef struct radix_plan {
    int n;
    int bits[MAX_PASSES];
} radix_plan;

static const radix_plan layer_radix = {2, {16, 16, 0}};
static const radix_plan channel_radix = {3, {11, 11, 10}};

/* Radix-select state of one group of values (a layer, or a channel). */
typedef struct group_stat {
    uint64_t count;     /* non-zero values seen */
    uint64_t *hist[2];  /* per wanted rank: counts of the current digit */
    uint32_t prefix[2]; /* key bits found so far of the two wanted values */
    uint64_t rank[2];   /* their ranks among the keys with that prefix */
    double t;           /* interpolation weight between them */
} group_stat;

/* One weighted layer whose lambda is measured. */
typedef struct layer_stat {
    int layer;          /* the weighted layer */
    int src;            /* the layer whose output holds its activations */
    int has_nan;
    size_t hw;          /* values per channel and sample */
    size_t n_groups;    /* 1, or the layer's channels */
    group_stat *grp;
} layer_stat;

typedef struct scale_job {
    const snn_graph *g;
    const snn_tensor *x;
    size_t n_used, batch;
    snn_tensor *acts;
    layer_stat *stats;
    int n_stats;
    radix_plan radix;
    int pass;
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

/* Bits below the digit of pass `pass`. */
static int digit_shift(const radix_plan *rp, int pass)
{
    int shift = 32;
    for (int p = 0; p <= pass; p++)
        shift -= rp->bits[p];
    return shift;
}

static void hist_values(layer_stat *st, const snn_tensor *a,
                        const radix_plan *rp, int pass)
{
    size_t n = snn_tensor_numel(a);
    int shift = digit_shift(rp, pass), high = shift + rp->bits[pass];
    uint32_t mask = (1u << rp->bits[pass]) - 1;
    for (size_t i = 0; i < n; i++) {
        float v = a->data[i];
        if (v == 0.0f)
            continue;
        if (isnan(v)) {
            st->has_nan = 1;
            continue;
        }
        group_stat *gs = &st->grp[(i / st->hw) % st->n_groups];
        uint32_t key = float_key(v), digit = key >> shift & mask;
        if (pass == 0) {
            gs->hist[0][digit]++;
            gs->count++;
            continue;
        }
        for (int r = 0; r < 2; r++)
            if ((uint64_t)key >> high == gs->prefix[r])
                gs->hist[r][digit]++;
    }
}

/* Index of the bucket holding rank *r; *r becomes the rank inside it. */
static uint32_t find_bucket(const uint64_t *hist, uint32_t n, uint64_t *r)
{
    uint32_t b = 0;
    while (b < n - 1 && hist[b] <= *r)
        *r -= hist[b++];
    return b;
}

/* After pass `pass`: the next digit of both wanted values.  Pass 0 counts
 * the values, which fixes the ranks; both ranks start from its histogram. */
static void after_pass(group_stat *gs, const radix_plan *rp, int pass,
                       double p)
{
    uint32_t nb = 1u << rp->bits[pass];
    if (gs->count == 0)
        return;
    if (pass == 0)
        percentile_ranks(gs->count, p, gs->rank, &gs->t);
    for (int r = 0; r < 2; r++) {
        const uint64_t *h = gs->hist[pass == 0 ? 0 : r];
        gs->prefix[r] = gs->prefix[r] << rp->bits[pass] |
                        find_bucket(h, nb, &gs->rank[r]);
    }
    for (int r = 0; r < 2; r++)
        memset(gs->hist[r], 0, nb * sizeof(uint64_t));
}

static double group_value(const group_stat *gs)
{
    return lerp_np(key_float(gs->prefix[0]), key_float(gs->prefix[1]), gs->t);
}

static snn_status run_pass(scale_job *job, snn_error *err)
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
            hist_values(&job->stats[i], &job->acts[job->stats[i].src],
                        &job->radix, job->pass);
    }
    return SNN_OK;
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

/* Weighted layer k's lambda when it is not measured: the clip bound of a
 * clipped ReLU, 1 for a softmax and for binary activations (whose largest
 * value is 1 whatever the scale of their input); 0 when it must be
 * measured. */
static double fixed_lambda(const snn_graph *g, int k)
{
    const snn_layer *src = &g->layers[activation_source(g, k)];
    if (src->act == SNN_ACT_CLIP)
        return src->clip_max;
    return src->act == SNN_ACT_SOFTMAX || snn_act_is_binary(src->act) ? 1.0
                                                                      : 0.0;
}

int snn_layer_scaled(const snn_graph *g, int k)
{
    return weights_layer(&g->layers[k]) || g->layers[k].op == SNN_OP_ADD;
}

void snn_scales_inherit(const snn_graph *g, snn_scales *s)
{
    for (int k = g->n_layers - 1; k >= 0; k--)
        if (merge_folds(g, k))
            s->lambda[k] = s->lambda[merge_consumer(g, k)];
    for (int k = 1; k < g->n_layers; k++) {
        const snn_layer *l = &g->layers[k];
        if (snn_layer_scaled(g, k) || l->n_inputs < 1)
            continue;
        s->lambda[k] = s->lambda[l->inputs[0]];
        for (int i = 1; l->op == SNN_OP_CONCAT && i < l->n_inputs; i++)
            if (s->lambda[l->inputs[i]] > s->lambda[k])
                s->lambda[k] = s->lambda[l->inputs[i]];
    }
}

int snn_graph_has_clip(const snn_graph *g)
{
    for (int k = 0; k < g->n_layers; k++)
        if (g->layers[k].act == SNN_ACT_CLIP)
            return 1;
    return 0;
}

static void stats_free(layer_stat *stats, int n)
{
    for (int i = 0; i < n; i++) {
        for (size_t j = 0; stats[i].grp && j < stats[i].n_groups; j++) {
            free(stats[i].grp[j].hist[0]);
            free(stats[i].grp[j].hist[1]);
        }
        free(stats[i].grp);
    }
    free(stats);
}

/* The channels of a layer's output and the values per channel and
 * sample. */
static size_t channels_of(const snn_layer *l, size_t *hw)
{
    size_t c = l->shape.ndim ? l->shape.dims[0] : 1;
    *hw = c ? snn_shape_numel(&l->shape) / c : 1;
    return c;
}

static int layer_stat_init(layer_stat *st, const snn_graph *g, int k,
                           const radix_plan *rp, int channelwise)
{
    st->layer = k;
    st->src = activation_source(g, k);
    st->n_groups = channelwise ? channels_of(&g->layers[k], &st->hw) : 1;
    if (!channelwise)
        st->hw = SIZE_MAX;
    size_t nb = (size_t)1 << rp->bits[0];
    for (int p = 1; p < rp->n; p++)
        if (((size_t)1 << rp->bits[p]) > nb)
            nb = (size_t)1 << rp->bits[p];
    st->grp = calloc(st->n_groups ? st->n_groups : 1, sizeof *st->grp);
    int ok = st->grp != NULL;
    for (size_t j = 0; ok && j < st->n_groups; j++)
        for (int r = 0; ok && r < 2; r++)
            ok = (st->grp[j].hist[r] = calloc(nb, sizeof(uint64_t))) != NULL;
    return ok;
}

/* One layer_stat per weighted layer whose lambda is measured. */
static snn_status stats_make(const snn_graph *g, const radix_plan *rp,
                             int channelwise, layer_stat **out, int *n,
                             snn_error *err)
{
    layer_stat *stats = calloc((size_t)g->n_layers + 1, sizeof *stats);
    int m = 0;
    for (int k = 0; stats && k < g->n_layers; k++) {
        if (!snn_layer_scaled(g, k) || merge_folds(g, k) ||
            fixed_lambda(g, k) > 0)
            continue;
        if (!layer_stat_init(&stats[m++], g, k, rp, channelwise)) {
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

static snn_status scales_alloc(const snn_graph *g, snn_scales *out,
                               snn_error *err)
{
    memset(out, 0, sizeof *out);
    out->lambda = calloc((size_t)g->n_layers, sizeof *out->lambda);
    out->n = g->n_layers;
    if (!out->lambda)
        return snn_error_set(err, SNN_E_NOMEM, "cannot allocate scales");
    return SNN_OK;
}

/* Layer-wise: measured lambdas into out; fixed ones for softmax and
 * clipped layers, 1 for the input and unmeasured layers, and a layer
 * without weights has the lambda of its input. */
static snn_status fill_lambdas(const snn_graph *g, layer_stat *stats,
                               int n_stats, snn_scales *out, snn_error *err)
{
    for (int k = 0; k < g->n_layers; k++) {
        double fixed = fixed_lambda(g, k);
        out->lambda[k] = snn_layer_scaled(g, k) && fixed > 0 ? fixed : 1.0;
    }
    for (int i = 0; i < n_stats; i++) {
        layer_stat *st = &stats[i];
        const char *name = g->layers[st->layer].name;
        if (st->has_nan)
            return snn_error_set(err, SNN_E_INVALID,
                                 "layer %s: activations contain NaN", name);
        if (st->grp[0].count == 0)
            return snn_error_set(err, SNN_E_INVALID,
                                 "layer %s: no non-zero activation on the "
                                 "normalization set, cannot scale it",
                                 name);
        out->lambda[st->layer] = group_value(&st->grp[0]);
    }
    snn_scales_inherit(g, out);
    return SNN_OK;
}

/* A Flatten, or a Reshape to a vector, which re-indexes exactly as a
 * Flatten with the same flatten_hwc (src/ann/flatten.c). */
static int flattens(const snn_layer *l)
{
    return l->op == SNN_OP_FLATTEN ||
           (l->op == SNN_OP_RESHAPE && l->shape.ndim == 1);
}

/* Channel-wise: how many factors layer k has (channels; elements after a
 * Flatten), and the offsets. */
static snn_status chan_layout(const snn_graph *g, snn_scales *out,
                              snn_error *err)
{
    out->chan_at = calloc((size_t)g->n_layers + 1, sizeof *out->chan_at);
    if (!out->chan_at)
        return snn_error_set(err, SNN_E_NOMEM, "cannot allocate scales");
    for (int k = 0; k < g->n_layers; k++) {
        const snn_layer *l = &g->layers[k];
        size_t hw, c = channels_of(l, &hw);
        int weighted = l->op == SNN_OP_DENSE || l->op == SNN_OP_CONV2D ||
                       l->op == SNN_OP_CONV2D_T;
        int ok = l->op == SNN_OP_INPUT || l->op == SNN_OP_MAXPOOL2D ||
                 l->op == SNN_OP_AVGPOOL2D || l->op == SNN_OP_ACTIVATION ||
                 l->op == SNN_OP_PAD || l->op == SNN_OP_CROP ||
                 l->op == SNN_OP_UPSAMPLE || flattens(l) ||
                 l->op == SNN_OP_ADD || l->op == SNN_OP_CONCAT ||
                 (weighted && weights_layer(l));
        if (!ok)
            return snn_error_set(err, SNN_E_UNSUPPORTED,
                                 "layer %s (%s): channel-wise normalization "
                                 "does not support this layer", l->name,
                                 snn_op_name(l->op));
        out->chan_at[k + 1] = out->chan_at[k] + (flattens(l) ? c * hw : c);
    }
    out->chan = calloc(out->chan_at[g->n_layers] + 1, sizeof *out->chan);
    if (!out->chan)
        return snn_error_set(err, SNN_E_NOMEM, "cannot allocate scales");
    return SNN_OK;
}

/* A measured layer's channel factors; an inactive channel takes the
 * largest of the others. */
static snn_status measured_channels(const snn_graph *g, const layer_stat *st,
                                    double *f, snn_error *err)
{
    const char *name = g->layers[st->layer].name;
    double top = 0;
    if (st->has_nan)
        return snn_error_set(err, SNN_E_INVALID,
                             "layer %s: activations contain NaN", name);
    for (size_t c = 0; c < st->n_groups; c++) {
        f[c] = st->grp[c].count ? group_value(&st->grp[c]) : 0;
        top = f[c] > top ? f[c] : top;
    }
    if (!(top > 0))
        return snn_error_set(err, SNN_E_INVALID,
                             "layer %s: no positive activation on the "
                             "normalization set, cannot scale it", name);
    for (size_t c = 0; c < st->n_groups; c++)
        if (!(f[c] > 0))
            f[c] = top;
    return SNN_OK;
}

/* A layer without weights: its input's factors, re-indexed by a Flatten
 * (element j of a (C, H, W) input has channel j / HW, or j % C in
 * Keras's (H, W, C) order); a Concatenate's are its inputs' in turn. */
static void inherit_channels(const snn_graph *g, int k, snn_scales *out)
{
    const snn_layer *l = &g->layers[k];
    double *f = out->chan + out->chan_at[k];
    if (l->op == SNN_OP_CONCAT) {
        for (int i = 0; i < l->n_inputs; i++) {
            int p = l->inputs[i];
            size_t m = out->chan_at[p + 1] - out->chan_at[p];
            memcpy(f, out->chan + out->chan_at[p], m * sizeof *f);
            f += m;
        }
        return;
    }
    const snn_layer *in = &g->layers[l->inputs[0]];
    const double *src = out->chan + out->chan_at[l->inputs[0]];
    size_t n = out->chan_at[k + 1] - out->chan_at[k], hw;
    size_t c = channels_of(in, &hw);
    for (size_t j = 0; j < n; j++) {
        size_t from = j;
        if (flattens(l))
            from = l->flatten_hwc ? j % c : j / hw;
        f[j] = src[from];
    }
}

static void chan_max(snn_scales *out, int k)
{
    out->lambda[k] = 0;
    for (size_t j = out->chan_at[k]; j < out->chan_at[k + 1]; j++)
        out->lambda[k] = out->chan[j] > out->lambda[k] ? out->chan[j]
                                                       : out->lambda[k];
}

/* A layer folded into Adds takes its first consumer's channel factors
 * (an Add's inputs have its shape). */
static snn_status folded_channels(const snn_graph *g, snn_scales *out,
                                  snn_error *err)
{
    for (int k = g->n_layers - 1; k >= 0; k--) {
        if (!merge_folds(g, k))
            continue;
        int a = merge_consumer(g, k);
        size_t n = out->chan_at[k + 1] - out->chan_at[k];
        if (out->chan_at[a + 1] - out->chan_at[a] != n)
            return snn_error_set(err, SNN_E_SHAPE,
                                 "layer %s: %zu channels added to %s's %zu",
                                 g->layers[k].name, n, g->layers[a].name,
                                 out->chan_at[a + 1] - out->chan_at[a]);
        memcpy(out->chan + out->chan_at[k], out->chan + out->chan_at[a],
               n * sizeof *out->chan);
        chan_max(out, k);
    }
    return SNN_OK;
}

static snn_status fill_channels(const snn_graph *g, layer_stat *stats,
                                int n_stats, snn_scales *out, snn_error *err)
{
    snn_status st = chan_layout(g, out, err);
    int next = 0;
    for (int k = 0; st == SNN_OK && k < g->n_layers; k++) {
        const snn_layer *l = &g->layers[k];
        double *f = out->chan + out->chan_at[k];
        size_t n = out->chan_at[k + 1] - out->chan_at[k];
        double fixed = snn_layer_scaled(g, k) ? fixed_lambda(g, k) : 0;
        if (next < n_stats && stats[next].layer == k)
            st = measured_channels(g, &stats[next++], f, err);
        else if (l->op == SNN_OP_INPUT || fixed > 0)
            for (size_t j = 0; j < n; j++)
                f[j] = fixed > 0 ? fixed : 1.0;
        else if (!merge_folds(g, k))
            inherit_channels(g, k, out);
        chan_max(out, k);
    }
    return st == SNN_OK ? folded_channels(g, out, err) : st;
}

static snn_status measure(scale_job *job, double percentile, snn_error *err)
{
    snn_status st = SNN_OK;
    for (job->pass = 0; st == SNN_OK && job->pass < job->radix.n;
         job->pass++) {
        st = run_pass(job, err);
        for (int i = 0; st == SNN_OK && i < job->n_stats; i++)
            for (size_t j = 0; j < job->stats[i].n_groups; j++)
                after_pass(&job->stats[i].grp[j], &job->radix, job->pass,
                           percentile);
    }
    return st;
}

static snn_status compute_scales(const snn_graph *g, const snn_tensor *x,
                                 double percentile, size_t batch,
                                 int channelwise, snn_scales *out,
                                 snn_error *err)
{
    memset(out, 0, sizeof *out);
    snn_status st = check_scale_args(g, x, percentile, batch, err);
    if (st == SNN_OK)
        st = scales_alloc(g, out, err);
    if (st != SNN_OK)
        return st;
    size_t n = x->dims[0];
    scale_job job = {.g = g, .x = x, .batch = batch,
                     .n_used = n >= batch ? n - n % batch : n,
                     .radix = channelwise ? channel_radix : layer_radix};
    job.acts = calloc((size_t)g->n_layers, sizeof *job.acts);
    if (!job.acts)
        st = snn_error_set(err, SNN_E_NOMEM, "cannot allocate scales");
    if (st == SNN_OK)
        st = stats_make(g, &job.radix, channelwise, &job.stats, &job.n_stats,
                        err);
    if (st == SNN_OK) {
        if (job.n_stats > 0)
            st = measure(&job, percentile, err);
        if (st == SNN_OK)
            st = channelwise
                     ? fill_channels(g, job.stats, job.n_stats, out, err)
                     : fill_lambdas(g, job.stats, job.n_stats, out, err);
        stats_free(job.stats, job.n_stats);
    }
    if (job.acts)
        snn_ann_acts_free(job.acts, g->n_layers);
    free(job.acts);
    if (st != SNN_OK)
        snn_scales_free(out);
    return st;
}

snn_status snn_compute_scales(const snn_graph *g, const snn_tensor *x,
                              double percentile, size_t batch,
                              snn_scales *out, snn_error *err)
{
    return compute_scales(g, x, percentile, batch, 0, out, err);
}

snn_status snn_compute_channel_scales(const snn_graph *g,
                                      const snn_tensor *x, double percentile,
                                      size_t batch, snn_scales *out,
                                      snn_error *err)
{
    return compute_scales(g, x, percentile, batch, 1, out, err);
}

snn_status snn_clip_scales(const snn_graph *g, snn_scales *out,
                           snn_error *err)
{
    snn_status st = scales_alloc(g, out, err);
    if (st == SNN_OK)
        st = fill_lambdas(g, NULL, 0, out, err);
    return st;
}

/* Layer k's factor for its channel (or element) j. */
static double factor(const snn_scales *s, int k, size_t j)
{
    return s->chan ? s->chan[s->chan_at[k] + j] : s->lambda[k];
}

static size_t n_factors(const snn_scales *s, int k)
{
    return s->chan ? s->chan_at[k + 1] - s->chan_at[k] : 1;
}

static snn_status check_factors(const snn_layer *l, const snn_scales *s,
                                int k, size_t want, const char *whose,
                                snn_error *err)
{
    size_t n = n_factors(s, k);
    if (s->chan && n != want)
        return snn_error_set(err, SNN_E_INVALID,
                             "layer %s: %zu %s channel scale factors for %zu "
                             "channels", l->name, n, whose, want);
    for (size_t j = 0; j < n; j++) {
        double f = factor(s, k, j);
        if (!(f > 0.0 && isfinite(f)))
            return snn_error_set(err, SNN_E_INVALID,
                                 "layer %s: its %s scale factor %g must be "
                                 "finite and positive", l->name, whose, f);
    }
    return SNN_OK;
}

/* The factor of channel j (element j after a Flatten) of layer p's
 * output.  Layer-wise, a layer without a factor of its own passes on its
 * input's, so the walk only matters where a Concatenate, which holds its
 * inputs' channels in turn, lies upstream. */
static double out_factor(const snn_graph *g, const snn_scales *s, int p,
                         size_t j)
{
    const snn_layer *l = &g->layers[p];
    if (s->chan)
        return s->chan[s->chan_at[p] + j];
    if (l->op == SNN_OP_CONCAT)
        for (int i = 0; i < l->n_inputs; i++) {
            size_t c = snn_shape_channels(&g->layers[l->inputs[i]].shape);
            if (j < c)
                return out_factor(g, s, l->inputs[i], j);
            j -= c;
        }
    if (snn_layer_scaled(g, p) || l->n_inputs != 1 ||
        (l->op == SNN_OP_RESHAPE && !flattens(l)))
        return s->lambda[p];
    if (flattens(l)) {
        size_t hw, c = channels_of(&g->layers[l->inputs[0]], &hw);
        j = l->flatten_hwc ? j % c : j / hw;
    }
    return out_factor(g, s, l->inputs[0], j);
}

/* W[o][i...] <- W * lambda_in[i's channel] / lambda[o]; b[o] /= lambda[o]. */
static void scale_layer(const snn_graph *g, snn_layer *l, const snn_scales *s,
                        int k, int p)
{
    size_t out = weights_out_channels(l), in_c = weights_in_channels(l);
    for (size_t o = 0; o < out; o++) {
        double own = factor(s, k, s->chan ? o : 0);
        for (size_t i = 0; i < in_c; i++) {
            size_t taps;
            float *w = weights_block(l, o, i, &taps);
            double f = w ? out_factor(g, s, p, i) / own : 1;
            for (size_t t = 0; w && t < taps; t++)
                w[t] = (float)(w[t] * f);
        }
        if (l->bias.data)
            l->bias.data[o] = (float)(l->bias.data[o] * (1.0 / own));
    }
}

/* An Add's factor for input j's channel c: lambda_j[c] / lambda_add[c],
 * times what it had. */
static snn_status scale_add(snn_graph *g, const snn_scales *s, int k,
                            snn_error *err)
{
    snn_layer *l = &g->layers[k];
    size_t c_n = snn_shape_channels(&l->shape);
    snn_status st = check_factors(l, s, k, c_n, "own", err);
    for (int j = 0; st == SNN_OK && j < l->n_inputs; j++)
        if (snn_shape_channels(&g->layers[l->inputs[j]].shape) != c_n)
            st = snn_error_set(err, SNN_E_SHAPE,
                               "layer %s: input %s has %zu channels, the "
                               "Add %zu", l->name,
                               g->layers[l->inputs[j]].name,
                               snn_shape_channels(
                                   &g->layers[l->inputs[j]].shape), c_n);
    if (st == SNN_OK)
        st = merge_add_factors(l, err);
    for (int j = 0; st == SNN_OK && j < l->n_inputs; j++)
        for (size_t c = 0; c < c_n; c++) {
            double f = out_factor(g, s, l->inputs[j], c) /
                       factor(s, k, s->chan ? c : 0);
            float *w = &l->weight.data[(size_t)j * c_n + c];
            *w = (float)(*w * f);
        }
    return st;
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
        snn_status added = l->op == SNN_OP_ADD ? scale_add(g, s, k, err)
                                                : SNN_OK;
        if (added != SNN_OK)
            return added;
        if (!weights_layer(l))
            continue;
        if (l->n_inputs != 1 || l->inputs[0] < 0 || l->inputs[0] >= k)
            return snn_error_set(err, SNN_E_INVALID,
                                 "layer %s: needs one earlier input layer",
                                 l->name);
        int p = l->inputs[0];
        snn_status st = check_factors(l, s, k, weights_out_channels(l),
                                      "own", err);
        if (st == SNN_OK)
            st = check_factors(l, s, p, weights_in_channels(l), "input",
                               err);
        if (st != SNN_OK)
            return st;
        scale_layer(g, l, s, k, p);
    }
    for (int k = 0; k < g->n_layers; k++)
        if (g->layers[k].act == SNN_ACT_CLIP)
            g->layers[k].clip_max =
                (float)(g->layers[k].clip_max / s->lambda[k]);
    return SNN_OK;
}

void snn_scales_free(snn_scales *s)
{
    free(s->lambda);
    free(s->chan);
    free(s->chan_at);
    memset(s, 0, sizeof *s);
}
