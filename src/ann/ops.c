/*
 * ops.c - snn_op_forward, which sends a layer to its kernel, and
 * snn_op_check, the one place that proves a layer's buffers are as large
 * as the kernels will assume (the kernels themselves never check).
 */
#include "ann/ops.h"

#include <limits.h>
#include <string.h>

void snn_op_forward(const snn_layer *l, const snn_shape *in, const float *x,
                    size_t n, float *y)
{
    switch (l->op) {
    case SNN_OP_DENSE:
        snn_dense_forward(l, x, n, snn_shape_numel(in), y);
        return;
    case SNN_OP_CONV2D:
        snn_conv2d_forward(l, in, x, n, y);
        return;
    case SNN_OP_MAXPOOL2D:
    case SNN_OP_AVGPOOL2D:
        snn_pool2d_forward(l, in, x, n, y);
        return;
    case SNN_OP_FLATTEN:
        snn_flatten_forward(l, in, x, n, y);
        return;
    case SNN_OP_BATCHNORM:
        snn_batchnorm_forward(l, in, x, n, y);
        return;
    case SNN_OP_PAD:
    case SNN_OP_CROP:
        snn_edges_forward(l, in, x, n, y);
        return;
    case SNN_OP_UPSAMPLE:
        snn_upsample_forward(l, in, x, n, y);
        return;
    case SNN_OP_RESHAPE:
        snn_reshape_forward(l, in, x, n, y);
        return;
    case SNN_OP_CONV2D_T:
        snn_conv2d_t_forward(l, in, x, n, y);
        return;
    case SNN_OP_INPUT:
    case SNN_OP_ACTIVATION:
        memcpy(y, x, n * snn_shape_numel(in) * sizeof(float));
        return;
    case SNN_OP_ADD:
    case SNN_OP_CONCAT:
        return; /* snn_op_check refused them */
    }
}

static int tensor_is(const snn_tensor *t, int ndim, const size_t *dims)
{
    if (!t->data || t->ndim != ndim)
        return 0;
    for (int i = 0; i < ndim; i++)
        if (t->dims[i] != dims[i])
            return 0;
    return 1;
}

/* An optional per-channel vector: absent, or exactly n long. */
static int optional_vec(const snn_tensor *t, size_t n)
{
    return !t->data || snn_tensor_numel(t) == n;
}

static snn_status check_window(const snn_layer *l, const snn_shape *in,
                               snn_error *err)
{
    const snn_window *w = &l->win;
    if (in->ndim != 3 || l->shape.ndim != 3)
        return snn_error_set(err, SNN_E_SHAPE,
                             "layer %s: %s needs (C, H, W) input and output",
                             l->name, snn_op_name(l->op));
    for (int i = 0; i < 2; i++)
        if (w->kernel[i] < 1 || w->stride[i] < 1 || w->dilation[i] < 1)
            return snn_error_set(err, SNN_E_INVALID,
                                 "layer %s: kernel, stride and dilation must "
                                 "be at least 1",
                                 l->name);
    for (int i = 0; i < 4; i++)
        if (w->pad[i] < 0)
            return snn_error_set(err, SNN_E_INVALID,
                                 "layer %s: negative padding %d", l->name,
                                 w->pad[i]);
    return SNN_OK;
}

static snn_status check_dense(const snn_layer *l, size_t in_n, size_t out_n,
                              snn_error *err)
{
    size_t want[2] = {out_n, in_n};
    if (!tensor_is(&l->weight, 2, want) || !optional_vec(&l->bias, out_n))
        return snn_error_set(err, SNN_E_SHAPE,
                             "layer %s: dense weights must be (%zu, %zu) "
                             "and bias (%zu)",
                             l->name, out_n, in_n, out_n);
    return SNN_OK;
}

/* A transposed conv stores its kernel as (in, out/groups, kh, kw), the
 * forward one as (out, in/groups, kh, kw); otherwise the checks agree. */
static snn_status check_conv(const snn_layer *l, const snn_shape *in,
                             int transposed, snn_error *err)
{
    snn_status st = check_window(l, in, err);
    if (st != SNN_OK)
        return st;
    size_t g = l->groups > 0 ? (size_t)l->groups : 0;
    size_t c = in->dims[0], o = l->shape.dims[0];
    if (g == 0 || c % g || o % g)
        return snn_error_set(err, SNN_E_SHAPE,
                             "layer %s: %d groups do not divide %zu input "
                             "and %zu output channels",
                             l->name, l->groups, c, o);
    size_t want[4] = {transposed ? c : o, transposed ? o / g : c / g,
                      (size_t)l->win.kernel[0], (size_t)l->win.kernel[1]};
    if (!tensor_is(&l->weight, 4, want) || !optional_vec(&l->bias, o))
        return snn_error_set(err, SNN_E_SHAPE,
                             "layer %s: %sconv weights must be (%zu, %zu, "
                             "%zu, %zu) and bias (%zu)",
                             l->name, transposed ? "transposed " : "",
                             want[0], want[1], want[2], want[3], o);
    return SNN_OK;
}

