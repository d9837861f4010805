/*
 * plan.c - builds the simulator's re-laid-out net (see plan.h).  The
 * window geometry is enumerated once, output position by kernel offset,
 * exactly as the ANN kernels read it (stride, dilation, asymmetric
 * padding, groups), so borders need no special case later: a spike's
 * fan-out is the list of taps of its position.
 */
#include "sim/plan.h"

#include <stdlib.h>
#include <string.h>

#include "ann/ops.h"
#include "snntb/sim.h"

size_t plan_to_internal(size_t c_n, size_t p_n, int spatial, size_t canon)
{
    if (!spatial)
        return canon;
    return canon % p_n * c_n + canon / p_n;
}

size_t plan_to_canon(const plan_layer *pl, size_t i)
{
    if (!pl->spatial_out)
        return i;
    return i % pl->out_c * pl->out_p + i / pl->out_c;
}

static void *alloc_array(size_t n, size_t size, int *ok)
{
    void *p = NULL;
    if (*ok && n <= (SIZE_MAX - PLAN_ALIGN) / size) {
        size_t bytes = ((n ? n : 1) * size + PLAN_ALIGN - 1) / PLAN_ALIGN *
                       PLAN_ALIGN;
        p = aligned_alloc(PLAN_ALIGN, bytes);
        if (p)
            memset(p, 0, bytes);
    }
    if (!p)
        *ok = 0;
    return p;
}

void *plan_alloc(size_t n, size_t size, int *ok)
{
    return alloc_array(n, size, ok);
}

static void shape_cp(const snn_shape *s, size_t *c, size_t *p)
{
    *c = s->ndim == 3 ? s->dims[0] : snn_shape_numel(s);
    *p = s->ndim == 3 ? s->dims[1] * s->dims[2] : 1;
}

/* Kernel offset t with its column reversed: the conv weights' order. */
static size_t reversed_tap(size_t t, size_t kw)
{
    return t / kw * kw + (kw - 1 - t % kw);
}

/* Merges each position's neighbouring conv taps whose outputs and weights
 * are both contiguous (see plan_tap); taps are in output order. */
static void merge_runs(plan_layer *pl)
{
    uint32_t w = 0, from = 0;
    for (size_t q = 0; q < pl->in_p; q++) {
        uint32_t to = pl->q_start[q + 1], first = w;
        for (uint32_t t = from; t < to; t++) {
            plan_tap tap = pl->taps[t];
            plan_tap *last = w > first ? &pl->taps[w - 1] : NULL;
            if (last && last->dst + last->len == tap.dst &&
                last->src + last->len == tap.src)
                last->len += tap.len;
            else
                pl->taps[w++] = tap;
        }
        pl->q_start[q] = first;
        from = to;
    }
    pl->q_start[pl->in_p] = w;
}

/* pk2q and the taps grouped by input position (a counting sort). */
static void build_taps(plan_layer *pl, const snn_layer *l,
                       const snn_shape *in, int *ok)
{
    const snn_window *w = &l->win;
    long h = (long)in->dims[1], wd = (long)in->dims[2];
    long ow = (long)l->shape.dims[2];
    size_t k = (size_t)w->kernel[0] * (size_t)w->kernel[1];
    pl->k = k;
    pl->kw = (size_t)w->kernel[1];
    pl->pk2q = alloc_array(pl->out_p * k, sizeof *pl->pk2q, ok);
    pl->q_start = alloc_array(pl->in_p + 1, sizeof *pl->q_start, ok);
    if (!*ok)
        return;
    size_t n_taps = 0;
    for (size_t p = 0; p < pl->out_p; p++)
        for (size_t t = 0; t < k; t++) {
            long ky = (long)t / w->kernel[1], kx = (long)t % w->kernel[1];
            long y = (long)p / ow * w->stride[0] - w->pad[0] + ky * w->dilation[0];
            long x = (long)p % ow * w->stride[1] - w->pad[1] + kx * w->dilation[1];
            int in_bounds = y >= 0 && y < h && x >= 0 && x < wd;
            long q = in_bounds ? y * wd + x : -1;
            pl->pk2q[p * k + t] = (int32_t)q;
            if (in_bounds) {
                pl->q_start[q + 1]++;
                n_taps++;
            }
        }
    pl->taps = alloc_array(n_taps, sizeof *pl->taps, ok);
    uint32_t *fill = alloc_array(pl->in_p, sizeof *fill, ok);
    if (*ok) {
        for (size_t q = 0; q < pl->in_p; q++)
            pl->q_start[q + 1] += pl->q_start[q];
        int conv = pl->kind == PLAN_CONV;
        for (size_t p = 0; p < pl->out_p; p++)
            for (size_t t = 0; t < k; t++) {
                int32_t q = pl->pk2q[p * k + t];
                if (q < 0)
                    continue;
                plan_tap *tap = &pl->taps[pl->q_start[q] + fill[q]++];
                tap->dst = (int32_t)(p * pl->out_c);
                tap->src = (int32_t)(conv ? reversed_tap(t, pl->kw) * pl->out_grp
                                          : t);
                tap->len = conv ? (int32_t)pl->out_grp : 1;
            }
        if (conv)
            merge_runs(pl);
    }
    free(fill);
}

