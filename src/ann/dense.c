/*
 * dense.c - the fully connected layer, y = x W^T + b, as one sgemm over
 * the whole batch so that OpenBLAS can use every core (the call is made
 * outside any OpenMP region).
 */
#include "ann/ops.h"

#include <cblas.h>
#include <string.h>

void snn_dense_forward(const snn_layer *l, const float *x, size_t n,
                       size_t in_dim, float *y)
{
    size_t out = l->weight.dims[0];
    float beta = 0.0f;
    if (l->bias.data) {
        for (size_t s = 0; s < n; s++)
            memcpy(y + s * out, l->bias.data, out * sizeof(float));
        beta = 1.0f;
    }
    if (n == 0)
        return;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)out,
                (int)in_dim, 1.0f, x, (int)in_dim, l->weight.data,
                (int)in_dim, beta, y, (int)out);
}
