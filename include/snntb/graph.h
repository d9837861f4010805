/*
 * graph.h - the ANN intermediate representation.
 *
 * A graph is a DAG of layers stored in topological order (a layer's inputs
 * have smaller indices).  One canonical layout inside, whatever the source
 * framework stored: batch first, channels first (NCHW), convolution weights
 * OIHW, dense weights out x in.  Parsers convert into this and make every
 * permutation explicit (for example `flatten_hwc`), so that running the
 * graph gives the framework's own output.
 */
#ifndef SNNTB_GRAPH_H
#define SNNTB_GRAPH_H

#include "snntb/status.h"
#include "snntb/tensor.h"

#define SNN_NAME_MAX 128
#define SNN_MAX_INPUTS 8

typedef enum snn_op {
    SNN_OP_INPUT,
    SNN_OP_DENSE,
    SNN_OP_CONV2D,
    SNN_OP_MAXPOOL2D,
    SNN_OP_AVGPOOL2D,
    SNN_OP_FLATTEN,
    SNN_OP_BATCHNORM,  /* folded away by snn_fold_batchnorm before conversion */
    SNN_OP_ACTIVATION, /* a standalone activation (act) on its input */
    /* Added with the Keras Functional / residual readers: */
    SNN_OP_ADD,        /* element-wise sum of n_inputs equal shapes */
    SNN_OP_CONCAT,     /* stacks its inputs along the channel axis */
    SNN_OP_PAD,        /* zero padding of H and W by win.pad */
    SNN_OP_CROP,       /* removes win.pad cells from the edges of H and W */
    SNN_OP_UPSAMPLE,   /* nearest-neighbour: H, W times win.stride */
    SNN_OP_RESHAPE,    /* to `target`; flatten_hwc: both ends in H,W,C order */
    SNN_OP_CONV2D_T    /* transposed convolution, weight (I, O/groups, KH, KW) */
} snn_op;

typedef enum snn_activation {
    SNN_ACT_LINEAR,
    SNN_ACT_RELU,
    SNN_ACT_SOFTMAX,
    SNN_ACT_CLIP,      /* min(max(x, 0), clip_max): ReLU6, ReLU(max_value) */
    SNN_ACT_BINARY_SIGMOID, /* round(clip(x / 2 + 1 / 2, 0, 1)), half to
                               even: 1 where x > 0, else 0 (BinaryNet) */
    SNN_ACT_BINARY_TANH     /* 2 binary_sigmoid(x) - 1: +1 or -1 */
} snn_activation;

/* Whether act is one of the binary activations. */
int snn_act_is_binary(snn_activation act);

typedef enum snn_pad_mode {
    SNN_PAD_EXPLICIT, /* pad[] as given */
    SNN_PAD_SAME      /* Keras/TF "same": resolved into pad[] by shape inference */
} snn_pad_mode;

/* Per-sample shape: (C, H, W) for images, (N) for vectors. */
typedef struct snn_shape {
    int ndim;
    size_t dims[3];
} snn_shape;

/* Window of a convolution or pooling layer. */
typedef struct snn_window {
    int kernel[2];   /* kh, kw */
    int stride[2];
    int dilation[2]; /* 1 = dense kernel */
    int pad[4];      /* top, left, bottom, right */
    snn_pad_mode pad_mode;
    int ceil_mode;   /* pooling output size rounds up (Caffe) */
    int count_pad;   /* average pooling divides by the window's cells
                        inside the padded input, padding included (Caffe,
                        ONNX count_include_pad), not by in-image cells */
} snn_window;

typedef struct snn_layer {
    char name[SNN_NAME_MAX];
    char type[SNN_NAME_MAX]; /* the source framework's class name, for messages */
    snn_op op;
    snn_activation act;      /* applied after the op */
    int inputs[SNN_MAX_INPUTS];
    int n_inputs;
    snn_shape shape;         /* output shape, set by snn_graph_infer_shapes */

    snn_tensor weight;       /* dense: (out, in); conv: (O, I/groups, KH, KW);
                                conv transpose: (I, O/groups, KH, KW) */
    snn_tensor bias;         /* (out); empty when the layer has none */
    snn_window win;          /* conv and pooling */
    int groups;              /* conv; 1 unless grouped */
    int flatten_hwc;         /* flatten in (H, W, C) order, as Keras does */
    float clip_max;          /* SNN_ACT_CLIP's upper bound */
    snn_shape target;        /* RESHAPE: the output shape */
    int out_pad[2];          /* CONV2D_T: extra rows/cols after the output
                                (output_padding) */

    /* BatchNormalization: y = gamma * (x - mean) / sqrt(var + eps) + beta,
     * per channel. */
    snn_tensor gamma, beta, mean, var;
    float eps;
} snn_layer;

typedef struct snn_graph {
    snn_layer *layers;
    int n_layers;
    int cap;
    char source[SNN_NAME_MAX]; /* e.g. "keras 2.2.4" */
} snn_graph;

void snn_graph_init(snn_graph *g);
void snn_graph_free(snn_graph *g);

/* Fills a layer with neutral defaults (stride 1, dilation 1, groups 1...). */
void snn_layer_defaults(snn_layer *l, snn_op op, const char *name,
                        const char *type);

/* Appends a copy of *l; the graph takes ownership of its tensors (the caller
 * must not free them).  *index receives the new layer's index. */
snn_status snn_graph_add(snn_graph *g, const snn_layer *l, int *index,
                         snn_error *err);

/* Computes every layer's output shape from its inputs and attributes,
 * resolves SNN_PAD_SAME, and checks weight shapes.  The input layer's shape
 * must be set.  Errors name the layer. */
snn_status snn_graph_infer_shapes(snn_graph *g, snn_error *err);

/* The original's softmax_to_relu: every softmax becomes a ReLU, so that
 * normalization scales the output layer like any other and it converts to
 * plain integrate-and-fire neurons.  The class ranking is unchanged. */
void snn_graph_softmax_to_relu(snn_graph *g);

/* Drops layer k (one input), freeing its tensors; its consumers read
 * from its input instead. */
void snn_graph_remove_layer(snn_graph *g, int k);

/* Consumers of layer k's output among the later layers (an input listed
 * twice counts twice). */
int snn_graph_consumers(const snn_graph *g, int k);

/* Index of the layer with this name, or -1. */
int snn_graph_find(const snn_graph *g, const char *name);

int snn_layer_has_weights(const snn_layer *l);
/* Number of trainable values the source framework counted (weights, bias,
 * BatchNorm's four vectors), as a Keras summary shows them. */
size_t snn_layer_params(const snn_layer *l);
size_t snn_shape_numel(const snn_shape *s);
const char *snn_op_name(snn_op op);
const char *snn_act_name(snn_activation act);

#endif
