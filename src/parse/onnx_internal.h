/*
 * onnx_internal.h - what the ONNX reader's parts share: onnx.c reads the
 * file and walks the graph's nodes, keeping a table of named values;
 * onnx_tensor.c decodes constant tensors and node attributes;
 * onnx_nodes.c turns one node into graph layers.  Internal to the library.
 */
#ifndef SNNTB_PARSE_ONNX_INTERNAL_H
#define SNNTB_PARSE_ONNX_INTERNAL_H

#include <stdint.h>

#include "onnx.pb-c.h"
#include "snntb/graph.h"

typedef enum onnx_kind { ONNX_LAYER, ONNX_CONST } onnx_kind;

/* A named tensor of the ONNX graph: the output of a graph layer (with
 * zero padding a Pad node added, to be merged into the next window op),
 * or a constant (initializer, Constant node). */
typedef struct onnx_value {
    const char *name;
    onnx_kind kind;
    int layer;
    int pad[4]; /* top, left, bottom, right */
    const Onnx__TensorProto *tensor;
} onnx_value;

typedef struct onnx_ctx {
    const char *path;
    snn_graph *g;
    const Onnx__GraphProto *graph;
    int64_t opset;            /* of the default (ai.onnx) domain */
    const Onnx__NodeProto *node; /* the node being converted */
    onnx_value *vals;
    size_t n_vals, cap_vals;
    Onnx__TensorProto **owned; /* constants computed by onnx_fold.c */
    size_t n_owned;
} onnx_ctx;

/* ---- onnx.c ---- */

/* The value named name, or an error naming the current node. */
snn_status snn_onnx_value(onnx_ctx *c, const char *name, onnx_value **v,
                          snn_error *err);
/* Input k of the current node as a layer output / as a constant. */
snn_status snn_onnx_layer_input(onnx_ctx *c, size_t k, onnx_value **v,
                                snn_error *err);
snn_status snn_onnx_const_input(onnx_ctx *c, size_t k,
                                const Onnx__TensorProto **t, snn_error *err);
/* Whether input k is given (optional inputs may be absent or ""). */
int snn_onnx_has_input(const onnx_ctx *c, size_t k);
/* Binds output k of the current node. */
snn_status snn_onnx_define(onnx_ctx *c, size_t k, const onnx_value *v,
                           snn_error *err);
snn_status snn_onnx_define_layer(onnx_ctx *c, size_t k, int layer,
                                 snn_error *err);
/* How many node inputs and graph outputs read the named value. */
int snn_onnx_uses(const onnx_ctx *c, const char *name);
/* An error "path: node 'name' (OpType): <what>". */
snn_status snn_onnx_error(const onnx_ctx *c, snn_error *err, snn_status st,
                          const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ---- onnx_tensor.c ---- */

/* A float tensor with the constant's dims (FLOAT, DOUBLE, FLOAT16; raw or
 * typed storage). */
snn_status snn_onnx_floats(const onnx_ctx *c, const Onnx__TensorProto *t,
                           snn_tensor *out, snn_error *err);
/* The integer values of a constant (INT64, INT32); *vals is malloc'd. */
snn_status snn_onnx_ints(const onnx_ctx *c, const Onnx__TensorProto *t,
                         int64_t **vals, size_t *n, snn_error *err);
/* The current node's attribute name, or NULL. */
const Onnx__AttributeProto *snn_onnx_attr(const onnx_ctx *c,
                                          const char *name);
int64_t snn_onnx_attr_int(const onnx_ctx *c, const char *name, int64_t dflt);
float snn_onnx_attr_float(const onnx_ctx *c, const char *name, float dflt);
/* String attribute compared with s (dflt when absent). */
int snn_onnx_attr_is(const onnx_ctx *c, const char *name, const char *s,
                     int dflt);
/* An INTS attribute with exactly n values into out; absent: 0 is returned
 * and out untouched. */
snn_status snn_onnx_attr_ints(const onnx_ctx *c, const char *name, size_t n,
                              int64_t *out, int *found, snn_error *err);

/* ---- onnx_fold.c ---- */

/* When the current node is integer shape arithmetic on known values
 * (Shape, and Gather, Unsqueeze, Concat, ConstantOfShape, Reshape, Slice,
 * Transpose, Cast on constants), computes it, binds the result as a
 * constant, sets *st and returns 1; otherwise returns 0. */
int snn_onnx_fold(onnx_ctx *c, snn_status *st, snn_error *err);
/* Frees the constants snn_onnx_fold made. */
void snn_onnx_fold_free(onnx_ctx *c);

/* ---- onnx_nodes.c ---- */

/* Converts the current node c->node. */
snn_status snn_onnx_node(onnx_ctx *c, snn_error *err);

#endif
