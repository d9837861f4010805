/*
 * lasagne_layers.c - the Lasagne layer classes a model script may call,
 * with Lasagne's own signatures (positional order, keyword names and
 * defaults), so that `Conv2DLayer(net, 16, 5, 2)` means what it means in
 * Lasagne: 16 filters of 5x5, stride 2, no padding, rectify, flipped
 * filters.  Arguments that only matter for training or initialisation
 * (W=, input_var=, p=, epsilon=...) are accepted and ignored, since the
 * parameters come from the .h5; any argument that would change the
 * inference and that we do not implement is an error naming the line.
 */
#include "lasagne_eval.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ARGS 12
#define DIM_MAX (1L << 24)

typedef enum cls_id {
    C_INPUT, C_CONV, C_DENSE, C_BN, C_NONLIN, C_DROPOUT, C_FLATTEN,
    C_MAXPOOL, C_POOL, C_BATCH_NORM, C_SUM, C_CONCAT
} cls_id;

/* A callable: its name and Lasagne's positional parameter order; every
 * layer also takes name=. */
typedef struct cls {
    const char *name;
    cls_id id;
    const char *args[MAX_ARGS];
} cls;

static const cls CLASSES[] = {
    {"InputLayer", C_INPUT, {"shape", "input_var"}},
    {"Conv2DLayer", C_CONV, {"incoming", "num_filters", "filter_size",
                             "stride", "pad", "untie_biases", "W", "b",
                             "nonlinearity", "flip_filters", "convolution",
                             "num_groups"}},
    {"DenseLayer", C_DENSE, {"incoming", "num_units", "W", "b",
                             "nonlinearity", "num_leading_axes"}},
    {"BatchNormLayer", C_BN, {"incoming", "axes", "epsilon", "alpha",
                              "beta", "gamma", "mean", "inv_std"}},
    {"NonlinearityLayer", C_NONLIN, {"incoming", "nonlinearity"}},
    {"DropoutLayer", C_DROPOUT, {"incoming", "p", "rescale",
                                 "shared_axes"}},
    {"FlattenLayer", C_FLATTEN, {"incoming", "outdim"}},
    {"MaxPool2DLayer", C_MAXPOOL, {"incoming", "pool_size", "stride",
                                   "pad", "ignore_border"}},
    {"Pool2DLayer", C_POOL, {"incoming", "pool_size", "stride", "pad",
                             "ignore_border", "mode"}},
    {"ElemwiseSumLayer", C_SUM, {"incomings", "coeffs", "cropping"}},
    {"ConcatLayer", C_CONCAT, {"incomings", "axis", "cropping"}},
    /* batch_norm(layer, **kwargs): the kwargs go to BatchNormLayer */
    {"batch_norm", C_BATCH_NORM, {"layer", "axes", "epsilon", "alpha",
                                  "beta", "gamma", "mean", "inv_std"}},
};

/* Arguments bound to parameter slots; NULL where not given. */
typedef struct bound {
    const cls *c;
    int line;
    const lsg_node *arg[MAX_ARGS];
    const lsg_node *name;
} bound;

static int tok_is(const lsg_tok *t, const char *s)
{
    return t->len == strlen(s) && memcmp(t->s, s, t->len) == 0;
}

static int slot_of(const cls *c, const char *kw, size_t len)
{
    for (int i = 0; i < MAX_ARGS && c->args[i]; i++)
        if (strlen(c->args[i]) == len && memcmp(c->args[i], kw, len) == 0)
            return i;
    return -1;
}

static snn_status bind_one(lsg_eval *e, bound *b, const lsg_node *a, int pos)
{
    int slot = a->kw ? slot_of(b->c, a->kw, a->kwlen) : pos;
    if (a->kw && a->kwlen == 4 && memcmp(a->kw, "name", 4) == 0) {
        b->name = a;
        return SNN_OK;
    }
    if (slot < 0 || slot >= MAX_ARGS || !b->c->args[slot])
        return a->kw ? lsg_fail(e, SNN_E_UNSUPPORTED, a->line,
                                "%s has no argument '%.*s'", b->c->name,
                                (int)a->kwlen, a->kw)
                     : lsg_fail(e, SNN_E_FORMAT, a->line,
                                "too many arguments for %s", b->c->name);
    if (b->arg[slot])
        return lsg_fail(e, SNN_E_FORMAT, a->line,
                        "%s: argument '%s' given twice", b->c->name,
                        b->c->args[slot]);
    b->arg[slot] = a;
    return SNN_OK;
}

