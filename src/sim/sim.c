/*
 * sim.c - the native time-stepped simulator: checks, the batch loop,
 * scoring, and the choice of engine.
 *
 * Every step, layers are updated in order, so a spike crosses the whole
 * network within one step, as in the original's INIsim.  The input is a
 * constant current (the analog sample), so the first layer's current is
 * computed once per batch.  The event engine (event.c) runs each sample
 * on its own thread through all steps; the reference engine here runs the
 * whole batch layer by layer through the ANN kernels (src/ann/ops.h) on
 * spike tensors.  Each sample's result depends only on the sample, so
 * neither batch size nor thread count changes it.
 */
#include "snntb/sim.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "ann/ops.h"
#include "sim/event.h"
#include "sim/neuron.h"
#include "sim/plan.h"
#include "sim/record.h"
#include "snntb/ann.h"

/* The reference engine's per-layer tensors for a whole batch. */
typedef struct layer_state {
    float *cur;   /* synaptic current this step, (batch, n) */
    float *v;     /* membrane potential, (batch, n) */
    float *spk;   /* spikes emitted this step, (batch, n): 0 or v_thresh */
    float *count; /* max-gating: spikes received so far, (batch, in_n) */
} layer_state;

typedef struct sim_state {
    int event;        /* which engine the state below is for */
    layer_state *ls;  /* reference engine */
    int n;
    sim_work **work;  /* event engine: one per thread */
    int n_work;
    float *cur0;      /* event engine: first layer's current, (batch, n) */
    double *spikes, *synops; /* event engine: per sample of the batch */
    double *layer_spikes; /* event engine: per thread and net layer */
    float *out_count; /* output spikes per sample and class */
    /* Recording: per-step sums, steps entries per thread (NULL: off). */
    size_t *rec_top1, *rec_topk;
    double *rec_synops;
    sim_plan plan;
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
    for (int i = 0; s->work && i < s->n_work; i++)
        sim_work_free(s->work[i]);
    free(s->work);
    free(s->cur0);
    free(s->spikes);
    free(s->synops);
    free(s->layer_spikes);
    free(s->out_count);
    free(s->rec_top1);
    free(s->rec_topk);
    free(s->rec_synops);
    sim_plan_free(&s->plan);
    memset(s, 0, sizeof *s);
}

static void *alloc_array(size_t a, size_t b, size_t size, int *ok)
{
    size_t n;
    void *p = NULL;
    if (*ok && snn_size_mul(a, b, &n) && n <= SIZE_MAX / size)
        p = calloc(n ? n : 1, size);
    if (!p)
        *ok = 0;
    return p;
}

static int is_neuron_layer(const snn_net_layer *l)
{
    return l->unit == SNN_UNIT_IF || l->unit == SNN_UNIT_SOFTMAX;
}

static int reference_init(sim_state *s, const snn_net *net, size_t batch)
{
    int ok = 1;
    s->n = net->n_layers;
    s->ls = alloc_array((size_t)net->n_layers, 1, sizeof *s->ls, &ok);
    for (int i = 0; ok && i < net->n_layers; i++) {
        const snn_net_layer *l = &net->layers[i];
        size_t n = snn_net_layer_size(net, i);
        layer_state *ls = &s->ls[i];
        ls->spk = alloc_array(batch, n, sizeof(float), &ok);
        if (is_neuron_layer(l)) {
            ls->cur = alloc_array(batch, n, sizeof(float), &ok);
            ls->v = alloc_array(batch, n, sizeof(float), &ok);
        }
        if (l->unit == SNN_UNIT_MAXGATE)
            ls->count = alloc_array(batch, snn_shape_numel(&l->in_shape),
                                    sizeof(float), &ok);
    }
    return ok;
}

static int event_init(sim_state *s, const snn_net *net, size_t batch,
                      snn_error *err)
{
    int ok = 1;
    s->n_work = omp_get_max_threads();
    s->work = alloc_array((size_t)s->n_work, 1, sizeof *s->work, &ok);
    s->cur0 = alloc_array(batch, snn_net_layer_size(net, 0), sizeof(float), &ok);
    s->spikes = alloc_array(batch, 1, sizeof *s->spikes, &ok);
    s->synops = alloc_array(batch, 1, sizeof *s->synops, &ok);
    s->layer_spikes = alloc_array((size_t)s->n_work, (size_t)net->n_layers,
                                  sizeof *s->layer_spikes, &ok);
    for (int i = 0; ok && i < s->n_work; i++)
        ok = sim_work_create(net, &s->plan, &s->work[i], err) == SNN_OK;
    return ok;
}

/* One set of per-step sums per thread; summed at the end, exactly (the
 * sums are integers), so the thread count does not change them. */
static void record_init(sim_state *s, const snn_sim_opts *o, int *ok)
{
    const snn_sim_record *rec = o->record;
    size_t threads = s->event ? (size_t)s->n_work : 1, steps = (size_t)o->steps;
    if (!rec)
        return;
    if (rec->top1_at_step)
        s->rec_top1 = alloc_array(threads, steps, sizeof *s->rec_top1, ok);
    if (rec->topk_at_step)
        s->rec_topk = alloc_array(threads, steps, sizeof *s->rec_topk, ok);
    if (rec->synops_at_step)
        s->rec_synops = alloc_array(threads, steps, sizeof *s->rec_synops, ok);
}

