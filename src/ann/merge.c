/*
 * merge.c - the ops with several inputs: Add (residual connections) and
 * Concatenate along the channel axis.  Channels are the outermost
 * per-sample axis in NCHW, so concatenation copies whole per-sample blocks.
 * Normalization may give an Add one factor per input and channel (its
 * weight, (inputs, C)): then input k's channel c is multiplied by
 * weight[k][c] before the sum (see src/convert/normalize.c).
 */
#include "ann/ops.h"

#include <string.h>

static void add_forward(const snn_layer *l, const float *const *xs,
                        size_t count, float *y)
{
    memcpy(y, xs[0], count * sizeof(float));
    for (int k = 1; k < l->n_inputs; k++) {
        const float *x = xs[k];
#pragma omp parallel for schedule(static) if (count > 65536)
        for (size_t i = 0; i < count; i++)
            y[i] += x[i];
    }
}

/* The Add with per-input channel factors. */
static void scaled_add_forward(const snn_layer *l, const float *const *xs,
                               size_t count, float *y)
{
    size_t c = snn_shape_channels(&l->shape);
    size_t hw = c ? snn_shape_numel(&l->shape) / c : 1;
    memset(y, 0, count * sizeof(float));
    for (int k = 0; k < l->n_inputs; k++) {
        const float *x = xs[k], *f = l->weight.data + (size_t)k * c;
#pragma omp parallel for schedule(static) if (count > 65536)
        for (size_t i = 0; i < count; i++)
            y[i] += f[i / hw % c] * x[i];
    }
}

static void concat_forward(const snn_layer *l, const snn_shape *const *ins,
                           const float *const *xs, size_t n, float *y)
{
    size_t out = snn_shape_numel(&l->shape);
#pragma omp parallel for schedule(static) if (n > 16)
    for (size_t s = 0; s < n; s++) {
        float *dst = y + s * out;
        for (int k = 0; k < l->n_inputs; k++) {
            size_t m = snn_shape_numel(ins[k]);
            memcpy(dst, xs[k] + s * m, m * sizeof(float));
            dst += m;
        }
    }
}

void snn_merge_forward(const snn_layer *l, const snn_shape *const *ins,
                       const float *const *xs, size_t n, float *y)
{
    if (l->op == SNN_OP_ADD && l->weight.data)
        scaled_add_forward(l, xs, n * snn_shape_numel(&l->shape), y);
    else if (l->op == SNN_OP_ADD)
        add_forward(l, xs, n * snn_shape_numel(&l->shape), y);
    else
        concat_forward(l, ins, xs, n, y);
}

snn_status snn_merge_check(const snn_layer *l, const snn_shape *const *ins,
                           snn_error *err)
{
    size_t out = snn_shape_numel(&l->shape), sum = 0;
    if (l->n_inputs < 2 || l->n_inputs > SNN_MAX_INPUTS ||
        (l->op != SNN_OP_ADD && l->op != SNN_OP_CONCAT))
        return snn_error_set(err, SNN_E_INVALID,
                             "layer %s: %s is not a merge of 2 to %d inputs",
                             l->name, snn_op_name(l->op), SNN_MAX_INPUTS);
    for (int k = 0; k < l->n_inputs; k++) {
        size_t m = snn_shape_numel(ins[k]);
        if (l->op == SNN_OP_ADD && m != out)
            return snn_error_set(err, SNN_E_SHAPE,
                                 "layer %s: adds an input of %zu values to "
                                 "an output of %zu", l->name, m, out);
        sum += m;
    }
    if (l->op == SNN_OP_ADD && l->weight.data &&
        snn_tensor_numel(&l->weight) !=
            (size_t)l->n_inputs * snn_shape_channels(&l->shape))
        return snn_error_set(err, SNN_E_SHAPE,
                             "layer %s: %zu input scale factors for %d "
                             "inputs of %zu channels", l->name,
                             snn_tensor_numel(&l->weight), l->n_inputs,
                             snn_shape_channels(&l->shape));
    if (l->op == SNN_OP_CONCAT && sum != out)
        return snn_error_set(err, SNN_E_SHAPE,
                             "layer %s: concatenates %zu values into an "
                             "output of %zu", l->name, sum, out);
    return SNN_OK;
}
