/*
 * parse.h - model readers: each turns one framework's files into a graph.
 *
 * Parsers know nothing of datasets, conversion or simulation.  An unknown
 * layer type is an error naming the layer and its type, never a skip.
 */
#ifndef SNNTB_PARSE_H
#define SNNTB_PARSE_H

#include "snntb/graph.h"
#include "snntb/status.h"

/* A Keras model: a legacy HDF5 file (model_config + model_weights; Keras
 * 1.x, 2.x and 3), a .json architecture whose weights are in the .h5 (or
 * Keras 3's .weights.h5) of the same stem, or a Keras 3 .keras archive.  The result has its shapes
 * inferred.  Reads HDF5: not from two threads at once. */
snn_status snn_parse_keras(const char *path, snn_graph *g, snn_error *err);

/* A Caffe model: the net's structure from a .prototxt (text format, current
 * `layer` or legacy V1 `layers`), its learned blobs from the .caffemodel,
 * matched by layer name.  The result has its shapes inferred. */
snn_status snn_parse_caffe(const char *prototxt, const char *caffemodel,
                           snn_graph *g, snn_error *err);

/* An ONNX model (what torch.onnx.export writes), opsets 7 and later; the
 * result has its shapes inferred. */
snn_status snn_parse_onnx(const char *path, snn_graph *g, snn_error *err);

/* Finds the model for the original toolbox's (path_wd, filename_ann,
 * model_lib) triple, trying the extensions that library uses, and parses
 * it. */
snn_status snn_model_load(const char *path_wd, const char *filename_ann,
                          const char *model_lib, snn_graph *g,
                          snn_error *err);

#endif
