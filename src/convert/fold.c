/*
 * fold.c - removes BatchNormalization layers so that the spiking net sees
 * only weighted layers.  With a = gamma/sqrt(var+eps) and
 * t = beta - a mean per channel, a BatchNorm is y = a x + t.
 *
 * Backwards, into the Dense, Conv2D or Conv2DTranspose layer that feeds
 * it: W'[o] = a W[o],
 * b'[o] = a b[o] + t.  Exact when nothing happens between the two (linear
 * activation, no other consumer), which is what Keras writes for
 * Conv2D(activation=None) -> BatchNormalization -> Activation.
 *
 * After an activation (Lasagne's Conv2DLayer(rectify) -> BatchNormLayer ->
 * NonlinearityLayer(rectify)) that is wrong, but per channel, with
 * z the weighted layer's pre-activation and a >= 0:
 *   t <= 0:  relu(a relu(z) + t) = relu(a z + t)   (both 0 when z < 0),
 *            so the channel folds backwards and keeps its ReLU;
 *   t > 0:   relu(a relu(z) + t) = a relu(z) + t   (never negative),
 *            so the outer ReLU is the identity and the channel keeps the
 *            affine map y = a x + t.
 * a < 0 has neither form (the result falls as z grows) and is refused.
 * What is left (the t > 0 channels, or a whole BatchNorm at the input or
 * after a pooling layer) folds forwards into the next weighted layer, per
 * input channel i: W'[o, i] = W[o, i] a[i] and b'[o] = b[o] +
 * sum W[o, i, kh, kw] t[i].  On the way it may pass max pooling (when
 * every a >= 0: the max commutes with an increasing map), unpadded
 * average pooling, Flatten (which decides the channel of each Dense
 * input) and linear activations.  A Conv2D with zero padding would see
 * the padding unshifted, so it is refused rather than folded inexactly.
 * A pure scale (t = 0, Caffe's Eltwise coefficients) may also fold into
 * the Add it feeds, as that Add's factor for the input.
 */
#include "snntb/normalize.h"

#include <stdlib.h>
#include <string.h>

#include "ann/ops.h"
#include "convert/merge.h"
#include "convert/weights.h"

static int consumers(const snn_graph *g, int k)
{
    int uses = 0;
    for (int j = k + 1; j < g->n_layers; j++)
        for (int i = 0; i < g->layers[j].n_inputs; i++)
            uses += g->layers[j].inputs[i] == k;
    return uses;
}

static snn_status check_foldable(const snn_graph *g, int k, snn_error *err)
{
    const snn_layer *bn = &g->layers[k];
    if (bn->n_inputs != 1 || bn->inputs[0] < 0 || bn->inputs[0] >= k)
        return snn_error_set(err, SNN_E_UNSUPPORTED,
                             "layer %s: BatchNormalization needs exactly one "
                             "earlier input to fold into",
                             bn->name);
    const snn_layer *p = &g->layers[bn->inputs[0]];
    if (!weights_layer(p) || p->act != SNN_ACT_LINEAR ||
        consumers(g, bn->inputs[0]) != 1)
        return snn_error_set(err, SNN_E_UNSUPPORTED,
                             "layer %s: cannot fold BatchNormalization into "
                             "'%s' (%s): it must be a Dense, Conv2D or "
                             "Conv2DTranspose layer with linear activation "
                             "whose only consumer is the BatchNormalization",
                             bn->name, p->name, p->type);
    return snn_op_check(bn, &p->shape, err);
}

/* Output channel o of weighted layer p becomes a times itself plus t. */
static void scale_out_channel(snn_layer *p, size_t o, float a, float t)
{
    for (size_t i = 0; i < weights_in_channels(p); i++) {
        size_t taps;
        float *w = weights_block(p, o, i, &taps);
        for (size_t k = 0; w && k < taps; k++)
            w[k] *= a;
    }
    p->bias.data[o] = a * p->bias.data[o] + t;
}

static void fold_into(const snn_layer *bn, snn_layer *p)
{
    for (size_t o = 0; o < weights_out_channels(p); o++) {
        float a, shift;
        snn_bn_coeffs(bn, o, &a, &shift);
        scale_out_channel(p, o, a, shift);
    }
    p->act = bn->act;
}

static snn_status ensure_bias(snn_layer *p, const char *bn_name,
                              snn_error *err)
{
    if (p->bias.data)
        return SNN_OK;
    size_t out = weights_out_channels(p);
    snn_status st = snn_tensor_init(&p->bias, 1, &out, err);
    return st == SNN_OK ? SNN_OK
                        : snn_error_prefix(err, "layer %s: ", bn_name);
}

