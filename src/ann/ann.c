/*
 * ann.c - runs a graph on float inputs layer by layer (the ANN's own
 * output, used for its accuracy and for normalization) and scores it.
 */
#include "snntb/ann.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "ann/ops.h"

/* Gives t the shape (n, *s), reusing its buffer when the shape is already
 * right (normalization runs batch after batch). */
static snn_status act_alloc(snn_tensor *t, size_t n, const snn_shape *s,
                            snn_error *err)
{
    size_t dims[1 + 3] = {n};
    for (int i = 0; i < s->ndim; i++)
        dims[1 + i] = s->dims[i];
    int ndim = 1 + s->ndim;
    if (t->data && t->ndim == ndim &&
        memcmp(t->dims, dims, (size_t)ndim * sizeof *dims) == 0)
        return SNN_OK;
    snn_tensor_free(t);
    return snn_tensor_init(t, ndim, dims, err);
}

static snn_status check_input(const snn_graph *g, const snn_tensor *x,
                              snn_error *err)
{
    if (g->n_layers < 1 || g->layers[0].op != SNN_OP_INPUT)
        return snn_error_set(err, SNN_E_INVALID,
                             "graph does not start with an input layer");
    const snn_shape *s = &g->layers[0].shape;
    size_t per = x->ndim > 0 && x->dims[0] ? snn_tensor_numel(x) / x->dims[0]
                                           : 0;
    if (!x->data || x->ndim < 1 || x->dims[0] > INT_MAX ||
        per != snn_shape_numel(s) || per == 0) {
        char a[64], b[64];
        return snn_error_set(
            err, SNN_E_SHAPE,
            "layer %s: input data %s does not fit the input shape %s",
            g->layers[0].name, snn_shape_str(x->ndim, x->dims, a, sizeof a),
            snn_shape_str(s->ndim, s->dims, b, sizeof b));
    }
    return SNN_OK;
}

static snn_status run_merge(const snn_graph *g, int k, snn_tensor *acts,
                           size_t n, snn_error *err)
{
    const snn_layer *l = &g->layers[k];
    const snn_shape *ins[SNN_MAX_INPUTS];
    const float *xs[SNN_MAX_INPUTS];
    for (int i = 0; i < l->n_inputs && i < SNN_MAX_INPUTS; i++) {
        ins[i] = &g->layers[l->inputs[i]].shape;
        xs[i] = acts[l->inputs[i]].data;
    }
    snn_status st = snn_merge_check(l, ins, err);
    if (st == SNN_OK)
        st = act_alloc(&acts[k], n, &l->shape, err);
    if (st != SNN_OK)
        return st;
    snn_merge_forward(l, ins, xs, n, acts[k].data);
    return SNN_OK;
}

static snn_status run_layer(const snn_graph *g, int k, snn_tensor *acts,
                            size_t n, snn_error *err)
{
    const snn_layer *l = &g->layers[k];
    int merge = l->op == SNN_OP_ADD || l->op == SNN_OP_CONCAT;
    int ok = merge ? l->n_inputs >= 2 && l->n_inputs <= SNN_MAX_INPUTS
                   : l->n_inputs == 1;
    for (int i = 0; ok && i < l->n_inputs; i++)
        ok = l->inputs[i] >= 0 && l->inputs[i] < k;
    if (!ok)
        return snn_error_set(err, SNN_E_UNSUPPORTED,
                             "layer %s: needs %s from earlier layers, has %d",
                             l->name, merge ? "2 or more inputs" : "one input",
                             l->n_inputs);
    snn_status st = SNN_OK;
    if (merge) {
        st = run_merge(g, k, acts, n, err);
    } else {
        const snn_shape *in = &g->layers[l->inputs[0]].shape;
        st = snn_op_check(l, in, err);
        if (st == SNN_OK)
            st = act_alloc(&acts[k], n, &l->shape, err);
        if (st == SNN_OK)
            snn_op_forward(l, in, acts[l->inputs[0]].data, n, acts[k].data);
    }
    if (st == SNN_OK)
        snn_layer_activate(l, acts[k].data, n);
    return st;
}

snn_status snn_ann_forward(const snn_graph *g, const snn_tensor *x,
                           snn_tensor *acts, snn_error *err)
{
    snn_status st = check_input(g, x, err);
    if (st != SNN_OK)
        return st;
    size_t n = x->dims[0];
    const snn_layer *in = &g->layers[0];
    st = act_alloc(&acts[0], n, &in->shape, err);
    if (st != SNN_OK)
        return st;
    memcpy(acts[0].data, x->data, snn_tensor_numel(x) * sizeof(float));
    snn_layer_activate(in, acts[0].data, n);
    for (int k = 1; k < g->n_layers && st == SNN_OK; k++)
        st = run_layer(g, k, acts, n, err);
    return st;
}

