/*
 * batchnorm.c - BatchNormalization at inference, per channel (dimension 0
 * of the per-sample shape, so (C, H, W) and (N) both work).  Normally
 * folded away before conversion; kept so the parsed graph can be checked
 * against the framework's output before folding.
 */
#include "ann/ops.h"

#include <math.h>

size_t snn_shape_channels(const snn_shape *s)
{
    return s->ndim > 0 ? s->dims[0] : 1;
}

void snn_bn_coeffs(const snn_layer *l, size_t c, float *scale, float *shift)
{
    float gamma = l->gamma.data ? l->gamma.data[c] : 1.0f;
    float beta = l->beta.data ? l->beta.data[c] : 0.0f;
    float a = gamma / sqrtf(l->var.data[c] + l->eps);
    *scale = a;
    *shift = beta - a * l->mean.data[c];
}

void snn_batchnorm_forward(const snn_layer *l, const snn_shape *in,
                           const float *x, size_t n, float *y)
{
    size_t c_n = snn_shape_channels(in);
    size_t inner = snn_shape_numel(in) / c_n;
    size_t rows = n * c_n;

#pragma omp parallel for schedule(static)
    for (size_t r = 0; r < rows; r++) {
        float a, b;
        snn_bn_coeffs(l, r % c_n, &a, &b);
        for (size_t i = 0; i < inner; i++)
            y[r * inner + i] = a * x[r * inner + i] + b;
    }
}
