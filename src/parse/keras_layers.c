/*
 * keras_layers.c - one Keras layer (its JSON config and HDF5 weights) into
 * one graph layer in snntb's canonical layout.
 *
 * Keras stores convolution kernels as (kh, kw, in, out) and dense kernels
 * as (in, out); the graph wants OIHW and (out, in), so every kernel is
 * transposed here.  Weights are taken by position in `weight_names`, as
 * Keras itself loads them, because their names changed across versions
 * ("conv2d_1/kernel:0", "sequential/conv2d/kernel", ...).
 */
#include "keras_internal.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "h5util.h"

/* Larger window or image sizes than this are a corrupt file, not a model. */
#define DIM_MAX (1 << 24)

typedef snn_status (*convert_fn)(keras_ctx *c, json_t *cfg, snn_layer *l,
                                 snn_error *err);

/* ---- messages and config accessors ------------------------------------ */

static snn_status layer_error(const keras_ctx *c, snn_error *err,
                              snn_status st, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static snn_status layer_error(const keras_ctx *c, snn_error *err,
                              snn_status st, const char *fmt, ...)
{
    char what[SNN_ERROR_MAX / 2];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return snn_error_set(err, st, "%s: layer '%s' of type '%s': %s", c->path,
                         c->name, c->cls, what);
}

static snn_status bad_config(const keras_ctx *c, const char *key,
                             const char *expected, snn_error *err)
{
    return layer_error(c, err, SNN_E_FORMAT, "config '%s' must be %s", key,
                       expected);
}

static int int_in(json_t *v, long min, long max, int *out)
{
    if (!json_is_integer(v) || json_integer_value(v) < min ||
        json_integer_value(v) > max)
        return 0;
    *out = (int)json_integer_value(v);
    return 1;
}

/* An integer config value; dflt < 0 makes it required. */
static snn_status cfg_int(const keras_ctx *c, json_t *cfg, const char *key,
                          int dflt, int *out, snn_error *err)
{
    json_t *v = json_object_get(cfg, key);
    *out = dflt;
    if ((!v || json_is_null(v)) && dflt >= 0)
        return SNN_OK;
    if (!int_in(v, 1, DIM_MAX, out))
        return bad_config(c, key, "a positive integer", err);
    return SNN_OK;
}

/* A window size: Keras writes an integer or a pair.  dflt 0 makes it
 * required. */
static snn_status cfg_pair(const keras_ctx *c, json_t *cfg, const char *key,
                           int dflt, int out[2], snn_error *err)
{
    json_t *v = json_object_get(cfg, key);
    out[0] = out[1] = dflt;
    if ((!v || json_is_null(v)) && dflt > 0)
        return SNN_OK;
    int ok = json_is_array(v)
                 ? json_array_size(v) == 2 &&
                       int_in(json_array_get(v, 0), 1, DIM_MAX, &out[0]) &&
                       int_in(json_array_get(v, 1), 1, DIM_MAX, &out[1])
                 : int_in(v, 1, DIM_MAX, &out[0]);
    if (!ok)
        return bad_config(c, key, "a positive integer or a pair of them",
                          err);
    if (!json_is_array(v))
        out[1] = out[0];
    return SNN_OK;
}

/* A 1-D window size: an integer or a one-element list.  dflt 0 makes it
 * required. */
static snn_status cfg_single(const keras_ctx *c, json_t *cfg, const char *key,
                             int dflt, int *out, snn_error *err)
{
    json_t *v = json_object_get(cfg, key);
    *out = dflt;
    if ((!v || json_is_null(v)) && dflt > 0)
        return SNN_OK;
    if (json_is_array(v) && json_array_size(v) == 1)
        v = json_array_get(v, 0);
    if (!int_in(v, 1, DIM_MAX, out))
        return bad_config(c, key, "a positive integer or a list of one",
                          err);
    return SNN_OK;
}

static snn_status cfg_bool(const keras_ctx *c, json_t *cfg, const char *key,
                           int dflt, int *out, snn_error *err)
{
    json_t *v = json_object_get(cfg, key);
    *out = dflt;
    if (!v)
        return SNN_OK;
    if (!json_is_boolean(v))
        return bad_config(c, key, "true or false", err);
    *out = json_is_true(v);
    return SNN_OK;
}

/* A string config value, dflt when absent or null, NULL when not a
 * string. */
static const char *cfg_str(json_t *cfg, const char *key, const char *dflt)
{
    json_t *v = json_object_get(cfg, key);
    if (!v || json_is_null(v))
        return dflt;
    return json_string_value(v);
}

/* ---- pieces shared by several layer kinds ------------------------------ */

/* Why integrate-and-fire neurons cannot stand in for an activation. */
static const char *IF_WHY =
    "integrate-and-fire neurons fire at a rate that is a rectified linear "
    "function of their input, so they cannot represent it";

static int is_non_if(const char *s)
{
    static const char *const NAMES[] = {
        "sigmoid", "tanh", "hard_sigmoid", "elu", "selu", "softplus",
        "softsign", "swish", "silu", "gelu", "exponential", "leaky_relu",
        "mish", "hard_swish", "hard_silu", "log_softmax"};
    for (size_t i = 0; i < sizeof NAMES / sizeof NAMES[0]; i++)
        if (strcmp(s, NAMES[i]) == 0)
            return 1;
    return 0;
}

/* An activation's name: a string, or Keras 3's record of a plain function
 * (a custom object such as the original's binary_sigmoid), {"class_name":
 * "function", "config": "<name>"}. */
static const char *activation_name(json_t *v)
{
    const char *kind = json_string_value(json_object_get(v, "class_name"));
    if (json_is_object(v) && kind && strcmp(kind, "function") == 0)
        return json_string_value(json_object_get(v, "config"));
    return json_string_value(v);
}

static snn_status parse_activation(const keras_ctx *c, json_t *v, int rank,
                                   snn_layer *l, snn_error *err)
{
    const char *s = activation_name(v);
    if (!v || json_is_null(v) || (s && strcmp(s, "linear") == 0)) {
        l->act = SNN_ACT_LINEAR;
    } else if (s && strcmp(s, "relu") == 0) {
        l->act = SNN_ACT_RELU;
    } else if (s && strcmp(s, "relu6") == 0) {
        l->act = SNN_ACT_CLIP;
        l->clip_max = 6.0f;
    } else if (s && strcmp(s, "binary_sigmoid") == 0) {
        l->act = SNN_ACT_BINARY_SIGMOID;
    } else if (s && strcmp(s, "binary_tanh") == 0) {
        l->act = SNN_ACT_BINARY_TANH;
    } else if (s && strcmp(s, "softmax") == 0 && rank == 1) {
        l->act = SNN_ACT_SOFTMAX;
    } else if (s && strcmp(s, "softmax") == 0) {
        return layer_error(c, err, SNN_E_UNSUPPORTED,
                           "softmax over an image (per position) is not "
                           "supported");
    } else if (s && is_non_if(s)) {
        return layer_error(c, err, SNN_E_UNSUPPORTED, "activation '%s': %s",
                           s, IF_WHY);
    } else {
        return layer_error(c, err, SNN_E_UNSUPPORTED,
                           "activation '%s' is not supported (relu, relu6, "
                           "softmax, linear, binary_sigmoid and binary_tanh "
                           "are)",
                           s ? s : "<not a string>");
    }
    return SNN_OK;
}

static snn_status parse_padding(const keras_ctx *c, json_t *cfg,
                                snn_window *w, snn_error *err)
{
    const char *p = cfg_str(cfg, "padding", "valid");
    if (p && strcmp(p, "valid") == 0)
        w->pad_mode = SNN_PAD_EXPLICIT;
    else if (p && strcmp(p, "same") == 0)
        w->pad_mode = SNN_PAD_SAME;
    else
        return layer_error(c, err, SNN_E_UNSUPPORTED,
                           "padding '%s' is not supported (valid and same "
                           "are)", p ? p : "<not a string>");
    return SNN_OK;
}

static void free_all(snn_tensor *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        snn_tensor_free(&w[i]);
}

/* A .keras archive's variables group c->vars: datasets 0, 1, ... in the
 * order the layer creates them, and (Keras >= 3.10) the layer's name,
 * which must be this layer's. */
static snn_status read_vars(const keras_ctx *c, snn_tensor *w,
                            size_t expected, snn_error *err)
{
    hid_t grp = H5Gopen2(c->weights, c->vars, H5P_DEFAULT);
    if (grp < 0)
        return snn_error_set(err, SNN_E_FORMAT,
                             "%s: no weights for layer '%s' (expected group "
                             "%s)", c->wpath, c->name, c->vars);
    char *owner = NULL;
    H5G_info_t info;
    memset(&info, 0, sizeof info);
    snn_status st = SNN_OK;
    if (H5Aexists(grp, "name") > 0)
        st = snn_h5_attr_string(grp, "name", c->wpath, &owner, err);
    if (st == SNN_OK && owner && strcmp(owner, c->name) != 0)
        st = snn_error_set(err, SNN_E_FORMAT,
                           "%s: group %s holds the weights of layer '%s', "
                           "not of layer '%s'", c->wpath, c->vars, owner,
                           c->name);
    free(owner);
    if (st == SNN_OK && (H5Gget_info(grp, &info) < 0 ||
                         info.nlinks != expected))
        st = snn_error_set(err, SNN_E_FORMAT,
                           "%s: layer '%s' stores %llu weight arrays in %s, "
                           "expected %zu", c->wpath, c->name,
                           (unsigned long long)info.nlinks, c->vars,
                           expected);
    size_t done = 0;
    for (; st == SNN_OK && done < expected; done++) {
        char key[24];
        snprintf(key, sizeof key, "%zu", done);
        st = snn_h5_read_floats(grp, key, c->wpath, &w[done], err);
    }
    if (st != SNN_OK)
        free_all(w, done);
    H5Gclose(grp);
    return st;
}

/* Whether the weight path name ("inner/dense/kernel", "dense/kernel:0")
 * has a directory called layer. */
static int in_layer(const char *name, const char *layer)
{
    size_t n = strlen(layer);
    for (const char *p = name; (p = strstr(p, layer)); p++)
        if ((p == name || p[-1] == '/') && p[n] == '/')
            return 1;
    return 0;
}

/* Keeps the names of layer's weights, in their order: a nested model's
 * group lists all its layers' weights (trainable ones first, so a layer's
 * own stay in order). */
static void keep_layer_names(snn_h5_strings *names, const char *layer)
{
    size_t kept = 0;
    for (size_t i = 0; i < names->n; i++) {
        if (in_layer(names->s[i], layer))
            names->s[kept++] = names->s[i];
        else
            free(names->s[i]);
    }
    names->n = kept;
}

/* Reads the layer's weight arrays, in the order Keras lists them. */
static snn_status read_weights(const keras_ctx *c, snn_tensor *w,
                               size_t expected, snn_error *err)
{
    const char *group = c->wgroup ? c->wgroup : c->name;
    if (c->vars)
        return read_vars(c, w, expected, err);
    if (!snn_h5_has(c->weights, group))
        return snn_error_set(err, SNN_E_FORMAT,
                             "%s: no weights for layer '%s'", c->wpath,
                             group);
    hid_t grp = H5Gopen2(c->weights, group, H5P_DEFAULT);
    if (grp < 0)
        return snn_error_set(err, SNN_E_FORMAT,
                             "%s: weights of layer '%s' are not a group",
                             c->wpath, group);
    snn_h5_strings names;
    snn_status st = snn_h5_attr_strings(grp, "weight_names", c->wpath, &names,
                                        err);
    if (st == SNN_OK && c->wgroup)
        keep_layer_names(&names, c->name);
    if (st == SNN_OK && names.n != expected)
        st = snn_error_set(err, SNN_E_FORMAT,
                           "%s: layer '%s' stores %zu weight arrays, "
                           "expected %zu", c->wpath, c->name, names.n,
                           expected);
    size_t done = 0;
    for (; st == SNN_OK && done < expected; done++)
        st = snn_h5_read_floats(grp, names.s[done], c->wpath, &w[done], err);
    if (st != SNN_OK)
        while (done > 0)
            snn_tensor_free(&w[--done]);
    snn_h5_strings_free(&names);
    H5Gclose(grp);
    return st;
}

/* (kh, kw, in, out) -> (out, in, kh, kw). */
static snn_status hwio_to_oihw(const snn_tensor *k, snn_tensor *out,
                               snn_error *err)
{
    size_t kh = k->dims[0], kw = k->dims[1], ci = k->dims[2], co = k->dims[3];
    size_t dims[4] = {co, ci, kh, kw};
    snn_status st = snn_tensor_init(out, 4, dims, err);
    if (st != SNN_OK)
        return st;
    for (size_t h = 0; h < kh; h++)
        for (size_t w = 0; w < kw; w++)
            for (size_t i = 0; i < ci; i++)
                for (size_t o = 0; o < co; o++)
                    out->data[((o * ci + i) * kh + h) * kw + w] =
                        k->data[((h * kw + w) * ci + i) * co + o];
    return SNN_OK;
}

/* (kh, kw, in, mult) -> (in * mult, 1, kh, kw): output channel c * mult + m
 * of a depthwise convolution, as TensorFlow orders them. */
static snn_status depthwise_to_oihw(const snn_tensor *k, snn_tensor *out,
                                    snn_error *err)
{
    size_t kh = k->dims[0], kw = k->dims[1], ci = k->dims[2], m = k->dims[3];
    size_t dims[4] = {ci * m, 1, kh, kw};
    snn_status st = snn_tensor_init(out, 4, dims, err);
    for (size_t h = 0; st == SNN_OK && h < kh; h++)
        for (size_t w = 0; w < kw; w++)
            for (size_t i = 0; i < ci * m; i++)
                out->data[(i * kh + h) * kw + w] =
                    k->data[(h * kw + w) * ci * m + i];
    return st;
}

/* (kh, kw, out, in) -> (in, out, kh, kw), the transposed convolution's
 * canonical layout. */
static snn_status hwoi_to_iohw(const snn_tensor *k, snn_tensor *out,
                               snn_error *err)
{
    size_t kh = k->dims[0], kw = k->dims[1], co = k->dims[2], ci = k->dims[3];
    size_t dims[4] = {ci, co, kh, kw};
    snn_status st = snn_tensor_init(out, 4, dims, err);
    for (size_t h = 0; st == SNN_OK && h < kh; h++)
        for (size_t w = 0; w < kw; w++)
            for (size_t o = 0; o < co; o++)
                for (size_t i = 0; i < ci; i++)
                    out->data[((i * co + o) * kh + h) * kw + w] =
                        k->data[((h * kw + w) * co + o) * ci + i];
    return st;
}

/* (in, out) -> (out, in). */
static snn_status transpose2d(const snn_tensor *k, snn_tensor *out,
                              snn_error *err)
{
    size_t rows = k->dims[0], cols = k->dims[1];
    size_t dims[2] = {cols, rows};
    snn_status st = snn_tensor_init(out, 2, dims, err);
    if (st != SNN_OK)
        return st;
    for (size_t r = 0; r < rows; r++)
        for (size_t col = 0; col < cols; col++)
            out->data[col * rows + r] = k->data[r * cols + col];
    return SNN_OK;
}

/* Reads kernel (+ bias), checks the kernel against what the config
 * promises, and stores both in canonical layout. */
static snn_status load_kernel(const keras_ctx *c, snn_layer *l, int use_bias,
                              int ndim, const size_t *expect,
                              snn_status (*relayout)(const snn_tensor *,
                                                     snn_tensor *,
                                                     snn_error *),
                              snn_error *err)
{
    snn_tensor w[2];
    snn_status st = read_weights(c, w, use_bias ? 2 : 1, err);
    if (st != SNN_OK)
        return st;
    int fits = w[0].ndim == ndim;
    for (int i = 0; fits && i < ndim; i++)
        fits = expect[i] == 0 || w[0].dims[i] == expect[i];
    if (!fits) {
        char buf[96];
        st = layer_error(c, err, SNN_E_SHAPE,
                         "kernel %s does not match the layer's configuration",
                         snn_shape_str(w[0].ndim, w[0].dims, buf, sizeof buf));
    } else {
        st = relayout(&w[0], &l->weight, err);
    }
    snn_tensor_free(&w[0]);
    if (st == SNN_OK && use_bias)
        l->bias = w[1];
    else if (use_bias)
        snn_tensor_free(&w[1]);
    return st;
}

/* ---- one converter per layer kind -------------------------------------- */

/* kernel_size, strides, dilation_rate, padding, use_bias and activation,
 * which every convolution has. */
static snn_status conv_window(keras_ctx *c, json_t *cfg, snn_layer *l,
                              int *use_bias, snn_error *err)
{
    snn_status st = cfg_pair(c, cfg, "kernel_size", 0, l->win.kernel, err);
    if (st == SNN_OK)
        st = cfg_pair(c, cfg, "strides", 1, l->win.stride, err);
    if (st == SNN_OK)
        st = cfg_pair(c, cfg, "dilation_rate", 1, l->win.dilation, err);
    if (st == SNN_OK)
        st = parse_padding(c, cfg, &l->win, err);
    if (st == SNN_OK)
        st = cfg_bool(c, cfg, "use_bias", 1, use_bias, err);
    if (st == SNN_OK)
        st = parse_activation(c, json_object_get(cfg, "activation"), 3, l,
                              err);
    c->rank = 3;
    return st;
}

/* A kernel already in canonical layout. */
static snn_status as_stored(const snn_tensor *k, snn_tensor *out,
                            snn_error *err)
{
    return snn_tensor_copy(out, k, err);
}

/* Keras 1 stored a channels_first ('th') kernel as (out, in, kh, kw). */
static snn_status conv2d(keras_ctx *c, json_t *cfg, snn_layer *l,
                         snn_error *err)
{
    int filters, use_bias;
    snn_status st = cfg_int(c, cfg, "filters", -1, &filters, err);
    if (st == SNN_OK)
        st = cfg_int(c, cfg, "groups", 1, &l->groups, err);
    if (st == SNN_OK)
        st = conv_window(c, cfg, l, &use_bias, err);
    if (st != SNN_OK)
        return st;
    size_t kh = (size_t)l->win.kernel[0], kw = (size_t)l->win.kernel[1];
    if (c->version[0] == 1 && c->channels_first) {
        size_t oihw[4] = {(size_t)filters, 0, kh, kw};
        return load_kernel(c, l, use_bias, 4, oihw, as_stored, err);
    }
    size_t expect[4] = {kh, kw, 0, (size_t)filters};
    return load_kernel(c, l, use_bias, 4, expect, hwio_to_oihw, err);
}

/* (k, in, out) -> (out, in, 1, k): a sequence is a (C, 1, steps) image. */
static snn_status wio_to_oihw(const snn_tensor *k, snn_tensor *out,
                              snn_error *err)
{
    size_t kw = k->dims[0], ci = k->dims[1], co = k->dims[2];
    size_t dims[4] = {co, ci, 1, kw};
    snn_status st = snn_tensor_init(out, 4, dims, err);
    for (size_t w = 0; st == SNN_OK && w < kw; w++)
        for (size_t i = 0; i < ci; i++)
            for (size_t o = 0; o < co; o++)
                out->data[(o * ci + i) * kw + w] = k->data[(w * ci + i) * co + o];
    return st;
}

/* Keras 1's (k, 1, in, out): the same values as (k, in, out). */
static snn_status k1io_to_oihw(const snn_tensor *k, snn_tensor *out,
                               snn_error *err)
{
    snn_tensor view = *k;
    view.ndim = 3;
    view.dims[1] = k->dims[2];
    view.dims[2] = k->dims[3];
    return wio_to_oihw(&view, out, err);
}

/* Conv1D as a convolution over a one-row image.  "causal" padding pads
 * only the start of the sequence, by the dilated kernel's reach. */
static snn_status conv1d(keras_ctx *c, json_t *cfg, snn_layer *l,
                         snn_error *err)
{
    int filters, use_bias;
    json_t *padding = json_object_get(cfg, "padding");
    const char *p = json_string_value(padding);
    int causal = p && strcmp(p, "causal") == 0;
    if (c->rank != 2)
        return layer_error(c, err, SNN_E_UNSUPPORTED,
                           "needs a sequence input (steps, channels)");
    snn_status st = cfg_int(c, cfg, "filters", -1, &filters, err);
    if (st == SNN_OK)
        st = cfg_int(c, cfg, "groups", 1, &l->groups, err);
    if (st == SNN_OK)
        st = cfg_single(c, cfg, "kernel_size", 0, &l->win.kernel[1], err);
    if (st == SNN_OK)
        st = cfg_single(c, cfg, "strides", 1, &l->win.stride[1], err);
    if (st == SNN_OK)
        st = cfg_single(c, cfg, "dilation_rate", 1, &l->win.dilation[1], err);
    if (st == SNN_OK && causal)
        l->win.pad[1] = (l->win.kernel[1] - 1) * l->win.dilation[1];
    else if (st == SNN_OK)
        st = parse_padding(c, cfg, &l->win, err);
    if (st == SNN_OK)
        st = cfg_bool(c, cfg, "use_bias", 1, &use_bias, err);
    if (st == SNN_OK)
        st = parse_activation(c, json_object_get(cfg, "activation"), 2, l,
                              err);
    if (st != SNN_OK)
        return st;
    size_t k = (size_t)l->win.kernel[1];
    if (c->version[0] == 1) {
        size_t k1io[4] = {k, 1, 0, (size_t)filters};
        return load_kernel(c, l, use_bias, 4, k1io, k1io_to_oihw, err);
    }
    size_t expect[3] = {k, 0, (size_t)filters};
    return load_kernel(c, l, use_bias, 3, expect, wio_to_oihw, err);
}

/* A grouped convolution with one group per input channel. */
static snn_status depthwise2d(keras_ctx *c, json_t *cfg, snn_layer *l,
                              snn_error *err)
{
    int mult, use_bias;
    snn_status st = cfg_int(c, cfg, "depth_multiplier", 1, &mult, err);
    if (st == SNN_OK)
        st = conv_window(c, cfg, l, &use_bias, err);
    if (st != SNN_OK)
        return st;
    if (c->in->ndim != 3 || c->in->dims[0] > INT_MAX)
        return layer_error(c, err, SNN_E_UNSUPPORTED, "needs an image input");
    l->groups = (int)c->in->dims[0];
    size_t expect[4] = {(size_t)l->win.kernel[0], (size_t)l->win.kernel[1],
                        c->in->dims[0], (size_t)mult};
    return load_kernel(c, l, use_bias, 4, expect, depthwise_to_oihw, err);
}

/* Weights depthwise kernel, pointwise kernel (1, 1, in*mult, filters),
 * bias: a depthwise layer (no bias, linear) then a 1x1 convolution. */
static snn_status separable2d(keras_ctx *c, json_t *cfg, snn_layer *l,
                              snn_error *err)
{
    int filters, mult, use_bias;
    snn_layer *pw = l + 1;
    snn_status st = cfg_int(c, cfg, "filters", -1, &filters, err);
    if (st == SNN_OK)
        st = cfg_int(c, cfg, "depth_multiplier", 1, &mult, err);
    if (st == SNN_OK)
        st = conv_window(c, cfg, l, &use_bias, err);
    if (st != SNN_OK)
        return st;
    snn_layer_defaults(pw, SNN_OP_CONV2D, c->name, c->cls);
    snprintf(l->name, sizeof l->name, "%.100s_depthwise", c->name);
    pw->act = l->act;
    pw->clip_max = l->clip_max;
    l->act = SNN_ACT_LINEAR;
    c->extra = 1;
    snn_tensor w[3];
    st = read_weights(c, w, use_bias ? 3 : 2, err);
    if (st != SNN_OK)
        return st;
    size_t cin = c->in->ndim == 3 ? c->in->dims[0] : 0;
    int fits = w[0].ndim == 4 && w[0].dims[0] == (size_t)l->win.kernel[0] &&
               w[0].dims[1] == (size_t)l->win.kernel[1] &&
               w[0].dims[2] == cin && w[0].dims[3] == (size_t)mult &&
               w[1].ndim == 4 && w[1].dims[0] == 1 && w[1].dims[1] == 1 &&
               w[1].dims[2] == cin * (size_t)mult &&
               w[1].dims[3] == (size_t)filters && cin <= INT_MAX;
    if (!fits)
        st = layer_error(c, err, SNN_E_SHAPE,
                         "depthwise and pointwise kernels do not match the "
                         "layer's configuration");
    if (st == SNN_OK)
        st = depthwise_to_oihw(&w[0], &l->weight, err);
    if (st == SNN_OK)
        st = hwio_to_oihw(&w[1], &pw->weight, err);
    l->groups = (int)cin;
    if (use_bias && st == SNN_OK)
        pw->bias = w[2];
    else if (use_bias)
        snn_tensor_free(&w[2]);
    free_all(w, 2);
    return st;
}

static snn_status conv2d_transpose(keras_ctx *c, json_t *cfg, snn_layer *l,
                                   snn_error *err)
{
    int filters, use_bias;
    json_t *op = json_object_get(cfg, "output_padding");
    snn_status st = cfg_int(c, cfg, "filters", -1, &filters, err);
    if (st == SNN_OK)
        st = conv_window(c, cfg, l, &use_bias, err);
    if (st != SNN_OK)
        return st;
    if (op && !json_is_null(op))
        return layer_error(c, err, SNN_E_UNSUPPORTED,
                           "output_padding is not supported");
    size_t expect[4] = {(size_t)l->win.kernel[0], (size_t)l->win.kernel[1],
                        (size_t)filters, 0};
    return load_kernel(c, l, use_bias, 4, expect, hwoi_to_iohw, err);
}

static snn_status dense(keras_ctx *c, json_t *cfg, snn_layer *l,
                        snn_error *err)
{
    int units, use_bias;
    if (c->rank != 1)
        return layer_error(c, err, SNN_E_UNSUPPORTED,
                           "a Dense layer on an image (applied per position) "
                           "is not supported; add a Flatten before it");
    snn_status st = cfg_int(c, cfg, "units", -1, &units, err);
    if (st == SNN_OK)
        st = cfg_bool(c, cfg, "use_bias", 1, &use_bias, err);
    if (st == SNN_OK)
        st = parse_activation(c, json_object_get(cfg, "activation"), 1, l,
                              err);
    if (st != SNN_OK)
        return st;
    size_t expect[2] = {0, (size_t)units};
    return load_kernel(c, l, use_bias, 2, expect, transpose2d, err);
}

static snn_status pool2d(keras_ctx *c, json_t *cfg, snn_layer *l,
                         snn_error *err)
{
    json_t *strides = json_object_get(cfg, "strides");
    snn_status st = cfg_pair(c, cfg, "pool_size", 2, l->win.kernel, err);
    /* strides: null means "same as pool_size". */
    memcpy(l->win.stride, l->win.kernel, sizeof l->win.stride);
    if (st == SNN_OK && strides && !json_is_null(strides))
        st = cfg_pair(c, cfg, "strides", 0, l->win.stride, err);
    if (st == SNN_OK)
        st = parse_padding(c, cfg, &l->win, err);
    return st;
}

static snn_status pool1d(keras_ctx *c, json_t *cfg, snn_layer *l,
                         snn_error *err)
{
    json_t *strides = json_object_get(cfg, "strides");
    if (c->rank != 2)
        return layer_error(c, err, SNN_E_UNSUPPORTED,
                           "needs a sequence input (steps, channels)");
    snn_status st = cfg_single(c, cfg, "pool_size", 2, &l->win.kernel[1],
                               err);
    l->win.stride[1] = l->win.kernel[1];
    if (st == SNN_OK && strides && !json_is_null(strides))
        st = cfg_single(c, cfg, "strides", 0, &l->win.stride[1], err);
    if (st == SNN_OK)
        st = parse_padding(c, cfg, &l->win, err);
    return st;
}

/* Keras >= 2.2.3 flattens channels_first data in channels_last order (the
 * layer's data_format says so); older Keras had no data_format here and
 * flattened the tensor as stored.  channels_last data is always (H, W, C)
 * in memory.  An unknown version is taken as a modern one. */
static snn_status flatten(keras_ctx *c, json_t *cfg, snn_layer *l,
                          snn_error *err)
{
    const char *df = cfg_str(cfg, "data_format", NULL);
    if (df && strcmp(df, "channels_first") == 0 && !c->channels_first &&
        c->rank == 3)
        return layer_error(c, err, SNN_E_UNSUPPORTED,
                           "flattening as channels_first in a channels_last "
                           "model is not supported");
    int modern = (c->version[0] == 0 && c->version[1] == 0 &&
                  c->version[2] == 0) ||
                 c->version[0] > 2 ||
                 (c->version[0] == 2 &&
                  (c->version[1] > 2 ||
                   (c->version[1] == 2 && c->version[2] >= 3)));
    int permutes = df && strcmp(df, "channels_first") == 0 && modern;
    l->flatten_hwc = c->rank >= 2 && (!c->channels_first || permutes);
    c->rank = 1;
    return SNN_OK;
}

static snn_status activation(keras_ctx *c, json_t *cfg, snn_layer *l,
                             snn_error *err)
{
    return parse_activation(c, json_object_get(cfg, "activation"), c->rank,
                            l, err);
}

static int is_zero(json_t *v)
{
    return !v || json_is_null(v) || (json_is_number(v) &&
                                     json_number_value(v) == 0.0);
}

/* ReLU, or with max_value a clipped ReLU (ReLU6).  A negative slope is a
 * leaky ReLU, which IF neurons cannot represent. */
static snn_status relu(keras_ctx *c, json_t *cfg, snn_layer *l,
                       snn_error *err)
{
    json_t *max_value = json_object_get(cfg, "max_value");
    if (!is_zero(json_object_get(cfg, "negative_slope")))
        return layer_error(c, err, SNN_E_UNSUPPORTED,
                           "a negative_slope makes a leaky ReLU: %s", IF_WHY);
    if (!is_zero(json_object_get(cfg, "threshold")))
        return layer_error(c, err, SNN_E_UNSUPPORTED,
                           "a ReLU with a threshold is not supported");
    l->act = SNN_ACT_RELU;
    if (!max_value || json_is_null(max_value))
        return SNN_OK;
    if (!json_is_number(max_value) || !(json_number_value(max_value) > 0) ||
        json_number_value(max_value) > 1e30)
        return bad_config(c, "max_value", "a positive number or null", err);
    l->act = SNN_ACT_CLIP;
    l->clip_max = (float)json_number_value(max_value);
    return SNN_OK;
}

/* Layers that are activations IF neurons cannot represent. */
static snn_status non_if(keras_ctx *c, json_t *cfg, snn_layer *l,
                         snn_error *err)
{
    (void)cfg;
    (void)l;
    return layer_error(c, err, SNN_E_UNSUPPORTED, "%s", IF_WHY);
}

static snn_status softmax(keras_ctx *c, json_t *cfg, snn_layer *l,
                          snn_error *err)
{
    json_t *axis = json_object_get(cfg, "axis");
    if (c->rank != 1 || (axis && !json_is_null(axis) &&
                         json_integer_value(axis) != -1 &&
                         json_integer_value(axis) != 1))
        return layer_error(c, err, SNN_E_UNSUPPORTED,
                           "softmax over anything but a flat vector is not "
                           "supported");
    l->act = SNN_ACT_SOFTMAX;
    return SNN_OK;
}

/* Whether axis (an int, or a one-element list as tf.keras writes) is the
 * channel axis of the current tensor. */
static int is_channel_axis(const keras_ctx *c, json_t *v)
{
    if (json_is_array(v) && json_array_size(v) == 1)
        v = json_array_get(v, 0);
    if (!v)
        return !c->channels_first || c->rank == 1;
    if (!json_is_integer(v))
        return 0;
    json_int_t a = json_integer_value(v);
    if (c->rank == 1)
        return a == 1 || a == -1;
    return c->channels_first ? a == 1 || a == -1 - c->rank
                             : a == c->rank || a == -1;
}

/* Add and Concatenate: graph shape inference checks the inputs agree. */
static snn_status merge(keras_ctx *c, json_t *cfg, snn_layer *l,
                        snn_error *err)
{
    if (c->n_inputs < 2)
        return layer_error(c, err, SNN_E_FORMAT, "needs at least two inputs");
    json_t *axis = json_object_get(cfg, "axis");
    if (l->op == SNN_OP_CONCAT && !is_channel_axis(c, axis))
        return layer_error(c, err, SNN_E_UNSUPPORTED,
                           "concatenating along any axis but the channels "
                           "is not supported");
    return SNN_OK;
}

/* ZeroPadding2D's padding, Cropping2D's cropping: n, (h, w) or
 * ((top, bottom), (left, right)), into top, left, bottom, right. */
static snn_status cfg_edges(const keras_ctx *c, json_t *cfg, const char *key,
                            int pad[4], snn_error *err)
{
    json_t *v = json_object_get(cfg, key);
    int e[4] = {1, 1, 1, 1};
    int ok = int_in(v, 0, DIM_MAX, &e[0]);
    if (ok) {
        e[1] = e[2] = e[3] = e[0];
    } else if (json_array_size(v) == 2) {
        ok = 1;
        for (size_t a = 0; a < 2 && ok; a++) {
            json_t *x = json_array_get(v, a);
            ok = json_is_array(x)
                     ? json_array_size(x) == 2 &&
                           int_in(json_array_get(x, 0), 0, DIM_MAX, &e[a]) &&
                           int_in(json_array_get(x, 1), 0, DIM_MAX, &e[a + 2])
                     : int_in(x, 0, DIM_MAX, &e[a]);
            if (ok && !json_is_array(x))
                e[a + 2] = e[a];
        }
    }
    if (!ok)
        return bad_config(c, key, "n, (h, w) or ((top, bottom), (left, "
                                  "right)) of non-negative integers", err);
    memcpy(pad, e, sizeof e);
    return SNN_OK;
}

static snn_status zero_padding2d(keras_ctx *c, json_t *cfg, snn_layer *l,
                                 snn_error *err)
{
    return cfg_edges(c, cfg, "padding", l->win.pad, err);
}

static snn_status cropping2d(keras_ctx *c, json_t *cfg, snn_layer *l,
                             snn_error *err)
{
    return cfg_edges(c, cfg, "cropping", l->win.pad, err);
}

static snn_status upsampling2d(keras_ctx *c, json_t *cfg, snn_layer *l,
                               snn_error *err)
{
    const char *mode = cfg_str(cfg, "interpolation", "nearest");
    if (!mode || strcmp(mode, "nearest") != 0)
        return layer_error(c, err, SNN_E_UNSUPPORTED,
                           "interpolation '%s' is not supported (nearest is)",
                           mode ? mode : "<not a string>");
    return cfg_pair(c, cfg, "size", 2, l->win.stride, err);
}

/* ZeroPadding1D's padding, Cropping1D's cropping: n or (start, end), onto
 * the left and right edges of the (C, 1, steps) image. */
static snn_status cfg_ends(const keras_ctx *c, json_t *cfg, const char *key,
                           int pad[4], snn_error *err)
{
    json_t *v = json_object_get(cfg, key);
    int ok = c->rank == 2;
    if (!ok)
        return layer_error(c, err, SNN_E_UNSUPPORTED,
                           "needs a sequence input (steps, channels)");
    if (int_in(v, 0, DIM_MAX, &pad[1]))
        pad[3] = pad[1];
    else
        ok = json_array_size(v) == 2 &&
             int_in(json_array_get(v, 0), 0, DIM_MAX, &pad[1]) &&
             int_in(json_array_get(v, 1), 0, DIM_MAX, &pad[3]);
    if (!ok)
        return bad_config(c, key, "n or (start, end) of non-negative "
                                  "integers", err);
    pad[0] = pad[2] = 0;
    return SNN_OK;
}

static snn_status zero_padding1d(keras_ctx *c, json_t *cfg, snn_layer *l,
                                 snn_error *err)
{
    return cfg_ends(c, cfg, "padding", l->win.pad, err);
}

static snn_status cropping1d(keras_ctx *c, json_t *cfg, snn_layer *l,
                             snn_error *err)
{
    return cfg_ends(c, cfg, "cropping", l->win.pad, err);
}

/* Repeats each step `size` times (Keras 1 called it `length`). */
static snn_status upsampling1d(keras_ctx *c, json_t *cfg, snn_layer *l,
                               snn_error *err)
{
    if (c->rank != 2)
        return layer_error(c, err, SNN_E_UNSUPPORTED,
                           "needs a sequence input (steps, channels)");
    const char *key = json_object_get(cfg, "size") ? "size" : "length";
    return cfg_int(c, cfg, key, 2, &l->win.stride[1], err);
}

/* target_shape excludes the batch; one entry may be -1 (inferred).  An
 * image target is (H, W, C) or (C, H, W) by the model's layout. */
static snn_status reshape(keras_ctx *c, json_t *cfg, snn_layer *l,
                          snn_error *err)
{
    json_t *t = json_object_get(cfg, "target_shape");
    size_t n = json_array_size(t), known = 1, numel = snn_shape_numel(c->in);
    int d[3] = {0, 0, 0}, free_at = -1;
    if (n != 1 && n != 3)
        return layer_error(c, err, SNN_E_UNSUPPORTED,
                           "only targets of rank 1 or 3 are supported");
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(t, i);
        if (json_is_integer(v) && json_integer_value(v) == -1 && free_at < 0)
            free_at = (int)i;
        else if (!int_in(v, 1, DIM_MAX, &d[i]))
            return bad_config(c, "target_shape", "positive sizes (one may "
                                                 "be -1)", err);
        else
            known *= (size_t)d[i];
    }
    if (free_at >= 0 && known && numel % known == 0 && numel / known <= DIM_MAX)
        d[free_at] = (int)(numel / known);
    int hwc = n == 3 && !c->channels_first;
    l->target.ndim = (int)n;
    for (size_t i = 0; i < n; i++)
        l->target.dims[i] = (size_t)d[hwc ? (i + 2) % 3 : i];
    l->flatten_hwc = !c->channels_first;
    c->rank = (int)n;
    return SNN_OK;
}