void snn_ann_acts_free(snn_tensor *acts, int n)
{
    for (int i = 0; i < n; i++)
        snn_tensor_free(&acts[i]);
}

int snn_in_top_k(const float *scores, int n, int label, int k)
{
    if (label < 0 || label >= n)
        return 0;
    float s = scores[label];
    int ahead = 0;
    for (int i = 0; i < n; i++)
        if (scores[i] > s || (scores[i] == s && i < label))
            ahead++;
    return ahead < k;
}

/* Index of the first largest entry of a one-hot (or soft) label row. */
static int label_of(const float *row, size_t classes)
{
    size_t best = 0;
    for (size_t c = 1; c < classes; c++)
        if (row[c] > row[best])
            best = c;
    return (int)best;
}

static void score_batch(const snn_tensor *out, const float *labels,
                        size_t m, int top_k, snn_score *score)
{
    size_t classes = snn_tensor_numel(out) / m;
    for (size_t s = 0; s < m; s++) {
        const float *row = out->data + s * classes;
        int label = label_of(labels + s * classes, classes);
        score->top1 += snn_in_top_k(row, (int)classes, label, 1);
        score->topk += snn_in_top_k(row, (int)classes, label, top_k);
    }
    score->n += m;
}

static snn_status check_score_args(const snn_graph *g, const snn_tensor *x,
                                   const snn_tensor *y, size_t n,
                                   size_t batch, int top_k, snn_error *err)
{
    if (g->n_layers < 1 || batch == 0 || top_k < 1)
        return snn_error_set(err, SNN_E_INVALID,
                             "scoring needs a graph, batch size >= 1 and "
                             "top-k >= 1 (got batch %zu, top-k %d)",
                             batch, top_k);
    size_t classes = snn_shape_numel(&g->layers[g->n_layers - 1].shape);
    if (!x->data || !y->data || x->ndim < 1 || y->ndim != 2 ||
        n > x->dims[0] || n > y->dims[0] || y->dims[1] != classes ||
        classes > INT_MAX)
        return snn_error_set(err, SNN_E_SHAPE,
                             "scoring %zu samples: labels must be (N, %zu) "
                             "one-hot and data and labels hold at least N "
                             "samples",
                             n, classes);
    return SNN_OK;
}

/* Samples [first, first+m) of t as a view (no copy). */
static snn_tensor batch_view(const snn_tensor *t, size_t first, size_t m)
{
    snn_tensor v = *t;
    size_t per = snn_tensor_numel(t) / t->dims[0];
    v.dims[0] = m;
    v.data = t->data + first * per;
    return v;
}

snn_status snn_ann_score_acts(const snn_graph *g, const snn_tensor *x,
                              const snn_tensor *y, size_t n, size_t batch,
                              int top_k, snn_tensor *acts, snn_score *score,
                              snn_error *err)
{
    memset(score, 0, sizeof *score);
    snn_status st = check_score_args(g, x, y, n, batch, top_k, err);
    if (st != SNN_OK)
        return st;
    size_t classes = y->dims[1];
    for (size_t first = 0; first < n && st == SNN_OK; first += batch) {
        size_t m = n - first < batch ? n - first : batch;
        snn_tensor xb = batch_view(x, first, m);
        st = snn_ann_forward(g, &xb, acts, err);
        if (st == SNN_OK)
            score_batch(&acts[g->n_layers - 1], y->data + first * classes, m,
                        top_k, score);
    }
    return st;
}

snn_status snn_ann_score(const snn_graph *g, const snn_tensor *x,
                         const snn_tensor *y, size_t n, size_t batch,
                         int top_k, snn_score *score, snn_error *err)
{
    memset(score, 0, sizeof *score);
    int n_acts = g->n_layers > 0 ? g->n_layers : 1;
    snn_tensor *acts = calloc((size_t)n_acts, sizeof *acts);
    if (!acts)
        return snn_error_set(err, SNN_E_NOMEM, "cannot allocate activations");
    snn_status st = snn_ann_score_acts(g, x, y, n, batch, top_k, acts, score,
                                       err);
    snn_ann_acts_free(acts, n_acts);
    free(acts);
    return st;
}
