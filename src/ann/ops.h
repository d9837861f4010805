/*
 * ops.h - the layer kernels, shared by ANN inference (src/ann) and the
 * spiking simulator (src/sim), which feeds spikes through the same
 * synaptic ops.  Internal to the library.
 */
#ifndef SNNTB_ANN_OPS_H
#define SNNTB_ANN_OPS_H

#include <stddef.h>
#include "snntb/graph.h"

/* The linear part of layer l: y (n, l->shape) = op(x (n, *in)), without
 * l->act.  Handles DENSE, CONV2D (bias added), MAXPOOL2D, AVGPOOL2D,
 * FLATTEN (honouring flatten_hwc), BATCHNORM, ACTIVATION (identity here).
 * Shapes must have been inferred.  Thread-safe; parallel over the batch. */
void snn_op_forward(const snn_layer *l, const snn_shape *in, const float *x,
                    size_t n, float *y);

/* Applies act in place to y, shaped (n, dim); softmax is over dim. */
void snn_op_activate(snn_activation act, float *y, size_t n, size_t dim);

#endif