static void build_in_ev(plan_layer *pl, int *ok)
{
    pl->in_ev = alloc_array(pl->in_n, sizeof *pl->in_ev, ok);
    for (size_t i = 0; *ok && i < pl->in_n; i++) {
        size_t c = i % pl->in_c;
        plan_in *e = &pl->in_ev[i];
        e->q = (uint32_t)(i / pl->in_c);
        e->w = e->d = (uint32_t)c;
        if (pl->kind == PLAN_CONV) {
            e->w = (uint32_t)(c * pl->k * pl->out_grp);
            e->d = (uint32_t)(c / pl->cin_grp * pl->out_grp);
        }
    }
}

/* (O, I/groups, KH, KW) -> (I, KH, KW reversed, O/groups), times vth. */
static void relayout_conv(plan_layer *pl, const snn_layer *l, float vth)
{
    size_t cg = pl->cin_grp, og = pl->out_grp, k = pl->k;
    for (size_t g = 0; g < pl->groups; g++)
        for (size_t t = 0; t < k; t++)
            for (size_t c = 0; c < cg; c++)
                for (size_t o = 0; o < og; o++)
                    pl->w[((g * cg + c) * k + reversed_tap(t, pl->kw)) * og + o] =
                        vth * l->weight.data[((g * og + o) * cg + c) * k + t];
}

/* (out, in) -> (in, out) with rows in the input's internal order. */
static void relayout_dense(plan_layer *pl, const snn_layer *l, float vth,
                           int spatial_in)
{
    for (size_t i = 0; i < pl->in_n; i++) {
        size_t canon = spatial_in ? i % pl->in_c * pl->in_p + i / pl->in_c : i;
        for (size_t o = 0; o < pl->out_n; o++)
            pl->w[i * pl->out_n + o] = vth * l->weight.data[o * pl->in_n + canon];
    }
}

static void build_bias(plan_layer *pl, const snn_layer *l, int *ok)
{
    pl->bias = alloc_array(pl->out_n, sizeof *pl->bias, ok);
    if (!*ok || !l->bias.data)
        return;
    /* One bias per output channel; channels are innermost. */
    for (size_t i = 0; i < pl->out_n; i++)
        pl->bias[i] = l->bias.data[i % pl->out_c];
}

/* Synapses of input position q's taps (a conv's runs are its synapses,
 * a pool's taps one each). */
static size_t position_fanout(const plan_layer *pl, size_t q)
{
    size_t n = 0;
    for (uint32_t t = pl->q_start[q]; t < pl->q_start[q + 1]; t++)
        n += (size_t)pl->taps[t].len;
    return n;
}

static void build_fanout(plan_layer *pl, int *ok)
{
    pl->fanout = alloc_array(pl->in_n, sizeof *pl->fanout, ok);
    if (!*ok)
        return;
    for (size_t i = 0; i < pl->in_n; i++) {
        size_t q = pl->in_p > 1 ? i % pl->in_p : 0;
        switch (pl->kind) {
        case PLAN_CONV:
        case PLAN_AVG:
            pl->fanout[i] = (uint32_t)position_fanout(pl, q);
            break;
        case PLAN_DENSE:
            pl->fanout[i] = (uint32_t)pl->out_n;
            break;
        case PLAN_MAXGATE:
        case PLAN_RESHAPE:
            pl->fanout[i] = 0;
            break;
        case PLAN_MERGE:
            pl->fanout[i] = 1;
            break;
        }
    }
}

