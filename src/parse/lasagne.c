/*
 * lasagne.c - turns the layers a Lasagne script declares
 * (lasagne_script.c) and the parameters of its .h5 into a graph.
 *
 * The .h5 holds one root dataset per parameter; the original toolbox reads
 * them in sorted name order (param_00, param_01, ...) and hands them to
 * set_all_param_values, which assigns them layer by layer in creation
 * order (Lasagne's get_all_layers order, which the script reader checks
 * is the creation order): Conv2DLayer and DenseLayer take W then b (none
 * when b=None),
 * BatchNormLayer beta, gamma, mean, inv_std (beta or gamma absent when
 * None).  Each is checked against the shape the script implies.
 *
 * HDF5 prints its own error stack by default; the whole read runs inside
 * H5E_BEGIN_TRY/H5E_END_TRY so that our messages replace it.
 */
#include "lasagne.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ann/ops.h"
#include "h5util.h"
#include "lasagne_script.h"

#define MAX_PARAMS 100000
#define PARAM_NAME_MAX 256

typedef struct builder {
    const char *script, *params;
    hid_t file;
    char **names; /* parameter datasets, sorted */
    size_t n_names, next;
    const lsg_net *net;
    int *graph_of; /* per script layer: the graph layer of its output */
    snn_graph *g;
    snn_error *err;
} builder;

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static herr_t collect(hid_t group, const char *name, const H5L_info_t *info,
                      void *data)
{
    (void)group;
    (void)info;
    builder *b = data;
    if (b->n_names == MAX_PARAMS || strlen(name) >= PARAM_NAME_MAX)
        return -1;
    if (!(b->names[b->n_names] = strdup(name)))
        return -1;
    b->n_names++;
    return 0;
}

static snn_status list_params(builder *b)
{
    H5G_info_t info;
    if (H5Gget_info(b->file, &info) < 0)
        return snn_error_set(b->err, SNN_E_FORMAT, "%s: unreadable root group",
                             b->params);
    if (info.nlinks > MAX_PARAMS)
        return snn_error_set(b->err, SNN_E_FORMAT,
                             "%s: %llu entries: more than %d parameters",
                             b->params, (unsigned long long)info.nlinks,
                             MAX_PARAMS);
    b->names = calloc(info.nlinks + 1, sizeof *b->names);
    if (!b->names)
        return snn_error_set(b->err, SNN_E_NOMEM, "%s: out of memory",
                             b->params);
    if (H5Literate(b->file, H5_INDEX_NAME, H5_ITER_INC, NULL, collect, b) < 0)
        return snn_error_set(b->err, SNN_E_FORMAT,
                             "%s: cannot list the parameter datasets (names "
                             "of %d characters or more?)",
                             b->params, PARAM_NAME_MAX);
    qsort(b->names, b->n_names, sizeof *b->names, cmp_names);
    return SNN_OK;
}

/* ---- parameters ------------------------------------------------------- */

