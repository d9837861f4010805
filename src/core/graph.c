/*
 * graph.c - building the ANN graph and inferring its shapes.
 *
 * Shape inference is where a model file's claims are checked against each
 * other: weight tensors must fit the layer's input, windows must fit the
 * image.  Parsers rely on it, so every error names the layer.
 */
#include "snntb/graph.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void snn_graph_init(snn_graph *g)
{
    memset(g, 0, sizeof *g);
}

static void layer_free(snn_layer *l)
{
    snn_tensor_free(&l->weight);
    snn_tensor_free(&l->bias);
    snn_tensor_free(&l->gamma);
    snn_tensor_free(&l->beta);
    snn_tensor_free(&l->mean);
    snn_tensor_free(&l->var);
}

void snn_graph_free(snn_graph *g)
{
    for (int i = 0; i < g->n_layers; i++)
        layer_free(&g->layers[i]);
    free(g->layers);
    memset(g, 0, sizeof *g);
}

void snn_layer_defaults(snn_layer *l, snn_op op, const char *name,
                        const char *type)
{
    memset(l, 0, sizeof *l);
    l->op = op;
    l->act = SNN_ACT_LINEAR;
    snprintf(l->name, sizeof l->name, "%s", name ? name : "");
    snprintf(l->type, sizeof l->type, "%s", type ? type : snn_op_name(op));
    for (int i = 0; i < 2; i++) {
        l->win.kernel[i] = 1;
        l->win.stride[i] = 1;
        l->win.dilation[i] = 1;
    }
    l->groups = 1;
    l->eps = 1e-3f;
}

snn_status snn_graph_add(snn_graph *g, const snn_layer *l, int *index,
                         snn_error *err)
{
    for (int i = 0; i < l->n_inputs; i++)
        if (l->inputs[i] < 0 || l->inputs[i] >= g->n_layers)
            return snn_error_set(err, SNN_E_INVALID,
                                 "layer '%s': input %d refers to no earlier "
                                 "layer", l->name, l->inputs[i]);
    if (g->n_layers == g->cap) {
        int cap = g->cap ? 2 * g->cap : 16;
        snn_layer *grown = realloc(g->layers, (size_t)cap * sizeof *grown);
        if (!grown)
            return snn_error_set(err, SNN_E_NOMEM, "cannot grow graph");
        g->layers = grown;
        g->cap = cap;
    }
    g->layers[g->n_layers] = *l;
    if (index)
        *index = g->n_layers;
    g->n_layers++;
    return SNN_OK;
}

int snn_graph_find(const snn_graph *g, const char *name)
{
    for (int i = 0; i < g->n_layers; i++)
        if (strcmp(g->layers[i].name, name) == 0)
            return i;
    return -1;
}

void snn_graph_softmax_to_relu(snn_graph *g)
{
    for (int i = 0; i < g->n_layers; i++)
        if (g->layers[i].act == SNN_ACT_SOFTMAX)
            g->layers[i].act = SNN_ACT_RELU;
}

void snn_graph_remove_layer(snn_graph *g, int k)
{
    snn_layer *dead = &g->layers[k];
    int src = dead->inputs[0];
    snn_tensor *ts[] = {&dead->weight, &dead->bias, &dead->gamma,
                        &dead->beta,   &dead->mean, &dead->var};
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++)
        snn_tensor_free(ts[i]);
    memmove(dead, dead + 1, (size_t)(g->n_layers - k - 1) * sizeof *dead);
    g->n_layers--;
    for (int j = k; j < g->n_layers; j++)
        for (int i = 0; i < g->layers[j].n_inputs; i++) {
            int *in = &g->layers[j].inputs[i];
            *in = *in == k ? src : *in > k ? *in - 1 : *in;
        }
}

int snn_graph_consumers(const snn_graph *g, int k)
{
    int uses = 0;
    for (int j = k + 1; j < g->n_layers; j++)
        for (int i = 0; i < g->layers[j].n_inputs; i++)
            uses += g->layers[j].inputs[i] == k;
    return uses;
}

size_t snn_layer_params(const snn_layer *l)
{
    const snn_tensor *ts[] = {&l->weight, &l->bias, &l->gamma,
                              &l->beta,   &l->mean, &l->var};
    size_t n = 0;
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++)
        if (ts[i]->data)
            n += snn_tensor_numel(ts[i]);
    return n;
}

