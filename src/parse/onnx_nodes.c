/*
 * onnx_nodes.c - turns one ONNX node into graph layers.
 *
 * What torch.onnx.export writes, across opsets: Conv/Gemm/MatMul weights
 * as initializers (Gemm's B transposed or not, MatMul + Add for a Linear
 * layer in some exporters, the Add folded into the bias), Clip as ReLU,
 * Pad nodes in front of Conv and AveragePool (merged into the window's
 * padding), Reshape/Flatten before the classifier, Softmax whose default
 * axis changed in opset 13.  Anything else is an error naming the node.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse/onnx_internal.h"
#include "parse/proto_graph.h"

static const char *node_name(const onnx_ctx *c)
{
    return c->node->name && c->node->name[0] ? c->node->name
                                             : c->node->output[0];
}

static const snn_shape *shape_of(const onnx_ctx *c, int layer)
{
    return &c->g->layers[layer].shape;
}

static int has_pad(const onnx_value *v)
{
    return v->pad[0] || v->pad[1] || v->pad[2] || v->pad[3];
}

/* Input 0 as a layer output with no pending Pad. */
static snn_status plain_input(onnx_ctx *c, onnx_value **v, snn_error *err)
{
    snn_status st = snn_onnx_layer_input(c, 0, v, err);
    if (st == SNN_OK && has_pad(*v))
        return snn_onnx_error(c, err, SNN_E_UNSUPPORTED,
                              "a Pad node is supported only in front of Conv "
                              "and AveragePool");
    return st;
}

static void layer_init(onnx_ctx *c, snn_layer *l, snn_op op, int src)
{
    snn_layer_defaults(l, op, node_name(c), c->node->op_type);
    l->inputs[0] = src;
    l->n_inputs = 1;
}

static snn_status add_and_define(onnx_ctx *c, snn_layer *l, snn_error *err)
{
    int idx;
    snn_status st = snn_pg_add(c->g, l, &idx, err);
    if (st != SNN_OK)
        return st;
    return snn_onnx_define_layer(c, 0, idx, err);
}

/* Output k must be unused (training-only outputs, pooling indices). */
static snn_status unused_output(onnx_ctx *c, size_t k, snn_error *err)
{
    if (k < c->node->n_output && c->node->output[k][0] &&
        snn_onnx_uses(c, c->node->output[k]) > 0)
        return snn_onnx_error(c, err, SNN_E_UNSUPPORTED,
                              "output %zu ('%s') is used; only the first "
                              "output is supported", k, c->node->output[k]);
    return SNN_OK;
}

/* ---- windows ------------------------------------------------------------ */

/* ONNX SAME_UPPER / SAME_LOWER: the padding that keeps ceil(in / stride)
 * outputs, the odd cell after (UPPER) or before (LOWER). */
static void same_pads(snn_window *w, const snn_shape *in, int lower)
{
    for (int a = 0; a < 2; a++) {
        long n = (long)in->dims[1 + a], s = w->stride[a];
        long extent = (long)(w->kernel[a] - 1) * w->dilation[a] + 1;
        long o = (n + s - 1) / s;
        long total = (o - 1) * s + extent - n;
        total = total < 0 ? 0 : total;
        long small = total / 2, big = total - small;
        w->pad[a] = (int)(lower ? big : small);
        w->pad[a + 2] = (int)(lower ? small : big);
    }
}

static int int_range(int64_t v, int64_t lo, int64_t hi)
{
    return v >= lo && v <= hi;
}

/* kernel_shape, strides, dilations, pads, auto_pad, for an input of shape
 * in; kernel comes from the weights when have_kernel.  A 1-D window
 * (one_d: one value per attribute, pads (begin, end)) runs along the
 * width of a (C, 1, L) sequence. */
static snn_status window_attrs(onnx_ctx *c, const snn_shape *in,
                               snn_window *w, int have_kernel, int one_d,
                               snn_error *err)
{
    int64_t k[2] = {w->kernel[0], w->kernel[1]}, s[2] = {1, 1},
            d[2] = {1, 1}, p[4] = {0, 0, 0, 0};
    size_t n = one_d ? 1 : 2, at = 2 - n;
    int found_k = 0, found;
    if (in->ndim != 3 || (one_d && in->dims[1] != 1))
        return snn_onnx_error(c, err, SNN_E_UNSUPPORTED,
                              one_d ? "needs a (N, C, L) input"
                                    : "needs a (N, C, H, W) input");
    snn_status st = snn_onnx_attr_ints(c, "kernel_shape", n, k + at, &found_k,
                                       err);
    if (st == SNN_OK)
        st = snn_onnx_attr_ints(c, "strides", n, s + at, &found, err);
    if (st == SNN_OK)
        st = snn_onnx_attr_ints(c, "dilations", n, d + at, &found, err);
    if (st == SNN_OK)
        st = snn_onnx_attr_ints(c, "pads", 2 * n, p + at, &found, err);
    if (st != SNN_OK)
        return st;
    if (one_d) {
        p[3] = p[2];
        p[2] = 0;
    }
    if (!found_k && !have_kernel)
        return snn_onnx_error(c, err, SNN_E_FORMAT,
                              "kernel_shape is missing");
    if (have_kernel && found_k &&
        (k[0] != w->kernel[0] || k[1] != w->kernel[1]))
        return snn_onnx_error(c, err, SNN_E_SHAPE,
                              "kernel_shape disagrees with the weights");
    for (int a = 0; a < 2; a++) {
        if (!int_range(k[a], 1, 4096) || !int_range(s[a], 1, 4096) ||
            !int_range(d[a], 1, 4096))
            return snn_onnx_error(c, err, SNN_E_FORMAT,
                                  "kernel, stride or dilation out of range");
        w->kernel[a] = (int)k[a];
        w->stride[a] = (int)s[a];
        w->dilation[a] = (int)d[a];
    }
    for (int a = 0; a < 4; a++) {
        if (!int_range(p[a], 0, 4096))
            return snn_onnx_error(c, err, SNN_E_FORMAT,
                                  "padding out of range");
        w->pad[a] = (int)p[a];
    }
    int upper = snn_onnx_attr_is(c, "auto_pad", "SAME_UPPER", 0);
    int lower = snn_onnx_attr_is(c, "auto_pad", "SAME_LOWER", 0);
    if (upper || lower)
        same_pads(w, in, lower);
    else if (snn_onnx_attr_is(c, "auto_pad", "VALID", 0))
        memset(w->pad, 0, sizeof w->pad);
    else if (!snn_onnx_attr_is(c, "auto_pad", "NOTSET", 1))
        return snn_onnx_error(c, err, SNN_E_UNSUPPORTED, "unknown auto_pad");
    return SNN_OK;
}