/* Pooling over the whole image, then (unless keepdims) a flatten: Keras
 * gives a vector of channels. */
static snn_status global_pool2d(keras_ctx *c, json_t *cfg, snn_layer *l,
                                snn_error *err)
{
    int keep;
    snn_status st = cfg_bool(c, cfg, "keepdims", 0, &keep, err);
    if (st != SNN_OK)
        return st;
    if (c->in->ndim != 3 || c->in->dims[1] > DIM_MAX ||
        c->in->dims[2] > DIM_MAX)
        return layer_error(c, err, SNN_E_UNSUPPORTED, "needs an image input");
    l->win.kernel[0] = (int)c->in->dims[1];
    l->win.kernel[1] = (int)c->in->dims[2];
    if (keep)
        return SNN_OK;
    snn_layer *f = l + 1;
    snn_layer_defaults(f, SNN_OP_FLATTEN, c->name, c->cls);
    snprintf(l->name, sizeof l->name, "%.100s_pool", c->name);
    c->extra = 1;
    c->rank = 1;
    return SNN_OK;
}

static snn_status ones_or_zeros(snn_tensor *t, size_t n, float value,
                                snn_error *err)
{
    snn_status st = snn_tensor_init(t, 1, &n, err);
    for (size_t i = 0; st == SNN_OK && i < n; i++)
        t->data[i] = value;
    return st;
}

