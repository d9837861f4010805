/*
 * caffe_layers.c - turns one Caffe layer into graph layers.
 *
 * Caffe's conventions, made explicit here: blobs are (O, I/groups, KH, KW)
 * and (out, in), as our IR; InnerProduct flattens (C, H, W) in that order
 * (an explicit Flatten with flatten_hwc = 0 is inserted); pooling rounds
 * output sizes up and its average counts the padding; BatchNorm stores
 * mean and variance multiplied by a scale factor (third blob) and leaves
 * gamma and beta to a following Scale layer; Eltwise SUM weighs its
 * inputs by coeff (a per-input scale layer where a coefficient is not 1).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "parse/caffe_internal.h"
#include "parse/proto_graph.h"

#define BLOB_RANK_MAX 8

static snn_status layer_error(const caffe_ctx *c, size_t i, snn_error *err,
                              snn_status st, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static snn_status layer_error(const caffe_ctx *c, size_t i, snn_error *err,
                              snn_status st, const char *fmt, ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return snn_error_set(err, st, "%s: layer '%s' (%s): %s", c->path,
                         c->views[i].name, c->views[i].type, what);
}

static const snn_shape *shape_of(const caffe_ctx *c, int layer)
{
    return &c->g->layers[layer].shape;
}

/* Binds the view's only top to a graph layer. */
static snn_status define_top(caffe_ctx *c, size_t i, int layer,
                             snn_error *err)
{
    if (c->views[i].n_top != 1)
        return layer_error(c, i, err, SNN_E_UNSUPPORTED,
                           "needs exactly one top blob, has %zu",
                           c->views[i].n_top);
    return snn_caffe_define(c, c->views[i].top[0], layer, err);
}

/* Adds l and binds the view's top to it. */
static snn_status add_and_define(caffe_ctx *c, size_t i, snn_layer *l,
                                 snn_error *err)
{
    int idx;
    snn_status st = snn_pg_add(c->g, l, &idx, err);
    if (st != SNN_OK)
        return st;
    return define_top(c, i, idx, err);
}

/* ---- blobs -------------------------------------------------------------- */

/* Blob k of layer i from the caffemodel, its shape and its values. */
static snn_status get_blob(const caffe_ctx *c, size_t i, size_t k,
                           const char *what, const Caffe__BlobProto **out,
                           snn_error *err)
{
    const caffe_view *w = snn_caffe_weights(c, i);
    if (!w || k >= w->n_blobs)
        return layer_error(c, i, err, SNN_E_FORMAT,
                           "%s (blob %zu) is missing from %s", what, k,
                           c->wpath);
    *out = w->blobs[k];
    return SNN_OK;
}

static size_t blob_dims(const Caffe__BlobProto *b, size_t *dims)
{
    if (b->shape) {
        size_t nd = b->shape->n_dim;
        for (size_t d = 0; d < nd && d < BLOB_RANK_MAX; d++)
            dims[d] = b->shape->dim[d] < 0 ? 0 : (size_t)b->shape->dim[d];
        return nd;
    }
    const int32_t legacy[4] = {b->num, b->channels, b->height, b->width};
    for (size_t d = 0; d < 4; d++)
        dims[d] = legacy[d] < 0 ? 0 : (size_t)legacy[d];
    return 4;
}

static size_t blob_count(const Caffe__BlobProto *b)
{
    return b->n_data ? b->n_data : b->n_double_data;
}

/* Whether the blob's declared shape holds as many values as the layer
 * expects (legacy 4-D shapes pad with ones, so compare counts). */
static int blob_shape_fits(const Caffe__BlobProto *b, int ndim,
                           const size_t *dims)
{
    size_t d[BLOB_RANK_MAX], declared = 1, expected = 1;
    size_t nd = blob_dims(b, d);
    if (nd > BLOB_RANK_MAX)
        return 0;
    for (size_t k = 0; k < nd; k++)
        if (!snn_size_mul(declared, d[k], &declared))
            return 0;
    for (int k = 0; k < ndim; k++)
        if (!snn_size_mul(expected, dims[k], &expected))
            return 0;
    return declared == expected;
}

