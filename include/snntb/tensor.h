/*
 * tensor.h - the one numeric container: a dense float32 array with a shape.
 *
 * Everything numeric in snntb (weights, activations, datasets) is float32 in
 * row-major (C) order.  Readers convert what files store into this.
 */
#ifndef SNNTB_TENSOR_H
#define SNNTB_TENSOR_H

#include <stddef.h>
#include "snntb/status.h"

#define SNN_MAX_DIMS 8

typedef struct snn_tensor {
    int ndim;
    size_t dims[SNN_MAX_DIMS];
    float *data; /* NULL when the tensor is empty (ndim 0, never allocated) */
} snn_tensor;

/* Allocates a zero-filled tensor; checks that the element count does not
 * overflow.  t is overwritten (not freed) first. */
snn_status snn_tensor_init(snn_tensor *t, int ndim, const size_t *dims,
                           snn_error *err);
void snn_tensor_free(snn_tensor *t);
size_t snn_tensor_numel(const snn_tensor *t);
snn_status snn_tensor_copy(snn_tensor *dst, const snn_tensor *src,
                           snn_error *err);
/* Writes "(a, b, c)" into buf. */
const char *snn_shape_str(int ndim, const size_t *dims, char *buf,
                          size_t bufsize);
/* Multiplies sizes; returns 0 when the product would overflow size_t. */
int snn_size_mul(size_t a, size_t b, size_t *out);

#endif
