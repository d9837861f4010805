/*
 * sim.c - the native time-stepped simulator: checks, the batch loop,
 * scoring, and the choice of engine.
 *
 * Every step, layers are updated in order, so a spike crosses the whole
 * network within one step, as in the original's INIsim.  The input is a
 * constant current (the analog sample), so the first layer's current is
 * computed once per batch, or a fresh frame every step (Poisson spikes,
 * or frames from opts->step_input such as DVS event frames).  The event engine (event.c) runs each sample
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
#include "sim/codes.h"
#include "sim/event.h"
#include "sim/input.h"
#include "sim/neuron.h"
#include "sim/plan.h"
#include "sim/record.h"
#include "snntb/ann.h"

/* The reference engine's per-layer tensors for a whole batch. */
typedef struct layer_state {
    float *cur;   /* synaptic current this step, (batch, n) */
    float *v;     /* membrane potential, (batch, n) */
    float *spk;   /* spikes emitted this step, (batch, n): 0 or v_thresh */
    float *count; /* max-gating: input rate estimates, (batch, in_n) */
    float *proj;  /* a layer with weighted projections: one's current */
    /* Options of net->cell, NULL when off: */
    uint32_t *refrac_until;       /* (batch, n) */
    float *payload, *payload_sum; /* (batch, n) */
    float *onl_count;             /* online normalization: spikes so far */
    double *onl_rate;             /* its top rate per sample, (batch) */
} layer_state;

/* Which engine the state is for: the per-sample ones (event, codes)
 * run each sample on one thread. */
typedef enum sim_mode { MODE_REFERENCE, MODE_EVENT, MODE_CODES } sim_mode;

typedef struct sim_state {
    sim_mode mode;
    layer_state *ls;  /* reference engine */
    int n;
    float *xin;       /* reference engine, Poisson or step input: frames
                         (batch, n) */
    long *fired_in;   /* reference engine, Poisson input: spikes so far */
    sim_work **work;  /* event engine: one per thread */
    codes_work **codes; /* spike codes: one per thread */
    int n_work;
    float *cur0;      /* event engine: first layer's current, (batch, n) */
    double *spikes, *synops; /* per-sample engines: per sample of the batch */
    int *steps_run;   /* per-sample engines: steps each sample ran */
    double *layer_spikes; /* per-sample engines: per thread and net layer */
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
        free(s->ls[i].proj);
        free(s->ls[i].refrac_until);
        free(s->ls[i].payload);
        free(s->ls[i].payload_sum);
        free(s->ls[i].onl_count);
        free(s->ls[i].onl_rate);
    }
    free(s->ls);
    free(s->xin);
    free(s->fired_in);
    for (int i = 0; s->work && i < s->n_work; i++)
        sim_work_free(s->work[i]);
    free(s->work);
    for (int i = 0; s->codes && i < s->n_work; i++)
        sim_codes_work_free(s->codes[i]);
    free(s->codes);
    free(s->steps_run);
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

static int reference_init(sim_state *s, const snn_net *net, size_t batch,
                          const snn_sim_opts *o)
{
    int ok = 1;
    s->n = net->n_layers;
    if (sim_input_poisson(o) || o->step_input)
        s->xin = alloc_array(batch, snn_shape_numel(&net->input_shape),
                             sizeof(float), &ok);
    if (sim_input_poisson(o))
        s->fired_in = alloc_array(batch, 1, sizeof *s->fired_in, &ok);
    s->ls = alloc_array((size_t)net->n_layers, 1, sizeof *s->ls, &ok);
    for (int i = 0; ok && i < net->n_layers; i++) {
        const snn_net_layer *l = &net->layers[i];
        size_t n = snn_net_layer_size(net, i);
        layer_state *ls = &s->ls[i];
        ls->spk = alloc_array(batch, n, sizeof(float), &ok);
        if (is_neuron_layer(l)) {
            const snn_cell *c = &net->cell;
            ls->cur = alloc_array(batch, n, sizeof(float), &ok);
            ls->v = alloc_array(batch, n, sizeof(float), &ok);
            if (c->tau_refrac > 0)
                ls->refrac_until = alloc_array(batch, n, sizeof(uint32_t), &ok);
            if (c->payloads && l->unit == SNN_UNIT_IF) {
                ls->payload = alloc_array(batch, n, sizeof(float), &ok);
                ls->payload_sum = alloc_array(batch, n, sizeof(float), &ok);
            }
            if (c->online_normalization) {
                ls->onl_count = alloc_array(batch, n, sizeof(float), &ok);
                ls->onl_rate = alloc_array(batch, 1, sizeof(double), &ok);
            }
        }
        if (l->unit == SNN_UNIT_MAXGATE)
            ls->count = alloc_array(batch, snn_shape_numel(&l->in_shape),
                                    sizeof(float), &ok);
        if (l->n_proj > 0 && is_neuron_layer(l))
            ls->proj = alloc_array(batch, n, sizeof(float), &ok);
    }
    return ok;
}

