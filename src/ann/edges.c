/*
 * edges.c - ZeroPadding2D and Cropping2D: both copy each plane into a
 * plane shifted by the top/left amount, zero where the source has no cell.
 */
#include "ann/ops.h"

void snn_edges_forward(const snn_layer *l, const snn_shape *in,
                       const float *x, size_t n, float *y)
{
    long sign = l->op == SNN_OP_PAD ? 1 : -1;
    long dh = sign * l->win.pad[0], dw = sign * l->win.pad[1];
    long hi = (long)in->dims[1], wi = (long)in->dims[2];
    long ho = (long)l->shape.dims[1], wo = (long)l->shape.dims[2];
    long planes = (long)(n * in->dims[0]);
#pragma omp parallel for schedule(static)
    for (long p = 0; p < planes; p++) {
        const float *src = x + p * hi * wi;
        float *dst = y + p * ho * wo;
        for (long h = 0; h < ho; h++)
            for (long w = 0; w < wo; w++) {
                long sh = h - dh, sw = w - dw;
                int inside = sh >= 0 && sh < hi && sw >= 0 && sw < wi;
                dst[h * wo + w] = inside ? src[sh * wi + sw] : 0.0f;
            }
    }
}