/* Weights in Keras' order: gamma (if scale), beta (if center), moving mean,
 * moving variance.  A missing gamma or beta is stored as 1 or 0, so later
 * stages need no special case. */
static snn_status batchnorm(keras_ctx *c, json_t *cfg, snn_layer *l,
                            snn_error *err)
{
    int center, scale;
    json_t *eps = json_object_get(cfg, "epsilon");
    if (!is_channel_axis(c, json_object_get(cfg, "axis")))
        return layer_error(c, err, SNN_E_UNSUPPORTED,
                           "normalizing any axis but the channels is not "
                           "supported");
    if (eps && !(json_is_number(eps) && json_number_value(eps) >= 0))
        return bad_config(c, "epsilon", "a non-negative number", err);
    l->eps = eps ? (float)json_number_value(eps) : 1e-3f;
    snn_status st = cfg_bool(c, cfg, "center", 1, &center, err);
    if (st == SNN_OK)
        st = cfg_bool(c, cfg, "scale", 1, &scale, err);
    snn_tensor w[4];
    size_t n = (size_t)(center + scale + 2), k = 0;
    if (st == SNN_OK)
        st = read_weights(c, w, n, err);
    if (st != SNN_OK)
        return st;
    if (w[n - 2].ndim != 1) {
        free_all(w, n);
        return layer_error(c, err, SNN_E_SHAPE, "moving mean is not a vector");
    }
    size_t channels = w[n - 2].dims[0];
    if (scale)
        l->gamma = w[k++];
    else
        st = ones_or_zeros(&l->gamma, channels, 1.0f, err);
    if (center)
        l->beta = w[k++];
    else if (st == SNN_OK)
        st = ones_or_zeros(&l->beta, channels, 0.0f, err);
    l->mean = w[k++];
    l->var = w[k];
    return st;
}