/* The per-sample engines: event (work) or spike codes (codes). */
static int sample_init(sim_state *s, const snn_net *net, size_t batch,
                       snn_error *err)
{
    int ok = 1;
    s->n_work = omp_get_max_threads();
    s->spikes = alloc_array(batch, 1, sizeof *s->spikes, &ok);
    s->synops = alloc_array(batch, 1, sizeof *s->synops, &ok);
    s->steps_run = alloc_array(batch, 1, sizeof *s->steps_run, &ok);
    s->layer_spikes = alloc_array((size_t)s->n_work, (size_t)net->n_layers,
                                  sizeof *s->layer_spikes, &ok);
    if (s->mode == MODE_CODES) {
        s->codes = alloc_array((size_t)s->n_work, 1, sizeof *s->codes, &ok);
        for (int i = 0; ok && i < s->n_work; i++)
            ok = sim_codes_work_create(net, &s->codes[i], err) == SNN_OK;
        return ok;
    }
    s->work = alloc_array((size_t)s->n_work, 1, sizeof *s->work, &ok);
    s->cur0 = alloc_array(batch, snn_net_layer_size(net, 0), sizeof(float), &ok);
    for (int i = 0; ok && i < s->n_work; i++)
        ok = sim_work_create(net, &s->plan, &s->work[i], err) == SNN_OK;
    return ok;
}

/* One set of per-step sums per thread; summed at the end, exactly (the
 * sums are integers), so the thread count does not change them. */