int snn_layer_has_weights(const snn_layer *l)
{
    return (l->op == SNN_OP_DENSE || l->op == SNN_OP_CONV2D) &&
           l->weight.data != NULL;
}

size_t snn_shape_numel(const snn_shape *s)
{
    size_t n = s->ndim ? 1 : 0;
    for (int i = 0; i < s->ndim; i++)
        n *= s->dims[i];
    return n;
}

const char *snn_op_name(snn_op op)
{
    switch (op) {
    case SNN_OP_INPUT: return "Input";
    case SNN_OP_DENSE: return "Dense";
    case SNN_OP_CONV2D: return "Conv2D";
    case SNN_OP_MAXPOOL2D: return "MaxPooling2D";
    case SNN_OP_AVGPOOL2D: return "AveragePooling2D";
    case SNN_OP_FLATTEN: return "Flatten";
    case SNN_OP_BATCHNORM: return "BatchNormalization";
    case SNN_OP_ACTIVATION: return "Activation";
    case SNN_OP_ADD: return "Add";
    case SNN_OP_CONCAT: return "Concatenate";
    case SNN_OP_PAD: return "ZeroPadding2D";
    case SNN_OP_CROP: return "Cropping2D";
    case SNN_OP_UPSAMPLE: return "UpSampling2D";
    case SNN_OP_RESHAPE: return "Reshape";
    case SNN_OP_CONV2D_T: return "Conv2DTranspose";
    }
    return "?";
}

const char *snn_act_name(snn_activation act)
{
    switch (act) {
    case SNN_ACT_LINEAR: return "linear";
    case SNN_ACT_RELU: return "relu";
    case SNN_ACT_SOFTMAX: return "softmax";
    case SNN_ACT_CLIP: return "clipped relu";
    case SNN_ACT_BINARY_SIGMOID: return "binary_sigmoid";
    case SNN_ACT_BINARY_TANH: return "binary_tanh";
    }
    return "?";
}

int snn_act_is_binary(snn_activation act)
{
    return act == SNN_ACT_BINARY_SIGMOID || act == SNN_ACT_BINARY_TANH;
}

/* ---- shape inference ---------------------------------------------------- */

static snn_status shape_error(snn_error *err, const snn_layer *l,
                              const char *what)
{
    return snn_error_set(err, SNN_E_SHAPE, "layer '%s' (%s): %s", l->name,
                         l->type, what);
}

/* Output length of one spatial axis of a window op; with `same` it also
 * writes the padding that "same" implies (the extra cell goes after, as
 * TensorFlow does it). */
static snn_status window_axis(const snn_layer *l, snn_window *w, int axis,
                              int same, size_t in, size_t *out,
                              snn_error *err)
{
    long k = w->kernel[axis], s = w->stride[axis], d = w->dilation[axis];
    if (k < 1 || s < 1 || d < 1)
        return shape_error(err, l, "kernel, stride and dilation must be >= 1");
    long extent = (k - 1) * d + 1;
    if (same) {
        long o = ((long)in + s - 1) / s;
        long total = (o - 1) * s + extent - (long)in;
        if (total < 0)
            total = 0;
        w->pad[axis] = (int)(total / 2);          /* top or left */
        w->pad[axis + 2] = (int)(total - total / 2); /* bottom or right */
        *out = (size_t)o;
        return SNN_OK;
    }
    long lo = w->pad[axis], hi = w->pad[axis + 2];
    if (lo < 0 || hi < 0)
        return shape_error(err, l, "negative padding");
    long span = (long)in + lo + hi - extent;
    if (span < 0)
        return shape_error(err, l, "window is larger than its padded input");
    long o = w->ceil_mode ? (span + s - 1) / s + 1 : span / s + 1;
    /* Caffe's rule: the last window must start inside the image or its
     * leading padding. */
    if (w->ceil_mode && (o - 1) * s >= (long)in + lo)
        o--;
    *out = (size_t)o;
    return SNN_OK;
}