/* Blob k as a tensor of the given dims (the caller's view of it; the
 * stored value count must match). */
static snn_status blob_tensor(const caffe_ctx *c, size_t i, size_t k,
                              const char *what, int ndim, const size_t *dims,
                              snn_tensor *t, snn_error *err)
{
    const Caffe__BlobProto *b = NULL;
    snn_status st = get_blob(c, i, k, what, &b, err);
    if (st != SNN_OK)
        return st;
    if (!blob_shape_fits(b, ndim, dims)) {
        char want[64];
        return layer_error(c, i, err, SNN_E_SHAPE,
                           "%s blob in %s does not have the shape %s the "
                           "layer needs", what, c->wpath,
                           snn_shape_str(ndim, dims, want, sizeof want));
    }
    st = snn_pg_tensor(t, ndim, dims, b->n_data ? b->data : NULL,
                       b->n_data ? NULL : b->double_data, blob_count(b), what,
                       err);
    if (st != SNN_OK)
        return snn_error_prefix(err, "%s: layer '%s': ", c->wpath,
                                c->views[i].name);
    return SNN_OK;
}

static snn_status vector_blob(const caffe_ctx *c, size_t i, size_t k,
                              const char *what, size_t n, snn_tensor *t,
                              snn_error *err)
{
    return blob_tensor(c, i, k, what, 1, &n, t, err);
}

/* Finishes a conv or inner-product layer whose weight read returned st:
 * reads the optional bias blob and adds l, or releases l on failure. */
static snn_status add_weighted(caffe_ctx *c, size_t i, snn_layer *l,
                               snn_status st, int bias_term, size_t n_out,
                               snn_error *err)
{
    if (st == SNN_OK && bias_term)
        st = vector_blob(c, i, 1, "bias", n_out, &l->bias, err);
    if (st != SNN_OK) {
        snn_pg_release(l);
        return st;
    }
    return add_and_define(c, i, l, err);
}

/* ---- inputs ------------------------------------------------------------- */

static snn_status add_input(caffe_ctx *c, size_t i, const size_t *dims,
                            size_t nd, snn_error *err)
{
    if (c->g->n_layers > 0)
        return layer_error(c, i, err, SNN_E_UNSUPPORTED,
                           "a second input; only one is supported");
    if (nd != 4 && nd != 2)
        return layer_error(c, i, err, SNN_E_UNSUPPORTED,
                           "input shape of rank %zu; expected (N, C, H, W) "
                           "or (N, C)", nd);
    snn_layer l;
    snn_layer_defaults(&l, SNN_OP_INPUT, c->views[i].name, c->views[i].type);
    l.shape.ndim = (int)nd - 1;
    for (size_t d = 1; d < nd; d++) {
        if (dims[d] < 1 || dims[d] > ((size_t)1 << 24))
            return layer_error(c, i, err, SNN_E_FORMAT,
                               "input size %zu is out of range", dims[d]);
        l.shape.dims[d - 1] = dims[d];
    }
    return add_and_define(c, i, &l, err);
}

static snn_status input(caffe_ctx *c, size_t i, snn_error *err)
{
    const Caffe__InputParameter *p = c->views[i].input;
    if (!p || p->n_shape != 1)
        return layer_error(c, i, err, SNN_E_FORMAT,
                           "needs input_param with exactly one shape");
    size_t dims[BLOB_RANK_MAX] = {0};
    size_t nd = p->shape[0]->n_dim;
    for (size_t d = 0; d < nd && d < BLOB_RANK_MAX; d++)
        dims[d] = p->shape[0]->dim[d] < 0 ? 0 : (size_t)p->shape[0]->dim[d];
    return add_input(c, i, dims, nd, err);
}