/* A Pad node's zeros in front of this window op join its padding. */
static void merge_pad(snn_window *w, const onnx_value *v)
{
    for (int a = 0; a < 4; a++)
        w->pad[a] += v->pad[a];
}

/* ---- weighted layers ---------------------------------------------------- */

/* What ConvTranspose adds to a window: output_padding; an explicit
 * output_shape or a "same" auto_pad (whose padding differs from Conv's)
 * is refused. */
static snn_status transpose_attrs(onnx_ctx *c, snn_layer *l, snn_error *err)
{
    int64_t op[2] = {0, 0};
    int found = 0;
    if (snn_onnx_attr(c, "output_shape") ||
        !(snn_onnx_attr_is(c, "auto_pad", "NOTSET", 1) ||
          snn_onnx_attr_is(c, "auto_pad", "VALID", 0)))
        return snn_onnx_error(c, err, SNN_E_UNSUPPORTED,
                              "output_shape and auto_pad SAME are not "
                              "supported; give pads");
    snn_status st = snn_onnx_attr_ints(c, "output_padding", 2, op, &found,
                                       err);
    for (int a = 0; st == SNN_OK && a < 2; a++) {
        if (!int_range(op[a], 0, 4096))
            return snn_onnx_error(c, err, SNN_E_FORMAT,
                                  "output_padding out of range");
        l->out_pad[a] = (int)op[a];
    }
    return st;
}

/* Conv and ConvTranspose: weights (rank 4) and optional bias from the
 * initializers, window from the attributes, a Pad before it merged. */
static snn_status conv_common(onnx_ctx *c, snn_op op, snn_error *err)
{
    onnx_value *x;
    const Onnx__TensorProto *wt, *bt;
    snn_status st = snn_onnx_layer_input(c, 0, &x, err);
    if (st == SNN_OK)
        st = snn_onnx_const_input(c, 1, &wt, err);
    if (st != SNN_OK)
        return st;
    snn_layer l;
    layer_init(c, &l, op, x->layer);
    int64_t groups = snn_onnx_attr_int(c, "group", 1);
    l.groups = int_range(groups, 1, 1 << 20) ? (int)groups : 0;
    st = snn_onnx_floats(c, wt, &l.weight, err);
    int one_d = st == SNN_OK && l.weight.ndim == 3 && op == SNN_OP_CONV2D;
    if (one_d) {
        /* (F, C/g, k) -> (F, C/g, 1, k): the same values */
        l.weight.dims[3] = l.weight.dims[2];
        l.weight.dims[2] = 1;
        l.weight.ndim = 4;
    }
    if (st == SNN_OK && l.weight.ndim != 4)
        st = snn_onnx_error(c, err, SNN_E_UNSUPPORTED,
                            "weights of rank %d; only 1-D and 2-D "
                            "convolution are supported", l.weight.ndim);
    if (st == SNN_OK && op == SNN_OP_CONV2D_T)
        st = transpose_attrs(c, &l, err);
    if (st == SNN_OK) {
        l.win.kernel[0] = (int)l.weight.dims[2];
        l.win.kernel[1] = (int)l.weight.dims[3];
        st = window_attrs(c, shape_of(c, x->layer), &l.win, 1, one_d, err);
    }
    if (st == SNN_OK && has_pad(x) &&
        (op == SNN_OP_CONV2D_T ||
         !snn_onnx_attr_is(c, "auto_pad", "NOTSET", 1)))
        st = snn_onnx_error(c, err, SNN_E_UNSUPPORTED,
                            "a Pad node before a ConvTranspose, or before a "
                            "Conv with auto_pad");
    merge_pad(&l.win, x);
    if (st == SNN_OK && snn_onnx_has_input(c, 2))
        st = snn_onnx_const_input(c, 2, &bt, err);
    if (st == SNN_OK && snn_onnx_has_input(c, 2))
        st = snn_onnx_floats(c, bt, &l.bias, err);
    if (st == SNN_OK && l.bias.data && l.bias.ndim != 1)
        st = snn_onnx_error(c, err, SNN_E_SHAPE, "bias must be a vector");
    if (st != SNN_OK) {
        snn_pg_release(&l);
        return st;
    }
    return add_and_define(c, &l, err);
}

static snn_status conv(onnx_ctx *c, snn_error *err)
{
    return conv_common(c, SNN_OP_CONV2D, err);
}

static snn_status conv_transpose(onnx_ctx *c, snn_error *err)
{
    return conv_common(c, SNN_OP_CONV2D_T, err);
}