static snn_status fold_back(snn_graph *g, int k, snn_error *err)
{
    snn_status st = check_foldable(g, k, err);
    if (st != SNN_OK)
        return st;
    snn_layer *p = &g->layers[g->layers[k].inputs[0]];
    if ((st = ensure_bias(p, g->layers[k].name, err)) != SNN_OK)
        return st;
    fold_into(&g->layers[k], p);
    snn_graph_remove_layer(g, k);
    return SNN_OK;
}

/* Whether the BatchNorm folds backwards whole (the Keras case). */
static int folds_back(const snn_graph *g, int k)
{
    const snn_layer *bn = &g->layers[k];
    if (bn->n_inputs != 1 || bn->inputs[0] < 0 || bn->inputs[0] >= k)
        return 0;
    const snn_layer *p = &g->layers[bn->inputs[0]];
    return weights_layer(p) && p->act == SNN_ACT_LINEAR &&
           consumers(g, bn->inputs[0]) == 1;
}

/* The one layer reading layer k's output, or -1. */
static int only_consumer(const snn_graph *g, int k)
{
    int found = -1;
    for (int j = k + 1; j < g->n_layers; j++)
        for (int i = 0; i < g->layers[j].n_inputs; i++)
            if (g->layers[j].inputs[i] == k) {
                if (found >= 0)
                    return -1;
                found = j;
            }
    return found;
}

/* ---- a BatchNorm that cannot fold backwards -------------------------- */

/* The per-channel affine map y = a x + t left to fold forwards. */
typedef struct affine {
    float *a, *t;
    size_t n;
} affine;

/* The ReLU applied to the BatchNorm's output: its own activation (k), a
 * standalone relu Activation that is its only consumer, or none (-1). */
static int relu_after(const snn_graph *g, int k)
{
    if (g->layers[k].act == SNN_ACT_RELU)
        return k;
    int j = only_consumer(g, k);
    if (g->layers[k].act == SNN_ACT_LINEAR && j >= 0 &&
        g->layers[j].op == SNN_OP_ACTIVATION &&
        g->layers[j].act == SNN_ACT_RELU && g->layers[j].n_inputs == 1)
        return j;
    return -1;
}

/* relu(a relu(z) + t): the t <= 0 channels fold into the weighted layer p
 * before, the others stay in f (see the top of the file). */
static snn_status split_between_relus(snn_graph *g, int k, affine *f,
                                      snn_error *err)
{
    const snn_layer *bn = &g->layers[k];
    snn_layer *p = &g->layers[bn->inputs[0]];
    if (!weights_layer(p) || p->act != SNN_ACT_RELU ||
        consumers(g, bn->inputs[0]) != 1 || weights_out_channels(p) != f->n)
        return snn_error_set(err, SNN_E_UNSUPPORTED,
                             "layer %s: a BatchNormalization between two "
                             "ReLUs folds only when its input is a Dense, "
                             "Conv2D or Conv2DTranspose layer with relu "
                             "activation that feeds nothing else; '%s' (%s) "
                             "is not",
                             bn->name, p->name, p->type);
    for (size_t c = 0; c < f->n; c++)
        if (f->a[c] < 0.0f)
            return snn_error_set(err, SNN_E_UNSUPPORTED,
                                 "layer %s: channel %zu has a negative scale "
                                 "gamma/sqrt(var+eps) = %g: relu(s*relu(z)+t) "
                                 "with s < 0 is no ReLU of an affine map and "
                                 "cannot be converted",
                                 bn->name, c, (double)f->a[c]);
    snn_status st = ensure_bias(p, bn->name, err);
    if (st != SNN_OK)
        return st;
    for (size_t c = 0; c < f->n; c++) {
        if (f->t[c] > 0.0f && f->a[c] > 0.0f)
            continue;
        scale_out_channel(p, c, f->a[c], f->t[c]);
        f->a[c] = 1.0f;
        f->t[c] = 0.0f;
    }
    return SNN_OK;
}

static int is_identity(const affine *f)
{
    for (size_t c = 0; c < f->n; c++)
        if (f->a[c] != 1.0f || f->t[c] != 0.0f)
            return 0;
    return 1;
}

/* Where each input of the target layer comes from: channel of feature i
 * after a Flatten of (C, H, W) (in either order), or i itself. */
typedef struct chan_map {
    int flat;
    size_t hw, c;
    int hwc;
} chan_map;

static size_t channel_of(const chan_map *m, size_t i)
{
    if (!m->flat)
        return i;
    return m->hwc ? i % m->c : i / m->hw;
}

