/*
 * calibrate.c - see calibrate.h.  The ANN's targets are computed once
 * (they do not change); the net is then simulated once per calibrated
 * layer, recording only that layer's spike counts, because a layer's
 * correction changes what every later layer receives.
 */
#include "pipeline/calibrate.h"

#include <stdlib.h>
#include <string.h>

#include "snntb/ann.h"
#include "snntb/net.h"

/* Layers of IF neurons with a bias current: weighted ones, and Adds
 * (whose bias, the sum of their folded terms', is their own). */
static int calibrated(const snn_net_layer *l)
{
    return l->unit == SNN_UNIT_IF &&
           (l->syn.op == SNN_OP_DENSE || l->syn.op == SNN_OP_CONV2D ||
            l->syn.op == SNN_OP_CONV2D_T || l->syn.op == SNN_OP_ADD);
}

static size_t channels_of(const snn_shape *s, size_t *hw)
{
    size_t c = s->ndim ? s->dims[0] : 1;
    *hw = c ? snn_shape_numel(s) / c : 1;
    return c;
}

/* The graph layer holding each calibrated net layer's activations. */
static snn_status find_sources(const snn_net *net, const snn_graph *g,
                               int *src, snn_error *err)
{
    for (int i = 0; i < net->n_layers; i++) {
        const snn_net_layer *l = &net->layers[i];
        src[i] = calibrated(l) ? snn_graph_find(g, l->syn.name) : -1;
        if (calibrated(l) &&
            (src[i] < 0 || snn_shape_numel(&g->layers[src[i]].shape) !=
                               snn_net_layer_size(net, i)))
            return snn_error_set(err, SNN_E_INVALID,
                                 "bias calibration: layer %s of the net has "
                                 "no counterpart in the model", l->syn.name);
    }
    return SNN_OK;
}

/* Adds each channel's sum of min(max(a, 0), vth) over the m samples of a
 * to sum. */
static void add_clipped(const snn_tensor *a, size_t m, size_t c, size_t hw,
                        float vth, double *sum)
{
    for (size_t k = 0; k < m * c * hw; k++) {
        float v = a->data[k];
        sum[k / hw % c] += v < 0 ? 0 : v > vth ? vth : v;
    }
}

/* ann[i][c]: layer i's mean clipped ANN activation in channel c. */
static snn_status ann_means(const snn_net *net, const snn_graph *g,
                            const snn_tensor *x, size_t n, size_t batch,
                            const int *src, double **ann, snn_error *err)
{
    snn_tensor *acts = calloc((size_t)g->n_layers, sizeof *acts);
    if (!acts)
        return snn_error_set(err, SNN_E_NOMEM, "cannot allocate activations");
    size_t per = snn_tensor_numel(x) / x->dims[0];
    snn_status st = SNN_OK;
    for (size_t first = 0; st == SNN_OK && first < n; first += batch) {
        snn_tensor xb = *x;
        xb.dims[0] = n - first < batch ? n - first : batch;
        xb.data = x->data + first * per;
        st = snn_ann_forward(g, &xb, acts, err);
        for (int i = 0; st == SNN_OK && i < net->n_layers; i++) {
            size_t hw, c = channels_of(&net->layers[i].syn.shape, &hw);
            if (ann[i])
                add_clipped(&acts[src[i]], xb.dims[0], c, hw, net->v_thresh,
                            ann[i]);
        }
    }
    for (int i = 0; i < net->n_layers; i++) {
        size_t hw, c = channels_of(&net->layers[i].syn.shape, &hw);
        for (size_t k = 0; ann[i] && k < c; k++)
            ann[i][k] /= (double)n * (double)hw;
    }
    snn_ann_acts_free(acts, g->n_layers);
    free(acts);
    return st;
}

