/*
 * codes.c - the spike codes of the original's INIsim other than rate
 * coding (see codes.h), each with the behaviour its backend has:
 *
 * ttfs: a neuron integrates until it first reaches v_thresh, fires once,
 *   resets to zero and stays refractory for the rest of the sample (the
 *   original sets tau_refrac = duration); from then on it sends dt every
 *   step (its post-synaptic potential stays on).  A layer receives
 *   current (including its bias) only in steps where some input is on.
 *   Max-pooling turns a window on when any input in it is on.  A softmax
 *   output fires with probability softmax(V), never resets, and sends its
 *   spikes as they come.
 * ttfs_dyn_thresh: ttfs, and each neuron's threshold for the next step is
 *   v_thresh plus its "missing impulse": |W| times the prospective spikes
 *   of its inputs (inputs not yet fired whose current this step was
 *   positive).  Max-pooling passes prospective spikes of a window once
 *   any was seen.
 * ttfs_corrective: no reset; a neuron fires +1 when V rises to v_thresh
 *   and -1 (corrective) when it falls below again, and is on in between;
 *   max-pooling is such a neuron fed by the window maximum.
 * temporal_pattern: the input of every Dense or Conv2D layer is cut to
 *   num_bits binary digits (2^-1 .. 2^-num_bits, greedily, saturating),
 *   one step per digit, and the layer computes W q + b and its
 *   activation; pooling and flattening pass values on.  A layer's spikes
 *   are the digits of its output: digit t fires at step t.
 *
 * The output layer is read as the original reads it: per step, every
 * output neuron that is on (ttfs family) or fired adds one to its class
 * count, so the class that fires first wins under ttfs (the first on
 * ties); temporal_pattern's output adds digit t times 2^-t at step t.
 * Synaptic operations are, as the original counts them, the spikes
 * (ttfs: the first spikes; corrective: both signs) into Dense, Conv2D
 * and average-pooling layers times their fan-out, and twice that under
 * temporal_pattern.  Deviation from the original: the "any input on"
 * test is per sample (the original tests the whole batch).
 */
#include "sim/codes.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ann/ops.h"
#include "sim/input.h"
#include "sim/neuron.h"

typedef struct code_layer {
    float *v;      /* membrane potential */
    float *cur;    /* this step's input current */
    float *psp;    /* what the layer sends on: dt while on, or values */
    float *ev;     /* this step's spikes: +1, -1 (corrective) or 0 */
    float *pros;   /* dyn_thresh: prospective spikes sent on */
    float *thr;    /* dyn_thresh: each neuron's threshold */
    unsigned char *on;      /* fired (ttfs) or above threshold */
    unsigned char *pros_on; /* dyn_thresh max gate: prospective seen */
    snn_layer absw;         /* dyn_thresh: |W| without bias */
} code_layer;

struct codes_work {
    code_layer *l;
    int n;
    float *xin;     /* the input frame */
    float *scratch; /* a layer's quantized input or missing impulse */
    float *vcopy;   /* the potentials a softmax draw may reset */
    float *zeros;   /* no spikes: what the input sends besides a frame */
    long fired_in;  /* Poisson input spikes of the sample so far */
};

static int is_neuron(const snn_net_layer *l)
{
    return l->unit == SNN_UNIT_IF || l->unit == SNN_UNIT_SOFTMAX;
}

static int is_ttfs(snn_spike_code c)
{
    return c == SNN_CODE_TTFS || c == SNN_CODE_TTFS_DYN_THRESH;
}

static size_t in_size(const snn_net *net, int i)
{
    return snn_shape_numel(&net->layers[i].in_shape);
}

/* The neuron options of [cell] that the spike codes' own neurons do not
 * model, or NULL. */
static const char *cell_option_used(const snn_net *net)
{
    const snn_cell *c = &net->cell;
    if (c->tau_refrac > 0)
        return "[cell] tau_refrac";
    if (c->leak)
        return "[cell] leak";
    if (c->v_clip)
        return "[cell] v_clip";
    for (int i = 0; i < net->n_layers; i++)
        if (net->layers[i].clamp_until > 0)
            return "[paths] filename_clamp_indices";
    const char *structure = sim_plan_structure_unsupported(net);
    return structure ? structure : snn_sim_event_unsupported(net);
}