/* (out, in) weights from B: (in, out), or (out, in) when transposed. */
static snn_status dense_weights(onnx_ctx *c, const Onnx__TensorProto *bt,
                                int trans_b, float alpha, size_t in,
                                snn_tensor *w, snn_error *err)
{
    snn_tensor b = {0};
    snn_status st = snn_onnx_floats(c, bt, &b, err);
    if (st != SNN_OK)
        return st;
    size_t k_axis = trans_b ? 1 : 0;
    if (b.ndim != 2 || b.dims[k_axis] != in) {
        snn_tensor_free(&b);
        return snn_onnx_error(c, err, SNN_E_SHAPE,
                              "weights do not fit an input of %zu", in);
    }
    size_t out = b.dims[1 - k_axis], dims[2] = {out, in};
    st = snn_tensor_init(w, 2, dims, err);
    for (size_t o = 0; st == SNN_OK && o < out; o++)
        for (size_t i = 0; i < in; i++)
            w->data[o * in + i] =
                alpha * (trans_b ? b.data[o * in + i] : b.data[i * out + o]);
    snn_tensor_free(&b);
    return st;
}

/* Gemm's C (out values, or one broadcast) times beta. */
static snn_status gemm_bias(onnx_ctx *c, size_t out, float beta,
                            snn_tensor *bias, snn_error *err)
{
    const Onnx__TensorProto *ct;
    snn_tensor cv = {0};
    snn_status st = snn_onnx_const_input(c, 2, &ct, err);
    if (st == SNN_OK)
        st = snn_onnx_floats(c, ct, &cv, err);
    if (st != SNN_OK)
        return st;
    size_t n = snn_tensor_numel(&cv);
    if (n != out && n != 1) {
        snn_tensor_free(&cv);
        return snn_onnx_error(c, err, SNN_E_SHAPE,
                              "C has %zu values for %zu outputs", n, out);
    }
    st = snn_tensor_init(bias, 1, &out, err);
    for (size_t o = 0; st == SNN_OK && o < out; o++)
        bias->data[o] = beta * cv.data[n == 1 ? 0 : o];
    snn_tensor_free(&cv);
    return st;
}

static snn_status dense_input(onnx_ctx *c, onnx_value **x, snn_error *err)
{
    snn_status st = plain_input(c, x, err);
    if (st == SNN_OK && shape_of(c, (*x)->layer)->ndim != 1)
        return snn_onnx_error(c, err, SNN_E_UNSUPPORTED,
                              "needs a flat (N, F) input; flatten first");
    return st;
}

static snn_status gemm(onnx_ctx *c, snn_error *err)
{
    onnx_value *x;
    const Onnx__TensorProto *bt;
    if (snn_onnx_attr_int(c, "transA", 0))
        return snn_onnx_error(c, err, SNN_E_UNSUPPORTED,
                              "transA = 1 is not supported");
    snn_status st = dense_input(c, &x, err);
    if (st == SNN_OK)
        st = snn_onnx_const_input(c, 1, &bt, err);
    if (st != SNN_OK)
        return st;
    snn_layer l;
    layer_init(c, &l, SNN_OP_DENSE, x->layer);
    st = dense_weights(c, bt, (int)snn_onnx_attr_int(c, "transB", 0),
                       snn_onnx_attr_float(c, "alpha", 1.0f),
                       shape_of(c, x->layer)->dims[0], &l.weight, err);
    if (st == SNN_OK && snn_onnx_has_input(c, 2))
        st = gemm_bias(c, l.weight.dims[0],
                       snn_onnx_attr_float(c, "beta", 1.0f), &l.bias, err);
    if (st != SNN_OK) {
        snn_pg_release(&l);
        return st;
    }
    return add_and_define(c, &l, err);
}

static snn_status matmul(onnx_ctx *c, snn_error *err)
{
    onnx_value *x;
    const Onnx__TensorProto *bt;
    snn_status st = dense_input(c, &x, err);
    if (st == SNN_OK)
        st = snn_onnx_const_input(c, 1, &bt, err);
    if (st != SNN_OK)
        return st;
    snn_layer l;
    layer_init(c, &l, SNN_OP_DENSE, x->layer);
    st = dense_weights(c, bt, 0, 1.0f, shape_of(c, x->layer)->dims[0],
                       &l.weight, err);
    if (st != SNN_OK) {
        snn_pg_release(&l);
        return st;
    }
    return add_and_define(c, &l, err);
}

/* Whether a constant of these dims broadcasts as one value per channel of
 * an output shaped s: (C) against (C), (C, 1, 1) against (C, H, W), with
 * any leading ones. */
static int per_channel(const snn_tensor *t, const snn_shape *s)
{
    size_t ch = s->dims[0];
    int trailing = s->ndim; /* dims that must line up from the right */
    if (t->ndim < trailing)
        return 0;
    for (int k = 0; k < t->ndim; k++) {
        size_t want = k == t->ndim - trailing ? ch : 1;
        if (t->dims[k] != want)
            return 0;
    }
    return 1;
}

/* Add(layer, constant): the bias of the Dense or Conv layer feeding it. */
static snn_status add_bias(onnx_ctx *c, onnx_value *x,
                           const Onnx__TensorProto *kt, const char *x_name,
                           snn_error *err)
{
    snn_layer *p = &c->g->layers[x->layer];
    snn_tensor k = {0};
    if ((p->op != SNN_OP_DENSE && p->op != SNN_OP_CONV2D) ||
        p->act != SNN_ACT_LINEAR || has_pad(x) ||
        snn_onnx_uses(c, x_name) != 1)
        return snn_onnx_error(c, err, SNN_E_UNSUPPORTED,
                              "adding a constant is supported only as the "
                              "bias of the MatMul, Gemm or Conv before it");
    snn_status st = snn_onnx_floats(c, kt, &k, err);
    if (st == SNN_OK && !per_channel(&k, &p->shape))
        st = snn_onnx_error(c, err, SNN_E_SHAPE,
                            "the constant is not one value per output "
                            "channel of '%s'", p->name);
    size_t ch = p->shape.dims[0];
    if (st == SNN_OK && !p->bias.data)
        st = snn_tensor_init(&p->bias, 1, &ch, err);
    for (size_t o = 0; st == SNN_OK && o < ch; o++)
        p->bias.data[o] += k.data[o];
    snn_tensor_free(&k);
    if (st != SNN_OK)
        return st;
    return snn_onnx_define_layer(c, 0, x->layer, err);
}

