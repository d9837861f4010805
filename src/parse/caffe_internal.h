/*
 * caffe_internal.h - what the Caffe reader's two halves share: caffe.c
 * reads the files, unifies current and legacy (V1) layers into one view
 * and tracks which graph layer holds each named blob; caffe_layers.c turns
 * one layer into graph layers.  Internal to the library.
 */
#ifndef SNNTB_PARSE_CAFFE_INTERNAL_H
#define SNNTB_PARSE_CAFFE_INTERNAL_H

#include "caffe.pb-c.h"
#include "snntb/graph.h"

/* One layer, whichever message (LayerParameter or V1LayerParameter) held
 * it.  Pointers alias the unpacked message. */
typedef struct caffe_view {
    const char *name, *type;
    size_t n_bottom, n_top, n_blobs, n_include, n_exclude;
    char **bottom, **top;
    Caffe__BlobProto **blobs;
    Caffe__NetStateRule **include, **exclude;
    Caffe__ConvolutionParameter *conv;
    Caffe__PoolingParameter *pool;
    Caffe__InnerProductParameter *ip;
    Caffe__InputParameter *input;
    Caffe__MemoryDataParameter *memory;
    Caffe__ReLUParameter *relu;
    Caffe__SoftmaxParameter *softmax;
    Caffe__FlattenParameter *flatten;
    Caffe__BatchNormParameter *bn;
    Caffe__ScaleParameter *scale;
    Caffe__ConcatParameter *concat;
    Caffe__EltwiseParameter *eltwise;
} caffe_view;

/* A named blob and the graph layer whose output it is now (in-place
 * layers rebind the name); reads counts the layers that read it since. */
typedef struct caffe_blob {
    const char *name;
    int layer;
    int reads;
} caffe_blob;

typedef struct caffe_ctx {
    const char *path;  /* the .prototxt, named in messages */
    const char *wpath; /* the .caffemodel */
    snn_graph *g;
    caffe_view *views; /* the prototxt's layers in the TEST phase */
    size_t n_views;
    caffe_view *wviews; /* the caffemodel's layers, for their blobs */
    size_t n_wviews;
    caffe_blob *blobs;
    size_t n_blobs, cap_blobs;
} caffe_ctx;

/* Converts views[i] into graph layers. */
snn_status snn_caffe_layer(caffe_ctx *c, size_t i, snn_error *err);

/* The graph layer holding bottom k of views[i]. */
snn_status snn_caffe_bottom(caffe_ctx *c, size_t i, size_t k, int *layer,
                            snn_error *err);

/* Binds the blob name to a graph layer's output. */
snn_status snn_caffe_define(caffe_ctx *c, const char *name, int layer,
                            snn_error *err);

/* Whether a layer reading bottom 0 of views[i] is its only reader: no one
 * read it since it was written, and no later layer reads this value. */
int snn_caffe_sole_reader(const caffe_ctx *c, size_t i);

/* The learned blobs of the layer named like views[i]: the caffemodel's,
 * or the prototxt's own when it carries them. */
const caffe_view *snn_caffe_weights(const caffe_ctx *c, size_t i);

#endif
