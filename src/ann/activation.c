/*
 * activation.c - the nonlinearities applied after a layer's op.  Softmax
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

void snn_op_activate(snn_activation act, float *y, size_t n, size_t dim)
{
    switch (act) {
    case SNN_ACT_LINEAR:
        return;
    case SNN_ACT_RELU:
        relu(y, n * dim);
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
