/*
 * tensor.c - allocation and bookkeeping of float32 tensors.
 *
 * Sizes come from untrusted files, so every element count is computed with
 * an overflow check before anything is allocated.
 */
#include "snntb/tensor.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int snn_size_mul(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > SIZE_MAX / a)
        return 0;
    *out = a * b;
    return 1;
}

static int numel_checked(int ndim, const size_t *dims, size_t *out)
{
    size_t n = 1;
    for (int i = 0; i < ndim; i++)
        if (!snn_size_mul(n, dims[i], &n))
            return 0;
    /* Keep the byte count representable too. */
    if (n > SIZE_MAX / sizeof(float))
        return 0;
    *out = n;
    return 1;
}

snn_status snn_tensor_init(snn_tensor *t, int ndim, const size_t *dims,
                           snn_error *err)
{
    memset(t, 0, sizeof *t);
    if (ndim < 0 || ndim > SNN_MAX_DIMS)
        return snn_error_set(err, SNN_E_INVALID,
                             "tensor rank %d is outside 0..%d", ndim,
                             SNN_MAX_DIMS);
    size_t n;
    if (!numel_checked(ndim, dims, &n))
        return snn_error_set(err, SNN_E_NOMEM, "tensor size overflows");
    t->data = calloc(n ? n : 1, sizeof(float));
    if (!t->data)
        return snn_error_set(err, SNN_E_NOMEM,
                             "cannot allocate %zu floats", n);
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++)
        t->dims[i] = dims[i];
    return SNN_OK;
}

void snn_tensor_free(snn_tensor *t)
{
    if (!t)
        return;
    free(t->data);
    memset(t, 0, sizeof *t);
}

size_t snn_tensor_numel(const snn_tensor *t)
{
    if (!t->data)
        return 0;
    size_t n = 1;
    for (int i = 0; i < t->ndim; i++)
        n *= t->dims[i];
    return n;
}

snn_status snn_tensor_copy(snn_tensor *dst, const snn_tensor *src,
                           snn_error *err)
{
    if (!src->data) {
        memset(dst, 0, sizeof *dst);
        return SNN_OK;
    }
    snn_status st = snn_tensor_init(dst, src->ndim, src->dims, err);
    if (st != SNN_OK)
        return st;
    memcpy(dst->data, src->data, snn_tensor_numel(src) * sizeof(float));
    return SNN_OK;
}

const char *snn_shape_str(int ndim, const size_t *dims, char *buf,
                          size_t bufsize)
{
    size_t used = 0;
    used += (size_t)snprintf(buf, bufsize, "(");
    for (int i = 0; i < ndim && used < bufsize; i++)
        used += (size_t)snprintf(buf + used, bufsize - used, "%s%zu",
                                 i ? ", " : "", dims[i]);
    if (used < bufsize)
        snprintf(buf + used, bufsize - used, ")");
    return buf;
}