static snn_status check_pool(const snn_layer *l, const snn_shape *in,
                             snn_error *err)
{
    snn_status st = check_window(l, in, err);
    if (st == SNN_OK && in->dims[0] != l->shape.dims[0])
        return snn_error_set(err, SNN_E_SHAPE,
                             "layer %s: pooling maps %zu channels to %zu",
                             l->name, in->dims[0], l->shape.dims[0]);
    return st;
}

/* PAD, CROP, UPSAMPLE: the output plane is what the op makes of the
 * input's (the kernels index the input by the output's cells). */
static snn_status check_resize(const snn_layer *l, const snn_shape *in,
                               snn_error *err)
{
    snn_status st = check_window(l, in, err);
    if (st != SNN_OK)
        return st;
    int ok = in->dims[0] == l->shape.dims[0];
    for (int a = 0; ok && a < 2; a++) {
        size_t i = in->dims[1 + a], o = l->shape.dims[1 + a];
        size_t edge = (size_t)l->win.pad[a] + (size_t)l->win.pad[a + 2];
        if (l->op == SNN_OP_PAD)
            ok = o == i + edge;
        else if (l->op == SNN_OP_CROP)
            ok = o + edge == i;
        else
            ok = o == i * (size_t)l->win.stride[a];
    }
    if (!ok)
        return snn_error_set(err, SNN_E_SHAPE,
                             "layer %s: %s output shape disagrees with its "
                             "input and attributes", l->name,
                             snn_op_name(l->op));
    return SNN_OK;
}

static snn_status check_batchnorm(const snn_layer *l, const snn_shape *in,
                                  snn_error *err)
{
    size_t c = snn_shape_channels(in);
    if (!l->mean.data || !l->var.data || snn_tensor_numel(&l->mean) != c ||
        snn_tensor_numel(&l->var) != c || !optional_vec(&l->gamma, c) ||
        !optional_vec(&l->beta, c))
        return snn_error_set(err, SNN_E_SHAPE,
                             "layer %s: BatchNorm needs mean and variance "
                             "(and optional gamma, beta) of %zu channels",
                             l->name, c);
    return SNN_OK;
}

static snn_status check_sizes(const snn_layer *l, size_t in_n, size_t out_n,
                              snn_error *err)
{
    if (in_n == 0 || out_n == 0 || in_n > INT_MAX || out_n > INT_MAX)
        return snn_error_set(err, SNN_E_SHAPE,
                             "layer %s: input size %zu or output size %zu "
                             "is empty or too large (shapes inferred?)",
                             l->name, in_n, out_n);
    int same = l->op == SNN_OP_INPUT || l->op == SNN_OP_FLATTEN ||
               l->op == SNN_OP_BATCHNORM || l->op == SNN_OP_ACTIVATION ||
               l->op == SNN_OP_RESHAPE;
    if (same && in_n != out_n)
        return snn_error_set(err, SNN_E_SHAPE,
                             "layer %s: %s must keep the size (%zu), not "
                             "make it %zu",
                             l->name, snn_op_name(l->op), in_n, out_n);
    return SNN_OK;
}

snn_status snn_op_check(const snn_layer *l, const snn_shape *in,
                        snn_error *err)
{
    size_t in_n = snn_shape_numel(in), out_n = snn_shape_numel(&l->shape);
    snn_status st = check_sizes(l, in_n, out_n, err);
    if (st != SNN_OK)
        return st;
    switch (l->op) {
    case SNN_OP_DENSE:
        return check_dense(l, in_n, out_n, err);
    case SNN_OP_CONV2D:
        return check_conv(l, in, 0, err);
    case SNN_OP_MAXPOOL2D:
    case SNN_OP_AVGPOOL2D:
        return check_pool(l, in, err);
    case SNN_OP_CONV2D_T:
        return check_conv(l, in, 1, err);
    case SNN_OP_PAD:
    case SNN_OP_CROP:
    case SNN_OP_UPSAMPLE:
        return check_resize(l, in, err);
    case SNN_OP_BATCHNORM:
        return check_batchnorm(l, in, err);
    case SNN_OP_RESHAPE:
    case SNN_OP_INPUT:
    case SNN_OP_FLATTEN:
    case SNN_OP_ACTIVATION:
        return SNN_OK;
    case SNN_OP_ADD:
    case SNN_OP_CONCAT:
        return snn_error_set(err, SNN_E_UNSUPPORTED,
                             "layer %s: %s has several inputs; it runs "
                             "through snn_merge_forward", l->name,
                             snn_op_name(l->op));
    }
    return snn_error_set(err, SNN_E_UNSUPPORTED, "layer %s: unknown op %d",
                         l->name, (int)l->op);
}