/* ---- dispatch ----------------------------------------------------------- */

/* A NULL converter marks a layer that is the identity at inference. */
static const struct {
    const char *cls;
    snn_op op;
    convert_fn fn;
} CONVERTERS[] = {
    {"Conv2D", SNN_OP_CONV2D, conv2d},
    {"Convolution2D", SNN_OP_CONV2D, conv2d},
    {"AtrousConvolution2D", SNN_OP_CONV2D, conv2d},
    {"Conv1D", SNN_OP_CONV2D, conv1d},
    {"Convolution1D", SNN_OP_CONV2D, conv1d},
    {"MaxPooling1D", SNN_OP_MAXPOOL2D, pool1d},
    {"MaxPool1D", SNN_OP_MAXPOOL2D, pool1d},
    {"AveragePooling1D", SNN_OP_AVGPOOL2D, pool1d},
    {"AvgPool1D", SNN_OP_AVGPOOL2D, pool1d},
    {"GlobalAveragePooling1D", SNN_OP_AVGPOOL2D, global_pool2d},
    {"GlobalAvgPool1D", SNN_OP_AVGPOOL2D, global_pool2d},
    {"GlobalMaxPooling1D", SNN_OP_MAXPOOL2D, global_pool2d},
    {"GlobalMaxPool1D", SNN_OP_MAXPOOL2D, global_pool2d},
    {"Dense", SNN_OP_DENSE, dense},
    {"MaxPooling2D", SNN_OP_MAXPOOL2D, pool2d},
    {"MaxPool2D", SNN_OP_MAXPOOL2D, pool2d},
    {"AveragePooling2D", SNN_OP_AVGPOOL2D, pool2d},
    {"AvgPool2D", SNN_OP_AVGPOOL2D, pool2d},
    {"Flatten", SNN_OP_FLATTEN, flatten},
    {"Activation", SNN_OP_ACTIVATION, activation},
    {"ReLU", SNN_OP_ACTIVATION, relu},
    {"Softmax", SNN_OP_ACTIVATION, softmax},
    {"BatchNormalization", SNN_OP_BATCHNORM, batchnorm},
    {"DepthwiseConv2D", SNN_OP_CONV2D, depthwise2d},
    {"SeparableConv2D", SNN_OP_CONV2D, separable2d},
    {"SeparableConvolution2D", SNN_OP_CONV2D, separable2d},
    {"Conv2DTranspose", SNN_OP_CONV2D_T, conv2d_transpose},
    {"Add", SNN_OP_ADD, merge},
    {"Concatenate", SNN_OP_CONCAT, merge},
    {"ZeroPadding2D", SNN_OP_PAD, zero_padding2d},
    {"Cropping2D", SNN_OP_CROP, cropping2d},
    {"UpSampling2D", SNN_OP_UPSAMPLE, upsampling2d},
    {"ZeroPadding1D", SNN_OP_PAD, zero_padding1d},
    {"Cropping1D", SNN_OP_CROP, cropping1d},
    {"UpSampling1D", SNN_OP_UPSAMPLE, upsampling1d},
    {"Reshape", SNN_OP_RESHAPE, reshape},
    {"GlobalAveragePooling2D", SNN_OP_AVGPOOL2D, global_pool2d},
    {"GlobalAvgPool2D", SNN_OP_AVGPOOL2D, global_pool2d},
    {"GlobalMaxPooling2D", SNN_OP_MAXPOOL2D, global_pool2d},
    {"GlobalMaxPool2D", SNN_OP_MAXPOOL2D, global_pool2d},
    {"LeakyReLU", SNN_OP_ACTIVATION, non_if},
    {"PReLU", SNN_OP_ACTIVATION, non_if},
    {"ELU", SNN_OP_ACTIVATION, non_if},
    {"ThresholdedReLU", SNN_OP_ACTIVATION, non_if},
    {"Dropout", SNN_OP_INPUT, NULL},
    {"SpatialDropout2D", SNN_OP_INPUT, NULL},
    {"GaussianDropout", SNN_OP_INPUT, NULL},
    {"GaussianNoise", SNN_OP_INPUT, NULL},
    {"AlphaDropout", SNN_OP_INPUT, NULL},
};