/* Add or Concat of 2 to SNN_MAX_INPUTS computed tensors; shape inference
 * checks that they fit. */
static snn_status merge(onnx_ctx *c, snn_op op, snn_error *err)
{
    if (c->node->n_input < 2 || c->node->n_input > SNN_MAX_INPUTS)
        return snn_onnx_error(c, err, SNN_E_UNSUPPORTED,
                              "%zu inputs; 2 to %d are supported",
                              c->node->n_input, SNN_MAX_INPUTS);
    snn_layer l;
    snn_layer_defaults(&l, op, node_name(c), c->node->op_type);
    for (size_t k = 0; k < c->node->n_input; k++) {
        onnx_value *v;
        snn_status st = snn_onnx_layer_input(c, k, &v, err);
        if (st == SNN_OK && has_pad(v))
            st = snn_onnx_error(c, err, SNN_E_UNSUPPORTED,
                                "a Pad node is supported only in front of "
                                "Conv and AveragePool");
        if (st != SNN_OK)
            return st;
        l.inputs[k] = v->layer;
    }
    l.n_inputs = (int)c->node->n_input;
    return add_and_define(c, &l, err);
}

static snn_status add(onnx_ctx *c, snn_error *err)
{
    onnx_value *a, *b;
    if (c->node->n_input != 2)
        return snn_onnx_error(c, err, SNN_E_FORMAT, "needs two inputs");
    snn_status st = snn_onnx_value(c, c->node->input[0], &a, err);
    if (st == SNN_OK)
        st = snn_onnx_value(c, c->node->input[1], &b, err);
    if (st != SNN_OK)
        return st;
    if (a->kind == ONNX_LAYER && b->kind == ONNX_CONST)
        return add_bias(c, a, b->tensor, c->node->input[0], err);
    if (b->kind == ONNX_LAYER && a->kind == ONNX_CONST)
        return add_bias(c, b, a->tensor, c->node->input[1], err);
    return merge(c, SNN_OP_ADD, err);
}

/* Concat of computed tensors along the channel axis (that of integer
 * shape vectors is folded before this). */
static snn_status concat(onnx_ctx *c, snn_error *err)
{
    onnx_value *x;
    snn_status st = snn_onnx_layer_input(c, 0, &x, err);
    if (st != SNN_OK)
        return st;
    int64_t axis = snn_onnx_attr_int(c, "axis", 0);
    int rank = shape_of(c, x->layer)->ndim + 1;
    if (axis != 1 && axis != 1 - rank)
        return snn_onnx_error(c, err, SNN_E_UNSUPPORTED,
                              "only Concat along the channel axis (1) is "
                              "supported, not %lld", (long long)axis);
    return merge(c, SNN_OP_CONCAT, err);
}

static snn_status batchnorm(onnx_ctx *c, snn_error *err)
{
    onnx_value *x;
    const Onnx__TensorProto *t[4];
    snn_tensor *dst[4];
    if (snn_onnx_attr_int(c, "training_mode", 0) ||
        !snn_onnx_attr_int(c, "spatial", 1))
        return snn_onnx_error(c, err, SNN_E_UNSUPPORTED,
                              "only inference-mode, per-channel batch "
                              "normalization is supported");
    snn_status st = plain_input(c, &x, err);
    for (size_t k = 1; k <= 4 && st == SNN_OK; k++)
        st = unused_output(c, k, err);
    for (size_t k = 0; k < 4 && st == SNN_OK; k++)
        st = snn_onnx_const_input(c, k + 1, &t[k], err);
    if (st != SNN_OK)
        return st;
    snn_layer l;
    layer_init(c, &l, SNN_OP_BATCHNORM, x->layer);
    l.eps = snn_onnx_attr_float(c, "epsilon", 1e-5f);
    dst[0] = &l.gamma, dst[1] = &l.beta, dst[2] = &l.mean, dst[3] = &l.var;
    for (size_t k = 0; k < 4 && st == SNN_OK; k++)
        st = snn_onnx_floats(c, t[k], dst[k], err);
    if (st != SNN_OK) {
        snn_pg_release(&l);
        return st;
    }
    return add_and_define(c, &l, err);
}

/* ---- pooling ------------------------------------------------------------ */

static snn_status pool(onnx_ctx *c, snn_op op, snn_error *err)
{
    onnx_value *x;
    snn_status st = snn_onnx_layer_input(c, 0, &x, err);
    if (st == SNN_OK)
        st = unused_output(c, 1, err);
    if (st != SNN_OK)
        return st;
    snn_layer l;
    const Onnx__AttributeProto *k = snn_onnx_attr(c, "kernel_shape");
    layer_init(c, &l, op, x->layer);
    st = window_attrs(c, shape_of(c, x->layer), &l.win, 0,
                      k && k->n_ints == 1, err);
    if (st != SNN_OK)
        return st;
    l.win.ceil_mode = (int)snn_onnx_attr_int(c, "ceil_mode", 0);
    int count_pad = (int)snn_onnx_attr_int(c, "count_include_pad", 0);
    int own_pad = l.win.pad[0] || l.win.pad[1] || l.win.pad[2] ||
                  l.win.pad[3];
    if (has_pad(x)) {
        /* Zeros a Pad node added are real inputs to the average. */
        if (op != SNN_OP_AVGPOOL2D || (own_pad && !count_pad) ||
            !snn_onnx_attr_is(c, "auto_pad", "NOTSET", 1))
            return snn_onnx_error(c, err, SNN_E_UNSUPPORTED,
                                  "a Pad node is supported before Conv and "
                                  "AveragePool without own padding only");
        count_pad = 1;
        merge_pad(&l.win, x);
    }
    l.win.count_pad = count_pad;
    return add_and_define(c, &l, err);
}