static snn_status memory_data(caffe_ctx *c, size_t i, snn_error *err)
{
    const Caffe__MemoryDataParameter *p = c->views[i].memory;
    if (!p)
        return layer_error(c, i, err, SNN_E_FORMAT,
                           "needs memory_data_param");
    size_t dims[4] = {1, p->channels, p->height, p->width};
    return add_input(c, i, dims, 4, err);
}

static snn_status database_data(caffe_ctx *c, size_t i, snn_error *err)
{
    return layer_error(c, i, err, SNN_E_UNSUPPORTED,
                       "reads its samples from a database and declares no "
                       "input shape; use a deploy prototxt with an Input "
                       "layer (input_param { shape { dim: 1 dim: C dim: H "
                       "dim: W } })");
}

/* ---- weighted layers ---------------------------------------------------- */

/* A repeated window field with Caffe's fallbacks: the _h/_w pair when
 * either is set (the other defaults), else the list (one value for both
 * axes), else dflt. */
static void window_pair(const uint32_t *list, size_t n, int has_h,
                        uint32_t h, uint32_t w, uint32_t dflt, int out[2])
{
    if (has_h) {
        out[0] = (int)h;
        out[1] = (int)w;
    } else {
        out[0] = (int)(n ? list[0] : dflt);
        out[1] = (int)(n > 1 ? list[1] : n ? list[0] : dflt);
    }
}

static snn_status conv_window(caffe_ctx *c, size_t i,
                              const Caffe__ConvolutionParameter *p,
                              snn_window *win, snn_error *err)
{
    if (p->n_kernel_size > 2 || p->n_pad > 2 || p->n_stride > 2 ||
        p->n_dilation > 2 || p->axis != 1)
        return layer_error(c, i, err, SNN_E_UNSUPPORTED,
                           "only 2-D convolution over axis 1 is supported");
    int pad[2];
    window_pair(p->kernel_size, p->n_kernel_size,
                p->has_kernel_h || p->has_kernel_w, p->kernel_h, p->kernel_w,
                0, win->kernel);
    window_pair(p->stride, p->n_stride, p->has_stride_h || p->has_stride_w,
                p->stride_h, p->stride_w, 1, win->stride);
    window_pair(p->pad, p->n_pad, p->has_pad_h || p->has_pad_w, p->pad_h,
                p->pad_w, 0, pad);
    window_pair(p->dilation, p->n_dilation, 0, 0, 0, 1, win->dilation);
    win->pad[0] = win->pad[2] = pad[0];
    win->pad[1] = win->pad[3] = pad[1];
    if (win->kernel[0] < 1 || win->kernel[1] < 1 || pad[0] < 0 ||
        pad[1] < 0 || win->kernel[0] > 4096 || win->kernel[1] > 4096)
        return layer_error(c, i, err, SNN_E_FORMAT,
                           "kernel size must be set and positive");
    return SNN_OK;
}

static snn_status convolution(caffe_ctx *c, size_t i, snn_error *err)
{
    const Caffe__ConvolutionParameter *p = c->views[i].conv;
    if (!p)
        return layer_error(c, i, err, SNN_E_FORMAT,
                           "needs convolution_param");
    snn_layer l;
    snn_layer_defaults(&l, SNN_OP_CONV2D, c->views[i].name,
                       c->views[i].type);
    l.groups = (int)p->group;
    snn_status st = conv_window(c, i, p, &l.win, err);
    int src = -1;
    if (st == SNN_OK)
        st = snn_caffe_bottom(c, i, 0, &src, err);
    if (st != SNN_OK)
        return st;
    const snn_shape *in = shape_of(c, src);
    if (in->ndim != 3 || p->group < 1 || in->dims[0] % p->group)
        return layer_error(c, i, err, SNN_E_SHAPE,
                           "group %u does not divide the input's channels",
                           p->group);
    size_t dims[4] = {p->num_output, in->dims[0] / p->group,
                      (size_t)l.win.kernel[0], (size_t)l.win.kernel[1]};
    l.inputs[0] = src;
    l.n_inputs = 1;
    st = blob_tensor(c, i, 0, "weights", 4, dims, &l.weight, err);
    return add_weighted(c, i, &l, st, p->bias_term, p->num_output, err);
}

