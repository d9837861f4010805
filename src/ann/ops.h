/*
 * ops.h - the layer kernels, shared by ANN inference (src/ann) and the
 * spiking simulator (src/sim), which feeds spikes through the same
 * synaptic ops.  Internal to the library.
 */
#ifndef SNNTB_ANN_OPS_H
#define SNNTB_ANN_OPS_H

#include <stddef.h>
#include "snntb/graph.h"
#include "snntb/status.h"

/* The linear part of layer l: y (n, l->shape) = op(x (n, *in)), without
 * l->act.  Handles DENSE, CONV2D (bias added), MAXPOOL2D, AVGPOOL2D,
 * FLATTEN (honouring flatten_hwc), BATCHNORM, ACTIVATION (identity here),
 * PAD, CROP, UPSAMPLE, RESHAPE, CONV2D_T; not ADD and CONCAT (see
 * snn_merge_forward).
 * Shapes must have been inferred.  Thread-safe; parallel over the batch.
 * x and y must not overlap.  Allocates nothing: call it every time step.
 * The caller must have validated l against *in with snn_op_check. */
void snn_op_forward(const snn_layer *l, const snn_shape *in, const float *x,
                    size_t n, float *y);

/* Checks that every buffer snn_op_forward will touch for l has the size
 * the shapes imply (weights, bias, BatchNorm parameters, window), so that
 * a graph edited after shape inference cannot make a kernel read out of
 * bounds.  Errors name the layer. */
snn_status snn_op_check(const snn_layer *l, const snn_shape *in,
                        snn_error *err);

/* Applies act in place to y, shaped (n, dim); softmax is over dim (the
 * whole per-sample output).  SNN_ACT_CLIP needs its bound: use
 * snn_layer_activate (here it clips below only). */
void snn_op_activate(snn_activation act, float *y, size_t n, size_t dim);

/* Applies l->act (with l->clip_max) to l's output y of n samples. */
void snn_layer_activate(const snn_layer *l, float *y, size_t n);

/* The ops with several inputs (ADD, CONCAT), which snn_op_forward and
 * snn_op_check refuse: input k is xs[k] shaped (n, *ins[k]).  Check with
 * snn_merge_check first. */
void snn_merge_forward(const snn_layer *l, const snn_shape *const *ins,
                       const float *const *xs, size_t n, float *y);
snn_status snn_merge_check(const snn_layer *l, const snn_shape *const *ins,
                           snn_error *err);

/* The kernels behind snn_op_forward, one per op family. */
void snn_dense_forward(const snn_layer *l, const float *x, size_t n,
                       size_t in_dim, float *y);
void snn_conv2d_forward(const snn_layer *l, const snn_shape *in,
                        const float *x, size_t n, float *y);
void snn_pool2d_forward(const snn_layer *l, const snn_shape *in,
                        const float *x, size_t n, float *y);
void snn_flatten_forward(const snn_layer *l, const snn_shape *in,
                         const float *x, size_t n, float *y);
void snn_batchnorm_forward(const snn_layer *l, const snn_shape *in,
                           const float *x, size_t n, float *y);
void snn_edges_forward(const snn_layer *l, const snn_shape *in,
                       const float *x, size_t n, float *y);
void snn_upsample_forward(const snn_layer *l, const snn_shape *in,
                          const float *x, size_t n, float *y);
void snn_reshape_forward(const snn_layer *l, const snn_shape *in,
                         const float *x, size_t n, float *y);
void snn_conv2d_t_forward(const snn_layer *l, const snn_shape *in,
                          const float *x, size_t n, float *y);

/* BatchNorm of channel c as y = scale * x + shift; an absent gamma or beta
 * (Keras scale=False / center=False) acts as 1 or 0.  Shared by the
 * kernel and by BatchNorm folding so both agree to the last bit. */
void snn_bn_coeffs(const snn_layer *l, size_t c, float *scale, float *shift);

/* Channels of a per-sample shape: C of (C, H, W), N of (N). */
size_t snn_shape_channels(const snn_shape *s);

#endif