static snn_status max_pool(onnx_ctx *c, snn_error *err)
{
    return pool(c, SNN_OP_MAXPOOL2D, err);
}

static snn_status average_pool(onnx_ctx *c, snn_error *err)
{
    return pool(c, SNN_OP_AVGPOOL2D, err);
}

/* The plain input of a node that works on image planes, with its
 * (C, H, W) shape. */
static snn_status image_input(onnx_ctx *c, onnx_value **v,
                              const snn_shape **in, snn_error *err)
{
    snn_status st = plain_input(c, v, err);
    if (st != SNN_OK)
        return st;
    *in = shape_of(c, (*v)->layer);
    if ((*in)->ndim != 3)
        return snn_onnx_error(c, err, SNN_E_UNSUPPORTED,
                              "needs a (N, C, H, W) input");
    return SNN_OK;
}

static snn_status global_pool(onnx_ctx *c, snn_op op, snn_error *err)
{
    onnx_value *x;
    const snn_shape *in;
    snn_status st = image_input(c, &x, &in, err);
    if (st != SNN_OK)
        return st;
    snn_layer l;
    layer_init(c, &l, op, x->layer);
    l.win.kernel[0] = (int)in->dims[1];
    l.win.kernel[1] = (int)in->dims[2];
    return add_and_define(c, &l, err);
}

static snn_status global_average_pool(onnx_ctx *c, snn_error *err)
{
    return global_pool(c, SNN_OP_AVGPOOL2D, err);
}

static snn_status global_max_pool(onnx_ctx *c, snn_error *err)
{
    return global_pool(c, SNN_OP_MAXPOOL2D, err);
}

/* Whether axes name exactly H and W of an (N, C, H, W) tensor. */
static int spatial_axes(const int64_t *ax, size_t n)
{
    int seen[4] = {0};
    for (size_t k = 0; k < n; k++) {
        int64_t a = ax[k] < 0 ? ax[k] + 4 : ax[k];
        if (a < 2 || a > 3 || seen[a]++)
            return 0;
    }
    return n == 2;
}

/* ReduceMean over H and W: global average pooling (then a flatten when
 * keepdims = 0).  Axes are an attribute before opset 18, an input after. */
static snn_status reduce_mean(onnx_ctx *c, snn_error *err)
{
    const Onnx__AttributeProto *a = snn_onnx_attr(c, "axes");
    int64_t *ax = NULL;
    size_t n = 0;
    snn_status st = SNN_OK;
    if (!a && snn_onnx_has_input(c, 1)) {
        const Onnx__TensorProto *t;
        st = snn_onnx_const_input(c, 1, &t, err);
        if (st == SNN_OK)
            st = snn_onnx_ints(c, t, &ax, &n, err);
    }
    int ok = st == SNN_OK && (a ? spatial_axes(a->ints, a->n_ints)
                                : spatial_axes(ax, n));
    free(ax);
    if (st != SNN_OK)
        return st;
    if (!ok)
        return snn_onnx_error(c, err, SNN_E_UNSUPPORTED,
                              "only ReduceMean over height and width "
                              "(global average pooling) is supported");
    st = global_pool(c, SNN_OP_AVGPOOL2D, err);
    if (st != SNN_OK || snn_onnx_attr_int(c, "keepdims", 1))
        return st;
    onnx_value *pooled;
    st = snn_onnx_value(c, c->node->output[0], &pooled, err);
    if (st != SNN_OK)
        return st;
    snn_layer l;
    layer_init(c, &l, SNN_OP_FLATTEN, pooled->layer);
    snprintf(l.name, sizeof l.name, "%.100s_flatten", node_name(c));
    return add_and_define(c, &l, err);
}

/* ---- activations -------------------------------------------------------- */

/* act applied to input k. */
static snn_status activation_of(onnx_ctx *c, size_t k, snn_activation act,
                                snn_error *err)
{
    onnx_value *x;
    snn_status st = snn_onnx_layer_input(c, k, &x, err);
    if (st == SNN_OK && has_pad(x))
        st = snn_onnx_error(c, err, SNN_E_UNSUPPORTED,
                            "a Pad node is supported only in front of Conv "
                            "and AveragePool");
    int out = -1;
    if (st == SNN_OK)
        st = snn_pg_activation(c->g, x->layer,
                               snn_onnx_uses(c, c->node->input[k]) == 1, act,
                               node_name(c), c->node->op_type, &out, err);
    if (st != SNN_OK)
        return st;
    return snn_onnx_define_layer(c, 0, out, err);
}

static snn_status activation(onnx_ctx *c, snn_activation act, snn_error *err)
{
    return activation_of(c, 0, act, err);
}

static snn_status relu(onnx_ctx *c, snn_error *err)
{
    return activation(c, SNN_ACT_RELU, err);
}

/* Clip's bound k (1: min, 2: max): an attribute before opset 11, an
 * optional constant input after. */
static snn_status clip_bound(onnx_ctx *c, size_t k, float dflt, float *v,
                             snn_error *err)
{
    *v = dflt;
    if (c->opset < 11) {
        *v = snn_onnx_attr_float(c, k == 1 ? "min" : "max", dflt);
        return SNN_OK;
    }
    if (!snn_onnx_has_input(c, k))
        return SNN_OK;
    const Onnx__TensorProto *t;
    snn_tensor s = {0};
    snn_status st = snn_onnx_const_input(c, k, &t, err);
    if (st == SNN_OK)
        st = snn_onnx_floats(c, t, &s, err);
    if (st == SNN_OK && snn_tensor_numel(&s) != 1)
        st = snn_onnx_error(c, err, SNN_E_UNSUPPORTED,
                            "Clip bounds must be scalars");
    if (st == SNN_OK)
        *v = s.data[0];
    snn_tensor_free(&s);
    return st;
}