snn_status sim_codes_check(const snn_net *net, const snn_sim_opts *o,
                           snn_error *err)
{
    if ((unsigned)o->code > SNN_CODE_TTFS_CORRECTIVE)
        return snn_error_set(err, SNN_E_INVALID, "unknown spike code %d",
                             (int)o->code);
    if (o->code != SNN_CODE_RATE && o->engine != SNN_ENGINE_AUTO &&
        o->engine != SNN_ENGINE_REFERENCE)
        return snn_error_set(err, SNN_E_UNSUPPORTED,
                             "spike codes other than temporal_mean_rate run "
                             "on the reference engine only: use engine "
                             "auto or reference");
    const char *opt = o->code != SNN_CODE_RATE ? cell_option_used(net) : NULL;
    if (opt)
        return snn_error_set(err, SNN_E_UNSUPPORTED,
                             "%s is not available with spike codes other "
                             "than temporal_mean_rate", opt);
    if (o->code != SNN_CODE_PATTERN)
        return SNN_OK;
    if (o->num_bits < 1 || o->num_bits > 64 || o->num_bits != o->steps)
        return snn_error_set(err, SNN_E_INVALID,
                             "temporal_pattern: num_bits (%d) must be 1 to 64 "
                             "and equal the number of steps (%d)",
                             o->num_bits, o->steps);
    if (sim_input_poisson(o))
        return snn_error_set(err, SNN_E_UNSUPPORTED,
                             "temporal_pattern codes the analog input itself: "
                             "Poisson input does not apply");
    return SNN_OK;
}

static void *alloc_array(size_t n, size_t size, int *ok)
{
    void *p = NULL;
    if (*ok && n <= SIZE_MAX / size)
        p = calloc(n ? n : 1, size);
    if (!p)
        *ok = 0;
    return p;
}

/* |W| and no bias: the weights of the missing impulse. */
static void abs_weights(snn_layer *dst, const snn_layer *src, int *ok)
{
    *dst = *src;
    memset(&dst->bias, 0, sizeof dst->bias);
    memset(&dst->weight, 0, sizeof dst->weight);
    if (!*ok || snn_tensor_copy(&dst->weight, &src->weight, NULL) != SNN_OK) {
        *ok = 0;
        return;
    }
    for (size_t k = 0; k < snn_tensor_numel(&dst->weight); k++)
        dst->weight.data[k] = fabsf(dst->weight.data[k]);
}

static void layer_init(code_layer *cl, const snn_net_layer *l, size_t n,
                       int *ok)
{
    cl->v = alloc_array(n, sizeof *cl->v, ok);
    cl->cur = alloc_array(n, sizeof *cl->cur, ok);
    cl->psp = alloc_array(n, sizeof *cl->psp, ok);
    cl->ev = alloc_array(n, sizeof *cl->ev, ok);
    cl->pros = alloc_array(n, sizeof *cl->pros, ok);
    cl->thr = alloc_array(n, sizeof *cl->thr, ok);
    cl->on = alloc_array(n, sizeof *cl->on, ok);
    cl->pros_on = alloc_array(n, sizeof *cl->pros_on, ok);
    if (l->syn.op == SNN_OP_DENSE || l->syn.op == SNN_OP_CONV2D)
        abs_weights(&cl->absw, &l->syn, ok);
}

snn_status sim_codes_work_create(const snn_net *net, codes_work **work,
                                 snn_error *err)
{
    codes_work *w = calloc(1, sizeof *w);
    int ok = w != NULL;
    size_t in_max = snn_shape_numel(&net->input_shape);
    if (ok) {
        w->n = net->n_layers;
        w->l = alloc_array((size_t)net->n_layers, sizeof *w->l, &ok);
    }
    for (int i = 0; ok && i < net->n_layers; i++) {
        size_t n = snn_net_layer_size(net, i);
        layer_init(&w->l[i], &net->layers[i], n, &ok);
        in_max = in_size(net, i) > in_max ? in_size(net, i) : in_max;
        in_max = n > in_max ? n : in_max;
    }
    w->xin = alloc_array(snn_shape_numel(&net->input_shape), sizeof(float), &ok);
    w->scratch = alloc_array(in_max, sizeof(float), &ok);
    w->vcopy = alloc_array(in_max, sizeof(float), &ok);
    w->zeros = alloc_array(snn_shape_numel(&net->input_shape), sizeof(float),
                           &ok);
    if (!ok) {
        sim_codes_work_free(w);
        return snn_error_set(err, SNN_E_NOMEM,
                             "cannot allocate a thread's spike-code state");
    }
    *work = w;
    return SNN_OK;
}