/* (out, in) weights from Caffe's (out, in) blob, or (in, out) with
 * transpose: true. */
static snn_status ip_weights(caffe_ctx *c, size_t i,
                             const Caffe__InnerProductParameter *p, size_t k,
                             snn_tensor *w, snn_error *err)
{
    size_t dims[2] = {p->num_output, k};
    if (!p->transpose)
        return blob_tensor(c, i, 0, "weights", 2, dims, w, err);
    size_t tdims[2] = {k, p->num_output};
    snn_tensor t = {0};
    snn_status st = blob_tensor(c, i, 0, "weights", 2, tdims, &t, err);
    if (st == SNN_OK)
        st = snn_tensor_init(w, 2, dims, err);
    for (size_t o = 0; st == SNN_OK && o < dims[0]; o++)
        for (size_t j = 0; j < k; j++)
            w->data[o * k + j] = t.data[j * dims[0] + o];
    snn_tensor_free(&t);
    return st;
}

/* Caffe's InnerProduct reads (C, H, W) as one vector in that order. */
static snn_status flatten_before(caffe_ctx *c, size_t i, int *src,
                                 snn_error *err)
{
    if (shape_of(c, *src)->ndim == 1)
        return SNN_OK;
    snn_layer f;
    char name[SNN_NAME_MAX];
    snprintf(name, sizeof name, "%.100s_flatten", c->views[i].name);
    snn_layer_defaults(&f, SNN_OP_FLATTEN, name, "Flatten");
    f.inputs[0] = *src;
    f.n_inputs = 1;
    return snn_pg_add(c->g, &f, src, err);
}

static snn_status inner_product(caffe_ctx *c, size_t i, snn_error *err)
{
    const Caffe__InnerProductParameter *p = c->views[i].ip;
    if (!p || p->axis != 1)
        return layer_error(c, i, err, SNN_E_UNSUPPORTED,
                           "needs inner_product_param with axis 1");
    int src = -1;
    snn_status st = snn_caffe_bottom(c, i, 0, &src, err);
    if (st == SNN_OK)
        st = flatten_before(c, i, &src, err);
    if (st != SNN_OK)
        return st;
    snn_layer l;
    snn_layer_defaults(&l, SNN_OP_DENSE, c->views[i].name, c->views[i].type);
    l.inputs[0] = src;
    l.n_inputs = 1;
    st = ip_weights(c, i, p, shape_of(c, src)->dims[0], &l.weight, err);
    return add_weighted(c, i, &l, st, p->bias_term, p->num_output, err);
}

/* ---- pooling ------------------------------------------------------------ */

static snn_status pool_window(caffe_ctx *c, size_t i,
                              const Caffe__PoolingParameter *p,
                              const snn_shape *in, snn_window *win,
                              snn_error *err)
{
    if (in->ndim != 3)
        return layer_error(c, i, err, SNN_E_SHAPE,
                           "needs a (channels, height, width) input");
    if (p->global_pooling) {
        win->kernel[0] = (int)in->dims[1];
        win->kernel[1] = (int)in->dims[2];
        return SNN_OK;
    }
    window_pair(&p->kernel_size, p->has_kernel_size,
                p->has_kernel_h || p->has_kernel_w, p->kernel_h, p->kernel_w,
                0, win->kernel);
    window_pair(&p->stride, 1, p->has_stride_h || p->has_stride_w,
                p->stride_h, p->stride_w, 1, win->stride);
    int pad[2];
    window_pair(&p->pad, 1, p->has_pad_h || p->has_pad_w, p->pad_h,
                p->pad_w, 0, pad);
    win->pad[0] = win->pad[2] = pad[0];
    win->pad[1] = win->pad[3] = pad[1];
    win->ceil_mode =
        p->round_mode == CAFFE__POOLING_PARAMETER__ROUND_MODE__CEIL;
    win->count_pad = 1;
    if (win->kernel[0] < 1 || win->kernel[1] < 1 || pad[0] < 0 ||
        pad[1] < 0)
        return layer_error(c, i, err, SNN_E_FORMAT,
                           "kernel size must be set and positive");
    return SNN_OK;
}

