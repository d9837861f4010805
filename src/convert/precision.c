/*
 * precision.c - the conversion options that change the ANN before it is
 * normalized, as the original's parser applies them: binarized or
 * fixed-point (Qm.f) weights, and average pooling in place of max
 * pooling.  Kept apart from convert.c, which only maps layers.
 */
#include "snntb/net.h"

#include <math.h>
#include <stdio.h>

static int has_weights(const snn_layer *l)
{
    return l->op == SNN_OP_DENSE || l->op == SNN_OP_CONV2D;
}

/* The original's binarize(w, h=1) in float32: round((w + 1) / 2) clipped
 * to [0, 1], rounding half to even (numpy's round), then 1 -> +1 and
 * 0 -> -1. */
static float binarize(float w)
{
    float t = (w + 1.0f) / 2.0f;
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    return rintf(t) != 0 ? 1.0f : -1.0f;
}

void snn_graph_binarize_weights(snn_graph *g)
{
    for (int i = 0; i < g->n_layers; i++) {
        snn_tensor *w = &g->layers[i].weight;
        if (!has_weights(&g->layers[i]))
            continue;
        for (size_t k = 0; k < snn_tensor_numel(w); k++)
            w->data[k] = binarize(w->data[k]);
    }
}

/* The original's reduce_precision(x, m, f). */
static void reduce_precision(snn_tensor *t, int m, int f)
{
    float n = ldexpf(1.0f, f);
    float top = ldexpf(1.0f, m) - 1.0f / n;
    for (size_t k = 0; k < snn_tensor_numel(t); k++) {
        float q = rintf(t->data[k] * n) / n;
        t->data[k] = q > top ? top : q < -top ? -top : q;
    }
}

snn_status snn_graph_quantize_weights(snn_graph *g, int m, int f, int bias,
                                      snn_error *err)
{
    if (m < 1 || f < 1 || m + f > 24)
        return snn_error_set(err, SNN_E_INVALID,
                             "config [cell] quantize_weights: format Q%d.%d "
                             "needs m >= 1, f >= 1 and m + f <= 24 (float32)",
                             m, f);
    for (int i = 0; i < g->n_layers; i++) {
        snn_layer *l = &g->layers[i];
        if (!has_weights(l))
            continue;
        reduce_precision(&l->weight, m, f);
        if (bias)
            reduce_precision(&l->bias, m, f);
    }
    return SNN_OK;
}

void snn_graph_max2avg_pool(snn_graph *g)
{
    for (int i = 0; i < g->n_layers; i++) {
        snn_layer *l = &g->layers[i];
        if (l->op != SNN_OP_MAXPOOL2D)
            continue;
        l->op = SNN_OP_AVGPOOL2D;
        l->win.count_pad = 0;
        snprintf(l->type, sizeof l->type, "AveragePooling2D");
    }
}