static snn_status clip(onnx_ctx *c, snn_error *err)
{
    float lo, hi;
    snn_status st = clip_bound(c, 1, -FLT_MAX, &lo, err);
    if (st == SNN_OK)
        st = clip_bound(c, 2, FLT_MAX, &hi, err);
    if (st != SNN_OK)
        return st;
    if (lo != 0.0f || !(hi > 0.0f))
        return snn_onnx_error(c, err, SNN_E_UNSUPPORTED,
                              "Clip(min %g, max %g) is not supported: only "
                              "Clip(min 0) (a ReLU) and Clip(0, max > 0) (a "
                              "clipped ReLU such as ReLU6) are",
                              (double)lo, (double)hi);
    st = activation(c, SNN_ACT_RELU, err);
    if (st != SNN_OK || hi >= FLT_MAX)
        return st;
    /* Made a ReLU first: shape inference refuses a clip without its max. */
    onnx_value *y;
    st = snn_onnx_value(c, c->node->output[0], &y, err);
    if (st == SNN_OK) {
        c->g->layers[y->layer].act = SNN_ACT_CLIP;
        c->g->layers[y->layer].clip_max = hi;
    }
    return st;
}

/* Max(x, 0), how the dynamo exporter writes clamp(min=0): a ReLU. */
static snn_status max(onnx_ctx *c, snn_error *err)
{
    onnx_value *v[2] = {NULL, NULL};
    snn_status st = c->node->n_input == 2 ? SNN_OK
                    : snn_onnx_error(c, err, SNN_E_UNSUPPORTED,
                                     "only Max of two inputs");
    for (size_t k = 0; k < 2 && st == SNN_OK; k++)
        st = snn_onnx_value(c, c->node->input[k], &v[k], err);
    if (st != SNN_OK)
        return st;
    size_t layer = v[0]->kind == ONNX_LAYER ? 0 : 1;
    snn_tensor zero = {0};
    if (v[1 - layer]->kind == ONNX_CONST)
        st = snn_onnx_floats(c, v[1 - layer]->tensor, &zero, err);
    int is_relu = st == SNN_OK && v[layer]->kind == ONNX_LAYER &&
                  snn_tensor_numel(&zero) == 1 && zero.data[0] == 0.0f;
    snn_tensor_free(&zero);
    if (st != SNN_OK)
        return st;
    if (!is_relu)
        return snn_onnx_error(c, err, SNN_E_UNSUPPORTED,
                              "only Max(x, 0), a ReLU, is supported");
    return activation_of(c, layer, SNN_ACT_RELU, err);
}

static snn_status softmax(onnx_ctx *c, snn_error *err)
{
    onnx_value *x;
    snn_status st = plain_input(c, &x, err);
    if (st != SNN_OK)
        return st;
    const snn_shape *in = shape_of(c, x->layer);
    /* Before opset 13 the input is coerced to 2-D at axis (default 1),
     * which is our whole-sample softmax; after, it is over one axis
     * (default the last), the same only for a vector. */
    int64_t axis = snn_onnx_attr_int(c, "axis", c->opset < 13 ? 1 : -1);
    int whole = c->opset < 13 ? axis == 1
                              : in->ndim == 1 && (axis == 1 || axis == -1);
    if (!whole)
        return snn_onnx_error(c, err, SNN_E_UNSUPPORTED,
                              "softmax over axis %lld of a rank-%d input: "
                              "only a softmax over the whole sample is "
                              "supported", (long long)axis, in->ndim + 1);
    return activation(c, SNN_ACT_SOFTMAX, err);
}

/* Sigmoid, Tanh and the like: no rate code for them. */
static snn_status non_if_activation(onnx_ctx *c, snn_error *err)
{
    return snn_onnx_error(c, err, SNN_E_UNSUPPORTED,
                          "the %s activation cannot be represented by "
                          "integrate-and-fire neurons", c->node->op_type);
}

/* ---- reshaping ---------------------------------------------------------- */

/* Output 0 is input 0 (Dropout, Identity), pending padding included. */
static snn_status identity(onnx_ctx *c, snn_error *err)
{
    onnx_value *x;
    if (c->node->n_input < 1)
        return snn_onnx_error(c, err, SNN_E_FORMAT, "needs an input");
    snn_status st = snn_onnx_value(c, c->node->input[0], &x, err);
    if (st == SNN_OK)
        st = unused_output(c, 1, err);
    if (st != SNN_OK)
        return st;
    onnx_value copy = *x;
    return snn_onnx_define(c, 0, &copy, err);
}

/* A per-sample flatten of x's output, (C, H, W) in that order. */
static snn_status flatten_layer(onnx_ctx *c, const onnx_value *x,
                                snn_error *err)
{
    if (shape_of(c, x->layer)->ndim == 1)
        return snn_onnx_define_layer(c, 0, x->layer, err);
    snn_layer l;
    layer_init(c, &l, SNN_OP_FLATTEN, x->layer);
    return add_and_define(c, &l, err);
}

static snn_status flatten(onnx_ctx *c, snn_error *err)
{
    onnx_value *x;
    snn_status st = plain_input(c, &x, err);
    if (st != SNN_OK)
        return st;
    if (snn_onnx_attr_int(c, "axis", 1) != 1)
        return snn_onnx_error(c, err, SNN_E_UNSUPPORTED,
                              "only Flatten with axis 1 is supported");
    return flatten_layer(c, x, err);
}

/* Whether the target shape t (n values, 0 = copy, -1 = infer) keeps the
 * batch and makes each sample a vector of numel values. */
static int reshape_is_flatten(const int64_t *t, size_t n, size_t numel)
{
    if (n != 2)
        return 0;
    if (t[1] == -1)
        return t[0] != -1;
    return t[1] >= 0 && (size_t)t[1] == numel;
}

