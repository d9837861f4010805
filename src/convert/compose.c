/*
 * compose.c - merges into a convolution the layer before it, where
 * integrate-and-fire neurons could not stand for that layer on their own.
 *
 * A linear convolution feeding a 1x1 convolution, which is what a
 * SeparableConv2D is (a depthwise convolution without activation, then a
 * pointwise one): IF neurons carry only non-negative values, so the
 * depthwise half, whose outputs are often negative, cannot be a spiking
 * layer of its own; converted as one, the SNN loses its negative part and
 * misclassifies however long it runs.  Composed, the two are one ordinary
 * convolution with the first one's window:
 *
 *   W[o, c, kh, kw] = sum over m reading channel c of Q[o, m] P[m, c', kh, kw]
 *   b[o]            = bq[o] + sum over m of Q[o, m] bp[m]
 *
 * where P (M, C/groups, KH, KW) is the first convolution, c' = c's index in
 * its group, and Q (O, M, 1, 1) the pointwise one.  Exact: a 1x1 kernel
 * with stride 1 and no padding sees each position of P's output alone.
 *
 * Zero padding (Keras ZeroPadding2D) feeding a convolution: the zeros join
 * the convolution's own padding, exactly, as the ONNX reader does with a
 * Pad node.
 */
#include "snntb/normalize.h"

#include <string.h>

static int is_pointwise(const snn_layer *q)
{
    const snn_window *w = &q->win;
    return q->op == SNN_OP_CONV2D && q->groups == 1 && w->kernel[0] == 1 &&
           w->kernel[1] == 1 && w->stride[0] == 1 && w->stride[1] == 1 &&
           !w->pad[0] && !w->pad[1] && !w->pad[2] && !w->pad[3];
}

/* The one layer that reads layer k, through its only input; or -1. */
static int sole_reader(const snn_graph *g, int k)
{
    if (snn_graph_consumers(g, k) != 1)
        return -1;
    for (int j = k + 1; j < g->n_layers; j++)
        if (g->layers[j].n_inputs && g->layers[j].inputs[0] == k)
            return g->layers[j].n_inputs == 1 ? j : -1;
    return -1;
}

/* The later layer that P (index k) feeds, when P composes with it. */
static int composes_with(const snn_graph *g, int k)
{
    const snn_layer *p = &g->layers[k];
    int j = p->op == SNN_OP_CONV2D && p->act == SNN_ACT_LINEAR
                ? sole_reader(g, k) : -1;
    return j >= 0 && is_pointwise(&g->layers[j]) ? j : -1;
}

/* Q's weight and bias become the composition of P then Q. */
static snn_status compose(const snn_layer *p, snn_layer *q, snn_error *err)
{
    size_t out = q->weight.dims[0], mid = p->weight.dims[0];
    size_t cg = p->weight.dims[1], taps = p->weight.dims[2] * p->weight.dims[3];
    size_t per_group = mid / (size_t)p->groups, cin = cg * (size_t)p->groups;
    size_t dims[4] = {out, cin, p->weight.dims[2], p->weight.dims[3]};
    snn_tensor w = {0}, b = {0};
    snn_status st = snn_tensor_init(&w, 4, dims, err);
    if (st == SNN_OK)
        st = snn_tensor_init(&b, 1, &out, err);
    if (st != SNN_OK) {
        snn_tensor_free(&w);
        return snn_error_prefix(err, "layer %s: ", q->name);
    }
    for (size_t o = 0; o < out; o++) {
        b.data[o] = q->bias.data ? q->bias.data[o] : 0;
        for (size_t m = 0; m < mid; m++) {
            float qm = q->weight.data[o * mid + m];
            size_t c0 = m / per_group * cg;
            const float *pm = p->weight.data + m * cg * taps;
            float *wo = w.data + (o * cin + c0) * taps;
            for (size_t i = 0; i < cg * taps; i++)
                wo[i] += qm * pm[i];
            if (p->bias.data)
                b.data[o] += qm * p->bias.data[m];
        }
    }
    snn_tensor_free(&q->weight);
    snn_tensor_free(&q->bias);
    q->weight = w;
    q->bias = b;
    q->win = p->win;
    q->groups = 1;
    q->inputs[0] = p->inputs[0];
    return SNN_OK;
}

/* The convolution that zero padding k alone feeds, or -1. */
static int padding_feeds_conv(const snn_graph *g, int k)
{
    int j = g->layers[k].op == SNN_OP_PAD ? sole_reader(g, k) : -1;
    return j >= 0 && g->layers[j].op == SNN_OP_CONV2D ? j : -1;
}

static void merge_padding(const snn_layer *pad, snn_layer *q)
{
    for (int i = 0; i < 4; i++)
        q->win.pad[i] += pad->win.pad[i];
    q->win.pad_mode = SNN_PAD_EXPLICIT;
    q->inputs[0] = pad->inputs[0];
}

snn_status snn_compose_convs(snn_graph *g, snn_error *err)
{
    for (int k = 0; k < g->n_layers; k++) {
        int j = padding_feeds_conv(g, k);
        if (j >= 0) {
            merge_padding(&g->layers[k], &g->layers[j]);
        } else if ((j = composes_with(g, k)) >= 0) {
            snn_status st = compose(&g->layers[k], &g->layers[j], err);
            if (st != SNN_OK)
                return st;
        } else {
            continue;
        }
        snn_graph_remove_layer(g, k);
        k--; /* what now stands at k may merge in turn */
    }
    return SNN_OK;
}
