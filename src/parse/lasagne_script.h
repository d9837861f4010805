/*
 * lasagne_script.h - the layer list a Lasagne model script declares, as
 * lasagne_script.c reads it without running Python, for lasagne.c to turn
 * into a graph.  Internal to the library.
 */
#ifndef SNNTB_PARSE_LASAGNE_SCRIPT_H
#define SNNTB_PARSE_LASAGNE_SCRIPT_H

#include "snntb/graph.h"
#include "snntb/status.h"

typedef enum lsg_kind {
    LSG_INPUT,
    LSG_CONV,
    LSG_DENSE,
    LSG_POOL,
    LSG_BATCHNORM,
    LSG_NONLIN,
    LSG_FLATTEN,
    LSG_SUM,      /* ElemwiseSumLayer */
    LSG_CONCAT    /* ConcatLayer along the channels */
} lsg_kind;

/* One Lasagne layer with its arguments resolved to Lasagne's defaults.
 * DropoutLayer never appears: it is the identity at inference. */
typedef struct lsg_layer {
    lsg_kind kind;
    char type[32];           /* Lasagne's class name, for messages */
    char name[SNN_NAME_MAX]; /* name= or a generated one */
    int line;                /* of the call in the script */
    int input;               /* index of the incoming layer; -1 for input */
    int inputs[SNN_MAX_INPUTS]; /* merges: the incoming layers, in order */
    int n_inputs;            /* merges only; input is then inputs[0] */
    float coeff[SNN_MAX_INPUTS]; /* ElemwiseSumLayer's coeffs */
    snn_activation act;      /* conv, dense, nonlinearity */
    snn_shape shape;         /* input: per-sample shape */
    long units;              /* num_filters or num_units */
    int kernel[2], stride[2], pad[2]; /* conv and pooling */
    int flip;                /* conv: flip_filters */
    int has_bias;            /* conv, dense: b is not None */
    int has_beta, has_gamma; /* batch norm */
    int is_max, ceil_mode;   /* pooling; ceil_mode = !ignore_border */
} lsg_layer;

/* The network build_network() returns: layers in creation order, which
 * must be Lasagne's get_all_layers order (that of get_all_param_values);
 * the last is the output. */
typedef struct lsg_net {
    lsg_layer *layers;
    int n;
} lsg_net;

/* Reads the script at path.  Anything outside the subset model scripts
 * use is an error naming path and line. */
snn_status lsg_read_script(const char *path, lsg_net *net, snn_error *err);
void lsg_net_free(lsg_net *net);

#endif
