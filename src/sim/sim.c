/*
 * sim.c - the native time-stepped simulator.
 *
 * Every step, layers are updated in order, so a spike crosses the whole
 * network within one step, as in the original's INIsim.  The input is a
 * constant current (the analog sample), so the first layer's current is
 * computed once per batch.  Synaptic currents reuse the ANN kernels
 * (src/ann/ops.h) on spike tensors.
 */
#include "snntb/sim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ann/ops.h"
#include "snntb/ann.h"
#include "sim/neuron.h"

typedef struct layer_state {
    float *cur;   /* synaptic current this step, (batch, n) */
    float *v;     /* membrane potential, (batch, n) */
    float *spk;   /* spikes emitted this step, (batch, n): 0 or v_thresh */
    float *count; /* max-gating: spikes received so far, (batch, in_n) */
} layer_state;

typedef struct sim_state {
    layer_state *ls;
    float *out_count; /* output spikes per sample and class */
    int n;
} sim_state;

static void state_free(sim_state *s)
{
    for (int i = 0; s->ls && i < s->n; i++) {
        free(s->ls[i].cur);
        free(s->ls[i].v);
        free(s->ls[i].spk);
        free(s->ls[i].count);
    }
    free(s->ls);
    free(s->out_count);
    memset(s, 0, sizeof *s);
}

static float *alloc_floats(size_t a, size_t b, int *ok)
{
    size_t n;
    float *p = NULL;
    if (snn_size_mul(a, b, &n))
        p = calloc(n ? n : 1, sizeof(float));
    if (!p)
        *ok = 0;
    return p;
}

static snn_status state_init(sim_state *s, const snn_net *net, size_t batch,
                             snn_error *err)
{
    memset(s, 0, sizeof *s);
    s->n = net->n_layers;
    s->ls = calloc((size_t)net->n_layers, sizeof *s->ls);
    int ok = s->ls != NULL;
    for (int i = 0; ok && i < net->n_layers; i++) {
        const snn_net_layer *l = &net->layers[i];
        size_t n = snn_net_layer_size(net, i);
        layer_state *ls = &s->ls[i];
        ls->spk = alloc_floats(batch, n, &ok);
        if (l->unit == SNN_UNIT_IF || l->unit == SNN_UNIT_SOFTMAX) {
            ls->cur = alloc_floats(batch, n, &ok);
            ls->v = alloc_floats(batch, n, &ok);
        }
        if (l->unit == SNN_UNIT_MAXGATE)
            ls->count = alloc_floats(batch, snn_shape_numel(&l->in_shape), &ok);
    }
    if (ok)
        s->out_count = alloc_floats(
            batch, snn_net_layer_size(net, net->n_layers - 1), &ok);
    if (!ok) {
        state_free(s);
        return snn_error_set(err, SNN_E_NOMEM,
                             "cannot allocate simulation state for a batch "
                             "of %zu", batch);
    }
    return SNN_OK;
}

/* Clears membranes and counters between batches (reset_between_nth_sample
 * = 1, as the original's default). */
static void state_reset(sim_state *s, const snn_net *net, size_t b)
{
    for (int i = 0; i < net->n_layers; i++) {
        const snn_net_layer *l = &net->layers[i];
        size_t n = snn_net_layer_size(net, i);
        layer_state *ls = &s->ls[i];
        memset(ls->spk, 0, b * n * sizeof(float));
        if (ls->v)
            memset(ls->v, 0, b * n * sizeof(float));
        if (ls->count)
            memset(ls->count, 0,
                   b * snn_shape_numel(&l->in_shape) * sizeof(float));
    }
    memset(s->out_count, 0,
           b * snn_net_layer_size(net, net->n_layers - 1) * sizeof(float));
}

/* One step of layer i.  `in` is the input layer's spikes (or the sample). */
static double step_layer(const snn_net *net, sim_state *s, int i,
                         const float *in, size_t b, const snn_rng_key *key)
{
    const snn_net_layer *l = &net->layers[i];
    layer_state *ls = &s->ls[i];
    size_t n = snn_net_layer_size(net, i);
    switch (l->unit) {
    case SNN_UNIT_RESHAPE:
        snn_op_forward(&l->syn, &l->in_shape, in, b, ls->spk);
        return 0;
    case SNN_UNIT_MAXGATE:
        snn_maxgate_step(&l->syn, &l->in_shape, in, ls->count, b, ls->spk);
        return 0;
    case SNN_UNIT_IF:
    case SNN_UNIT_SOFTMAX:
        break;
    }
    /* The first layer sees a constant input: its current was computed
     * once for the batch. */
    if (l->input >= 0)
        snn_op_forward(&l->syn, &l->in_shape, in, b, ls->cur);
    snn_neuron_params p = {net->v_thresh, net->reset};
    if (l->unit == SNN_UNIT_SOFTMAX)
        return snn_softmax_fire(&p, ls->cur, ls->v, ls->spk, b, n, key);
    return snn_if_fire(&p, ls->cur, ls->v, ls->spk, b * n);
}

static int is_neuron_layer(const snn_net_layer *l)
{
    return l->unit == SNN_UNIT_IF || l->unit == SNN_UNIT_SOFTMAX;
}