void sim_codes_work_free(codes_work *w)
{
    if (!w)
        return;
    for (int i = 0; w->l && i < w->n; i++) {
        code_layer *cl = &w->l[i];
        free(cl->v);
        free(cl->cur);
        free(cl->psp);
        free(cl->ev);
        free(cl->pros);
        free(cl->thr);
        free(cl->on);
        free(cl->pros_on);
        snn_tensor_free(&cl->absw.weight);
    }
    free(w->l);
    free(w->xin);
    free(w->scratch);
    free(w->vcopy);
    free(w->zeros);
    free(w);
}

static int any_nonzero(const float *x, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (x[k] != 0)
            return 1;
    return 0;
}

/* Spikes in `ev` (canonical order of layer i's input) times their
 * fan-out into layer i. */
static double synops_in(const plan_layer *pl, const float *ev)
{
    double ops = 0;
    for (size_t k = 0; k < pl->in_n; k++)
        if (ev[k] != 0)
            ops += pl->fanout[k];
    return ops;
}

static void sample_reset(const snn_net *net, codes_work *w, int keep_v)
{
    for (int i = 0; i < net->n_layers; i++) {
        code_layer *cl = &w->l[i];
        size_t n = snn_net_layer_size(net, i);
        if (!keep_v)
            memset(cl->v, 0, n * sizeof *cl->v);
        memset(cl->psp, 0, n * sizeof *cl->psp);
        memset(cl->ev, 0, n * sizeof *cl->ev);
        memset(cl->pros, 0, n * sizeof *cl->pros);
        memset(cl->on, 0, n);
        memset(cl->pros_on, 0, n);
        for (size_t k = 0; k < n; k++)
            cl->thr[k] = net->v_thresh;
    }
    w->fired_in = 0;
}

/* ---- the ttfs family --------------------------------------------- */

/* The layer's input, its spikes and its prospective spikes. */
typedef struct code_in {
    const float *psp, *ev, *pros;
    size_t n;
} code_in;

/* ttfs and ttfs_dyn_thresh neurons against their thresholds cl->thr,
 * refractory after their one spike. */
static void ttfs_fire(code_layer *cl, size_t n, float dt)
{
    for (size_t k = 0; k < n; k++) {
        cl->ev[k] = 0;
        if (!cl->on[k]) {
            cl->v[k] += cl->cur[k];
            if (cl->v[k] >= cl->thr[k]) {
                cl->ev[k] = 1;
                cl->on[k] = 1;
                cl->v[k] = 0;
            }
        }
        cl->psp[k] = cl->on[k] ? dt : 0.0f;
    }
}

/* ttfs_corrective neurons: +1 crossing up, -1 crossing down, no reset. */
static void corrective_fire(code_layer *cl, size_t n, float vth, float dt)
{
    for (size_t k = 0; k < n; k++) {
        float before = cl->v[k], after = before + cl->cur[k];
        int up = before < vth && after >= vth;
        int down = after < vth && before >= vth;
        cl->v[k] = after;
        cl->ev[k] = (float)(up - down);
        cl->on[k] = up ? 1 : down ? 0 : cl->on[k];
        cl->psp[k] = cl->on[k] ? dt : 0.0f;
    }
}

/* A ttfs softmax output: fires with probability softmax(V), V not reset;
 * snn_softmax_fire draws on a copy, so its reset is dropped. */
static void ttfs_softmax(code_layer *cl, size_t n, float vth, float *vcopy,
                         const snn_rng_key *key)
{
    snn_neuron_params p = {.v_thresh = vth, .reset = SNN_RESET_ZERO};
    memcpy(vcopy, cl->v, n * sizeof *vcopy);
    snn_softmax_fire(&p, cl->cur, vcopy, cl->ev, 1, n, key);
    for (size_t k = 0; k < n; k++) {
        cl->v[k] += cl->cur[k];
        cl->ev[k] = cl->ev[k] != 0;
        cl->psp[k] = cl->ev[k];
    }
}

/* dyn_thresh: this step's prospective spikes, and the thresholds of the
 * next step from the missing impulse of the inputs' prospective spikes
 * (computed before the neurons fired, into `miss`). */
