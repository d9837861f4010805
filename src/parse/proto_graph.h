/*
 * proto_graph.h - graph building shared by the Caffe and ONNX readers:
 * both walk a list of nodes that name their input tensors, need each
 * input's shape while converting (global pooling, flatten, "same"
 * padding), and fold a following activation into the layer that feeds it
 * when nothing else reads that layer's raw output.
 */
#ifndef SNNTB_PARSE_PROTO_GRAPH_H
#define SNNTB_PARSE_PROTO_GRAPH_H

#include "snntb/graph.h"

/* Appends *l to g and infers shapes so that later layers see its output
 * shape.  The graph owns l's tensors afterwards, also on failure (an
 * un-added layer's tensors are freed); *l is left empty. */
snn_status snn_pg_add(snn_graph *g, snn_layer *l, int *index,
                      snn_error *err);

/* Frees the tensors of a layer not owned by a graph. */
void snn_pg_release(snn_layer *l);

/* Applies act to the output of layer src: when may_fuse (nothing else
 * reads src's output) and src is a Dense, Conv2D or BatchNorm layer with
 * linear activation, src takes the activation; otherwise a standalone
 * activation layer named name is added.  *index receives the layer whose
 * output is now the activated tensor. */
snn_status snn_pg_activation(snn_graph *g, int src, int may_fuse,
                             snn_activation act, const char *name,
                             const char *type, int *index, snn_error *err);

/* A float tensor of the given dims holding n values from src (float or
 * double, converted); error when n disagrees with the dims. */
snn_status snn_pg_tensor(snn_tensor *t, int ndim, const size_t *dims,
                         const float *fsrc, const double *dsrc, size_t n,
                         const char *what, snn_error *err);

#endif