void snn_keras_layer_release(snn_layer *l)
{
    snn_tensor *ts[] = {&l->weight, &l->bias, &l->gamma,
                        &l->beta,   &l->mean, &l->var};
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++)
        snn_tensor_free(ts[i]);
}

static int is_merge(snn_op op)
{
    return op == SNN_OP_ADD || op == SNN_OP_CONCAT;
}

snn_status snn_keras_layer(keras_ctx *c, json_t *cfg,
                           snn_layer ls[KERAS_MAX_LAYERS], int *n,
                           snn_error *err)
{
    *n = 0;
    c->extra = 0;
    memset(ls, 0, KERAS_MAX_LAYERS * sizeof *ls);
    if (!json_is_object(cfg))
        return snn_error_set(err, SNN_E_FORMAT,
                             "%s: layer '%s' has no config object", c->path,
                             c->name);
    for (size_t i = 0; i < sizeof CONVERTERS / sizeof CONVERTERS[0]; i++) {
        if (strcmp(CONVERTERS[i].cls, c->cls) != 0)
            continue;
        if (c->n_inputs > 1 && !is_merge(CONVERTERS[i].op))
            return layer_error(c, err, SNN_E_UNSUPPORTED,
                               "takes %d inputs; only Add and Concatenate "
                               "take several", c->n_inputs);
        if (!CONVERTERS[i].fn)
            return SNN_OK;
        snn_layer_defaults(&ls[0], CONVERTERS[i].op, c->name, c->cls);
        snn_status st = CONVERTERS[i].fn(c, cfg, ls, err);
        for (int k = 0; st != SNN_OK && k <= c->extra; k++)
            snn_keras_layer_release(&ls[k]);
        *n = st == SNN_OK ? 1 + c->extra : 0;
        return st;
    }
    return snn_error_set(err, SNN_E_UNSUPPORTED,
                         "%s: layer '%s' of type '%s' is not supported",
                         c->path, c->name, c->cls);
}