static void dyn_update(code_layer *cl, size_t n, float vth, const float *miss)
{
    for (size_t k = 0; k < n; k++) {
        cl->pros[k] = !cl->on[k] && cl->cur[k] > 0;
        cl->thr[k] = vth + (miss ? miss[k] : 0.0f);
    }
}

/* A max-pool gate: a window turns on (and spikes) once any input is on;
 * dyn_thresh's prospective spikes pass once any was seen. */
static void ttfs_maxgate(const snn_net_layer *l, code_layer *cl,
                         const code_in *in, size_t n, float dt, int dyn,
                         float *scratch)
{
    snn_op_forward(&l->syn, &l->in_shape, in->psp, 1, cl->cur);
    for (size_t k = 0; k < n; k++) {
        cl->ev[k] = cl->cur[k] > 0 && !cl->on[k];
        cl->on[k] |= cl->cur[k] > 0;
        cl->psp[k] = cl->on[k] ? dt : 0.0f;
    }
    if (!dyn)
        return;
    snn_op_forward(&l->syn, &l->in_shape, in->pros, 1, scratch);
    for (size_t k = 0; k < n; k++) {
        cl->pros_on[k] |= scratch[k] > 0;
        cl->pros[k] = cl->pros_on[k] ? dt : 0.0f;
    }
}

static void reshape(const snn_net_layer *l, code_layer *cl, const code_in *in)
{
    snn_op_forward(&l->syn, &l->in_shape, in->psp, 1, cl->psp);
    snn_op_forward(&l->syn, &l->in_shape, in->ev, 1, cl->ev);
    snn_op_forward(&l->syn, &l->in_shape, in->pros, 1, cl->pros);
}

/* One neuron layer of the ttfs family.  Its current changes only when
 * its input does (fresh): a neuron's output changes only with its
 * spikes, a Poisson frame every step. */
static void ttfs_neurons(const snn_net *net, const snn_net_layer *l,
                         code_layer *cl, const code_in *in, size_t n,
                         const snn_sim_opts *o, codes_work *w,
                         const snn_rng_key *key, int fresh)
{
    float vth = net->v_thresh, dt = net->dt;
    int dyn = o->code == SNN_CODE_TTFS_DYN_THRESH && l->input >= 0;
    /* The missing impulse of the inputs' prospective spikes: |W| for
     * weighted layers, the plain average for pooling. */
    if (dyn)
        snn_op_forward(cl->absw.weight.data ? &cl->absw : &l->syn,
                       &l->in_shape, in->pros, 1, w->scratch);
    if (fresh && any_nonzero(in->psp, in->n))
        snn_op_forward(&l->syn, &l->in_shape, in->psp, 1, cl->cur);
    else if (fresh)
        memset(cl->cur, 0, n * sizeof *cl->cur);
    if (o->code == SNN_CODE_TTFS_CORRECTIVE)
        corrective_fire(cl, n, vth, dt);
    else if (l->unit == SNN_UNIT_SOFTMAX)
        ttfs_softmax(cl, n, vth, w->vcopy, key);
    else
        ttfs_fire(cl, n, dt);
    if (o->code == SNN_CODE_TTFS_DYN_THRESH)
        dyn_update(cl, n, vth, dyn ? w->scratch : NULL);
}

/* The input of layer i: the previous layer's, or the frame (whose
 * spikes count only when it is a spike frame). */
static code_in layer_input(const snn_net *net, const codes_work *w, int i,
                           const float *frame_ev)
{
    const snn_net_layer *l = &net->layers[i];
    code_in in = {w->xin, frame_ev ? frame_ev : w->zeros, w->zeros,
                  in_size(net, i)};
    if (l->input >= 0) {
        const code_layer *src = &w->l[l->input];
        in.psp = src->psp;
        in.ev = src->ev;
        in.pros = src->pros;
    }
    return in;
}

static void record_layer(const snn_net *net, const rec_sample *r, int i,
                         int t, const code_layer *cl)
{
    if (!sim_record_neurons(r, i))
        return;
    size_t n = snn_net_layer_size(net, i);
    for (size_t k = 0; k < n; k++)
        if (cl->ev[k] != 0)
            sim_record_spike(r, i, t, k);
    if (is_neuron(&net->layers[i]))
        for (size_t k = 0; k < n; k++)
            sim_record_vmem(r, i, t, k, cl->v[k]);
}