static void record_init(sim_state *s, const snn_sim_opts *o, int *ok)
{
    const snn_sim_record *rec = o->record;
    size_t threads = s->mode != MODE_REFERENCE ? (size_t)s->n_work : 1;
    size_t steps = (size_t)o->steps;
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
    size_t threads = s->mode != MODE_REFERENCE ? (size_t)s->n_work : 1;
    size_t steps = (size_t)o->steps;
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

/* Spike codes run in codes.c. */
static sim_mode choose_mode(const snn_net *net, const snn_sim_opts *o)
{
    if (o->code != SNN_CODE_RATE)
        return MODE_CODES;
    const char *why;
    if (o->engine == SNN_ENGINE_REFERENCE ||
        sim_plan_event_refused(net, &why) >= 0 ||
        snn_sim_event_unsupported(net))
        return MODE_REFERENCE;
    return MODE_EVENT;
}

static snn_status state_init(sim_state *s, const snn_net *net, size_t batch,
                             const snn_sim_opts *o, snn_error *err)
{
    snn_sim_engine engine = o->engine;
    const char *why = snn_sim_event_unsupported(net), *layer_why;
    const char *name = engine == SNN_ENGINE_EVENT ? "event" : "dense";
    int forced = engine == SNN_ENGINE_EVENT || engine == SNN_ENGINE_DENSE;
    int refused = sim_plan_event_refused(net, &layer_why);
    memset(s, 0, sizeof *s);
    if (why && forced)
        return snn_error_set(err, SNN_E_UNSUPPORTED,
                             "simulation engine %s cannot run %s: use auto "
                             "or reference", name, why);
    if (refused >= 0 && forced)
        return snn_error_set(err, SNN_E_UNSUPPORTED,
                             "simulation engine %s cannot run layer %s (%s): "
                             "use auto or reference", name,
                             net->layers[refused].syn.name, layer_why);
    snn_status st = sim_plan_build(net, &s->plan, err);
    if (st != SNN_OK)
        return st;
    s->mode = choose_mode(net, o);
    int ok = s->mode != MODE_REFERENCE ? sample_init(s, net, batch, err)
                                       : reference_init(s, net, batch, o);
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

/* Starts membranes at v_init (unless keep_v: reset_between_nth_sample)
 * and clears counters between batches. */
static void reference_reset(sim_state *s, const snn_net *net, size_t b,
                            int keep_v)
{
    if (s->fired_in)
        memset(s->fired_in, 0, b * sizeof *s->fired_in);
    for (int i = 0; i < net->n_layers; i++) {
        const snn_net_layer *l = &net->layers[i];
        size_t n = snn_net_layer_size(net, i);
        layer_state *ls = &s->ls[i];
        memset(ls->spk, 0, b * n * sizeof(float));
        if (ls->v && !keep_v)
            snn_membrane_start(net, ls->v, b * n);
        if (ls->count)
            memset(ls->count, 0,
                   b * snn_shape_numel(&l->in_shape) * sizeof(float));
        if (ls->refrac_until)
            memset(ls->refrac_until, 0, b * n * sizeof(uint32_t));
        if (ls->payload) {
            memset(ls->payload, 0, b * n * sizeof(float));
            memset(ls->payload_sum, 0, b * n * sizeof(float));
        }
        if (ls->onl_count) {
            memset(ls->onl_count, 0, b * n * sizeof(float));
            memset(ls->onl_rate, 0, b * sizeof(double));
        }
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

/* What net layer src gives this step: its spikes, or (src < 0) the
 * input x0. */
static const float *layer_out(const sim_state *s, const float *x0, int src)
{
    return src < 0 ? x0 : s->ls[src].spk;
}

/* Layer i's synaptic operations this step: spikes times fan-out over its
 * input, or over each of its projections; a constant input (no Poisson or
 * step frames) is not counted. */
static double layer_synops(const snn_net *net, const sim_state *s, int i,
                           const float *x0, size_t b)
{
    const snn_net_layer *l = &net->layers[i];
    const plan_layer *pl = &s->plan.layers[i];
    double ops = 0;
    if (l->n_proj == 0)
        return l->input >= 0 || s->xin
                   ? reference_synops(pl, layer_out(s, x0, l->input), b)
                   : 0;
    for (int j = 0; j < l->n_proj; j++)
        if (l->proj[j].input >= 0 || s->xin)
            ops += reference_synops(&pl->proj[j],
                                    layer_out(s, x0, l->proj[j].input), b);
    return ops;
}

/* Bias relaxation: layer i's bias current at step t is its bias times
 * clip(1 - (1 - 2 t_k / duration) * i / 50, 0, 1), t_k = (t + 1) dt (the
 * original's update_b, i its layer index); cur holds the full bias. */
static void relax_bias(const snn_net *net, int i, int t, float *cur, size_t b)
{
    const snn_layer *syn = &net->layers[i].syn;
    double tk = (double)(t + 1) * net->dt;
    double m = 1 - (1 - 2 * tk / net->cell.duration) * i / 50.0;
    m = m < 0 ? 0 : m > 1 ? 1 : m;
    size_t n = snn_net_layer_size(net, i), c = syn->shape.dims[0];
    size_t plane = syn->shape.ndim == 3 ? n / c : 1;
    if (syn->shape.ndim != 3)
        c = n;
    for (size_t k = 0; syn->bias.data && k < b * n; k++)
        cur[k] += (float)((m - 1) * syn->bias.data[k / plane % c]);
}

/* Online normalization (the original's get_new_thresh): this step's
 * threshold from the layer's top rate so far, r = max count / steps:
 * v_thresh / 100 + 0.99 v_thresh * r * dt. */
static float online_thresh(const snn_net *net, double rate)
{
    double th = net->v_thresh, lo = th / 100;
    return (float)(lo + (th - lo) * rate * net->dt);
}

static void online_update(layer_state *ls, size_t j, size_t n, int t)
{
    float top = 0;
    for (size_t k = j * n; k < (j + 1) * n; k++) {
        ls->onl_count[k] += ls->spk[k] != 0;
        top = ls->onl_count[k] > top ? ls->onl_count[k] : top;
    }
    ls->onl_rate[j] = top / (double)(t + 1);
}

/* The neurons of layer i fire; returns the number of spikes. */
static size_t fire_layer(const snn_net *net, layer_state *ls, int i, int t,
                         size_t b, const snn_rng_key *key)
{
    size_t n = snn_net_layer_size(net, i), spikes = 0;
    int softmax = net->layers[i].unit == SNN_UNIT_SOFTMAX;
    snn_neuron_params p;
    snn_neuron_params_init(&p, net, i, t);
    p.refrac_until = ls->refrac_until;
    p.payload = ls->payload;
    p.payload_sum = ls->payload_sum;
    if (!ls->onl_count)
        return softmax ? snn_softmax_fire(&p, ls->cur, ls->v, ls->spk, b, n, key)
                       : snn_if_fire(&p, ls->cur, ls->v, ls->spk, b * n);
    /* One threshold per sample. */
    for (size_t j = 0; j < b; j++) {
        snn_neuron_params q = p;
        snn_rng_key kj = *key;
        size_t at = j * n;
        kj.sample += j;
        q.v_thresh = online_thresh(net, ls->onl_rate[j]);
        q.refrac_until = p.refrac_until ? p.refrac_until + at : NULL;
        q.payload = p.payload ? p.payload + at : NULL;
        q.payload_sum = p.payload_sum ? p.payload_sum + at : NULL;
        spikes += softmax ? snn_softmax_fire(&q, ls->cur + at, ls->v + at,
                                             ls->spk + at, 1, n, &kj)
                          : snn_if_fire(&q, ls->cur + at, ls->v + at,
                                        ls->spk + at, n);
        online_update(ls, j, n, t);
    }
    return spikes;
}

/* A concatenation: its sources' spikes side by side. */
static void concat_step(const snn_net_layer *l, const sim_state *s,
                        const float *x0, size_t b, float *spk)
{
    const snn_shape *ins[SNN_MAX_INPUTS];
    const float *xs[SNN_MAX_INPUTS];
    for (int j = 0; j < l->n_proj; j++) {
        ins[j] = &l->proj[j].in_shape;
        xs[j] = layer_out(s, x0, l->proj[j].input);
    }
    snn_merge_forward(&l->syn, ins, xs, b, spk);
}

/* An Add's current: its bias plus every projection's, recomputed each
 * step (also those from a constant input). */
static void merge_current(const snn_net_layer *l, const sim_state *s,
                          const float *x0, size_t b, layer_state *ls)
{
    size_t n = snn_shape_numel(&l->syn.shape);
    size_t c = snn_shape_channels(&l->syn.shape), hw = n / c;
    const float *bias = l->syn.bias.data;
    for (size_t r = 0; r < b * c; r++)
        for (size_t k = r * hw; k < (r + 1) * hw; k++)
            ls->cur[k] = bias ? bias[r % c] : 0;
    for (int j = 0; j < l->n_proj; j++) {
        const snn_net_proj *p = &l->proj[j];
        const float *in = layer_out(s, x0, p->input);
        if (p->syn.op == SNN_OP_ACTIVATION) {
            /* One factor per channel: rows of hw values share it. */
            for (size_t r = 0; r < b * c; r++) {
                float f = p->syn.weight.data[r % c];
                for (size_t k = r * hw; k < (r + 1) * hw; k++)
                    ls->cur[k] += f * in[k];
            }
            continue;
        }
        snn_op_forward(&p->syn, &p->in_shape, in, b, ls->proj);
        for (size_t k = 0; k < b * n; k++)
            ls->cur[k] += ls->proj[k];
    }
}

/* One step of layer i.  `in` is the input layer's spikes (or the sample
 * x0).  Returns the spikes of a neuron layer. */
static size_t step_layer(const snn_net *net, sim_state *s, int i, int t,
                         const float *x0, size_t b, const snn_rng_key *key)
{
    const snn_net_layer *l = &net->layers[i];
    const float *in = layer_out(s, x0, l->input);
    int fed = l->input >= 0 || s->xin;
    layer_state *ls = &s->ls[i];
    int relax = net->cell.bias_relaxation && l->syn.bias.data;
    switch (l->unit) {
    case SNN_UNIT_RESHAPE:
        if (l->n_proj > 0)
            concat_step(l, s, x0, b, ls->spk);
        else
            snn_op_forward(&l->syn, &l->in_shape, in, b, ls->spk);
        return 0;
    case SNN_UNIT_MAXGATE:
        snn_maxgate_step(&l->syn, &l->in_shape, net->cell.maxpool, in,
                         ls->count, b, ls->spk);
        return 0;
    case SNN_UNIT_IF:
    case SNN_UNIT_SOFTMAX:
        break;
    }
    /* A first layer fed by a constant input: its current was computed
     * once for the batch (unless its bias changes with time). */
    if (l->n_proj > 0)
        merge_current(l, s, x0, b, ls);
    else if (fed || relax)
        snn_op_forward(&l->syn, &l->in_shape, in, b, ls->cur);
    if (relax)
        relax_bias(net, i, t, ls->cur, b);
    return fire_layer(net, ls, i, t, b, key);
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

/* Poisson or step input: each sample's frame of step t into s->xin;
 * *empty: how many of the frames are empty. */
static snn_status reference_frames(const snn_net *net, sim_state *s,
                                   const float *x, size_t first, size_t b,
                                   int t, const snn_sim_opts *o,
                                   size_t *empty, snn_error *err)
{
    size_t n = snn_shape_numel(&net->input_shape);
    *empty = 0;
    for (size_t j = 0; j < b; j++) {
        const float *xj = x + j * n;
        float *out = s->xin + j * n;
        snn_status st = o->step_input ? o->step_input(o->step_user, first + j,
                                                      t, out, err)
                                      : SNN_OK;
        if (st != SNN_OK)
            return st;
        if (o->step_input)
            *empty += sim_input_empty(out, n);
        else
            *empty += sim_input_frame(o, net->dt, xj, n, sim_input_peak(xj, n),
                                      first + j, t, &s->fired_in[j], out) == 0;
    }
    return SNN_OK;
}

/* After an early stop (b is then 1) the remaining steps keep the final
 * counts. */
static void reference_record_rest(const snn_net *net, const sim_state *s,
                                  const snn_sim_opts *o, const snn_tensor *y,
                                  size_t first, size_t b, int t)
{
    size_t n_out = snn_net_layer_size(net, net->n_layers - 1);
    for (size_t j = 0; o->record && j < b; j++) {
        rec_sample r = record_sample(net, s, o, y, first + j, 0);
        sim_record_rest(&r, t, o->steps, s->out_count + j * n_out);
    }
}

/* Early stopping (the original's rule: the input is empty) needs b = 1,
 * which snn_simulate then uses. */
static snn_status reference_batch(const snn_net *net, sim_state *s,
                                  const float *x, const snn_tensor *y,
                                  size_t first, size_t b,
                                  const snn_sim_opts *o, snn_sim_result *res,
                                  snn_error *err)
{
    snn_status st = SNN_OK;
    size_t empty = 0;
    int last = net->n_layers - 1, t = 0;
    size_t n_out = snn_net_layer_size(net, last);
    size_t n_x = snn_shape_numel(&net->input_shape);
    const float *x0 = s->xin ? s->xin : x;
    reference_reset(s, net, b, sim_keep_v(o, first));
    for (int i = 0; !s->xin && i < net->n_layers; i++)
        if (net->layers[i].input < 0 && !net->layers[i].n_proj &&
            is_neuron_layer(&net->layers[i]))
            snn_op_forward(&net->layers[i].syn, &net->layers[i].in_shape, x,
                           b, s->ls[i].cur);
    int stop = o->early_stopping && !s->xin && sim_input_empty(x, b * n_x);
    for (; t < o->steps && !stop; t++) {
        if (s->xin &&
            (st = reference_frames(net, s, x, first, b, t, o, &empty, err)) !=
                SNN_OK)
            return st;
        if (s->xin && empty == b && o->early_stopping)
            break;
        for (int i = 0; i < net->n_layers; i++) {
            const snn_net_layer *l = &net->layers[i];
            snn_rng_key key = {o->seed, first, (uint64_t)t, (uint64_t)i};
            size_t spikes = step_layer(net, s, i, t, x0, b, &key);
            if (is_neuron_layer(l)) {
                res->spikes += (double)spikes;
                res->layer_spikes[i] += (double)spikes;
                res->neuron_steps += (double)b * snn_net_layer_size(net, i);
                double ops = layer_synops(net, s, i, x0, b);
                res->synops += ops;
                if (s->rec_synops)
                    s->rec_synops[t] += ops;
            }
            if (o->record)
                reference_record_layer(net, s, o, y, first, b, i, t);
        }
        /* As the original (out_spikes > 0): a binary_tanh output's
         * negative spikes do not vote. */
        for (size_t k = 0; k < b * n_out; k++)
            s->out_count[k] += s->ls[last].spk[k] > 0;
        if (o->record)
            reference_record_hits(net, s, o, y, first, b, t);
    }
    reference_record_rest(net, s, o, y, first, b, t);
    return st;
}

/* The per-sample engines over a batch: in parallel, or one after another
 * on thread 0 when samples carry membrane potentials over.  Fails only
 * when o->step_input does (the first failure's error is kept). */
static snn_status sample_batch(const snn_net *net, sim_state *s,
                               const float *x, const snn_tensor *y,
                               size_t first, size_t b, const snn_sim_opts *o,
                               snn_sim_result *res, snn_error *err)
{
    const snn_net_layer *l0 = &net->layers[0];
    size_t n0 = snn_net_layer_size(net, 0), n_x = snn_shape_numel(&net->input_shape);
    size_t n_out = snn_net_layer_size(net, net->n_layers - 1);
    snn_status failed = SNN_OK;
    if (s->mode == MODE_EVENT && !sim_input_poisson(o) && !o->step_input &&
        l0->n_proj == 0)
        snn_op_forward(&l0->syn, &l0->in_shape, x, b, s->cur0);
    #pragma omp parallel for schedule(dynamic, 1) if (o->reset_every <= 1)
    for (size_t j = 0; j < b; j++) {
        int thread = omp_get_thread_num();
        snn_error e = {0};
        snn_status st = SNN_OK;
        rec_sample r;
        if (o->record)
            r = record_sample(net, s, o, y, first + j, thread);
        sim_sample out = {s->out_count + j * n_out, 0, 0,
                          o->record ? &r : NULL, x + j * n_x,
                          sim_keep_v(o, first + j), 0,
                          s->layer_spikes + (size_t)thread * net->n_layers};
        if (s->mode == MODE_CODES)
            sim_codes_sample(net, &s->plan, s->codes[thread], first + j, o,
                             &out);
        else
            st = sim_event_sample(net, &s->plan, s->work[thread],
                                  s->cur0 + j * n0, first + j, o, &out, &e);
        if (st != SNN_OK) {
            #pragma omp critical(sim_step_input_error)
            if (failed == SNN_OK) {
                failed = st;
                *err = e;
            }
        }
        s->spikes[j] = out.spikes;
        s->synops[j] = out.synops;
        s->steps_run[j] = out.steps_run;
    }
    /* Summed in sample order: the totals do not depend on the threads. */
    double neurons = 0;
    for (int i = 0; i < net->n_layers; i++)
        if (is_neuron_layer(&net->layers[i]))
            neurons += (double)snn_net_layer_size(net, i);
    for (size_t j = 0; j < b; j++) {
        res->spikes += s->spikes[j];
        res->synops += s->synops[j];
        res->neuron_steps += neurons * s->steps_run[j];
    }
    return failed;
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

/* Per-step input frames are rate-coded. */
static snn_status check_step_input(const snn_sim_opts *o, snn_error *err)
{
    if (!o->step_input)
        return SNN_OK;
    if (o->code != SNN_CODE_RATE)
        return snn_error_set(err, SNN_E_UNSUPPORTED, "per-step input frames "
                             "(DVS event frames, eventframe_width) need "
                             "spike_code = temporal_mean_rate");
    if (sim_input_poisson(o))
        return snn_error_set(err, SNN_E_UNSUPPORTED, "per-step input frames "
                             "(DVS event frames, eventframe_width) and "
                             "Poisson input (poisson_input) exclude each "
                             "other");
    return SNN_OK;
}

static snn_status check_inputs(const snn_net *net, const snn_tensor *x,
                               const snn_tensor *y, size_t n,
                               const snn_sim_opts *o, snn_error *err)
{
    if (net->n_layers < 1)
        return snn_error_set(err, SNN_E_INVALID, "the spiking net is empty");
    size_t in_n = snn_shape_numel(&net->input_shape);
    size_t n_out = snn_net_layer_size(net, net->n_layers - 1);
    if (x && (x->ndim < 1 || snn_tensor_numel(x) != x->dims[0] * in_n))
        return snn_error_set(err, SNN_E_SHAPE,
                             "samples do not fit the net's input of %zu "
                             "values", in_n);
    size_t have = x ? x->dims[0] : y->dims[0];
    if (y->ndim != 2 || y->dims[0] != have || y->dims[1] != n_out)
        return snn_error_set(err, SNN_E_SHAPE,
                             "labels must be one-hot (%zu, %zu)", have,
                             n_out);
    if (n > have)
        return snn_error_set(err, SNN_E_INVALID,
                             "asked for %zu samples, the dataset has %zu", n,
                             have);
    if (o->steps < 1 || o->batch_size < 1 || o->top_k < 1)
        return snn_error_set(err, SNN_E_INVALID,
                             "steps, batch size and top-k must be >= 1");
    if ((unsigned)o->engine > SNN_ENGINE_REFERENCE)
        return snn_error_set(err, SNN_E_INVALID, "unknown simulation engine %d",
                             (int)o->engine);
    return check_step_input(o, err);
}

/* Samples from x, or (x NULL) from fetch into a batch buffer. */
static snn_status simulate(const snn_net *net, const snn_tensor *x,
                           snn_sim_fetch fetch, void *user,
                           const snn_tensor *y, size_t n,
                           const snn_sim_opts *o, snn_sim_result *res,
                           snn_error *err)
{
    memset(res, 0, sizeof *res);
    snn_status st = check_inputs(net, x, y, n, o, err);
    if (st == SNN_OK)
        st = sim_codes_check(net, o, err);
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
    size_t in_n = snn_shape_numel(&net->input_shape);
    sim_state s;
    if (st == SNN_OK)
        st = state_init(&s, net, batch ? batch : 1, o, err);
    if (st != SNN_OK) {
        snn_sim_result_free(res);
        return st;
    }
    float *buf = x ? NULL : malloc((batch ? batch : 1) * in_n * sizeof *buf);
    if (!x && !buf)
        st = snn_error_set(err, SNN_E_NOMEM, "cannot allocate a batch");
    for (size_t first = 0; st == SNN_OK && first < n; first += batch) {
        size_t b = n - first < batch ? n - first : batch;
        const float *xb = x ? x->data + first * in_n : buf;
        if (!x && (st = fetch(user, first, b, buf, err)) != SNN_OK)
            break;
        if (s.mode != MODE_REFERENCE) {
            st = sample_batch(net, &s, xb, y, first, b, o, res, err);
            score_batch(net, &s, y, first, b, o->top_k, res);
        } else if (o->early_stopping || o->reset_every > 1) {
            for (size_t j = 0; st == SNN_OK && j < b; j++) {
                st = reference_batch(net, &s, xb + j * in_n, y, first + j, 1,
                                     o, res, err);
                score_batch(net, &s, y, first + j, 1, o->top_k, res);
            }
        } else {
            st = reference_batch(net, &s, xb, y, first, b, o, res, err);
            score_batch(net, &s, y, first, b, o->top_k, res);
        }
        if (st != SNN_OK)
            break;
        if (o->progress)
            o->progress(o->progress_user, res->n, n, res->top1);
        if (o->stop && res->n < n && o->stop(o->progress_user)) {
            st = snn_error_set(err, SNN_E_INVALID, "simulation stopped on "
                               "request after %zu of %zu samples", res->n, n);
            break;
        }
    }
    free(buf);
    record_finish(&s, o);
    /* Integer sums: exact, so the threads' order does not matter. */
    for (int k = 0; s.mode != MODE_REFERENCE && k < s.n_work * net->n_layers;
         k++)
        res->layer_spikes[k % net->n_layers] += s.layer_spikes[k];
    state_free(&s);
    if (st != SNN_OK)
        snn_sim_result_free(res);
    return st;
}

int snn_spike_code_parse(const char *name)
{
    static const char *const names[] = {"temporal_mean_rate", "temporal_pattern",
                                        "ttfs", "ttfs_dyn_thresh",
                                        "ttfs_corrective"};
    for (int i = 0; i < (int)(sizeof names / sizeof *names); i++)
        if (strcmp(name, names[i]) == 0)
            return i;
    return -1;
}

snn_status snn_simulate(const snn_net *net, const snn_tensor *x,
                        const snn_tensor *y, size_t n,
                        const snn_sim_opts *o, snn_sim_result *res,
                        snn_error *err)
{
    return simulate(net, x, NULL, NULL, y, n, o, res, err);
}

snn_status snn_simulate_fetch(const snn_net *net, snn_sim_fetch fetch,
                              void *user, const snn_tensor *y, size_t n,
                              const snn_sim_opts *o, snn_sim_result *res,
                              snn_error *err)
{
    return simulate(net, NULL, fetch, user, y, n, o, res, err);
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
