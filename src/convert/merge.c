/*
 * merge.c - the rule that decides which linear layers an Add absorbs
 * (merge.h), shared by normalization and conversion so that both see the
 * same neuron layers, and an Add's per-input factors, which BatchNorm
 * folding and normalization multiply.
 */
#include "convert/merge.h"

#include "ann/ops.h"
#include "convert/weights.h"

static int uses(const snn_layer *l, int k)
{
    int n = 0;
    for (int i = 0; i < l->n_inputs; i++)
        n += l->inputs[i] == k;
    return n;
}

int merge_consumer(const snn_graph *g, int k)
{
    for (int j = k + 1; j < g->n_layers; j++)
        if (g->layers[j].op == SNN_OP_ADD && uses(&g->layers[j], k))
            return j;
    return -1;
}

int merge_folds(const snn_graph *g, int k)
{
    const snn_layer *l = &g->layers[k];
    int consumers = 0;
    if (l->act != SNN_ACT_LINEAR ||
        !(weights_layer(l) || l->op == SNN_OP_ADD))
        return 0;
    for (int j = k + 1; j < g->n_layers; j++) {
        int n = uses(&g->layers[j], k);
        if (n && g->layers[j].op != SNN_OP_ADD)
            return 0;
        consumers += n;
    }
    return consumers > 0;
}

snn_status merge_add_factors(snn_layer *l, snn_error *err)
{
    size_t dims[2] = {(size_t)l->n_inputs, snn_shape_channels(&l->shape)};
    if (l->weight.data)
        return SNN_OK;
    snn_status st = snn_tensor_init(&l->weight, 2, dims, err);
    for (size_t i = 0; st == SNN_OK && i < dims[0] * dims[1]; i++)
        l->weight.data[i] = 1.0f;
    return st;
}