static snn_status pooling(caffe_ctx *c, size_t i, snn_error *err)
{
    const Caffe__PoolingParameter *p = c->views[i].pool;
    if (!p)
        return layer_error(c, i, err, SNN_E_FORMAT, "needs pooling_param");
    if (p->pool == CAFFE__POOLING_PARAMETER__POOL_METHOD__STOCHASTIC)
        return layer_error(c, i, err, SNN_E_UNSUPPORTED,
                           "stochastic pooling is not supported");
    int max = p->pool == CAFFE__POOLING_PARAMETER__POOL_METHOD__MAX;
    snn_layer l;
    snn_layer_defaults(&l, max ? SNN_OP_MAXPOOL2D : SNN_OP_AVGPOOL2D,
                       c->views[i].name, c->views[i].type);
    int src = -1;
    snn_status st = snn_caffe_bottom(c, i, 0, &src, err);
    if (st == SNN_OK)
        st = pool_window(c, i, p, shape_of(c, src), &l.win, err);
    if (st != SNN_OK)
        return st;
    l.inputs[0] = src;
    l.n_inputs = 1;
    return add_and_define(c, i, &l, err);
}

/* ---- activations and reshaping ------------------------------------------ */

/* act on the output of src, the layer's resolved bottom. */
static snn_status activation(caffe_ctx *c, size_t i, int src,
                             snn_activation act, snn_error *err)
{
    int out = -1;
    snn_status st =
        snn_pg_activation(c->g, src, snn_caffe_sole_reader(c, i), act,
                          c->views[i].name, c->views[i].type, &out, err);
    if (st != SNN_OK)
        return st;
    return define_top(c, i, out, err);
}

static snn_status relu(caffe_ctx *c, size_t i, snn_error *err)
{
    const Caffe__ReLUParameter *p = c->views[i].relu;
    if (p && p->negative_slope != 0.0f)
        return layer_error(c, i, err, SNN_E_UNSUPPORTED,
                           "a leaky ReLU (negative_slope %g) cannot be "
                           "represented by integrate-and-fire neurons",
                           (double)p->negative_slope);
    int src = -1;
    snn_status st = snn_caffe_bottom(c, i, 0, &src, err);
    if (st != SNN_OK)
        return st;
    return activation(c, i, src, SNN_ACT_RELU, err);
}

static snn_status softmax(caffe_ctx *c, size_t i, snn_error *err)
{
    const Caffe__SoftmaxParameter *p = c->views[i].softmax;
    int src = -1;
    snn_status st = snn_caffe_bottom(c, i, 0, &src, err);
    if (st != SNN_OK)
        return st;
    const snn_shape *in = shape_of(c, src);
    int flat = in->ndim == 1 || (in->dims[1] == 1 && in->dims[2] == 1);
    if ((p && p->axis != 1) || !flat)
        return layer_error(c, i, err, SNN_E_UNSUPPORTED,
                           "softmax is supported over the channels of a "
                           "vector only");
    return activation(c, i, src, SNN_ACT_SOFTMAX, err);
}

/* Dropout and Split: every top is the bottom. */
static snn_status identity(caffe_ctx *c, size_t i, snn_error *err)
{
    int src = -1;
    snn_status st = snn_caffe_bottom(c, i, 0, &src, err);
    for (size_t k = 0; st == SNN_OK && k < c->views[i].n_top; k++)
        st = snn_caffe_define(c, c->views[i].top[k], src, err);
    return st;
}