static snn_status bind_args(lsg_eval *e, const cls *c, int args, int line,
                            bound *b)
{
    memset(b, 0, sizeof *b);
    b->c = c;
    b->line = line;
    int pos = 0;
    for (int a = args; a >= 0; a = e->nodes[a].next, pos++) {
        snn_status st = bind_one(e, b, &e->nodes[a], pos);
        if (st != SNN_OK)
            return st;
    }
    return SNN_OK;
}

/* ---- argument values ---------------------------------------------------- */

static snn_status bad_arg(lsg_eval *e, const bound *b, int slot,
                          const char *expected)
{
    return lsg_fail(e, SNN_E_UNSUPPORTED, b->arg[slot]->line,
                    "%s: %s must be %s", b->c->name, b->c->args[slot],
                    expected);
}

static int int_in(const lsg_node *v, long lo, long hi)
{
    return v->kind == V_INT && v->i >= lo && v->i <= hi;
}

static snn_status get_int(lsg_eval *e, const bound *b, int slot, long lo,
                          long *out)
{
    const lsg_node *v = b->arg[slot];
    if (!v)
        return lsg_fail(e, SNN_E_FORMAT, b->line, "%s: %s is required",
                        b->c->name, b->c->args[slot]);
    if (!int_in(v, lo, DIM_MAX))
        return bad_arg(e, b, slot, lo ? "a positive integer"
                                      : "a non-negative integer");
    *out = (long)v->i;
    return SNN_OK;
}

/* An int n meaning (n, n), or a pair of ints; unset keeps out. */
static snn_status get_pair(lsg_eval *e, const bound *b, int slot, long lo,
                           int out[2])
{
    const lsg_node *v = b->arg[slot];
    if (!v)
        return SNN_OK;
    if (int_in(v, lo, DIM_MAX)) {
        out[0] = out[1] = (int)v->i;
        return SNN_OK;
    }
    const lsg_node *x = v->kind == V_TUPLE && v->first >= 0
                            ? &e->nodes[v->first] : NULL;
    const lsg_node *y = x && x->next >= 0 ? &e->nodes[x->next] : NULL;
    if (!y || y->next >= 0 || !int_in(x, lo, DIM_MAX) ||
        !int_in(y, lo, DIM_MAX))
        return bad_arg(e, b, slot, lo ? "a positive integer or a pair of them"
                                      : "an integer >= 0 or a pair of them");
    out[0] = (int)x->i;
    out[1] = (int)y->i;
    return SNN_OK;
}

static snn_status get_bool(lsg_eval *e, const bound *b, int slot, int *out)
{
    const lsg_node *v = b->arg[slot];
    if (!v)
        return SNN_OK;
    if (v->kind != V_BOOL && !int_in(v, 0, 1))
        return bad_arg(e, b, slot, "True or False");
    *out = (int)v->i;
    return SNN_OK;
}

/* The nonlinearities integrate-and-fire neurons represent. */
static snn_status get_act(lsg_eval *e, const bound *b, int slot,
                          snn_activation *out)
{
    const lsg_node *v = b->arg[slot];
    if (!v)
        return SNN_OK;
    if (v->kind == V_NONE) {
        *out = SNN_ACT_LINEAR;
        return SNN_OK;
    }
    static const struct { const char *name; snn_activation act; } known[] = {
        {"rectify", SNN_ACT_RELU}, {"softmax", SNN_ACT_SOFTMAX},
        {"linear", SNN_ACT_LINEAR}, {"identity", SNN_ACT_LINEAR}};
    for (size_t i = 0; v->kind == V_NAME && i < sizeof known / sizeof *known;
         i++)
        if (v->len == strlen(known[i].name) &&
            memcmp(v->s, known[i].name, v->len) == 0) {
            *out = known[i].act;
            return SNN_OK;
        }
    if (v->kind == V_NAME)
        return lsg_fail(e, SNN_E_UNSUPPORTED, v->line,
                        "%s: nonlinearity '%.*s' cannot be converted: "
                        "integrate-and-fire neurons represent only rectify, "
                        "linear/identity and an output softmax",
                        b->c->name, (int)v->len, v->s);
    return bad_arg(e, b, slot, "a nonlinearity (rectify, softmax, linear, "
                               "identity)");
}