static void run_batch(const snn_net *net, sim_state *s, const float *x,
                      size_t first, size_t b, const snn_sim_opts *o,
                      snn_sim_result *res)
{
    int last = net->n_layers - 1;
    size_t n_out = snn_net_layer_size(net, last);
    state_reset(s, net, b);
    for (int i = 0; i < net->n_layers; i++)
        if (net->layers[i].input < 0 && is_neuron_layer(&net->layers[i]))
            snn_op_forward(&net->layers[i].syn, &net->layers[i].in_shape, x,
                           b, s->ls[i].cur);
    for (int t = 0; t < o->steps; t++) {
        for (int i = 0; i < net->n_layers; i++) {
            const snn_net_layer *l = &net->layers[i];
            const float *in = l->input < 0 ? x : s->ls[l->input].spk;
            snn_rng_key key = {o->seed, first, (uint64_t)t, (uint64_t)i};
            double spikes = step_layer(net, s, i, in, b, &key);
            if (is_neuron_layer(l)) {
                res->spikes += spikes / net->v_thresh;
                res->neuron_steps += (double)b * snn_net_layer_size(net, i);
            }
        }
        for (size_t k = 0; k < b * n_out; k++)
            s->out_count[k] += s->ls[last].spk[k] != 0;
    }
}

static int predicted_class(const float *counts, size_t n)
{
    int best = -1;
    float top = 0;
    for (size_t c = 0; c < n; c++)
        if (counts[c] > top) {
            top = counts[c];
            best = (int)c;
        }
    return best;
}

static void score_batch(const snn_net *net, const sim_state *s,
                        const snn_tensor *y, size_t first, size_t b,
                        int top_k, snn_sim_result *res)
{
    size_t n_out = snn_net_layer_size(net, net->n_layers - 1);
    for (size_t j = 0; j < b; j++) {
        const float *counts = s->out_count + j * n_out;
        const float *onehot = y->data + (first + j) * n_out;
        int label = 0;
        for (size_t c = 1; c < n_out; c++)
            if (onehot[c] > onehot[label])
                label = (int)c;
        int pred = predicted_class(counts, n_out);
        res->predictions[first + j] = pred;
        if (pred < 0) {
            res->silent++;
            continue;
        }
        res->top1 += pred == label;
        res->topk += counts[label] > 0 &&
                     snn_in_top_k(counts, (int)n_out, label, top_k);
    }
    res->n += b;
}

static snn_status check_inputs(const snn_net *net, const snn_tensor *x,
                               const snn_tensor *y, size_t n,
                               const snn_sim_opts *o, snn_error *err)
{
    if (net->n_layers < 1)
        return snn_error_set(err, SNN_E_INVALID, "the spiking net is empty");
    size_t in_n = snn_shape_numel(&net->input_shape);
    size_t n_out = snn_net_layer_size(net, net->n_layers - 1);
    if (x->ndim < 1 || snn_tensor_numel(x) != x->dims[0] * in_n)
        return snn_error_set(err, SNN_E_SHAPE,
                             "samples do not fit the net's input of %zu "
                             "values", in_n);
    if (y->ndim != 2 || y->dims[0] != x->dims[0] || y->dims[1] != n_out)
        return snn_error_set(err, SNN_E_SHAPE,
                             "labels must be one-hot (%zu, %zu)", x->dims[0],
                             n_out);
    if (n > x->dims[0])
        return snn_error_set(err, SNN_E_INVALID,
                             "asked for %zu samples, the dataset has %zu", n,
                             x->dims[0]);
    if (o->steps < 1 || o->batch_size < 1 || o->top_k < 1)
        return snn_error_set(err, SNN_E_INVALID,
                             "steps, batch size and top-k must be >= 1");
    return SNN_OK;
}

snn_status snn_simulate(const snn_net *net, const snn_tensor *x,
                        const snn_tensor *y, size_t n,
                        const snn_sim_opts *o, snn_sim_result *res,
                        snn_error *err)
{
    memset(res, 0, sizeof *res);
    snn_status st = check_inputs(net, x, y, n, o, err);
    if (st != SNN_OK)
        return st;
    size_t batch = o->batch_size < n ? o->batch_size : n;
    res->predictions = calloc(n ? n : 1, sizeof *res->predictions);
    if (!res->predictions)
        return snn_error_set(err, SNN_E_NOMEM, "cannot allocate results");
    sim_state s;
    st = state_init(&s, net, batch ? batch : 1, err);
    if (st != SNN_OK) {
        snn_sim_result_free(res);
        return st;
    }
    size_t in_n = snn_shape_numel(&net->input_shape);
    for (size_t first = 0; first < n; first += batch) {
        size_t b = n - first < batch ? n - first : batch;
        run_batch(net, &s, x->data + first * in_n, first, b, o, res);
        score_batch(net, &s, y, first, b, o->top_k, res);
        if (o->progress)
            o->progress(o->progress_user, res->n, n, res->top1);
    }
    state_free(&s);
    return SNN_OK;
}

void snn_sim_result_free(snn_sim_result *res)
{
    free(res->predictions);
    res->predictions = NULL;
}