/* Simulates n samples recording layer i's spike counts into counts. */
static snn_status count_spikes(const snn_net *net, int i, const snn_tensor *x,
                               const snn_tensor *y, size_t n,
                               const snn_sim_opts *o, float *counts,
                               snn_error *err)
{
    float **per_layer = calloc((size_t)net->n_layers, sizeof *per_layer);
    if (!per_layer)
        return snn_error_set(err, SNN_E_NOMEM, "cannot allocate a record");
    per_layer[i] = counts;
    snn_sim_record rec = {.spike_counts = per_layer, .record_samples = n};
    snn_sim_opts so = *o;
    so.record = &rec;
    so.progress = NULL;
    so.top_k = 1;
    snn_sim_result res;
    snn_status st = snn_simulate(net, x, y, n, &so, &res, err);
    if (st == SNN_OK)
        snn_sim_result_free(&res);
    free(per_layer);
    return st;
}

/* bias[c] += ann[c] - mean rate x v_thresh of channel c. */
static snn_status shift_bias(snn_net_layer *l, const float *counts, size_t n,
                             const double *ann, float vth, int steps,
                             snn_error *err)
{
    size_t hw, c = channels_of(&l->syn.shape, &hw);
    if (!l->syn.bias.data) {
        snn_status st = snn_tensor_init(&l->syn.bias, 1, &c, err);
        if (st != SNN_OK)
            return st;
    }
    double *sum = calloc(c, sizeof *sum);
    if (!sum)
        return snn_error_set(err, SNN_E_NOMEM, "cannot allocate sums");
    for (size_t k = 0; k < n * c * hw; k++)
        sum[k / hw % c] += counts[k];
    double per_count = (double)vth / steps / ((double)n * (double)hw);
    for (size_t k = 0; k < c; k++)
        l->syn.bias.data[k] += (float)(ann[k] - sum[k] * per_count);
    free(sum);
    return SNN_OK;
}

static snn_status calibrate_layers(snn_net *net, const snn_tensor *x,
                                   const snn_tensor *y, size_t n,
                                   const snn_sim_opts *o, double **ann,
                                   snn_error *err)
{
    snn_status st = SNN_OK;
    for (int i = 0; st == SNN_OK && i < net->n_layers; i++) {
        if (!ann[i])
            continue;
        size_t size = snn_net_layer_size(net, i);
        float *counts = malloc(n * size * sizeof *counts);
        st = counts ? count_spikes(net, i, x, y, n, o, counts, err)
                    : snn_error_set(err, SNN_E_NOMEM,
                                    "cannot allocate spike counts");
        if (st == SNN_OK)
            st = shift_bias(&net->layers[i], counts, n, ann[i], net->v_thresh,
                            o->steps, err);
        free(counts);
    }
    return st;
}

snn_status snn_calibrate_biases(snn_net *net, const snn_graph *g,
                                const snn_tensor *x, size_t n,
                                const snn_sim_opts *o, snn_error *err)
{
    if (n == 0 || x->ndim < 1 || n > x->dims[0] || o->steps < 1 ||
        o->batch_size < 1)
        return snn_error_set(err, SNN_E_INVALID,
                             "bias calibration needs 1 to %zu samples, "
                             "steps and a batch size",
                             x->ndim ? x->dims[0] : 0);
    size_t n_out = snn_net_layer_size(net, net->n_layers - 1);
    int *src = calloc((size_t)net->n_layers, sizeof *src);
    double **ann = calloc((size_t)net->n_layers, sizeof *ann);
    snn_tensor y = {0};
    snn_status st = src && ann ? SNN_OK
                               : snn_error_set(err, SNN_E_NOMEM,
                                               "cannot allocate calibration");
    if (st == SNN_OK)
        st = snn_tensor_init(&y, 2, (size_t[]){x->dims[0], n_out}, err);
    if (st == SNN_OK)
        st = find_sources(net, g, src, err);
    for (int i = 0; st == SNN_OK && i < net->n_layers; i++) {
        size_t hw, c = channels_of(&net->layers[i].syn.shape, &hw);
        if (src[i] >= 0 && !(ann[i] = calloc(c, sizeof **ann)))
            st = snn_error_set(err, SNN_E_NOMEM, "cannot allocate means");
    }
    if (st == SNN_OK)
        st = ann_means(net, g, x, n, o->batch_size, src, ann, err);
    if (st == SNN_OK)
        st = calibrate_layers(net, x, &y, n, o, ann, err);
    for (int i = 0; ann && i < net->n_layers; i++)
        free(ann[i]);
    free(ann);
    free(src);
    snn_tensor_free(&y);
    return st;
}