static void fold_into_conv(const affine *f, snn_layer *l)
{
    size_t out = l->weight.dims[0], per_group = l->weight.dims[1];
    size_t area = l->weight.dims[2] * l->weight.dims[3];
    size_t out_per_group = out / (size_t)l->groups;
    for (size_t o = 0; o < out; o++) {
        double shift = 0.0;
        for (size_t i = 0; i < per_group; i++) {
            size_t c = o / out_per_group * per_group + i;
            float *w = l->weight.data + (o * per_group + i) * area;
            for (size_t r = 0; r < area; r++) {
                shift += (double)w[r] * f->t[c];
                w[r] *= f->a[c];
            }
        }
        l->bias.data[o] += (float)shift;
    }
}

static void fold_into_dense(const affine *f, const chan_map *m, snn_layer *l)
{
    size_t out = l->weight.dims[0], in = l->weight.dims[1];
    for (size_t o = 0; o < out; o++) {
        double shift = 0.0;
        float *w = l->weight.data + o * in;
        for (size_t i = 0; i < in; i++) {
            size_t c = channel_of(m, i);
            shift += (double)w[i] * f->t[c];
            w[i] *= f->a[c];
        }
        l->bias.data[o] += (float)shift;
    }
}

static int has_padding(const snn_layer *l)
{
    return l->win.pad[0] || l->win.pad[1] || l->win.pad[2] || l->win.pad[3];
}

static snn_status refuse(const snn_graph *g, int k, const snn_layer *l,
                         const char *why, snn_error *err)
{
    return snn_error_set(err, SNN_E_UNSUPPORTED,
                         "layer %s: cannot fold the BatchNormalization "
                         "forwards through '%s' (%s): %s",
                         g->layers[k].name, l->name, l->type, why);
}

/* Checks that the affine map passes layer l unchanged (a Flatten records
 * in m which channel each of its outputs comes from). */
static snn_status pass_through(const snn_graph *g, int k, const snn_layer *l,
                               const affine *f, chan_map *m, snn_error *err)
{
    const snn_shape *in = &g->layers[l->inputs[0]].shape;
    if (l->act != SNN_ACT_LINEAR)
        return refuse(g, k, l, "its activation is not linear", err);
    if (l->op == SNN_OP_MAXPOOL2D)
        for (size_t c = 0; c < f->n; c++)
            if (f->a[c] < 0.0f)
                return refuse(g, k, l, "a negative scale does not commute "
                              "with the max", err);
    if (l->op == SNN_OP_AVGPOOL2D && has_padding(l))
        return refuse(g, k, l, "padding would enter the average unmapped",
                      err);
    if (l->op == SNN_OP_FLATTEN && in->ndim == 3 && !m->flat) {
        m->flat = 1;
        m->c = in->dims[0];
        m->hw = in->dims[1] * in->dims[2];
        m->hwc = l->flatten_hwc;
    }
    return SNN_OK;
}

/* The weighted layer that takes the affine map on its inputs. */
static snn_status fold_into_target(snn_graph *g, int k, snn_layer *l,
                                   const affine *f, const chan_map *m,
                                   snn_error *err)
{
    size_t in = snn_shape_numel(&g->layers[l->inputs[0]].shape);
    int fits = l->op == SNN_OP_CONV2D
                   ? !m->flat && l->weight.dims[1] * (size_t)l->groups == f->n
                   : in == (m->flat ? m->c * m->hw : f->n) &&
                         (!m->flat || m->c == f->n);
    if (l->n_inputs != 1 || !fits)
        return refuse(g, k, l, "its inputs do not map to the "
                      "BatchNormalization's channels", err);
    if (l->op == SNN_OP_CONV2D && has_padding(l))
        return refuse(g, k, l, "its zero padding would not be shifted",
                      err);
    snn_status st = ensure_bias(l, g->layers[k].name, err);
    if (st != SNN_OK)
        return st;
    if (l->op == SNN_OP_CONV2D)
        fold_into_conv(f, l);
    else
        fold_into_dense(f, m, l);
    return SNN_OK;
}

/* A per-channel scale into Add l's factors for its input cur. */
static snn_status fold_into_add(snn_graph *g, int k, snn_layer *l, int cur,
                                const affine *f, const chan_map *m,
                                snn_error *err)
{
    size_t c_n = snn_shape_channels(&l->shape);
    if (m->flat || c_n != f->n)
        return refuse(g, k, l, "its inputs do not map to the "
                      "BatchNormalization's channels", err);
    for (size_t c = 0; c < c_n; c++)
        if (f->t[c] != 0.0f)
            return refuse(g, k, l, "an Add takes a scale per input, not a "
                          "shift", err);
    snn_status st = merge_add_factors(l, err);
    for (int i = 0; st == SNN_OK && i < l->n_inputs; i++)
        for (size_t c = 0; l->inputs[i] == cur && c < c_n; c++)
            l->weight.data[(size_t)i * c_n + c] *= f->a[c];
    return st;
}