/* Loss and accuracy layers compute nothing the converted net uses. */
static snn_status training_only(caffe_ctx *c, size_t i, snn_error *err)
{
    (void)c;
    (void)i;
    (void)err;
    return SNN_OK;
}

static snn_status flatten(caffe_ctx *c, size_t i, snn_error *err)
{
    const Caffe__FlattenParameter *p = c->views[i].flatten;
    if (p && (p->axis != 1 || p->end_axis != -1))
        return layer_error(c, i, err, SNN_E_UNSUPPORTED,
                           "only flattening from axis 1 to the end is "
                           "supported");
    int src = -1;
    snn_status st = snn_caffe_bottom(c, i, 0, &src, err);
    if (st != SNN_OK)
        return st;
    if (shape_of(c, src)->ndim == 1)
        return define_top(c, i, src, err);
    snn_layer l;
    snn_layer_defaults(&l, SNN_OP_FLATTEN, c->views[i].name,
                       c->views[i].type);
    l.inputs[0] = src;
    l.n_inputs = 1;
    return add_and_define(c, i, &l, err);
}

/* ---- normalization ------------------------------------------------------ */

static snn_status batchnorm(caffe_ctx *c, size_t i, snn_error *err)
{
    const Caffe__BatchNormParameter *p = c->views[i].bn;
    if (p && p->has_use_global_stats && !p->use_global_stats)
        return layer_error(c, i, err, SNN_E_UNSUPPORTED,
                           "use_global_stats: false normalizes with each "
                           "batch's own statistics");
    int src = -1;
    snn_status st = snn_caffe_bottom(c, i, 0, &src, err);
    if (st != SNN_OK)
        return st;
    size_t ch = snn_shape_numel(shape_of(c, src)) ? shape_of(c, src)->dims[0]
                                                   : 0;
    snn_layer l;
    snn_tensor factor = {0};
    snn_layer_defaults(&l, SNN_OP_BATCHNORM, c->views[i].name,
                       c->views[i].type);
    l.eps = p ? p->eps : 1e-5f;
    l.inputs[0] = src;
    l.n_inputs = 1;
    st = vector_blob(c, i, 0, "mean", ch, &l.mean, err);
    if (st == SNN_OK)
        st = vector_blob(c, i, 1, "variance", ch, &l.var, err);
    if (st == SNN_OK)
        st = vector_blob(c, i, 2, "scale factor", 1, &factor, err);
    if (st != SNN_OK) {
        snn_tensor_free(&factor);
        snn_pg_release(&l);
        return st;
    }
    /* Caffe's moving averages are sums; the factor makes them means. */
    float f = factor.data[0] == 0.0f ? 0.0f : 1.0f / factor.data[0];
    snn_tensor_free(&factor);
    for (size_t k = 0; k < ch; k++) {
        l.mean.data[k] *= f;
        l.var.data[k] *= f;
    }
    return add_and_define(c, i, &l, err);
}

static snn_status scale_values(caffe_ctx *c, size_t i, size_t ch,
                               snn_tensor *gamma, snn_tensor *beta,
                               snn_error *err)
{
    snn_status st = vector_blob(c, i, 0, "scale", ch, gamma, err);
    if (st == SNN_OK && c->views[i].scale && c->views[i].scale->bias_term)
        st = vector_blob(c, i, 1, "bias", ch, beta, err);
    if (st != SNN_OK) {
        snn_tensor_free(gamma);
        snn_tensor_free(beta);
    }
    return st;
}

