/*
 * plan.c - builds the simulator's re-laid-out net (see plan.h).  The
 * window geometry is enumerated once, output position by kernel offset,
 * exactly as the ANN kernels read it (stride, dilation, asymmetric
 * padding, groups), so borders need no special case later: a spike's
 * fan-out is the list of taps of its position.
 */
#include "sim/plan.h"

#include <stdio.h>
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

/* The input position that output position p reads through kernel
 * offset t, or -1.  A transposed convolution is the scatter read
 * backwards: input y reaches output y * stride - pad + ky * dilation. */
static long tap_source(const snn_layer *l, const snn_shape *in, size_t p,
                       size_t t)
{
    const snn_window *w = &l->win;
    long h = (long)in->dims[1], wd = (long)in->dims[2];
    long ow = (long)l->shape.dims[2];
    long ky = (long)t / w->kernel[1], kx = (long)t % w->kernel[1];
    long oy = (long)p / ow, ox = (long)p % ow, y, x;
    if (l->op == SNN_OP_CONV2D_T) {
        y = oy + w->pad[0] - ky * w->dilation[0];
        x = ox + w->pad[1] - kx * w->dilation[1];
        if (y < 0 || x < 0 || y % w->stride[0] || x % w->stride[1])
            return -1;
        y /= w->stride[0];
        x /= w->stride[1];
    } else {
        y = oy * w->stride[0] - w->pad[0] + ky * w->dilation[0];
        x = ox * w->stride[1] - w->pad[1] + kx * w->dilation[1];
    }
    return y >= 0 && y < h && x >= 0 && x < wd ? y * wd + x : -1;
}

/* Where a tap's run starts in its input channel's weight block: a
 * convolution's kernel columns are reversed (see plan_layer.w), a
 * transposed convolution's are not (its outputs move with kx). */
static int32_t tap_weight(const plan_layer *pl, size_t t)
{
    if (pl->kind == PLAN_CONVT)
        return (int32_t)(t * pl->out_grp);
    if (pl->kind == PLAN_CONV)
        return (int32_t)(reversed_tap(t, pl->kw) * pl->out_grp);
    return (int32_t)t;
}