/* The incoming layer. */
static snn_status get_incoming(lsg_eval *e, const bound *b, int *out)
{
    const lsg_node *v = b->arg[0];
    if (!v)
        return lsg_fail(e, SNN_E_FORMAT, b->line, "%s: incoming is required",
                        b->c->name);
    if (v->kind != V_LAYER)
        return bad_arg(e, b, 0, "a layer");
    *out = v->layer;
    e->uses[v->layer]++;
    return SNN_OK;
}

/* A merge's incomings: a list of 2 to SNN_MAX_INPUTS layers. */
static snn_status get_incomings(lsg_eval *e, const bound *b, lsg_layer *l)
{
    const lsg_node *v = b->arg[0];
    l->n_inputs = 0;
    for (int k = v && v->kind == V_TUPLE ? v->first : -1; k >= 0;
         k = e->nodes[k].next) {
        if (e->nodes[k].kind != V_LAYER || l->n_inputs == SNN_MAX_INPUTS)
            return bad_arg(e, b, 0, "a list of 2 to 8 layers");
        l->inputs[l->n_inputs++] = e->nodes[k].layer;
    }
    if (l->n_inputs < 2)
        return v ? bad_arg(e, b, 0, "a list of 2 to 8 layers")
                 : lsg_fail(e, SNN_E_FORMAT, b->line, "%s: incomings is "
                            "required", b->c->name);
    for (int i = 0; i < l->n_inputs; i++)
        e->uses[l->inputs[i]]++;
    l->input = l->inputs[0];
    return SNN_OK;
}

static int is_number(const lsg_node *v)
{
    return v->kind == V_INT || v->kind == V_FLOAT;
}

static double number(const lsg_node *v)
{
    return v->kind == V_INT ? (double)v->i : v->f;
}

/* ElemwiseSumLayer's coeffs (a number or one per input) and
 * ConcatLayer's axis (the channels); neither crops. */
static snn_status merge_layer(lsg_eval *e, const bound *b, lsg_layer *l)
{
    snn_status st = get_incomings(e, b, l);
    const lsg_node *v = b->arg[1];
    l->act = SNN_ACT_LINEAR;
    if (st == SNN_OK && b->arg[2] && b->arg[2]->kind != V_NONE)
        st = bad_arg(e, b, 2, "None");
    if (st != SNN_OK || b->c->id == C_CONCAT)
        return st != SNN_OK || !v || int_in(v, 1, 1)
                   ? st : bad_arg(e, b, 1, "1 (the channels)");
    int k = v && v->kind == V_TUPLE ? v->first : -1;
    for (int i = 0; i < l->n_inputs; i++, k = k >= 0 ? e->nodes[k].next : -1) {
        const lsg_node *c = !v ? NULL : v->kind == V_TUPLE
                                           ? (k >= 0 ? &e->nodes[k] : NULL)
                                           : v;
        if (v && (!c || !is_number(c)))
            return bad_arg(e, b, 1, "a number or one per input");
        l->coeff[i] = c ? (float)number(c) : 1.0f;
    }
    if (k >= 0)
        return bad_arg(e, b, 1, "a number or one per input");
    return SNN_OK;
}

/* ---- building ---------------------------------------------------------- */

static snn_status new_layer(lsg_eval *e, const bound *b, lsg_kind kind,
                            const char *type, lsg_layer **out)
{
    lsg_net *net = e->net;
    if (net->n == e->cap_layers) {
        int cap = e->cap_layers ? 2 * e->cap_layers : 16;
        lsg_layer *l = realloc(net->layers, (size_t)cap * sizeof *l);
        int *u = realloc(e->uses, (size_t)cap * sizeof *u);
        if (l)
            net->layers = l;
        if (u)
            e->uses = u;
        if (!l || !u)
            return snn_error_set(e->err, SNN_E_NOMEM, "%s: out of memory",
                                 e->path);
        e->cap_layers = cap;
    }
    lsg_layer *l = &net->layers[net->n];
    memset(l, 0, sizeof *l);
    e->uses[net->n] = 0;
    l->kind = kind;
    l->line = b->line;
    l->input = -1;
    l->act = SNN_ACT_RELU; /* Lasagne's default nonlinearity */
    l->stride[0] = l->stride[1] = 1;
    l->flip = 1;
    l->has_bias = l->has_beta = l->has_gamma = 1;
    snprintf(l->type, sizeof l->type, "%s", type);
    if (b->name && b->name->kind == V_STR && b->name->len < SNN_NAME_MAX &&
        !memchr(b->name->s, '\\', b->name->len))
        snprintf(l->name, sizeof l->name, "%.*s", (int)b->name->len,
                 b->name->s);
    else if (b->name && b->name->kind != V_NONE)
        return lsg_fail(e, SNN_E_UNSUPPORTED, b->name->line,
                        "%s: name must be a plain string", type);
    else
        snprintf(l->name, sizeof l->name, "%s_%d", type, net->n);
    net->n++;
    *out = l;
    return SNN_OK;
}

