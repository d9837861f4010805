/*
 * weights.h - which weights of a Dense, Conv2D or Conv2DTranspose join an
 * output channel to an input channel.  Normalization and the folding of
 * linear layers into Adds scale weights per channel; the three ops store
 * them in three layouts (out x in; O, I/groups, KH, KW; I, O/groups, KH,
 * KW), which only this file needs to know.  Internal to src/convert.
 */
#ifndef SNNTB_CONVERT_WEIGHTS_H
#define SNNTB_CONVERT_WEIGHTS_H

#include <stddef.h>

#include "snntb/graph.h"

/* Whether l is a Dense, Conv2D or Conv2DTranspose with weights. */
int weights_layer(const snn_layer *l);

/* Output channels of weights_layer l, and its input channels (input
 * elements of a Dense). */
size_t weights_out_channels(const snn_layer *l);
size_t weights_in_channels(const snn_layer *l);

/* The *n contiguous weights (the kernel, 1 for a Dense) that join output
 * channel o to input channel i, or NULL when groups keep them apart. */
float *weights_block(const snn_layer *l, size_t o, size_t i, size_t *n);

#endif
