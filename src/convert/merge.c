/*
 * merge.c - the rule that decides which linear layers an Add absorbs
 * (merge.h), shared by normalization and conversion so that both see the
 * same neuron layers.
 */
#include "convert/merge.h"

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
        !(snn_layer_has_weights(l) || l->op == SNN_OP_ADD))
        return 0;
    for (int j = k + 1; j < g->n_layers; j++) {
        int n = uses(&g->layers[j], k);
        if (n && g->layers[j].op != SNN_OP_ADD)
            return 0;
        consumers += n;
    }
    return consumers > 0;
}
