/*
 * fold.c - removes BatchNormalization layers by folding them into the
 * Dense or Conv2D layer that feeds them, so that the spiking net sees
 * only weighted layers: per output channel o, with a = gamma/sqrt(var+eps),
 * W'[o] = a W[o] and b'[o] = a (b[o] - mean) + beta.  This is exact only
 * when nothing happens between the two (linear activation, no other
 * consumer of the weighted layer), which is what Keras writes for
 * Conv2D(activation=None) -> BatchNormalization -> Activation.
 */
#include "snntb/normalize.h"

#include <string.h>

#include "ann/ops.h"

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
    if (!snn_layer_has_weights(p) || p->act != SNN_ACT_LINEAR ||
        consumers(g, bn->inputs[0]) != 1)
        return snn_error_set(err, SNN_E_UNSUPPORTED,
                             "layer %s: cannot fold BatchNormalization into "
                             "'%s' (%s): it must be a Dense or Conv2D layer "
                             "with linear activation whose only consumer is "
                             "the BatchNormalization",
                             bn->name, p->name, p->type);
    return snn_op_check(bn, &p->shape, err);
}

static void fold_into(const snn_layer *bn, snn_layer *p)
{
    size_t out = p->weight.dims[0];
    size_t row = snn_tensor_numel(&p->weight) / out;
    for (size_t o = 0; o < out; o++) {
        float a, shift;
        snn_bn_coeffs(bn, o, &a, &shift);
        float *w = p->weight.data + o * row;
        for (size_t i = 0; i < row; i++)
            w[i] *= a;
        p->bias.data[o] = a * p->bias.data[o] + shift;
    }
    p->act = bn->act;
}

/* Drops layer k; its consumers now read from its input. */
static void remove_layer(snn_graph *g, int k)
{
    snn_layer *dead = &g->layers[k];
    int src = dead->inputs[0];
    snn_tensor *ts[] = {&dead->weight, &dead->bias, &dead->gamma,
                        &dead->beta,   &dead->mean, &dead->var};
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++)
        snn_tensor_free(ts[i]);
    memmove(dead, dead + 1, (size_t)(g->n_layers - k - 1) * sizeof *dead);
    g->n_layers--;
    for (int j = k; j < g->n_layers; j++)
        for (int i = 0; i < g->layers[j].n_inputs; i++) {
            int *in = &g->layers[j].inputs[i];
            *in = *in == k ? src : *in > k ? *in - 1 : *in;
        }
}

static snn_status fold_one(snn_graph *g, int k, snn_error *err)
{
    snn_status st = check_foldable(g, k, err);
    if (st != SNN_OK)
        return st;
    snn_layer *p = &g->layers[g->layers[k].inputs[0]];
    if (!p->bias.data) {
        size_t out = p->weight.dims[0];
        st = snn_tensor_init(&p->bias, 1, &out, err);
        if (st != SNN_OK)
            return snn_error_prefix(err, "layer %s: ", g->layers[k].name);
    }
    fold_into(&g->layers[k], p);
    remove_layer(g, k);
    return SNN_OK;
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