static void record_finish(const sim_state *s, const snn_sim_opts *o)
{
    const snn_sim_record *rec = o->record;
    size_t threads = s->event ? (size_t)s->n_work : 1, steps = (size_t)o->steps;
    for (size_t k = 0; rec && k < threads * steps; k++) {
        if (s->rec_top1)
            rec->top1_at_step[k % steps] += s->rec_top1[k];
        if (s->rec_topk)
            rec->topk_at_step[k % steps] += s->rec_topk[k];
        if (s->rec_synops)
            rec->synops_at_step[k % steps] += s->rec_synops[k];
    }
}

/* This thread's view of the record for sample `row` (x's row index). */
static rec_sample record_sample(const snn_net *net, const sim_state *s,
                                const snn_sim_opts *o, const snn_tensor *y,
                                size_t row, int thread)
{
    size_t n_out = snn_net_layer_size(net, net->n_layers - 1);
    size_t at = (size_t)thread * (size_t)o->steps;
    rec_sample r = {o->record, net, row, sim_label(y->data + row * n_out, n_out),
                    o->top_k, s->rec_top1 ? s->rec_top1 + at : NULL,
                    s->rec_topk ? s->rec_topk + at : NULL,
                    s->rec_synops ? s->rec_synops + at : NULL};
    return r;
}

static snn_status state_init(sim_state *s, const snn_net *net, size_t batch,
                             const snn_sim_opts *o, snn_error *err)
{
    snn_sim_engine engine = o->engine;
    memset(s, 0, sizeof *s);
    snn_status st = sim_plan_build(net, &s->plan, err);
    if (st != SNN_OK)
        return st;
    s->event = engine != SNN_ENGINE_REFERENCE && sim_plan_event_ok(net);
    int ok = s->event ? event_init(s, net, batch, err)
                      : reference_init(s, net, batch);
    s->out_count = alloc_array(batch, snn_net_layer_size(net, net->n_layers - 1),
                               sizeof(float), &ok);
    record_init(s, o, &ok);
    if (!ok) {
        state_free(s);
        return snn_error_set(err, SNN_E_NOMEM,
                             "cannot allocate simulation state for a batch "
                             "of %zu", batch);
    }
    return SNN_OK;
}

/* Starts membranes at v_init and clears counters between batches (reset_between_nth_sample
 * = 1, as the original's default). */
static void reference_reset(sim_state *s, const snn_net *net, size_t b)
{
    for (int i = 0; i < net->n_layers; i++) {
        const snn_net_layer *l = &net->layers[i];
        size_t n = snn_net_layer_size(net, i);
        layer_state *ls = &s->ls[i];
        memset(ls->spk, 0, b * n * sizeof(float));
        if (ls->v)
            snn_membrane_start(net, ls->v, b * n);
        if (ls->count)
            memset(ls->count, 0,
                   b * snn_shape_numel(&l->in_shape) * sizeof(float));
    }
    memset(s->out_count, 0,
           b * snn_net_layer_size(net, net->n_layers - 1) * sizeof(float));
}

/* Spikes in `in` (b samples) times their fan-out into layer i. */
static double reference_synops(const plan_layer *pl, const float *in, size_t b)
{
    double ops = 0;
    for (size_t k = 0; k < b * pl->in_n; k++)
        if (in[k] != 0)
            ops += pl->fanout[k % pl->in_n];
    return ops;
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

/* Layer i's spikes and potentials of step t, for every sample of the
 * batch (first is the batch's first row). */
static void reference_record_layer(const snn_net *net, const sim_state *s,
                                   const snn_sim_opts *o, const snn_tensor *y,
                                   size_t first, size_t b, int i, int t)
{
    size_t n = snn_net_layer_size(net, i);
    const layer_state *ls = &s->ls[i];
    for (size_t j = 0; j < b; j++) {
        rec_sample r = record_sample(net, s, o, y, first + j, 0);
        if (!sim_record_neurons(&r, i))
            continue;
        for (size_t k = 0; k < n; k++) {
            if (ls->spk[j * n + k] != 0)
                sim_record_spike(&r, i, t, k);
            if (ls->v)
                sim_record_vmem(&r, i, t, k, ls->v[j * n + k]);
        }
    }
}

static void reference_record_hits(const snn_net *net, const sim_state *s,
                                  const snn_sim_opts *o, const snn_tensor *y,
                                  size_t first, size_t b, int t)
{
    size_t n_out = snn_net_layer_size(net, net->n_layers - 1);
    for (size_t j = 0; j < b; j++) {
        rec_sample r = record_sample(net, s, o, y, first + j, 0);
        sim_record_hits(&r, t, s->out_count + j * n_out);
    }
}

static void reference_batch(const snn_net *net, sim_state *s, const float *x,
                            const snn_tensor *y, size_t first, size_t b,
                            const snn_sim_opts *o, snn_sim_result *res)
{
    int last = net->n_layers - 1;
    size_t n_out = snn_net_layer_size(net, last);
    reference_reset(s, net, b);
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
                res->layer_spikes[i] += spikes / net->v_thresh;
                res->neuron_steps += (double)b * snn_net_layer_size(net, i);
                double ops = l->input >= 0
                                 ? reference_synops(&s->plan.layers[i], in, b)
                                 : 0;
                res->synops += ops;
                if (s->rec_synops)
                    s->rec_synops[t] += ops;
            }
            if (o->record)
                reference_record_layer(net, s, o, y, first, b, i, t);
        }
        for (size_t k = 0; k < b * n_out; k++)
            s->out_count[k] += s->ls[last].spk[k] != 0;
        if (o->record)
            reference_record_hits(net, s, o, y, first, b, t);
    }
}