/* The max gate's direct table when no input neuron is in two windows:
 * its spikes then need no walk over taps. */
static void build_gate(plan_layer *pl, int *ok)
{
    for (size_t q = 0; *ok && q < pl->in_p; q++)
        if (pl->q_start[q + 1] - pl->q_start[q] > 1)
            return;
    pl->gate_o = alloc_array(pl->in_n, sizeof *pl->gate_o, ok);
    pl->gate_tie = alloc_array(pl->in_n, sizeof *pl->gate_tie, ok);
    for (size_t i = 0; *ok && i < pl->in_n; i++) {
        const plan_in *at = &pl->in_ev[i];
        uint32_t t = pl->q_start[at->q];
        int one = t < pl->q_start[at->q + 1];
        pl->gate_o[i] = one ? (uint32_t)pl->taps[t].dst + at->d
                            : (uint32_t)pl->out_n;
        pl->gate_tie[i] = one ? (uint32_t)(pl->k - 1 - (size_t)pl->taps[t].src)
                              : 0;
    }
}

static void build_win_n(plan_layer *pl, int *ok)
{
    pl->win_n = alloc_array(pl->out_p, sizeof *pl->win_n, ok);
    for (size_t p = 0; *ok && p < pl->out_p; p++)
        for (size_t t = 0; t < pl->k; t++)
            pl->win_n[p] += pl->pk2q[p * pl->k + t] >= 0;
}

static void build_reshape(plan_layer *pl, const snn_layer *l, int spatial_in,
                          int *ok)
{
    pl->reshape = alloc_array(pl->in_n, sizeof *pl->reshape, ok);
    for (size_t i = 0; *ok && i < pl->in_n; i++) {
        size_t canon = spatial_in ? i % pl->in_c * pl->in_p + i / pl->in_c : i;
        size_t out = canon;
        if (l->flatten_hwc && spatial_in)
            out = canon % pl->in_p * pl->in_c + canon / pl->in_p;
        pl->reshape[i] = (uint32_t)out;
    }
}

static plan_kind kind_of(snn_unit unit, const snn_layer *syn, int n_proj)
{
    if (n_proj > 0 || syn->op == SNN_OP_ACTIVATION)
        return PLAN_MERGE;
    if (unit == SNN_UNIT_MAXGATE)
        return PLAN_MAXGATE;
    if (unit == SNN_UNIT_RESHAPE)
        return PLAN_RESHAPE;
    if (syn->op == SNN_OP_CONV2D)
        return PLAN_CONV;
    return syn->op == SNN_OP_AVGPOOL2D ? PLAN_AVG : PLAN_DENSE;
}

/* The plan of op syn from in (a layer, or one projection into one). */
static int build_op(plan_layer *pl, snn_unit unit, const snn_layer *syn,
                    const snn_shape *in, int n_proj, float vth)
{
    int ok = 1, spatial_in = in->ndim == 3;
    pl->kind = kind_of(unit, syn, n_proj);
    pl->spatial_out = syn->shape.ndim == 3 && pl->kind != PLAN_RESHAPE;
    pl->in_n = snn_shape_numel(in);
    pl->out_n = snn_shape_numel(&syn->shape);
    shape_cp(in, &pl->in_c, &pl->in_p);
    shape_cp(&syn->shape, &pl->out_c, &pl->out_p);
    if (pl->kind == PLAN_CONV) {
        pl->groups = (size_t)syn->groups;
        pl->cin_grp = pl->in_c / pl->groups;
        pl->out_grp = pl->out_c / pl->groups;
    }
    if (pl->kind == PLAN_CONV || pl->kind == PLAN_AVG || pl->kind == PLAN_MAXGATE) {
        build_taps(pl, syn, in, &ok);
        build_in_ev(pl, &ok);
    }
    if (pl->kind == PLAN_MAXGATE)
        build_gate(pl, &ok);
    if (pl->kind == PLAN_CONV || pl->kind == PLAN_DENSE) {
        pl->w = alloc_array(snn_tensor_numel(&syn->weight), sizeof *pl->w, &ok);
        if (ok && pl->kind == PLAN_CONV)
            relayout_conv(pl, syn, vth);
        else if (ok)
            relayout_dense(pl, syn, vth, spatial_in);
        build_bias(pl, syn, &ok);
    }
    if (pl->kind == PLAN_AVG) {
        build_win_n(pl, &ok);
        pl->bias = alloc_array(pl->out_n, sizeof *pl->bias, &ok);
    }
    if (pl->kind == PLAN_RESHAPE)
        build_reshape(pl, syn, spatial_in, &ok);
    build_fanout(pl, &ok);
    return ok;
}