/* Whether t leaves a (C, H, W) sample as it is. */
static int reshape_is_identity(const int64_t *t, size_t n,
                               const snn_shape *s)
{
    if (n != (size_t)s->ndim + 1)
        return 0;
    for (size_t k = 1; k < n; k++)
        if (t[k] != 0 && (t[k] < 0 || (size_t)t[k] != s->dims[k - 1]))
            return 0;
    return 1;
}

static snn_status reshape(onnx_ctx *c, snn_error *err)
{
    onnx_value *x;
    const Onnx__TensorProto *tt;
    int64_t *t = NULL;
    size_t n = 0;
    snn_status st = plain_input(c, &x, err);
    if (st == SNN_OK)
        st = snn_onnx_const_input(c, 1, &tt, err);
    if (st == SNN_OK)
        st = snn_onnx_ints(c, tt, &t, &n, err);
    if (st != SNN_OK) {
        free(t);
        return st;
    }
    const snn_shape *in = shape_of(c, x->layer);
    int flat = reshape_is_flatten(t, n, snn_shape_numel(in));
    int same = reshape_is_identity(t, n, in);
    free(t);
    if (flat)
        return flatten_layer(c, x, err);
    if (same)
        return snn_onnx_define_layer(c, 0, x->layer, err);
    return snn_onnx_error(c, err, SNN_E_UNSUPPORTED,
                          "only a Reshape that flattens each sample is "
                          "supported");
}

/* Pad's pads: attribute before opset 11, constant input after. */
static snn_status pad_amounts(onnx_ctx *c, int64_t p[8], snn_error *err)
{
    int found = 0;
    if (c->opset < 11) {
        snn_status st = snn_onnx_attr_ints(c, "pads", 8, p, &found, err);
        if (st == SNN_OK && !found)
            st = snn_onnx_error(c, err, SNN_E_FORMAT, "pads is missing");
        if (st == SNN_OK && snn_onnx_attr_float(c, "value", 0.0f) != 0.0f)
            st = snn_onnx_error(c, err, SNN_E_UNSUPPORTED,
                                "only zero padding is supported");
        return st;
    }
    const Onnx__TensorProto *pt;
    int64_t *v = NULL;
    size_t n = 0;
    if (snn_onnx_has_input(c, 3))
        return snn_onnx_error(c, err, SNN_E_UNSUPPORTED,
                              "Pad with axes is not supported");
    snn_status st = snn_onnx_const_input(c, 1, &pt, err);
    if (st == SNN_OK)
        st = snn_onnx_ints(c, pt, &v, &n, err);
    if (st == SNN_OK && n != 8)
        st = snn_onnx_error(c, err, SNN_E_UNSUPPORTED,
                            "pads for a rank-%zu tensor; expected rank 4",
                            n / 2);
    if (st == SNN_OK)
        memcpy(p, v, 8 * sizeof *p);
    free(v);
    return st;
}

static snn_status pad_value_is_zero(onnx_ctx *c, snn_error *err)
{
    if (c->opset < 11 || !snn_onnx_has_input(c, 2))
        return SNN_OK;
    const Onnx__TensorProto *t;
    snn_tensor v = {0};
    snn_status st = snn_onnx_const_input(c, 2, &t, err);
    if (st == SNN_OK)
        st = snn_onnx_floats(c, t, &v, err);
    if (st == SNN_OK && (snn_tensor_numel(&v) != 1 || v.data[0] != 0.0f))
        st = snn_onnx_error(c, err, SNN_E_UNSUPPORTED,
                            "only zero padding is supported");
    snn_tensor_free(&v);
    return st;
}

/* Zero padding of H and W, kept on the value for the next Conv or
 * AveragePool to take into its window. */
static snn_status pad(onnx_ctx *c, snn_error *err)
{
    onnx_value *x;
    int64_t p[8] = {0};
    if (!snn_onnx_attr_is(c, "mode", "constant", 1))
        return snn_onnx_error(c, err, SNN_E_UNSUPPORTED,
                              "only constant (zero) padding is supported");
    snn_status st = snn_onnx_layer_input(c, 0, &x, err);
    if (st == SNN_OK)
        st = pad_amounts(c, p, err);
    if (st == SNN_OK)
        st = pad_value_is_zero(c, err);
    if (st != SNN_OK)
        return st;
    if (p[0] || p[1] || p[4] || p[5] || shape_of(c, x->layer)->ndim != 3)
        return snn_onnx_error(c, err, SNN_E_UNSUPPORTED,
                              "only padding of height and width is "
                              "supported");
    onnx_value v = *x;
    const int64_t add[4] = {p[2], p[3], p[6], p[7]};
    for (int a = 0; a < 4; a++) {
        if (!int_range(add[a], 0, 4096))
            return snn_onnx_error(c, err, SNN_E_UNSUPPORTED,
                                  "negative or huge padding");
        v.pad[a] += (int)add[a];
    }
    return snn_onnx_define(c, 0, &v, err);
}

/* ---- resizing ----------------------------------------------------------- */

/* Whether nearest-neighbour Resize with these modes picks input cell
 * floor(o / f) for every integer factor f: "asymmetric" maps o to o / f
 * (floor it), the half-pixel modes to (o + 0.5) / f - 0.5, which lies
 * strictly within half a cell of floor(o / f) (round it). */
static int resize_is_floor(const onnx_ctx *c)
{
    if (!snn_onnx_attr_is(c, "mode", "nearest", 1))
        return 0;
    int floor = snn_onnx_attr_is(c, "nearest_mode", "floor", 0);
    int round = snn_onnx_attr_is(c, "nearest_mode", "round_prefer_floor", 1) ||
                snn_onnx_attr_is(c, "nearest_mode", "round_prefer_ceil", 0);
    if (snn_onnx_attr_is(c, "coordinate_transformation_mode", "asymmetric",
                         0))
        return floor || c->opset < 11;
    return round && (snn_onnx_attr_is(c, "coordinate_transformation_mode",
                                      "half_pixel", 1) ||
                     snn_onnx_attr_is(c, "coordinate_transformation_mode",
                                      "pytorch_half_pixel", 0));
}