static size_t count_nonzero(const float *x, size_t n)
{
    size_t c = 0;
    for (size_t k = 0; k < n; k++)
        c += x[k] != 0;
    return c;
}

/* One step of the ttfs family; returns its synaptic operations. */
static double ttfs_step(const snn_net *net, const sim_plan *plan,
                        codes_work *w, const float *frame_ev,
                        const snn_rng_key *key0, const snn_sim_opts *o,
                        sim_sample *out)
{
    double ops = 0;
    int t = (int)key0->step;
    for (int i = 0; i < net->n_layers; i++) {
        const snn_net_layer *l = &net->layers[i];
        code_layer *cl = &w->l[i];
        size_t n = snn_net_layer_size(net, i);
        code_in in = layer_input(net, w, i, frame_ev);
        snn_rng_key key = *key0;
        key.layer = (uint64_t)i;
        if (l->unit == SNN_UNIT_RESHAPE)
            reshape(l, cl, &in);
        else if (l->unit == SNN_UNIT_MAXGATE &&
                 o->code != SNN_CODE_TTFS_CORRECTIVE)
            ttfs_maxgate(l, cl, &in, n, net->dt,
                         o->code == SNN_CODE_TTFS_DYN_THRESH, w->scratch);
        else
            ttfs_neurons(net, l, cl, &in, n, o, w, &key,
                         t == 0 || (l->input < 0 && frame_ev) ||
                             any_nonzero(in.ev, in.n));
        if (is_neuron(l)) {
            double spikes = (double)count_nonzero(cl->ev, n);
            ops += synops_in(&plan->layers[i], in.ev);
            out->spikes += spikes;
            out->layer_spikes[i] += spikes;
        }
        if (out->rec)
            record_layer(net, out->rec, i, t, cl);
    }
    return ops;
}

/* The input frame of step t: the constant x * dt (the original's
 * input), or Poisson spikes.  Returns whether the frame is empty. */
static int input_frame(const snn_net *net, codes_work *w, uint64_t sample,
                       int t, const snn_sim_opts *o, const float *x)
{
    size_t n = snn_shape_numel(&net->input_shape);
    if (sim_input_poisson(o))
        return sim_input_frame(o, net->dt, x, n, sim_input_peak(x, n), sample,
                               t, &w->fired_in, w->xin) == 0;
    for (size_t k = 0; k < n; k++)
        w->xin[k] = x[k] * net->dt;
    return !any_nonzero(w->xin, n);
}

/* The original's ttfs simulators stop once every output has at least
 * top_k (class, step) entries on, with a non-softmax output. */
static int ttfs_decided(const snn_net *net, const snn_sim_opts *o,
                        const float *out_count, size_t n_out)
{
    const snn_net_layer *last = &net->layers[net->n_layers - 1];
    double on = 0;
    if (!is_ttfs(o->code) || last->unit != SNN_UNIT_IF)
        return 0;
    for (size_t c = 0; c < n_out; c++)
        on += out_count[c];
    return on >= o->top_k;
}

static void ttfs_sample(const snn_net *net, const sim_plan *plan,
                        codes_work *w, uint64_t sample, const snn_sim_opts *o,
                        sim_sample *out)
{
    int last = net->n_layers - 1;
    size_t n_out = snn_net_layer_size(net, last);
    const code_layer *cl_out = &w->l[last];
    int t = 0;
    for (; t < o->steps; t++) {
        int empty = input_frame(net, w, sample, t, o, out->x);
        if (o->early_stopping && empty)
            break;
        snn_rng_key key = {o->seed, sample, (uint64_t)t, 0};
        double ops = ttfs_step(net, plan, w,
                               sim_input_poisson(o) ? w->xin : NULL, &key, o,
                               out);
        out->synops += ops;
        for (size_t c = 0; c < n_out; c++)
            out->out_count[c] += cl_out->psp[c] > 0;
        if (out->rec) {
            if (out->rec->synops)
                out->rec->synops[t] += ops;
            sim_record_hits(out->rec, t, out->out_count);
        }
        if (ttfs_decided(net, o, out->out_count, n_out)) {
            t++;
            break;
        }
    }
    out->steps_run = t;
    if (out->rec)
        sim_record_rest(out->rec, t, o->steps, out->out_count);
}

/* ---- temporal_pattern -------------------------------------------- */