/* A Scale on its own: a BatchNorm with mean 0, variance 1 and eps 0. */
static snn_status standalone_scale(caffe_ctx *c, size_t i, int src, size_t ch,
                                   snn_error *err)
{
    snn_layer l;
    snn_layer_defaults(&l, SNN_OP_BATCHNORM, c->views[i].name,
                       c->views[i].type);
    l.eps = 0.0f;
    l.inputs[0] = src;
    l.n_inputs = 1;
    snn_status st = scale_values(c, i, ch, &l.gamma, &l.beta, err);
    if (st == SNN_OK)
        st = snn_tensor_init(&l.mean, 1, &ch, err);
    if (st == SNN_OK)
        st = snn_tensor_init(&l.var, 1, &ch, err);
    for (size_t k = 0; st == SNN_OK && k < ch; k++)
        l.var.data[k] = 1.0f;
    if (st != SNN_OK) {
        snn_pg_release(&l);
        return st;
    }
    return add_and_define(c, i, &l, err);
}

/* Scale after BatchNorm supplies its gamma and beta. */
static snn_status scale(caffe_ctx *c, size_t i, snn_error *err)
{
    const Caffe__ScaleParameter *p = c->views[i].scale;
    if (c->views[i].n_bottom != 1 || (p && (p->axis != 1 || p->num_axes != 1)))
        return layer_error(c, i, err, SNN_E_UNSUPPORTED,
                           "only a learned per-channel scale (one bottom, "
                           "axis 1, num_axes 1) is supported");
    int src = -1;
    snn_status st = snn_caffe_bottom(c, i, 0, &src, err);
    if (st != SNN_OK)
        return st;
    size_t ch = shape_of(c, src)->dims[0];
    snn_layer *bn = &c->g->layers[src];
    if (bn->op != SNN_OP_BATCHNORM || bn->gamma.data || bn->beta.data ||
        bn->act != SNN_ACT_LINEAR || !snn_caffe_sole_reader(c, i))
        return standalone_scale(c, i, src, ch, err);
    st = scale_values(c, i, ch, &bn->gamma, &bn->beta, err);
    if (st != SNN_OK)
        return st;
    return define_top(c, i, src, err);
}

/* ---- joining branches --------------------------------------------------- */

/* The graph layers holding the view's bottoms, at least two. */
static snn_status bottoms(caffe_ctx *c, size_t i, int *inputs,
                          snn_error *err)
{
    size_t n = c->views[i].n_bottom;
    if (n < 2 || n > SNN_MAX_INPUTS)
        return layer_error(c, i, err, SNN_E_UNSUPPORTED,
                           "has %zu bottoms; 2 to %d are supported", n,
                           SNN_MAX_INPUTS);
    snn_status st = SNN_OK;
    for (size_t k = 0; st == SNN_OK && k < n; k++)
        st = snn_caffe_bottom(c, i, k, &inputs[k], err);
    return st;
}

/* Multiplies the output of *src by coeff: a per-channel scale layer,
 * which becomes *src. */
static snn_status weigh(caffe_ctx *c, size_t i, size_t k, float coeff,
                        int *src, snn_error *err)
{
    snn_layer l;
    size_t ch = shape_of(c, *src)->dims[0];
    snn_layer_defaults(&l, SNN_OP_BATCHNORM, c->views[i].name,
                       c->views[i].type);
    snprintf(l.name, sizeof l.name, "%.100s_coeff%zu", c->views[i].name, k);
    l.eps = 0.0f;
    l.inputs[0] = *src;
    l.n_inputs = 1;
    snn_tensor *ts[] = {&l.gamma, &l.beta, &l.mean, &l.var};
    snn_status st = SNN_OK;
    for (size_t t = 0; st == SNN_OK && t < 4; t++)
        st = snn_tensor_init(ts[t], 1, &ch, err);
    for (size_t j = 0; st == SNN_OK && j < ch; j++) {
        l.gamma.data[j] = coeff;
        l.var.data[j] = 1.0f;
    }
    if (st != SNN_OK) {
        snn_pg_release(&l);
        return st;
    }
    return snn_pg_add(c->g, &l, src, err);
}