static snn_status input_layer(lsg_eval *e, const bound *b, lsg_layer *l)
{
    const lsg_node *v = b->arg[0];
    if (!v)
        return lsg_fail(e, SNN_E_FORMAT, b->line, "InputLayer: shape is "
                                                  "required");
    int n = 0;
    size_t numel = 1;
    for (int k = v->kind == V_TUPLE ? v->first : -1; k >= 0;
         k = e->nodes[k].next, n++) {
        const lsg_node *d = &e->nodes[k];
        if (n == 0 && (d->kind == V_NONE || int_in(d, 1, DIM_MAX)))
            continue;
        if (n > 3 || !int_in(d, 1, DIM_MAX) || (numel *= (size_t)d->i) >
                                                   (size_t)DIM_MAX)
            return bad_arg(e, b, 0, "(batch, features) or (batch, channels, "
                                    "height, width) with sizes in range");
        l->shape.dims[n - 1] = (size_t)d->i;
    }
    if (n != 2 && n != 4)
        return bad_arg(e, b, 0, "(batch, features) or (batch, channels, "
                                "height, width)");
    l->shape.ndim = n - 1;
    return SNN_OK;
}

/* Conv2DLayer's pad: 'valid', 'full', 'same' (odd filters only, as in
 * Lasagne) or explicit ints. */
static snn_status conv_pad(lsg_eval *e, const bound *b, lsg_layer *l)
{
    const lsg_node *v = b->arg[4];
    for (int a = 0; v && v->kind == V_STR && a < 2; a++) {
        if (lsg_str_is(v, "valid"))
            l->pad[a] = 0;
        else if (lsg_str_is(v, "full"))
            l->pad[a] = l->kernel[a] - 1;
        else if (lsg_str_is(v, "same") && l->kernel[a] % 2)
            l->pad[a] = l->kernel[a] / 2;
        else
            return bad_arg(e, b, 4, "'valid', 'full', 'same' (odd filter "
                                    "sizes) or integers");
    }
    return v && v->kind == V_STR ? SNN_OK : get_pair(e, b, 4, 0, l->pad);
}

static snn_status unsupported_if_set(lsg_eval *e, const bound *b, int slot,
                                     int allowed)
{
    if (!b->arg[slot] || allowed)
        return SNN_OK;
    return lsg_fail(e, SNN_E_UNSUPPORTED, b->arg[slot]->line,
                    "%s: %s is not supported", b->c->name, b->c->args[slot]);
}

static snn_status conv_layer(lsg_eval *e, const bound *b, lsg_layer *l)
{
    snn_status st = get_int(e, b, 1, 1, &l->units);
    if (st == SNN_OK && !b->arg[2])
        st = lsg_fail(e, SNN_E_FORMAT, b->line, "Conv2DLayer: filter_size "
                                                "is required");
    if (st == SNN_OK) st = get_pair(e, b, 2, 1, l->kernel);
    if (st == SNN_OK) st = get_pair(e, b, 3, 1, l->stride);
    if (st == SNN_OK) st = conv_pad(e, b, l);
    int untied = 0;
    if (st == SNN_OK) st = get_bool(e, b, 5, &untied);
    if (st == SNN_OK) st = unsupported_if_set(e, b, 5, !untied);
    l->has_bias = !b->arg[7] || b->arg[7]->kind != V_NONE;
    if (st == SNN_OK) st = get_act(e, b, 8, &l->act);
    if (st == SNN_OK) st = get_bool(e, b, 9, &l->flip);
    if (st == SNN_OK) st = unsupported_if_set(e, b, 10, 0);
    if (st == SNN_OK && b->arg[11] && !int_in(b->arg[11], 1, 1))
        st = bad_arg(e, b, 11, "1 (grouped convolution is not read)");
    return st;
}