/* Keras writes the batch dimension first (null); an image comes as
 * (H, W, C) or (C, H, W) by data format, a plain (H, W) image as from
 * Input((28, 28)) has one channel.  In a model with 1-D layers a rank-2
 * input is a sequence, held as a (C, 1, steps) image. */
snn_status snn_keras_input(keras_ctx *c, json_t *cfg, const char *name,
                           snn_layer *l, snn_error *err)
{
    json_t *shape = json_object_get(cfg, "batch_shape");
    if (!shape)
        shape = json_object_get(cfg, "batch_input_shape");
    size_t n = json_array_size(shape);
    int d[3] = {1, 1, 1};
    for (size_t i = 1; i < n && i <= 3; i++)
        if (!int_in(json_array_get(shape, i), 1, DIM_MAX, &d[i - 1]))
            n = 0;
    if (n < 2 || n > 4)
        return snn_error_set(err, SNN_E_FORMAT,
                             "%s: layer '%s' has no usable input shape "
                             "(batch_shape or batch_input_shape with known "
                             "sizes)", c->path, name);
    if (n == 3 && c->channels_first && !c->sequence)
        return snn_error_set(err, SNN_E_UNSUPPORTED,
                             "%s: layer '%s': a channels_first input without "
                             "a channel axis is not supported", c->path, name);
    snn_layer_defaults(l, SNN_OP_INPUT, name, "InputLayer");
    c->rank = n == 2 ? 1 : n == 3 && c->sequence ? 2 : 3;
    l->shape.ndim = c->rank == 1 ? 1 : 3;
    if (n == 2) {
        l->shape.dims[0] = (size_t)d[0];
    } else if (c->rank == 2) {
        /* (steps, channels), or (channels, steps) when channels_first */
        l->shape.dims[0] = (size_t)d[c->channels_first ? 0 : 1];
        l->shape.dims[1] = 1;
        l->shape.dims[2] = (size_t)d[c->channels_first ? 1 : 0];
    } else if (n == 3 || !c->channels_first) {
        l->shape.dims[0] = (size_t)(n == 3 ? 1 : d[2]);
        l->shape.dims[1] = (size_t)d[0];
        l->shape.dims[2] = (size_t)d[1];
    } else {
        for (int i = 0; i < 3; i++)
            l->shape.dims[i] = (size_t)d[i];
    }
    return SNN_OK;
}
