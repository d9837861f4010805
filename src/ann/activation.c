/*
 * activation.c - the nonlinearities applied after a layer's op: ReLU, ReLU
 * clipped at a maximum, softmax, and the original toolbox's binary
 * activations (BinaryNet's binary_sigmoid and binary_tanh).  Softmax
 * subtracts the row maximum first so that large logits cannot overflow.
 */
#include "ann/ops.h"

#include <math.h>

static void relu(float *y, size_t count)
{
#pragma omp parallel for schedule(static) if (count > 65536)
    for (size_t i = 0; i < count; i++)
        y[i] = y[i] > 0.0f ? y[i] : 0.0f;
}

static void softmax_row(float *y, size_t dim)
{
    float mx = y[0];
    for (size_t i = 1; i < dim; i++)
        mx = y[i] > mx ? y[i] : mx;
    double sum = 0.0;
    for (size_t i = 0; i < dim; i++) {
        y[i] = expf(y[i] - mx);
        sum += y[i];
    }
    float inv = (float)(1.0 / sum);
    for (size_t i = 0; i < dim; i++)
        y[i] *= inv;
}

static void clip(float *y, size_t count, float max)
{
#pragma omp parallel for schedule(static) if (count > 65536)
    for (size_t i = 0; i < count; i++)
        y[i] = y[i] > 0.0f ? (y[i] < max ? y[i] : max) : 0.0f;
}

/* round(clip(0.5 x + 0.5, 0, 1)) in float32, rounded half to even as
 * Keras' round: 0 at x = 0, 1 for x > 0 (down to where 0.5 x + 0.5 is
 * 0.5 in float32); binary_tanh is twice that minus 1. */
static void binary(float *y, size_t count, int tanh_like)
{
#pragma omp parallel for schedule(static) if (count > 65536)
    for (size_t i = 0; i < count; i++) {
        float h = fminf(fmaxf(0.5f * y[i] + 0.5f, 0.0f), 1.0f);
        float b = nearbyintf(h);
        y[i] = tanh_like ? 2.0f * b - 1.0f : b;
    }
}

void snn_layer_activate(const snn_layer *l, float *y, size_t n)
{
    size_t dim = snn_shape_numel(&l->shape);
    if (l->act == SNN_ACT_CLIP)
        clip(y, n * dim, l->clip_max);
    else
        snn_op_activate(l->act, y, n, dim);
}

void snn_op_activate(snn_activation act, float *y, size_t n, size_t dim)
{
    switch (act) {
    case SNN_ACT_LINEAR:
        return;
    case SNN_ACT_RELU:
    case SNN_ACT_CLIP:
        relu(y, n * dim);
        return;
    case SNN_ACT_BINARY_SIGMOID:
    case SNN_ACT_BINARY_TANH:
        binary(y, n * dim, act == SNN_ACT_BINARY_TANH);
        return;
    case SNN_ACT_SOFTMAX:
        if (dim == 0)
            return;
#pragma omp parallel for schedule(static) if (n > 64)
        for (size_t s = 0; s < n; s++)
            softmax_row(y + s * dim, dim);
        return;
    }
}