static snn_status dense_layer(lsg_eval *e, const bound *b, lsg_layer *l)
{
    snn_status st = get_int(e, b, 1, 1, &l->units);
    l->has_bias = !b->arg[3] || b->arg[3]->kind != V_NONE;
    if (st == SNN_OK) st = get_act(e, b, 4, &l->act);
    if (st == SNN_OK && b->arg[5] && !int_in(b->arg[5], 1, 1))
        st = bad_arg(e, b, 5, "1");
    return st;
}

/* BatchNormLayer's arguments from slot 1 on (batch_norm shares them). */
static snn_status bn_layer(lsg_eval *e, const bound *b, lsg_layer *l)
{
    l->act = SNN_ACT_LINEAR;
    if (b->arg[1] && !lsg_str_is(b->arg[1], "auto"))
        return bad_arg(e, b, 1, "'auto' (per channel)");
    l->has_beta = !b->arg[4] || b->arg[4]->kind != V_NONE;
    l->has_gamma = !b->arg[5] || b->arg[5]->kind != V_NONE;
    if ((b->arg[6] && b->arg[6]->kind == V_NONE) ||
        (b->arg[7] && b->arg[7]->kind == V_NONE))
        return lsg_fail(e, SNN_E_FORMAT, b->line,
                        "%s: mean and inv_std cannot be None", b->c->name);
    return SNN_OK;
}

static snn_status pool_layer(lsg_eval *e, const bound *b, lsg_layer *l)
{
    if (!b->arg[1])
        return lsg_fail(e, SNN_E_FORMAT, b->line, "%s: pool_size is required",
                        b->c->name);
    snn_status st = get_pair(e, b, 1, 1, l->kernel);
    l->stride[0] = l->kernel[0];
    l->stride[1] = l->kernel[1];
    /* stride=None means the pool size, as the default does */
    if (st == SNN_OK && !(b->arg[2] && b->arg[2]->kind == V_NONE))
        st = get_pair(e, b, 2, 1, l->stride);
    if (st == SNN_OK) st = get_pair(e, b, 3, 0, l->pad);
    int ignore_border = 1;
    if (st == SNN_OK) st = get_bool(e, b, 4, &ignore_border);
    l->ceil_mode = !ignore_border;
    if (st == SNN_OK && l->ceil_mode && (l->pad[0] || l->pad[1]))
        st = lsg_fail(e, SNN_E_FORMAT, b->line, "%s: padding needs "
                      "ignore_border=True (as in Lasagne)", b->c->name);
    const lsg_node *mode = b->c->id == C_POOL ? b->arg[5] : NULL;
    l->is_max = !mode || lsg_str_is(mode, "max");
    if (st == SNN_OK && mode && !l->is_max &&
        !lsg_str_is(mode, "average_exc_pad") &&
        !(lsg_str_is(mode, "average_inc_pad") && !l->pad[0] && !l->pad[1]))
        st = bad_arg(e, b, 5, "'max', 'average_exc_pad', or "
                              "'average_inc_pad' without padding");
    return st;
}

/* batch_norm(layer): Lasagne drops the layer's bias, moves its
 * nonlinearity after a new BatchNormLayer, and returns that (or a
 * NonlinearityLayer). */