static void event_batch(const snn_net *net, sim_state *s, const float *x,
                        const snn_tensor *y, size_t first, size_t b,
                        const snn_sim_opts *o, snn_sim_result *res)
{
    const snn_net_layer *l0 = &net->layers[0];
    size_t n0 = snn_net_layer_size(net, 0);
    size_t n_out = snn_net_layer_size(net, net->n_layers - 1);
    snn_op_forward(&l0->syn, &l0->in_shape, x, b, s->cur0);
    #pragma omp parallel for schedule(dynamic, 1)
    for (size_t j = 0; j < b; j++) {
        int thread = omp_get_thread_num();
        rec_sample r;
        if (o->record)
            r = record_sample(net, s, o, y, first + j, thread);
        sim_sample out = {s->out_count + j * n_out, 0, 0,
                          o->record ? &r : NULL,
                          s->layer_spikes + (size_t)thread * net->n_layers};
        sim_event_sample(net, &s->plan, s->work[thread], s->cur0 + j * n0,
                         first + j, o, &out);
        s->spikes[j] = out.spikes;
        s->synops[j] = out.synops;
    }
    /* Summed in sample order: the totals do not depend on the threads. */
    for (size_t j = 0; j < b; j++) {
        res->spikes += s->spikes[j];
        res->synops += s->synops[j];
    }
    for (int i = 0; i < net->n_layers; i++)
        if (is_neuron_layer(&net->layers[i]))
            res->neuron_steps +=
                (double)b * o->steps * (double)snn_net_layer_size(net, i);
}

static void score_batch(const snn_net *net, const sim_state *s,
                        const snn_tensor *y, size_t first, size_t b,
                        int top_k, snn_sim_result *res)
{
    size_t n_out = snn_net_layer_size(net, net->n_layers - 1);
    for (size_t j = 0; j < b; j++) {
        const float *counts = s->out_count + j * n_out;
        int label = sim_label(y->data + (first + j) * n_out, n_out), topk;
        int pred = sim_classify(counts, n_out, label, top_k, &topk);
        res->predictions[first + j] = pred;
        res->silent += pred < 0;
        res->top1 += pred >= 0 && pred == label;
        res->topk += (size_t)topk;
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
    if ((unsigned)o->engine > SNN_ENGINE_REFERENCE)
        return snn_error_set(err, SNN_E_INVALID, "unknown simulation engine %d",
                             (int)o->engine);
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
    res->layer_spikes = calloc((size_t)net->n_layers,
                               sizeof *res->layer_spikes);
    if (!res->predictions || !res->layer_spikes) {
        snn_sim_result_free(res);
        return snn_error_set(err, SNN_E_NOMEM, "cannot allocate results");
    }
    if (o->record)
        st = sim_record_start(o->record, net, o->steps, err);
    sim_state s;
    if (st == SNN_OK)
        st = state_init(&s, net, batch ? batch : 1, o, err);
    if (st != SNN_OK) {
        snn_sim_result_free(res);
        return st;
    }
    size_t in_n = snn_shape_numel(&net->input_shape);
    for (size_t first = 0; first < n; first += batch) {
        size_t b = n - first < batch ? n - first : batch;
        const float *xb = x->data + first * in_n;
        if (s.event)
            event_batch(net, &s, xb, y, first, b, o, res);
        else
            reference_batch(net, &s, xb, y, first, b, o, res);
        score_batch(net, &s, y, first, b, o->top_k, res);
        if (o->progress)
            o->progress(o->progress_user, res->n, n, res->top1);
    }
    record_finish(&s, o);
    /* Integer sums: exact, so the threads' order does not matter. */
    for (int k = 0; s.event && k < s.n_work * net->n_layers; k++)
        res->layer_spikes[k % net->n_layers] += s.layer_spikes[k];
    state_free(&s);
    return SNN_OK;
}

int snn_sim_engine_parse(const char *name)
{
    static const char *const names[] = {"auto", "event", "dense", "reference"};
    for (int i = 0; i < (int)(sizeof names / sizeof *names); i++)
        if (strcmp(name, names[i]) == 0)
            return i;
    return -1;
}

void snn_sim_result_free(snn_sim_result *res)
{
    free(res->predictions);
    free(res->layer_spikes);
    res->predictions = NULL;
    res->layer_spikes = NULL;
}