static snn_status infer_window(snn_layer *l, const snn_shape *in,
                               size_t channels, snn_error *err)
{
    if (in->ndim != 3)
        return shape_error(err, l, "needs a (channels, height, width) input");
    size_t oh = 0, ow = 0;
    int same = l->win.pad_mode == SNN_PAD_SAME;
    snn_status st = window_axis(l, &l->win, 0, same, in->dims[1], &oh, err);
    if (st == SNN_OK)
        st = window_axis(l, &l->win, 1, same, in->dims[2], &ow, err);
    if (st != SNN_OK)
        return st;
    /* Resolved: inferring again (after folding, say) keeps these pads. */
    l->win.pad_mode = SNN_PAD_EXPLICIT;
    l->shape.ndim = 3;
    l->shape.dims[0] = channels;
    l->shape.dims[1] = oh;
    l->shape.dims[2] = ow;
    return SNN_OK;
}

static snn_status check_vector(const snn_layer *l, const snn_tensor *t,
                               const char *what, size_t n, snn_error *err)
{
    if (!t->data)
        return SNN_OK;
    if (t->ndim != 1 || t->dims[0] != n)
        return snn_error_set(err, SNN_E_SHAPE,
                             "layer '%s' (%s): %s has %zu values, expected %zu",
                             l->name, l->type, what,
                             t->ndim ? t->dims[0] : 0, n);
    return SNN_OK;
}

static snn_status infer_dense(snn_layer *l, const snn_shape *in,
                              snn_error *err)
{
    if (in->ndim != 1)
        return shape_error(err, l, "needs a flat input (add a Flatten)");
    if (l->weight.ndim != 2 || l->weight.dims[1] != in->dims[0]) {
        char buf[64];
        snn_error_set(err, SNN_E_SHAPE,
                      "layer '%s' (%s): weights %s do not fit an input of %zu",
                      l->name, l->type,
                      snn_shape_str(l->weight.ndim, l->weight.dims, buf,
                                    sizeof buf),
                      in->dims[0]);
        return SNN_E_SHAPE;
    }
    l->shape.ndim = 1;
    l->shape.dims[0] = l->weight.dims[0];
    return check_vector(l, &l->bias, "bias", l->weight.dims[0], err);
}

/* The one message for a conv or transposed-conv kernel whose channels or
 * groups do not match its input. */
static snn_status kernel_misfit(const snn_layer *l, const snn_shape *in,
                                snn_error *err)
{
    char buf[64];
    return snn_error_set(
        err, SNN_E_SHAPE,
        "layer '%s' (%s): kernel %s (groups %d) does not fit %zu input "
        "channels", l->name, l->type,
        snn_shape_str(l->weight.ndim, l->weight.dims, buf, sizeof buf),
        l->groups, in->dims[0]);
}

static snn_status infer_conv(snn_layer *l, const snn_shape *in,
                             snn_error *err)
{
    const snn_tensor *w = &l->weight;
    if (in->ndim != 3)
        return shape_error(err, l, "needs a (channels, height, width) input");
    if (l->groups < 1 || w->ndim != 4 || w->dims[0] % (size_t)l->groups ||
        in->dims[0] % (size_t)l->groups ||
        w->dims[1] != in->dims[0] / (size_t)l->groups)
        return kernel_misfit(l, in, err);
    l->win.kernel[0] = (int)w->dims[2];
    l->win.kernel[1] = (int)w->dims[3];
    snn_status st = infer_window(l, in, w->dims[0], err);
    if (st != SNN_OK)
        return st;
    return check_vector(l, &l->bias, "bias", w->dims[0], err);
}

static snn_status infer_batchnorm(snn_layer *l, const snn_shape *in,
                                  snn_error *err)
{
    size_t c = in->dims[0];
    l->shape = *in;
    if (!l->mean.data || !l->var.data)
        return shape_error(err, l, "moving mean and variance are missing");
    snn_status st = check_vector(l, &l->gamma, "gamma", c, err);
    if (st == SNN_OK) st = check_vector(l, &l->beta, "beta", c, err);
    if (st == SNN_OK) st = check_vector(l, &l->mean, "moving mean", c, err);
    if (st == SNN_OK) st = check_vector(l, &l->var, "moving variance", c, err);
    return st;
}

/* Larger paddings, crops or upsampling factors than this are a corrupt
 * file, not a model. */
#define EDGE_MAX (1 << 16)