static snn_status batch_norm(lsg_eval *e, const bound *b, lsg_node *out)
{
    const lsg_node *v = b->arg[0];
    if (!v || v->kind != V_LAYER)
        return lsg_fail(e, SNN_E_FORMAT, b->line, "batch_norm needs a layer");
    lsg_layer *inner = &e->net->layers[v->layer];
    if (e->uses[v->layer] || (inner->kind != LSG_CONV &&
                              inner->kind != LSG_DENSE))
        return lsg_fail(e, SNN_E_UNSUPPORTED, b->line,
                        "batch_norm wraps a Conv2DLayer or DenseLayer that "
                        "feeds nothing else");
    snn_activation act = inner->act;
    inner->act = SNN_ACT_LINEAR;
    inner->has_bias = 0;
    int in = v->layer;
    lsg_layer *l;
    snn_status st = new_layer(e, b, LSG_BATCHNORM, "BatchNormLayer", &l);
    if (st == SNN_OK)
        st = bn_layer(e, b, l);
    if (st != SNN_OK)
        return st;
    l->input = in;
    e->uses[in]++;
    out->kind = V_LAYER;
    out->layer = e->net->n - 1;
    if (act == SNN_ACT_LINEAR)
        return SNN_OK;
    bound nb = {.c = b->c, .line = b->line};
    st = new_layer(e, &nb, LSG_NONLIN, "NonlinearityLayer", &l);
    if (st != SNN_OK)
        return st;
    l->act = act;
    l->input = out->layer;
    e->uses[out->layer]++;
    out->layer = e->net->n - 1;
    return SNN_OK;
}

static snn_status make_layer(lsg_eval *e, const bound *b, lsg_layer *l)
{
    switch (b->c->id) {
    case C_INPUT: return input_layer(e, b, l);
    case C_CONV: return conv_layer(e, b, l);
    case C_DENSE: return dense_layer(e, b, l);
    case C_BN: return bn_layer(e, b, l);
    case C_NONLIN:
        if (!b->arg[1])
            return lsg_fail(e, SNN_E_FORMAT, b->line, "NonlinearityLayer: "
                            "nonlinearity is required");
        return get_act(e, b, 1, &l->act);
    case C_FLATTEN:
        if (b->arg[1] && !int_in(b->arg[1], 2, 2))
            return bad_arg(e, b, 1, "2");
        return SNN_OK;
    case C_MAXPOOL:
    case C_POOL: return pool_layer(e, b, l);
    case C_SUM:
    case C_CONCAT: return merge_layer(e, b, l);
    case C_DROPOUT:
    case C_BATCH_NORM: break;
    }
    return SNN_OK;
}

static lsg_kind kind_of(cls_id id)
{
    switch (id) {
    case C_INPUT: return LSG_INPUT;
    case C_CONV: return LSG_CONV;
    case C_DENSE: return LSG_DENSE;
    case C_BN: return LSG_BATCHNORM;
    case C_NONLIN: return LSG_NONLIN;
    case C_FLATTEN: return LSG_FLATTEN;
    case C_SUM: return LSG_SUM;
    case C_CONCAT: return LSG_CONCAT;
    default: return LSG_POOL;
    }
}

static snn_status call_class(lsg_eval *e, const cls *c, int args, int line,
                             lsg_node *out)
{
    bound b;
    snn_status st = bind_args(e, c, args, line, &b);
    if (st != SNN_OK)
        return st;
    memset(out, 0, sizeof *out);
    out->first = out->next = -1;
    if (c->id == C_BATCH_NORM)
        return batch_norm(e, &b, out);
    int in = -1, merge = c->id == C_SUM || c->id == C_CONCAT;
    if (c->id != C_INPUT && !merge &&
        (st = get_incoming(e, &b, &in)) != SNN_OK)
        return st;
    out->kind = V_LAYER;
    if (c->id == C_DROPOUT) {
        e->uses[in]--; /* the identity: its consumer uses `in` directly */
        out->layer = in;
        return SNN_OK;
    }
    lsg_layer *l;
    st = new_layer(e, &b, kind_of(c->id), c->name, &l);
    if (st != SNN_OK)
        return st;
    l->input = in;
    out->layer = e->net->n - 1;
    return make_layer(e, &b, l);
}

snn_status lsg_call(lsg_eval *e, const lsg_tok *callee, int args, int line,
                    lsg_node *out)
{
    for (size_t i = 0; i < sizeof CLASSES / sizeof *CLASSES; i++)
        if (tok_is(callee, CLASSES[i].name))
            return call_class(e, &CLASSES[i], args, line, out);
    if (callee->len > 5 &&
        memcmp(callee->s + callee->len - 5, "Layer", 5) == 0)
        return lsg_fail(e, SNN_E_UNSUPPORTED, line,
                        "layer type %.*s is not supported", (int)callee->len,
                        callee->s);
    memset(out, 0, sizeof *out);
    out->kind = V_OPAQUE;
    out->first = out->next = -1;
    return SNN_OK;
}
