/*
 * lasagne.h - the Lasagne reader's entry point, for snn_model_load and the
 * tests.  Internal to the library (parse.h belongs to the Keras reader's
 * owner; this can move there).
 */
#ifndef SNNTB_PARSE_LASAGNE_H
#define SNNTB_PARSE_LASAGNE_H

#include "snntb/graph.h"
#include "snntb/status.h"

/* A Lasagne model as the original toolbox takes it: `script`, a .py whose
 * build_network() declares the layers (read, never run), and `params`, an
 * .h5 whose root datasets, in name order, are the parameters in
 * lasagne.layers.get_all_param_values order.  The result has its shapes
 * inferred and computes what Lasagne computes: filters are flipped where
 * Lasagne flips them, dense weights transposed to (out, in), the implicit
 * flatten before a DenseLayer made explicit, inv_std turned into a
 * variance. */
snn_status snn_parse_lasagne(const char *script, const char *params,
                             snn_graph *g, snn_error *err);

#endif