static int same_shape(const snn_shape *a, const snn_shape *b)
{
    if (a->ndim != b->ndim)
        return 0;
    for (int i = 0; i < a->ndim; i++)
        if (a->dims[i] != b->dims[i])
            return 0;
    return 1;
}

/* ADD: equal shapes; CONCAT: equal but for the channels, which add up. */
static snn_status infer_merge(const snn_graph *g, snn_layer *l,
                              snn_error *err)
{
    if (l->n_inputs < 2)
        return shape_error(err, l, "needs at least two inputs");
    const snn_shape *first = &g->layers[l->inputs[0]].shape;
    l->shape = *first;
    for (int k = 1; k < l->n_inputs; k++) {
        snn_shape in = g->layers[l->inputs[k]].shape;
        if (l->op == SNN_OP_CONCAT && in.ndim == first->ndim && in.ndim) {
            l->shape.dims[0] += in.dims[0];
            in.dims[0] = first->dims[0];
        }
        if (!same_shape(&in, first)) {
            char a[64], b[64];
            return snn_error_set(
                err, SNN_E_SHAPE,
                "layer '%s' (%s): input '%s' %s does not fit input '%s' %s",
                l->name, l->type, g->layers[l->inputs[k]].name,
                snn_shape_str(g->layers[l->inputs[k]].shape.ndim,
                              g->layers[l->inputs[k]].shape.dims, a, sizeof a),
                g->layers[l->inputs[0]].name,
                snn_shape_str(first->ndim, first->dims, b, sizeof b));
        }
    }
    return SNN_OK;
}

/* PAD grows H and W by win.pad, CROP shrinks them by it. */
static snn_status infer_edges(snn_layer *l, const snn_shape *in,
                              snn_error *err)
{
    if (in->ndim != 3)
        return shape_error(err, l, "needs a (channels, height, width) input");
    const int *p = l->win.pad;
    for (int i = 0; i < 4; i++)
        if (p[i] < 0 || p[i] > EDGE_MAX)
            return shape_error(err, l, "negative or huge padding/cropping");
    l->shape = *in;
    for (int a = 0; a < 2; a++) {
        size_t edge = (size_t)p[a] + (size_t)p[a + 2];
        if (l->op == SNN_OP_PAD)
            l->shape.dims[1 + a] += edge;
        else if (edge >= in->dims[1 + a])
            return shape_error(err, l, "crops away the whole image");
        else
            l->shape.dims[1 + a] -= edge;
    }
    return SNN_OK;
}

static snn_status infer_upsample(snn_layer *l, const snn_shape *in,
                                 snn_error *err)
{
    if (in->ndim != 3)
        return shape_error(err, l, "needs a (channels, height, width) input");
    l->shape = *in;
    for (int a = 0; a < 2; a++) {
        int f = l->win.stride[a];
        if (f < 1 || f > EDGE_MAX)
            return shape_error(err, l, "upsampling factor out of range");
        l->shape.dims[1 + a] *= (size_t)f;
    }
    return SNN_OK;
}

static snn_status infer_reshape(snn_layer *l, const snn_shape *in,
                                snn_error *err)
{
    const snn_shape *t = &l->target;
    if ((t->ndim != 1 && t->ndim != 3) ||
        snn_shape_numel(t) != snn_shape_numel(in))
        return shape_error(err, l, "target shape does not hold the input's "
                                   "values");
    l->shape = *t;
    return SNN_OK;
}

/* One axis of a transposed convolution.  "same" gives in * stride outputs,
 * as TensorFlow does: the padding of the forward convolution it inverts,
 * and whatever is still missing appended (out_pad). */
static snn_status transpose_axis(snn_layer *l, int axis, size_t in,
                                 size_t *out, snn_error *err)
{
    snn_window *w = &l->win;
    long k = w->kernel[axis], s = w->stride[axis], d = w->dilation[axis];
    if (k < 1 || s < 1 || d < 1 || s > EDGE_MAX || d > EDGE_MAX)
        return shape_error(err, l, "kernel, stride and dilation must be >= 1");
    long extent = (k - 1) * d + 1;
    if (w->pad_mode == SNN_PAD_SAME) {
        long total = extent > s ? extent - s : 0;
        w->pad[axis] = (int)(total / 2);
        w->pad[axis + 2] = (int)(total - total / 2);
        l->out_pad[axis] = (int)(s - extent + total);
    }
    long lo = w->pad[axis], hi = w->pad[axis + 2], extra = l->out_pad[axis];
    if (lo < 0 || hi < 0 || extra < 0 || extra > EDGE_MAX)
        return shape_error(err, l, "negative or huge padding");
    long o = ((long)in - 1) * s + extent + extra - lo - hi;
    if (o < 1)
        return shape_error(err, l, "padding leaves no output");
    *out = (size_t)o;
    return SNN_OK;
}