/* Factors (H, W) from Resize's scales (input 2; Upsample's input 1) or
 * sizes (input 3): N and C kept, H and W whole multiples. */
static snn_status resize_factors(onnx_ctx *c, const snn_shape *in, int f[2],
                                 snn_error *err)
{
    size_t k = strcmp(c->node->op_type, "Upsample") == 0 ? 1 : 2;
    int sizes = k == 2 && snn_onnx_has_input(c, 3);
    const Onnx__TensorProto *t;
    snn_status st = snn_onnx_const_input(c, sizes ? 3 : k, &t, err);
    double v[4] = {0, 0, 0, 0};
    size_t n = 0;
    if (st == SNN_OK && sizes) {
        /* The batch size is not known here: any is kept. */
        const double orig[4] = {1, (double)in->dims[0], (double)in->dims[1],
                                (double)in->dims[2]};
        int64_t *iv = NULL;
        st = snn_onnx_ints(c, t, &iv, &n, err);
        for (size_t i = 0; st == SNN_OK && n == 4 && i < 4; i++)
            v[i] = i == 0 ? 1.0 : (double)iv[i] / orig[i];
        free(iv);
    } else if (st == SNN_OK) {
        snn_tensor sc = {0};
        st = snn_onnx_floats(c, t, &sc, err);
        n = snn_tensor_numel(&sc);
        for (size_t i = 0; st == SNN_OK && n == 4 && i < 4; i++)
            v[i] = sc.data[i];
        snn_tensor_free(&sc);
    }
    if (st != SNN_OK)
        return st;
    for (int a = 0; a < 2; a++)
        f[a] = v[2 + a] >= 1 && v[2 + a] <= 4096 && v[2 + a] == (int)v[2 + a]
                   ? (int)v[2 + a] : 0;
    if (n != 4 || v[0] != 1 || v[1] != 1 || !f[0] || !f[1])
        return snn_onnx_error(c, err, SNN_E_UNSUPPORTED,
                              "only upsampling of height and width by whole "
                              "factors is supported");
    return SNN_OK;
}

/* Resize / Upsample in nearest mode by whole factors. */
static snn_status resize(onnx_ctx *c, snn_error *err)
{
    onnx_value *x;
    const snn_shape *in;
    snn_status st = image_input(c, &x, &in, err);
    if (st != SNN_OK)
        return st;
    if (!resize_is_floor(c))
        return snn_onnx_error(c, err, SNN_E_UNSUPPORTED,
                              "only nearest-neighbour resizing (asymmetric "
                              "with floor, or half_pixel with rounding) is "
                              "supported");
    snn_layer l;
    layer_init(c, &l, SNN_OP_UPSAMPLE, x->layer);
    st = resize_factors(c, in, l.win.stride, err);
    if (st != SNN_OK)
        return st;
    return add_and_define(c, &l, err);
}

static snn_status constant(onnx_ctx *c, snn_error *err)
{
    const Onnx__AttributeProto *a = snn_onnx_attr(c, "value");
    if (!a || !a->t)
        return snn_onnx_error(c, err, SNN_E_UNSUPPORTED,
                              "only a Constant with a tensor 'value' is "
                              "supported");
    onnx_value v = {.kind = ONNX_CONST, .tensor = a->t};
    return snn_onnx_define(c, 0, &v, err);
}

/* ---- dispatch ----------------------------------------------------------- */

typedef snn_status (*onnx_fn)(onnx_ctx *c, snn_error *err);

static const struct {
    const char *op;
    onnx_fn fn;
} handlers[] = {
    {"Conv", conv},
    {"ConvTranspose", conv_transpose},
    {"Gemm", gemm},
    {"MatMul", matmul},
    {"Add", add},
    {"Concat", concat},
    {"BatchNormalization", batchnorm},
    {"MaxPool", max_pool},
    {"AveragePool", average_pool},
    {"GlobalAveragePool", global_average_pool},
    {"GlobalMaxPool", global_max_pool},
    {"ReduceMean", reduce_mean},
    {"Max", max},
    {"Relu", relu},
    {"Clip", clip},
    {"Softmax", softmax},
    {"Sigmoid", non_if_activation},
    {"Tanh", non_if_activation},
    {"LeakyRelu", non_if_activation},
    {"Elu", non_if_activation},
    {"Selu", non_if_activation},
    {"PRelu", non_if_activation},
    {"HardSigmoid", non_if_activation},
    {"Softplus", non_if_activation},
    {"Gelu", non_if_activation},
    {"Dropout", identity},
    {"Identity", identity},
    {"Flatten", flatten},
    {"Reshape", reshape},
    {"Pad", pad},
    {"Resize", resize},
    {"Upsample", resize},
    {"Constant", constant},
};

snn_status snn_onnx_node(onnx_ctx *c, snn_error *err)
{
    const char *domain = c->node->domain ? c->node->domain : "";
    if (domain[0] && strcmp(domain, "ai.onnx") != 0)
        return snn_onnx_error(c, err, SNN_E_UNSUPPORTED,
                              "operator of domain '%s' is not supported",
                              domain);
    if (c->node->n_output < 1)
        return snn_onnx_error(c, err, SNN_E_FORMAT, "node has no output");
    snn_status st;
    if (snn_onnx_fold(c, &st, err))
        return st;
    for (size_t k = 0; k < sizeof handlers / sizeof handlers[0]; k++)
        if (strcmp(handlers[k].op, c->node->op_type) == 0)
            return handlers[k].fn(c, err);
    return snn_onnx_error(c, err, SNN_E_UNSUPPORTED,
                          "operator %s is not supported", c->node->op_type);
}