static snn_status layer_error(builder *b, const lsg_layer *l, snn_status st,
                              const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static snn_status layer_error(builder *b, const lsg_layer *l, snn_status st,
                              const char *fmt, ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return snn_error_set(b->err, st, "%s: layer '%s' (%s, %s line %d): %s",
                         b->params, l->name, l->type, b->script, l->line,
                         what);
}

/* The next parameter, which must have the shape `want` (0 = any size). */
static snn_status next_param(builder *b, const lsg_layer *l, const char *what,
                             int ndim, const size_t *want, snn_tensor *t)
{
    if (b->next == b->n_names)
        return layer_error(b, l, SNN_E_SHAPE,
                           "needs its %s, but the file holds only %zu "
                           "parameters", what, b->n_names);
    const char *name = b->names[b->next++];
    snn_status st = snn_h5_read_floats(b->file, name, b->params, t, b->err);
    if (st != SNN_OK)
        return st;
    int ok = t->ndim == ndim;
    for (int i = 0; ok && i < ndim; i++)
        ok = !want[i] || t->dims[i] == want[i];
    if (ok)
        return SNN_OK;
    char got[64];
    snn_shape_str(t->ndim, t->dims, got, sizeof got);
    snn_tensor_free(t);
    return layer_error(b, l, SNN_E_SHAPE, "its %s '%s' has shape %s, which "
                       "does not fit", what, name, got);
}

/* Lasagne convolves (flip_filters=True): the graph cross-correlates, so
 * each kernel is turned by 180 degrees. */
static void flip_kernels(snn_tensor *w)
{
    size_t kh = w->dims[2], kw = w->dims[3], area = kh * kw;
    size_t planes = w->dims[0] * w->dims[1];
    for (size_t p = 0; p < planes; p++) {
        float *k = w->data + p * area;
        for (size_t i = 0; i < area / 2; i++) {
            float t = k[i];
            k[i] = k[area - 1 - i];
            k[area - 1 - i] = t;
        }
    }
}

/* Lasagne's DenseLayer stores W as (in, out); the graph wants (out, in). */
static snn_status transpose(builder *b, snn_tensor *w)
{
    size_t dims[2] = {w->dims[1], w->dims[0]};
    snn_tensor t;
    snn_status st = snn_tensor_init(&t, 2, dims, b->err);
    if (st != SNN_OK)
        return st;
    for (size_t i = 0; i < dims[1]; i++)
        for (size_t o = 0; o < dims[0]; o++)
            t.data[o * dims[1] + i] = w->data[i * dims[0] + o];
    snn_tensor_free(w);
    *w = t;
    return SNN_OK;
}

/* Lasagne keeps inv_std = 1 / sqrt(var + eps); with eps 0 the graph's
 * gamma / sqrt(var + eps) gives back inv_std to float rounding. */
static snn_status inv_std_to_var(builder *b, const lsg_layer *l,
                                 snn_tensor *t)
{
    for (size_t i = 0; i < snn_tensor_numel(t); i++) {
        double inv = t->data[i];
        if (!(inv > 0.0) || !isfinite(inv) || !isfinite(1.0 / (inv * inv)))
            return layer_error(b, l, SNN_E_FORMAT,
                               "inv_std[%zu] = %g: must be positive and "
                               "finite", i, inv);
        t->data[i] = (float)(1.0 / (inv * inv));
    }
    return SNN_OK;
}

/* ---- layers ----------------------------------------------------------- */

static void free_layer_tensors(snn_layer *l)
{
    snn_tensor *ts[] = {&l->weight, &l->bias, &l->gamma,
                        &l->beta,   &l->mean, &l->var};
    for (size_t i = 0; i < sizeof ts / sizeof *ts; i++)
        snn_tensor_free(ts[i]);
}

/* Adds l (owning its tensors either way) and infers shapes, so that the
 * next layer can be checked against this one's output. */
static snn_status add(builder *b, const lsg_layer *src, snn_layer *l)
{
    int idx;
    snn_status st = snn_graph_add(b->g, l, &idx, b->err);
    if (st != SNN_OK) {
        free_layer_tensors(l);
        return st;
    }
    st = snn_graph_infer_shapes(b->g, b->err);
    if (st != SNN_OK)
        return snn_error_prefix(b->err, "%s:%d: ", b->script, src->line);
    b->graph_of[src - b->net->layers] = idx;
    return SNN_OK;
}

static const snn_shape *input_shape(const builder *b, const lsg_layer *l)
{
    return &b->g->layers[b->graph_of[l->input]].shape;
}

static snn_status conv(builder *b, const lsg_layer *src, snn_layer *l)
{
    const snn_shape *in = input_shape(b, src);
    size_t w_dims[4] = {(size_t)src->units, in->ndim == 3 ? in->dims[0] : 0,
                        (size_t)src->kernel[0], (size_t)src->kernel[1]};
    size_t b_dims[1] = {(size_t)src->units};
    if (in->ndim != 3)
        return layer_error(b, src, SNN_E_SHAPE, "needs a (channels, height, "
                           "width) input");
    snn_status st = next_param(b, src, "W", 4, w_dims, &l->weight);
    if (st == SNN_OK && src->has_bias)
        st = next_param(b, src, "b", 1, b_dims, &l->bias);
    if (st != SNN_OK)
        return st;
    if (src->flip)
        flip_kernels(&l->weight);
    for (int a = 0; a < 2; a++) {
        l->win.stride[a] = src->stride[a];
        l->win.pad[a] = l->win.pad[a + 2] = src->pad[a];
    }
    return SNN_OK;
}

/* DenseLayer flattens its input in (C, H, W) order itself; the graph
 * needs that as a layer of its own. */
static snn_status flatten_for(builder *b, const lsg_layer *src, int *in)
{
    snn_layer f;
    char name[SNN_NAME_MAX];
    snprintf(name, sizeof name, "%.*s_flatten", SNN_NAME_MAX - 16, src->name);
    snn_layer_defaults(&f, SNN_OP_FLATTEN, name, "FlattenLayer");
    f.inputs[0] = *in;
    f.n_inputs = 1;
    snn_status st = snn_graph_add(b->g, &f, in, b->err);
    if (st == SNN_OK)
        st = snn_graph_infer_shapes(b->g, b->err);
    return st;
}

static snn_status dense(builder *b, const lsg_layer *src, snn_layer *l)
{
    if (input_shape(b, src)->ndim != 1) {
        snn_status st = flatten_for(b, src, &l->inputs[0]);
        if (st != SNN_OK)
            return st;
    }
    size_t w_dims[2] = {b->g->layers[l->inputs[0]].shape.dims[0],
                        (size_t)src->units};
    size_t b_dims[1] = {(size_t)src->units};
    snn_status st = next_param(b, src, "W", 2, w_dims, &l->weight);
    if (st == SNN_OK && src->has_bias)
        st = next_param(b, src, "b", 1, b_dims, &l->bias);
    return st == SNN_OK ? transpose(b, &l->weight) : st;
}

static snn_status batchnorm(builder *b, const lsg_layer *src, snn_layer *l)
{
    size_t c[1] = {snn_shape_channels(input_shape(b, src))};
    snn_status st = SNN_OK;
    if (src->has_beta)
        st = next_param(b, src, "beta", 1, c, &l->beta);
    if (st == SNN_OK && src->has_gamma)
        st = next_param(b, src, "gamma", 1, c, &l->gamma);
    if (st == SNN_OK)
        st = next_param(b, src, "mean", 1, c, &l->mean);
    if (st == SNN_OK)
        st = next_param(b, src, "inv_std", 1, c, &l->var);
    if (st == SNN_OK)
        st = inv_std_to_var(b, src, &l->var);
    l->eps = 0.0f;
    return st;
}

static void pool(const lsg_layer *src, snn_layer *l)
{
    for (int a = 0; a < 2; a++) {
        l->win.kernel[a] = src->kernel[a];
        l->win.stride[a] = src->stride[a];
        l->win.pad[a] = l->win.pad[a + 2] = src->pad[a];
    }
    l->win.ceil_mode = src->ceil_mode;
}

static const snn_op OPS[] = {
    [LSG_INPUT] = SNN_OP_INPUT,         [LSG_CONV] = SNN_OP_CONV2D,
    [LSG_DENSE] = SNN_OP_DENSE,         [LSG_POOL] = SNN_OP_MAXPOOL2D,
    [LSG_BATCHNORM] = SNN_OP_BATCHNORM, [LSG_NONLIN] = SNN_OP_ACTIVATION,
    [LSG_FLATTEN] = SNN_OP_FLATTEN,     [LSG_SUM] = SNN_OP_ADD,
    [LSG_CONCAT] = SNN_OP_CONCAT,
};

/* ElemwiseSumLayer's coeffs other than 1: the Add's factor per input
 * (and channel, see src/ann/merge.c). */
static snn_status sum_coeffs(builder *b, const lsg_layer *src, snn_layer *l)
{
    size_t dims[2] = {(size_t)src->n_inputs,
                      snn_shape_channels(input_shape(b, src))};
    int plain = 1;
    for (int i = 0; i < src->n_inputs; i++)
        plain &= src->coeff[i] == 1.0f;
    snn_status st = plain ? SNN_OK
                          : snn_tensor_init(&l->weight, 2, dims, b->err);
    for (size_t k = 0; !plain && st == SNN_OK && k < dims[0] * dims[1]; k++)
        l->weight.data[k] = src->coeff[k / dims[1]];
    return st;
}

static snn_status build_layer(builder *b, const lsg_layer *src)
{
    snn_layer l;
    snn_op op = src->kind == LSG_POOL && !src->is_max ? SNN_OP_AVGPOOL2D
                                                      : OPS[src->kind];
    snn_layer_defaults(&l, op, src->name, src->type);
    if (src->input >= 0) {
        l.inputs[0] = b->graph_of[src->input];
        l.n_inputs = 1;
    }
    for (int i = 0; i < src->n_inputs; i++)
        l.inputs[i] = b->graph_of[src->inputs[i]];
    if (src->n_inputs)
        l.n_inputs = src->n_inputs;
    snn_status st = SNN_OK;
    switch (src->kind) {
    case LSG_INPUT: l.shape = src->shape; break;
    case LSG_CONV: st = conv(b, src, &l); break;
    case LSG_DENSE: st = dense(b, src, &l); break;
    case LSG_BATCHNORM: st = batchnorm(b, src, &l); break;
    case LSG_POOL: pool(src, &l); break;
    case LSG_SUM: st = sum_coeffs(b, src, &l); break;
    case LSG_NONLIN:
    case LSG_FLATTEN:
    case LSG_CONCAT: break;
    }
    if (src->kind == LSG_CONV || src->kind == LSG_DENSE ||
        src->kind == LSG_NONLIN)
        l.act = src->act;
    if (st != SNN_OK) {
        free_layer_tensors(&l);
        return st;
    }
    return add(b, src, &l);
}

static snn_status build(builder *b)
{
    snn_status st = list_params(b);
    for (int i = 0; st == SNN_OK && i < b->net->n; i++)
        st = build_layer(b, &b->net->layers[i]);
    if (st == SNN_OK && b->next != b->n_names)
        st = snn_error_set(b->err, SNN_E_SHAPE,
                           "%s: holds %zu parameters, but the layers of %s "
                           "take %zu", b->params, b->n_names, b->script,
                           b->next);
    return st;
}

snn_status snn_parse_lasagne(const char *script, const char *params,
                             snn_graph *g, snn_error *err)
{
    snn_graph_init(g);
    lsg_net net;
    snn_status st = lsg_read_script(script, &net, err);
    if (st != SNN_OK)
        return st;
    builder b = {.script = script, .params = params, .file = -1,
                 .net = &net, .g = g, .err = err};
    b.graph_of = calloc((size_t)net.n, sizeof *b.graph_of);
    if (!b.graph_of)
        st = snn_error_set(err, SNN_E_NOMEM, "%s: out of memory", script);
    H5E_BEGIN_TRY {
        if (st == SNN_OK)
            st = snn_h5_open(params, &b.file, err);
        if (st == SNN_OK)
            st = build(&b);
        if (b.file >= 0)
            H5Fclose(b.file);
    } H5E_END_TRY
    for (size_t i = 0; i < b.n_names; i++)
        free(b.names[i]);
    free(b.names);
    free(b.graph_of);
    lsg_net_free(&net);
    if (st != SNN_OK)
        snn_graph_free(g);
    else
        snprintf(g->source, sizeof g->source, "lasagne");
    return st;
}
