/*
 * flatten.c - Flatten and Reshape, the shape ops.  Memory is already flat
 * in NCHW order, so the plain case is a copy; flatten_hwc reproduces
 * Keras, which flattens channels_first data in (H, W, C) order, and which
 * reshapes channels_last tensors in that order at both ends.
 */
#include "ann/ops.h"

#include <string.h>

static void flatten_hwc(const float *x, size_t c_n, size_t hw, float *y)
{
    for (size_t c = 0; c < c_n; c++)
        for (size_t p = 0; p < hw; p++)
            y[p * c_n + c] = x[c * hw + p];
}

void snn_flatten_forward(const snn_layer *l, const snn_shape *in,
                         const float *x, size_t n, float *y)
{
    size_t numel = snn_shape_numel(in);
    if (!l->flatten_hwc || in->ndim != 3) {
        memcpy(y, x, n * numel * sizeof(float));
        return;
    }
    size_t c_n = in->dims[0], hw = in->dims[1] * in->dims[2];
#pragma omp parallel for schedule(static)
    for (size_t s = 0; s < n; s++)
        flatten_hwc(x + s * numel, c_n, hw, y + s * numel);
}

/* Position, in memory (C, H, W), of the value at logical index i of a
 * tensor that the framework orders (H, W, C) when hwc. */
static size_t canonical_index(const snn_shape *s, int hwc, size_t i)
{
    if (!hwc || s->ndim != 3)
        return i;
    size_t c_n = s->dims[0], w_n = s->dims[2];
    size_t c = i % c_n, w = i / c_n % w_n, h = i / (c_n * w_n);
    return (c * s->dims[1] + h) * w_n + w;
}

void snn_reshape_forward(const snn_layer *l, const snn_shape *in,
                         const float *x, size_t n, float *y)
{
    size_t numel = snn_shape_numel(in);
    int hwc = l->flatten_hwc;
    if (!hwc || (in->ndim != 3 && l->shape.ndim != 3)) {
        memcpy(y, x, n * numel * sizeof(float));
        return;
    }
#pragma omp parallel for schedule(static)
    for (size_t s = 0; s < n; s++)
        for (size_t i = 0; i < numel; i++)
            y[s * numel + canonical_index(&l->shape, hwc, i)] =
                x[s * numel + canonical_index(in, hwc, i)];
}