/* Cuts x to nb binary digits 2^-1 .. 2^-nb, greedily, as the original's
 * to_binary; returns the digits (bit t: digit 2^-(t+1)) and writes the
 * value they make in *q. */
static uint64_t to_bits(float x, int nb, float *q)
{
    uint64_t bits = 0;
    float rest = x, kept = 0;
    for (int t = 0; t < nb; t++) {
        float p = ldexpf(1.0f, -(t + 1));
        if (rest >= p) {
            bits |= (uint64_t)1 << t;
            rest -= p;
            kept += p;
        }
    }
    *q = kept;
    return bits;
}

static void quantize(const float *x, size_t n, int nb, float *q)
{
    for (size_t k = 0; k < n; k++)
        to_bits(x[k], nb, &q[k]);
}

/* Layer i's values (cl->psp) from its input's. */
static void pattern_layer(const snn_net_layer *l, code_layer *cl,
                          const float *in, size_t n_in, size_t n, int nb,
                          float *scratch)
{
    int weighted = l->syn.op == SNN_OP_DENSE || l->syn.op == SNN_OP_CONV2D;
    if (weighted) {
        quantize(in, n_in, nb, scratch);
        in = scratch;
    }
    snn_op_forward(&l->syn, &l->in_shape, in, 1, cl->psp);
    if (weighted)
        snn_op_activate(l->unit == SNN_UNIT_SOFTMAX ? SNN_ACT_SOFTMAX
                                                    : SNN_ACT_RELU,
                        cl->psp, 1, n);
}

/* Spikes of step t of layer i (its values' digit t) into cl->ev. */
static size_t pattern_spikes(code_layer *cl, size_t n, int nb, int t)
{
    size_t c = 0;
    for (size_t k = 0; k < n; k++) {
        float q;
        cl->ev[k] = (float)((to_bits(cl->psp[k], nb, &q) >> t) & 1);
        c += cl->ev[k] != 0;
    }
    return c;
}

static void pattern_sample(const snn_net *net, const sim_plan *plan,
                           codes_work *w, const snn_sim_opts *o,
                           sim_sample *out)
{
    int nb = o->num_bits, last = net->n_layers - 1;
    size_t n_out = snn_net_layer_size(net, last);
    size_t n_x = snn_shape_numel(&net->input_shape);
    for (size_t k = 0; k < n_x; k++)
        w->xin[k] = out->x[k] * net->dt;
    for (int i = 0; i < net->n_layers; i++) {
        const snn_net_layer *l = &net->layers[i];
        const float *in = l->input < 0 ? w->xin : w->l[l->input].psp;
        pattern_layer(l, &w->l[i], in, in_size(net, i),
                      snn_net_layer_size(net, i), nb, w->scratch);
    }
    for (int t = 0; t < nb; t++) {
        double ops = 0;
        for (int i = 0; i < net->n_layers; i++) {
            const snn_net_layer *l = &net->layers[i];
            size_t spikes = pattern_spikes(&w->l[i], snn_net_layer_size(net, i),
                                           nb, t);
            if (is_neuron(l)) {
                out->spikes += (double)spikes;
                out->layer_spikes[i] += (double)spikes;
            }
            if (out->rec)
                record_layer(net, out->rec, i, t, &w->l[i]);
        }
        for (int i = 0; i < net->n_layers; i++)
            if (is_neuron(&net->layers[i]) && net->layers[i].input >= 0)
                ops += 2 * synops_in(&plan->layers[i],
                                     w->l[net->layers[i].input].ev);
        out->synops += ops;
        for (size_t c = 0; c < n_out; c++)
            out->out_count[c] += w->l[last].ev[c] * ldexpf(1.0f, -t);
        if (out->rec) {
            if (out->rec->synops)
                out->rec->synops[t] += ops;
            sim_record_hits(out->rec, t, out->out_count);
        }
    }
    out->steps_run = nb;
}

void sim_codes_sample(const snn_net *net, const sim_plan *plan,
                      codes_work *w, uint64_t sample, const snn_sim_opts *o,
                      sim_sample *out)
{
    memset(out->out_count, 0,
           snn_net_layer_size(net, net->n_layers - 1) * sizeof *out->out_count);
    out->spikes = out->synops = 0;
    sample_reset(net, w, out->keep_v);
    if (o->code == SNN_CODE_PATTERN)
        pattern_sample(net, plan, w, o, out);
    else
        ttfs_sample(net, plan, w, sample, o, out);
}
