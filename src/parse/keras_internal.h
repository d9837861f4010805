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

/* Path of one layer's variables in a .keras archive's weights file. */
#define KERAS_VARS_MAX 512

typedef struct keras_ctx {
    const char *path;     /* the model file, named in every message */
    const char *wpath;    /* the file holding the weights */
    hid_t weights;        /* group with one subgroup per layer */
    int version[3];       /* keras_version; all 0 when the file omits it */
    int channels_first;   /* image layout of the model's tensors */
    int sequence;         /* the model has 1-D layers: a rank-2 input is
                             (steps, channels), not a one-channel image */
    int rank;             /* rank of the tensor entering the current layer:
                             1 vector, 2 sequence (C, 1, steps), 3 image */
    const char *vars;     /* .keras: the current layer's variables group
                             (layers/<snake_case class>[_N]/vars), numbered
                             0, 1, ...; NULL: a legacy group named after
                             the layer, listing weight_names */
    const char *wgroup;   /* legacy: a nested model's layer has its weights
                             in this top-level group, among those of the
                             other layers of the model; NULL: in the group
                             named after the layer */
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

/* Rewrites a Keras 1 layer's config in place into the Keras 2 form the
 * converters read: Convolution2D(nb_filter, nb_row, nb_col, subsample,
 * border_mode, dim_ordering) takes Conv2D's keys (filters, kernel_size,
 * strides, padding, data_format), and so on.  Layers it does not know are
 * left alone (the converters refuse them by name). */
snn_status snn_keras1_translate(const keras_ctx *c, json_t *layer,
                                snn_error *err);

/* The parts of a Keras 3 .keras archive: the architecture (config.json),
 * the version from metadata.json ("" when absent) and the weights file
 * (model.weights.h5), opened from memory.  On failure nothing is left
 * open. */
snn_status snn_keras_zip_open(const char *path, json_t **config,
                              char version[32], hid_t *file, snn_error *err);

/* Where Keras 3 saves the variables of the layer of class cls that is the
 * n-th (from 0) of its class in its model, whose layers' variables are
 * under prefix: <prefix>layers/<snake_case>[_n]/vars. */
void snn_keras_vars_path(const char *prefix, const char *cls, int n,
                         char *buf, size_t size);

/* Frees the tensors of a layer not (yet) owned by a graph. */
void snn_keras_layer_release(snn_layer *l);

#endif
