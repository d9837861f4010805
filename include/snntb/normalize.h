/*
 * normalize.h - prepares a graph for conversion: folds BatchNormalization
 * into the weighted layer before it, merges a separable convolution's two
 * halves, and zero padding, into one convolution, and rescales weights
 * layer by layer so
 * that activations fit the spiking neurons' range (data-based
 * normalization, as the original toolbox does it).
 */
#ifndef SNNTB_NORMALIZE_H
#define SNNTB_NORMALIZE_H

#include "snntb/graph.h"
#include "snntb/status.h"
#include "snntb/tensor.h"

/* Removes every BATCHNORM layer, output unchanged.  A BN right after a
 * linear Dense/Conv2D folds into it.  A BN after a ReLU folds backwards per
 * channel where that is exact (scale >= 0, shift <= 0), and the rest of its
 * affine folds forwards into the next Dense/Conv2D, through max pooling,
 * unpadded average pooling and Flatten.  What no exact fold covers (a
 * negative scale, a zero-padded conv next) is an error naming the layer. */
snn_status snn_fold_batchnorm(snn_graph *g, snn_error *err);

/* Merges into the Conv2D it alone feeds, output unchanged: every linear
 * Conv2D feeding a 1x1, stride-1, unpadded, ungrouped Conv2D (the two
 * halves of a Keras SeparableConv2D, whose negative values between them
 * integrate-and-fire neurons cannot carry), and every zero padding layer
 * (its zeros join the convolution's padding).  See compose.c. */
snn_status snn_compose_convs(snn_graph *g, snn_error *err);

/* The p-th percentile (0..100) of the non-zero values of v[0..n), with
 * numpy's default linear interpolation; 0 when none is non-zero.  v is
 * reordered. */
double snn_percentile_nonzero(float *v, size_t n, double p);

/* One scale factor per layer.  For each weighted layer: lambda = the
 * percentile of its non-zero post-activation outputs over x (those of a
 * standalone Activation when that is the only consumer of a linear
 * layer; 1 for a softmax layer; the bound of a clipped ReLU, which then
 * becomes 1, the IF neuron's saturation); the input layer has 1, and a
 * layer without weights has its input's lambda, so lambda[inputs[0]] is
 * always the factor of the nearest weighted layer upstream.
 * snn_apply_scales then sets W <- W * lambda_prev / lambda,
 * b <- b / lambda and a clip bound to bound / lambda.  x is used in whole
 * batches only (the original's Keras predict cut the remainder), or whole
 * when it is smaller than one batch.  Exact, with memory independent of
 * the size of x (see normalize.c).
 *
 * Channel-wise scales (snn_compute_channel_scales) give every output
 * channel of a weighted layer its own lambda, the percentile of that
 * channel's outputs (a channel never active on x takes the largest lambda
 * of its layer); W[o][i] <- W[o][i] * lambda_prev[i's channel] /
 * lambda[o].  Then chan holds, for every layer k, one factor per channel
 * of its output (per element after a Flatten) from chan[chan_at[k]] to
 * chan[chan_at[k + 1]], and lambda[k] is the largest of them.
 *
 * Adds and Concatenates (residual and branching nets): an Add is a layer
 * of neurons (snn_convert), so it has a lambda of its own, measured like
 * a weighted layer's; a linear Dense/Conv2D (or Add) whose consumers are
 * all Adds has no neurons and takes its first consumer's lambda.
 * snn_apply_scales gives each Add one factor per input and channel,
 * lambda_j[c] / lambda_add[c] (its weight, (inputs, C), which the ANN's
 * Add applies), so that every projection into the Add's neurons carries
 * lambda_source / lambda_add.  A Concatenate holds its inputs' channels
 * and their factors side by side: the next weighted layer scales each
 * input channel by the factor of the layer it came from (layer-wise too;
 * lambda of the Concatenate itself, for reports, is its inputs' largest). */
typedef struct snn_scales {
    double *lambda; /* n entries, indexed like the graph's layers */
    int n;
    double *chan;   /* channel-wise factors; NULL: layer-wise */
    size_t *chan_at; /* n + 1 offsets into chan */
} snn_scales;

snn_status snn_compute_scales(const snn_graph *g, const snn_tensor *x,
                              double percentile, size_t batch,
                              snn_scales *out, snn_error *err);
snn_status snn_compute_channel_scales(const snn_graph *g,
                                      const snn_tensor *x, double percentile,
                                      size_t batch, snn_scales *out,
                                      snn_error *err);
/* Without data: a clipped ReLU layer's bound, 1 for every other layer
 * (what a run without normalization applies, so that a clipped net still
 * has its bound at the threshold). */
snn_status snn_clip_scales(const snn_graph *g, snn_scales *out,
                           snn_error *err);
/* Whether layer k of g has a scale factor of its own (a weighted layer,
 * an Add), rather than passing on its input's. */
int snn_layer_scaled(const snn_graph *g, int k);
/* Fills in lambda of the layers that have none of their own (layer-wise):
 * a linear layer folded into Adds takes its first consumer's, a
 * Concatenate the largest of its inputs', any other layer its input's. */
void snn_scales_inherit(const snn_graph *g, snn_scales *s);
/* Whether g has a clipped ReLU. */
int snn_graph_has_clip(const snn_graph *g);
snn_status snn_apply_scales(snn_graph *g, const snn_scales *s,
                            snn_error *err);
void snn_scales_free(snn_scales *s);

#endif
