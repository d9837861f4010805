/*
 * dataset_fit.h - makes stored samples match the graph's canonical input.
 *
 * Datasets are stored in the layout the model was trained with: (N, C, H,
 * W) for channels_first models, (N, H, W, C) for channels_last ones, or
 * flat; 1-D models' sequences as (N, steps, C) (Keras) or (N, C, steps)
 * (ONNX, channels_first).  The graph is always channels first (a sequence
 * a (C, 1, steps) image), so samples are transposed (or reshaped) here
 * once, before any stage sees them.
 */
#ifndef SNNTB_PIPELINE_DATASET_FIT_H
#define SNNTB_PIPELINE_DATASET_FIT_H

#include "snntb/graph.h"
#include "snntb/status.h"
#include "snntb/tensor.h"

/* Rewrites x (N, ...) to (N, *in).  `what` names the data in errors. */
snn_status snn_dataset_fit(snn_tensor *x, const snn_shape *in,
                           const char *what, snn_error *err);

#endif
