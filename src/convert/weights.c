/*
 * weights.c - the channel layout of a weighted layer's weights (weights.h).
 */
#include "convert/weights.h"

int weights_layer(const snn_layer *l)
{
    return (l->op == SNN_OP_DENSE || l->op == SNN_OP_CONV2D ||
            l->op == SNN_OP_CONV2D_T) && l->weight.data != NULL;
}

size_t weights_out_channels(const snn_layer *l)
{
    if (l->op == SNN_OP_CONV2D_T)
        return l->weight.dims[1] * (size_t)l->groups;
    return l->weight.dims[0];
}

size_t weights_in_channels(const snn_layer *l)
{
    if (l->op == SNN_OP_DENSE || l->op == SNN_OP_CONV2D_T)
        return l->weight.dims[l->op == SNN_OP_DENSE];
    return l->weight.dims[1] * (size_t)l->groups;
}

float *weights_block(const snn_layer *l, size_t o, size_t i, size_t *n)
{
    const snn_tensor *w = &l->weight;
    if (l->op == SNN_OP_DENSE) {
        *n = 1;
        return w->data + o * w->dims[1] + i;
    }
    size_t g = (size_t)l->groups, taps = w->dims[2] * w->dims[3];
    size_t o_grp = weights_out_channels(l) / g;
    size_t i_grp = weights_in_channels(l) / g;
    *n = taps;
    if (o / o_grp != i / i_grp)
        return NULL;
    if (l->op == SNN_OP_CONV2D_T)
        return w->data + (i * o_grp + o % o_grp) * taps;
    return w->data + (o * i_grp + i % i_grp) * taps;
}