static snn_status infer_conv_t(snn_layer *l, const snn_shape *in,
                               snn_error *err)
{
    const snn_tensor *w = &l->weight;
    if (in->ndim != 3)
        return shape_error(err, l, "needs a (channels, height, width) input");
    if (l->groups < 1 || w->ndim != 4 || w->dims[0] != in->dims[0] ||
        in->dims[0] % (size_t)l->groups)
        return kernel_misfit(l, in, err);
    l->win.kernel[0] = (int)w->dims[2];
    l->win.kernel[1] = (int)w->dims[3];
    size_t oh = 0, ow = 0;
    snn_status st = transpose_axis(l, 0, in->dims[1], &oh, err);
    if (st == SNN_OK)
        st = transpose_axis(l, 1, in->dims[2], &ow, err);
    if (st != SNN_OK)
        return st;
    l->win.pad_mode = SNN_PAD_EXPLICIT;
    l->shape.ndim = 3;
    l->shape.dims[0] = w->dims[1] * (size_t)l->groups;
    l->shape.dims[1] = oh;
    l->shape.dims[2] = ow;
    return check_vector(l, &l->bias, "bias", l->shape.dims[0], err);
}

static snn_status infer_layer(snn_graph *g, snn_layer *l, snn_error *err)
{
    if (l->op == SNN_OP_INPUT) {
        if (l->shape.ndim < 1 || snn_shape_numel(&l->shape) == 0)
            return shape_error(err, l, "input shape is not set");
        return SNN_OK;
    }
    if (l->op == SNN_OP_ADD || l->op == SNN_OP_CONCAT)
        return infer_merge(g, l, err);
    if (l->n_inputs != 1)
        return shape_error(err, l, "needs exactly one input");
    const snn_shape *in = &g->layers[l->inputs[0]].shape;
    if (l->act == SNN_ACT_CLIP && !(l->clip_max > 0.0f))
        return shape_error(err, l, "a clipped ReLU needs a positive maximum");
    switch (l->op) {
    case SNN_OP_DENSE:
        return infer_dense(l, in, err);
    case SNN_OP_CONV2D:
        return infer_conv(l, in, err);
    case SNN_OP_CONV2D_T:
        return infer_conv_t(l, in, err);
    case SNN_OP_MAXPOOL2D:
    case SNN_OP_AVGPOOL2D:
        return infer_window(l, in, in->ndim ? in->dims[0] : 0, err);
    case SNN_OP_FLATTEN:
        if (l->flatten_hwc && in->ndim != 3)
            return shape_error(err, l, "channels-last flatten needs (C, H, W)");
        l->shape.ndim = 1;
        l->shape.dims[0] = snn_shape_numel(in);
        return SNN_OK;
    case SNN_OP_BATCHNORM:
        return infer_batchnorm(l, in, err);
    case SNN_OP_ACTIVATION:
        l->shape = *in;
        return SNN_OK;
    case SNN_OP_PAD:
    case SNN_OP_CROP:
        return infer_edges(l, in, err);
    case SNN_OP_UPSAMPLE:
        return infer_upsample(l, in, err);
    case SNN_OP_RESHAPE:
        return infer_reshape(l, in, err);
    case SNN_OP_INPUT:
    case SNN_OP_ADD:
    case SNN_OP_CONCAT:
        break;
    }
    return shape_error(err, l, "unknown op");
}

snn_status snn_graph_infer_shapes(snn_graph *g, snn_error *err)
{
    if (g->n_layers == 0 || g->layers[0].op != SNN_OP_INPUT)
        return snn_error_set(err, SNN_E_INVALID,
                             "graph must start with an input layer");
    for (int i = 0; i < g->n_layers; i++) {
        snn_status st = infer_layer(g, &g->layers[i], err);
        if (st != SNN_OK)
            return st;
    }
    return SNN_OK;
}
