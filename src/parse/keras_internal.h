/*
 * keras_internal.h - what the Keras reader's two halves share: keras.c
 * walks the model (files, Sequential/Functional topology), keras_layers.c
 * turns one layer's JSON config and HDF5 weights into a graph layer.
 * Internal to the library.
 */
#ifndef SNNTB_PARSE_KERAS_INTERNAL_H
#define SNNTB_PARSE_KERAS_INTERNAL_H

#include <hdf5.h>
#include <jansson.h>

#include "snntb/graph.h"

typedef struct keras_ctx {
    const char *path;     /* the model file, named in every message */
    const char *wpath;    /* the file holding the weights */
    hid_t weights;        /* group with one subgroup per layer */
    int version[3];       /* keras_version; all 0 when the file omits it */
    int channels_first;   /* image layout of the model's tensors */
    int rank;             /* rank of the tensor entering the current layer */
    const char *name;     /* the layer being converted, for messages */
    const char *cls;
    const snn_shape *in;  /* shape of its (first) input */
    int n_inputs;         /* how many inputs it has */
    int extra;            /* set by a converter that fills a second layer */
} keras_ctx;

/* Most graph layers one Keras layer becomes (SeparableConv2D: depthwise
 * then pointwise; global pooling: pooling then flatten). */
#define KERAS_MAX_LAYERS 2

/* Converts the current layer (c->name, c->cls) with config cfg into
 * ls[0..*n), each fed by the one before, and updates c->rank.  *n is 0 for
 * layers that are the identity at inference (Dropout).  Unknown classes
 * are SNN_E_UNSUPPORTED. */
snn_status snn_keras_layer(keras_ctx *c, json_t *cfg,
                           snn_layer ls[KERAS_MAX_LAYERS], int *n,
                           snn_error *err);

/* Makes the input layer from a config holding batch_shape or
 * batch_input_shape (an InputLayer, or the first layer of a Sequential). */
snn_status snn_keras_input(keras_ctx *c, json_t *cfg, const char *name,
                           snn_layer *l, snn_error *err);

/* Frees the tensors of a layer not (yet) owned by a graph. */
void snn_keras_layer_release(snn_layer *l);

#endif