static snn_status fold_forward(snn_graph *g, int k, const affine *f,
                               snn_error *err)
{
    chan_map m = {0};
    int cur = k;
    for (;;) {
        int j = only_consumer(g, cur);
        if (j < 0)
            return snn_error_set(err, SNN_E_UNSUPPORTED,
                                 "layer %s: the BatchNormalization must fold "
                                 "forwards into the next Dense or Conv2D "
                                 "layer, but '%s' feeds %s",
                                 g->layers[k].name, g->layers[cur].name,
                                 consumers(g, cur) ? "several layers"
                                                   : "no layer");
        snn_layer *l = &g->layers[j];
        snn_op op = l->op;
        if ((op == SNN_OP_CONV2D || op == SNN_OP_DENSE) &&
            snn_layer_has_weights(l))
            return fold_into_target(g, k, l, f, &m, err);
        if (op == SNN_OP_ADD)
            return fold_into_add(g, k, l, cur, f, &m, err);
        if (op == SNN_OP_CONV2D_T)
            return refuse(g, k, l, "a transposed convolution sums a "
                          "different number of taps into each output "
                          "cell, so the shift is no bias of it", err);
        if (op != SNN_OP_MAXPOOL2D && op != SNN_OP_AVGPOOL2D &&
            op != SNN_OP_FLATTEN && op != SNN_OP_ACTIVATION)
            return refuse(g, k, l, "not a weighted layer, pooling, Flatten "
                          "or linear activation", err);
        snn_status st = pass_through(g, k, l, f, &m, err);
        if (st != SNN_OK)
            return st;
        cur = j;
    }
}

/* A BatchNorm after an activation, at the input or after pooling. */
static snn_status fold_around(snn_graph *g, int k, affine *f, snn_error *err)
{
    snn_layer *bn = &g->layers[k];
    for (size_t c = 0; c < f->n; c++)
        snn_bn_coeffs(bn, c, &f->a[c], &f->t[c]);
    int relu = relu_after(g, k);
    snn_status st = SNN_OK;
    if (relu >= 0)
        st = split_between_relus(g, k, f, err);
    else if (bn->act != SNN_ACT_LINEAR)
        st = snn_error_set(err, SNN_E_UNSUPPORTED,
                           "layer %s: a BatchNormalization with %s "
                           "activation cannot be folded",
                           bn->name, snn_act_name(bn->act));
    if (st != SNN_OK)
        return st;
    /* From here the ReLU is the identity: every channel is >= 0. */
    if (relu == k)
        bn->act = SNN_ACT_LINEAR;
    else if (relu > k)
        snn_graph_remove_layer(g, relu);
    if (!is_identity(f) && (st = fold_forward(g, k, f, err)) != SNN_OK)
        return st;
    snn_graph_remove_layer(g, k);
    return SNN_OK;
}

static snn_status fold_one(snn_graph *g, int k, snn_error *err)
{
    if (folds_back(g, k))
        return fold_back(g, k, err);
    const snn_layer *bn = &g->layers[k];
    if (bn->n_inputs != 1 || bn->inputs[0] < 0 || bn->inputs[0] >= k)
        return check_foldable(g, k, err);
    snn_status st = snn_op_check(bn, &g->layers[bn->inputs[0]].shape, err);
    if (st != SNN_OK)
        return st;
    affine f = {.n = snn_shape_channels(&bn->shape)};
    f.a = malloc(f.n * sizeof *f.a);
    f.t = malloc(f.n * sizeof *f.t);
    if (!f.a || !f.t)
        st = snn_error_set(err, SNN_E_NOMEM, "layer %s: out of memory",
                           bn->name);
    else
        st = fold_around(g, k, &f, err);
    free(f.a);
    free(f.t);
    return st;
}

snn_status snn_fold_batchnorm(snn_graph *g, snn_error *err)
{
    int k = 0;
    while (k < g->n_layers) {
        if (g->layers[k].op != SNN_OP_BATCHNORM) {
            k++;
            continue;
        }
        snn_status st = fold_one(g, k, err);
        if (st != SNN_OK)
            return st;
    }
    return SNN_OK;
}