/* pk2q and the taps grouped by input position (a counting sort). */
static void build_taps(plan_layer *pl, const snn_layer *l,
                       const snn_shape *in, int *ok)
{
    const snn_window *w = &l->win;
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
            long q = tap_source(l, in, p, t);
            pl->pk2q[p * k + t] = (int32_t)q;
            if (q >= 0) {
                pl->q_start[q + 1]++;
                n_taps++;
            }
        }
    pl->taps = alloc_array(n_taps, sizeof *pl->taps, ok);
    uint32_t *fill = alloc_array(pl->in_p, sizeof *fill, ok);
    if (*ok) {
        for (size_t q = 0; q < pl->in_p; q++)
            pl->q_start[q + 1] += pl->q_start[q];
        int conv = pl->kind == PLAN_CONV || pl->kind == PLAN_CONVT;
        for (size_t p = 0; p < pl->out_p; p++)
            for (size_t t = 0; t < k; t++) {
                int32_t q = pl->pk2q[p * k + t];
                if (q < 0)
                    continue;
                plan_tap *tap = &pl->taps[pl->q_start[q] + fill[q]++];
                tap->dst = (int32_t)(p * pl->out_c);
                tap->src = tap_weight(pl, t);
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
        if (pl->kind == PLAN_CONV || pl->kind == PLAN_CONVT) {
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

/* (I, O/groups, KH, KW) -> (I, KH, KW, O/groups), times vth. */
static void relayout_convt(plan_layer *pl, const snn_layer *l, float vth)
{
    size_t og = pl->out_grp, k = pl->k;
    for (size_t c = 0; c < pl->in_c; c++)
        for (size_t t = 0; t < k; t++)
            for (size_t o = 0; o < og; o++)
                pl->w[(c * k + t) * og + o] =
                    vth * l->weight.data[(c * og + o) * k + t];
}

/* An identity projection: input neuron i (internal) adds its channel's
 * factor times vth to neuron i. */
static void build_scale(plan_layer *pl, const snn_layer *l, float vth,
                        int *ok)
{
    pl->w = alloc_array(pl->out_n, sizeof *pl->w, ok);
    for (size_t i = 0; *ok && i < pl->out_n; i++)
        pl->w[i] = vth * l->weight.data[i % pl->out_c];
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
        case PLAN_CONVT:
        case PLAN_AVG:
            pl->fanout[i] = (uint32_t)position_fanout(pl, q);
            break;
        case PLAN_DENSE:
            pl->fanout[i] = (uint32_t)pl->out_n;
            break;
        case PLAN_MAXGATE:
        case PLAN_RESHAPE:
        case PLAN_REMAP:
        case PLAN_ADD: /* its projections have the synapses */
            pl->fanout[i] = 0;
            break;
        case PLAN_MERGE:
        case PLAN_SCALE:
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

/* The kind of a layer's plan, or (proj) of one of its projections: a
 * projection's identity op scales the spikes into an Add's neurons or
 * copies them into a concatenation. */
static plan_kind kind_of(snn_unit unit, const snn_layer *syn, int n_proj,
                         int proj)
{
    if (n_proj > 0 || (proj && syn->op == SNN_OP_ACTIVATION))
        return unit == SNN_UNIT_RESHAPE ? PLAN_REMAP
               : proj                   ? PLAN_SCALE
                                        : PLAN_ADD;
    if (syn->op == SNN_OP_ACTIVATION)
        return PLAN_MERGE;
    if (syn->op == SNN_OP_CONV2D_T)
        return PLAN_CONVT;
    if (unit == SNN_UNIT_RESHAPE && syn->op != SNN_OP_FLATTEN)
        return PLAN_REMAP;
    if (unit == SNN_UNIT_MAXGATE)
        return PLAN_MAXGATE;
    if (unit == SNN_UNIT_RESHAPE)
        return PLAN_RESHAPE;
    if (syn->op == SNN_OP_CONV2D)
        return PLAN_CONV;
    return syn->op == SNN_OP_AVGPOOL2D ? PLAN_AVG : PLAN_DENSE;
}

/* Index maps are found by running the ANN kernel on the input neurons'
 * indices, as floats: exact below 2^24. */
#define MAP_MAX ((size_t)1 << 24)

/* Input neuron i (canonical) of source j in the encoding: code - 1. */
static float *map_codes(const snn_shape *const *ins, int n, int *ok)
{
    size_t total = 0;
    for (int j = 0; j < n; j++)
        total += snn_shape_numel(ins[j]);
    float *x = alloc_array(total, sizeof *x, ok);
    for (size_t k = 0; *ok && k < total; k++)
        x[k] = (float)(k + 1);
    return x;
}

/* Source j's map (pj) from the kernel's output y: the outputs whose code
 * falls in j's range [base, base + in_n). */
static void fill_map(plan_layer *pj, const plan_layer *pl, const float *y,
                     size_t base, int spatial_in, int *ok)
{
    pj->map_start = alloc_array(pj->in_n + 1, sizeof *pj->map_start, ok);
    uint32_t *fill = alloc_array(pj->in_n, sizeof *fill, ok);
    size_t n_map = 0;
    for (int pass = 0; *ok && pass < 2; pass++) {
        for (size_t o = 0; o < pl->out_n; o++) {
            size_t code = (size_t)y[o];
            if (code <= base || code > base + pj->in_n)
                continue;
            size_t i = plan_to_internal(pj->in_c, pj->in_p, spatial_in,
                                        code - 1 - base);
            if (pass == 0) {
                pj->map_start[i + 1]++;
                n_map++;
                continue;
            }
            pj->map[pj->map_start[i] + fill[i]++] = (uint32_t)
                plan_to_internal(pl->out_c, pl->out_p, pl->spatial_out, o);
        }
        for (size_t i = 0; pass == 0 && i < pj->in_n; i++)
            pj->map_start[i + 1] += pj->map_start[i];
        if (pass == 0)
            pj->map = alloc_array(n_map, sizeof *pj->map, ok);
    }
    free(fill);
}

/* Whether layer l's index maps fit the float encoding. */
static int map_fits(const snn_net_layer *l)
{
    size_t total = snn_shape_numel(&l->in_shape);
    if (l->n_proj > SNN_MAX_INPUTS)
        return 0;
    for (int j = 1; j < l->n_proj; j++)
        total += snn_shape_numel(&l->proj[j].in_shape);
    return total < MAP_MAX && snn_shape_numel(&l->syn.shape) < MAP_MAX;
}

/* The maps of an index map layer (its own) or of a concatenation (one
 * per projection). */
static void build_maps(plan_layer *pl, const snn_net_layer *l, int *ok)
{
    int n = l->n_proj > 0 ? l->n_proj : 1;
    const snn_shape *ins[SNN_MAX_INPUTS];
    const float *xs[SNN_MAX_INPUTS];
    for (int j = 0; j < n && j < SNN_MAX_INPUTS; j++)
        ins[j] = l->n_proj > 0 ? &l->proj[j].in_shape : &l->in_shape;
    float *x = map_codes(ins, n, ok);
    float *y = alloc_array(pl->out_n, sizeof *y, ok);
    if (*ok) {
        size_t base = 0;
        for (int j = 0; j < n; j++) {
            xs[j] = x + base;
            base += snn_shape_numel(ins[j]);
        }
        if (l->n_proj > 0)
            snn_merge_forward(&l->syn, ins, xs, 1, y);
        else
            snn_op_forward(&l->syn, &l->in_shape, x, 1, y);
    }
    for (size_t j = 0, base = 0; *ok && j < (size_t)n; j++) {
        plan_layer *pj = l->n_proj > 0 ? &pl->proj[j] : pl;
        fill_map(pj, pl, y, base, ins[j]->ndim == 3, ok);
        base += pj->in_n;
    }
    free(x);
    free(y);
}

/* The plan of op syn from in (a layer, or (proj) one projection into
 * one). */
static int build_op(plan_layer *pl, snn_unit unit, const snn_layer *syn,
                    const snn_shape *in, int n_proj, int proj, float vth)
{
    int ok = 1, spatial_in = in->ndim == 3;
    pl->kind = kind_of(unit, syn, n_proj, proj);
    pl->spatial_out = syn->shape.ndim == 3 && pl->kind != PLAN_RESHAPE;
    pl->in_n = snn_shape_numel(in);
    pl->out_n = snn_shape_numel(&syn->shape);
    shape_cp(in, &pl->in_c, &pl->in_p);
    shape_cp(&syn->shape, &pl->out_c, &pl->out_p);
    if (pl->kind == PLAN_CONV || pl->kind == PLAN_CONVT) {
        pl->groups = (size_t)syn->groups;
        pl->cin_grp = pl->in_c / pl->groups;
        pl->out_grp = pl->out_c / pl->groups;
    }
    if (pl->kind == PLAN_CONV || pl->kind == PLAN_CONVT ||
        pl->kind == PLAN_AVG || pl->kind == PLAN_MAXGATE) {
        build_taps(pl, syn, in, &ok);
        build_in_ev(pl, &ok);
    }
    if (pl->kind == PLAN_MAXGATE)
        build_gate(pl, &ok);
    if (pl->kind == PLAN_CONV || pl->kind == PLAN_DENSE ||
        pl->kind == PLAN_CONVT) {
        pl->w = alloc_array(snn_tensor_numel(&syn->weight), sizeof *pl->w, &ok);
        if (ok && pl->kind == PLAN_CONV)
            relayout_conv(pl, syn, vth);
        else if (ok && pl->kind == PLAN_CONVT)
            relayout_convt(pl, syn, vth);
        else if (ok)
            relayout_dense(pl, syn, vth, spatial_in);
        build_bias(pl, syn, &ok);
    }
    if (pl->kind == PLAN_AVG) {
        build_win_n(pl, &ok);
        pl->bias = alloc_array(pl->out_n, sizeof *pl->bias, &ok);
    }
    if (pl->kind == PLAN_ADD)
        build_bias(pl, syn, &ok);
    if (pl->kind == PLAN_SCALE)
        build_scale(pl, syn, vth, &ok);
    if (pl->kind == PLAN_RESHAPE)
        build_reshape(pl, syn, spatial_in, &ok);
    build_fanout(pl, &ok);
    return ok;
}

static int build_layer(plan_layer *pl, const snn_net_layer *l, float vth)
{
    int ok = build_op(pl, l->unit, &l->syn, &l->in_shape, l->n_proj, 0, vth);
    if (ok && l->n_proj > 0) {
        pl->proj = alloc_array((size_t)l->n_proj, sizeof *pl->proj, &ok);
        pl->n_proj = ok ? l->n_proj : 0;
    }
    for (int j = 0; ok && j < pl->n_proj; j++)
        ok = build_op(&pl->proj[j], l->unit, &l->proj[j].syn,
                      &l->proj[j].in_shape, 0, 1, vth);
    if (ok && pl->kind == PLAN_REMAP && map_fits(l))
        build_maps(pl, l, &ok);
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
    free(pl->map_start);
    free(pl->map);
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

static int is_neuron(const snn_net_layer *l)
{
    return l->unit == SNN_UNIT_IF || l->unit == SNN_UNIT_SOFTMAX;
}

/* Whether source src of layer l (the i-th) comes before it: an earlier
 * layer, or the analog input for neurons (their current from it is
 * computed once per sample, or from each step's frame). */
static int source_ok(const snn_net_layer *l, int i, int src)
{
    return src >= 0 ? src < i : is_neuron(l);
}

static int sources_ok(const snn_net *net, int i)
{
    const snn_net_layer *l = &net->layers[i];
    int ok = l->n_proj > 0 || source_ok(l, i, l->input);
    for (int j = 0; j < l->n_proj; j++)
        ok &= source_ok(l, i, l->proj[j].input);
    return ok;
}

/* Why the event engine cannot run layer i, or NULL. */
static const char *layer_refused(const snn_net *net, int i)
{
    const snn_net_layer *l = &net->layers[i];
    if (i == 0 && !is_neuron(l))
        return "the first layer must be neurons fed by the input";
    if (!sources_ok(net, i))
        return "its inputs are not spikes of earlier layers";
    if (l->n_proj == 0 && l->syn.op == SNN_OP_ACTIVATION)
        return "a lone identity op";
    if (l->unit == SNN_UNIT_RESHAPE && l->syn.op != SNN_OP_FLATTEN &&
        !map_fits(l))
        return "an index map of 2^24 neurons or more";
    /* Taps and tables hold 32-bit offsets. */
    int large = snn_net_layer_size(net, i) > INT32_MAX ||
                snn_shape_numel(&l->in_shape) > INT32_MAX ||
                snn_tensor_numel(&l->syn.weight) > INT32_MAX;
    for (int j = 0; j < l->n_proj; j++)
        large |= snn_shape_numel(&l->proj[j].in_shape) > INT32_MAX ||
                 snn_tensor_numel(&l->proj[j].syn.weight) > INT32_MAX;
    return large ? "more than 2^31 neurons or weights" : NULL;
}

int sim_plan_event_refused(const snn_net *net, const char **why)
{
    for (int i = 0; i < net->n_layers; i++)
        if ((*why = layer_refused(net, i)) != NULL)
            return i;
    return -1;
}

/* What snn_net_resampling found, for messages. */
static const char *resampling_name(snn_op op)
{
    switch (op) {
    case SNN_OP_CONV2D_T:
        return "a transposed convolution (Conv2DTranspose)";
    case SNN_OP_PAD:
        return "zero padding that no convolution absorbs (ZeroPadding2D)";
    case SNN_OP_CROP:
        return "cropping (Cropping2D)";
    case SNN_OP_UPSAMPLE:
        return "nearest upsampling (UpSampling2D)";
    default:
        return "a Reshape to an image";
    }
}

const char *sim_plan_structure_unsupported(const snn_net *net)
{
    const snn_net_layer *re = snn_net_resampling(net);
    if (snn_net_multi_input(net))
        return "a layer with several inputs (Add, Concatenate)";
    return re ? resampling_name(re->syn.op) : NULL;
}

const char *snn_sim_reference_reason(const snn_net *net, char *buf, size_t n)
{
    const char *why = snn_sim_event_unsupported(net);
    if (why)
        return why;
    int i = sim_plan_event_refused(net, &why);
    if (i < 0)
        return NULL;
    snprintf(buf, n, "layer %s (%s)", net->layers[i].syn.name, why);
    return buf;
}

const char *snn_sim_event_unsupported(const snn_net *net)
{
    const snn_cell *c = &net->cell;
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
