/*
 * merge.h - what normalization and conversion agree on about Add layers:
 * which linear layers have no neurons of their own because an Add sums
 * them (see snn_convert in net.h).  Internal to src/convert.
 */
#ifndef SNNTB_CONVERT_MERGE_H
#define SNNTB_CONVERT_MERGE_H

#include "snntb/graph.h"
#include "snntb/status.h"

/* Whether layer k folds into the Adds that consume it: a linear Dense,
 * Conv2D, Conv2DTranspose or Add whose consumers (at least one) are all Adds.  Its scale
 * factor is then its first consumer's, and conversion turns it into
 * projections of the consumer's neurons. */
int merge_folds(const snn_graph *g, int k);

/* The first Add consuming layer k, or -1. */
int merge_consumer(const snn_graph *g, int k);

/* Gives Add l its per-input channel factors (weight (inputs, C), see
 * src/ann/merge.c), all 1, unless it has them. */
snn_status merge_add_factors(snn_layer *l, snn_error *err);

#endif