static snn_status eltwise(caffe_ctx *c, size_t i, snn_error *err)
{
    const Caffe__EltwiseParameter *p = c->views[i].eltwise;
    size_t n = c->views[i].n_bottom;
    if (p && p->has_operation &&
        p->operation != CAFFE__ELTWISE_PARAMETER__ELTWISE_OP__SUM)
        return layer_error(c, i, err, SNN_E_UNSUPPORTED,
                           "only operation SUM is supported (PROD and MAX "
                           "are not)");
    if (p && p->n_coeff && p->n_coeff != n)
        return layer_error(c, i, err, SNN_E_FORMAT,
                           "has %zu coeff for %zu bottoms", p->n_coeff, n);
    snn_layer l;
    snn_layer_defaults(&l, SNN_OP_ADD, c->views[i].name, c->views[i].type);
    snn_status st = bottoms(c, i, l.inputs, err);
    for (size_t k = 0; st == SNN_OK && p && k < p->n_coeff; k++)
        if (p->coeff[k] != 1.0f)
            st = weigh(c, i, k, p->coeff[k], &l.inputs[k], err);
    if (st != SNN_OK)
        return st;
    l.n_inputs = (int)n;
    return add_and_define(c, i, &l, err);
}

/* Concatenation along the channels (axis 1 of Caffe's (N, C, ...)). */
static snn_status concat(caffe_ctx *c, size_t i, snn_error *err)
{
    const Caffe__ConcatParameter *p = c->views[i].concat;
    long axis = !p ? 1 : p->has_axis ? p->axis
                     : p->has_concat_dim ? (long)p->concat_dim : 1;
    snn_layer l;
    snn_layer_defaults(&l, SNN_OP_CONCAT, c->views[i].name, c->views[i].type);
    snn_status st = bottoms(c, i, l.inputs, err);
    if (st != SNN_OK)
        return st;
    /* A negative axis counts from the end of the blob, batch included. */
    long rank = shape_of(c, l.inputs[0])->ndim + 1;
    if (axis != 1 && axis + rank != 1)
        return layer_error(c, i, err, SNN_E_UNSUPPORTED,
                           "concatenating along axis %ld is not supported "
                           "(only the channels, axis 1)", axis);
    l.n_inputs = (int)c->views[i].n_bottom;
    return add_and_define(c, i, &l, err);
}

/* ---- dispatch ----------------------------------------------------------- */

typedef snn_status (*caffe_fn)(caffe_ctx *c, size_t i, snn_error *err);

static const struct {
    const char *type;
    caffe_fn fn;
} handlers[] = {
    {"Input", input},
    {"MemoryData", memory_data},
    {"Data", database_data},
    {"ImageData", database_data},
    {"HDF5Data", database_data},
    {"Convolution", convolution},
    {"InnerProduct", inner_product},
    {"Pooling", pooling},
    {"ReLU", relu},
    {"Softmax", softmax},
    {"Dropout", identity},
    {"Split", identity},
    {"Flatten", flatten},
    {"BatchNorm", batchnorm},
    {"Scale", scale},
    {"Eltwise", eltwise},
    {"Concat", concat},
    {"Accuracy", training_only},
    {"Silence", training_only},
};

static int is_loss(const char *type)
{
    size_t n = strlen(type);
    return n >= 4 && strcmp(type + n - 4, "Loss") == 0;
}

snn_status snn_caffe_layer(caffe_ctx *c, size_t i, snn_error *err)
{
    const char *type = c->views[i].type;
    for (size_t k = 0; k < sizeof handlers / sizeof handlers[0]; k++)
        if (strcmp(handlers[k].type, type) == 0)
            return handlers[k].fn(c, i, err);
    if (is_loss(type))
        return SNN_OK;
    if (c->g->n_layers == 0)
        return layer_error(c, i, err, SNN_E_FORMAT,
                           "comes before any input layer");
    return layer_error(c, i, err, SNN_E_UNSUPPORTED,
                       "layer type '%s' is not supported", type);
}