static int build_layer(plan_layer *pl, const snn_net_layer *l, float vth)
{
    int ok = build_op(pl, l->unit, &l->syn, &l->in_shape, l->n_proj, vth);
    if (ok && l->n_proj > 0) {
        pl->proj = alloc_array((size_t)l->n_proj, sizeof *pl->proj, &ok);
        pl->n_proj = ok ? l->n_proj : 0;
    }
    for (int j = 0; ok && j < pl->n_proj; j++)
        ok = build_op(&pl->proj[j], SNN_UNIT_IF, &l->proj[j].syn,
                      &l->proj[j].in_shape, 0, vth);
    return ok;
}

snn_status sim_plan_build(const snn_net *net, sim_plan *plan, snn_error *err)
{
    plan->n_layers = net->n_layers;
    plan->layers = calloc((size_t)net->n_layers, sizeof *plan->layers);
    int ok = plan->layers != NULL;
    for (int i = 0; ok && i < net->n_layers; i++)
        ok = build_layer(&plan->layers[i], &net->layers[i], net->v_thresh);
    if (!ok) {
        sim_plan_free(plan);
        return snn_error_set(err, SNN_E_NOMEM,
                             "cannot allocate the simulator's weight layout");
    }
    return SNN_OK;
}

static void plan_layer_free(plan_layer *pl)
{
    free(pl->q_start);
    free(pl->taps);
    free(pl->pk2q);
    free(pl->win_n);
    free(pl->w);
    free(pl->bias);
    free(pl->reshape);
    free(pl->fanout);
    free(pl->in_ev);
    free(pl->gate_o);
    free(pl->gate_tie);
    for (int j = 0; j < pl->n_proj; j++)
        plan_layer_free(&pl->proj[j]);
    free(pl->proj);
}

void sim_plan_free(sim_plan *plan)
{
    for (int i = 0; plan->layers && i < plan->n_layers; i++)
        plan_layer_free(&plan->layers[i]);
    free(plan->layers);
    memset(plan, 0, sizeof *plan);
}

int sim_plan_event_ok(const snn_net *net)
{
    for (int i = 0; i < net->n_layers; i++) {
        const snn_net_layer *l = &net->layers[i];
        int neuron = l->unit == SNN_UNIT_IF || l->unit == SNN_UNIT_SOFTMAX;
        if (i == 0 && (l->input >= 0 || !neuron))
            return 0;
        if (i > 0 && (l->input < 0 || l->input >= i))
            return 0;
        /* Taps and tables hold 32-bit offsets. */
        if (snn_net_layer_size(net, i) > INT32_MAX ||
            snn_shape_numel(&l->in_shape) > INT32_MAX ||
            snn_tensor_numel(&l->syn.weight) > INT32_MAX)
            return 0;
    }
    return 1;
}

const char *snn_sim_event_unsupported(const snn_net *net)
{
    const snn_cell *c = &net->cell;
    if (snn_net_multi_input(net))
        return "a layer with several inputs (Add, Concatenate)";
    if (c->payloads)
        return "[cell] payloads";
    if (c->online_normalization)
        return "[normalization] online_normalization";
    if (c->bias_relaxation)
        return "[cell] bias_relaxation";
    for (int i = 0; i < net->n_layers; i++)
        if (snn_act_is_binary(net->layers[i].syn.act))
            return "binary_sigmoid / binary_tanh activations (spikes of "
                   "either sign)";
    if (c->maxpool == SNN_MAXPOOL_EXP)
        for (int i = 0; i < net->n_layers; i++)
            if (net->layers[i].unit == SNN_UNIT_MAXGATE)
                return "[conversion] maxpool_type = exp_max";
    return NULL;
}
