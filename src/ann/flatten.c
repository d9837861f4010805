/*
 * flatten.c - Flatten, the one shape op.  Memory is already flat in NCHW
 * order, so the plain case is a copy; flatten_hwc reproduces Keras, which
 * flattens channels_first data in (H, W, C) order.
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
