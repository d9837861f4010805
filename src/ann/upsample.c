/*
 * upsample.c - nearest-neighbour upsampling by integer factors (Keras
 * UpSampling2D, ONNX Resize/Upsample in nearest mode): output cell (h, w)
 * repeats input cell (h / fh, w / fw).
 */
#include "ann/ops.h"

void snn_upsample_forward(const snn_layer *l, const snn_shape *in,
                          const float *x, size_t n, float *y)
{
    long fh = l->win.stride[0], fw = l->win.stride[1];
    long hi = (long)in->dims[1], wi = (long)in->dims[2];
    long ho = hi * fh, wo = wi * fw;
    long planes = (long)(n * in->dims[0]);
#pragma omp parallel for schedule(static)
    for (long p = 0; p < planes; p++) {
        const float *src = x + p * hi * wi;
        float *dst = y + p * ho * wo;
        for (long h = 0; h < ho; h++)
            for (long w = 0; w < wo; w++)
                dst[h * wo + w] = src[(h / fh) * wi + w / fw];
    }
}
