/*
 * onnx_fold.c - evaluates the integer shape arithmetic exporters leave in
 * ONNX graphs, so that what reaches Reshape and Pad is a constant.
 *
 * torch.onnx.export's TorchScript exporter writes `x.view(x.size(0), -1)`
 * as Shape -> Gather -> Unsqueeze -> Concat -> Reshape, and nn.ZeroPad2d
 * as a chain of ConstantOfShape, Concat, Reshape, Slice, Transpose and
 * Cast turning PyTorch's pad order into ONNX's.  When every input of such
 * a node is known (constants, or the shape of a computed tensor with batch
 * size 1), the result is computed here and bound as a new constant; the
 * graph never sees these nodes.
 */
#include <stdlib.h>
#include <string.h>

#include "parse/onnx_internal.h"

#define FOLD_MAX_VALUES ((size_t)1 << 20)

/* An integer tensor being computed. */
typedef struct itensor {
    int ndim;
    int64_t dims[SNN_MAX_DIMS];
    int64_t *v;
    size_t n;
} itensor;

static void it_free(itensor *t)
{
    free(t->v);
    memset(t, 0, sizeof *t);
}

static snn_status it_alloc(onnx_ctx *c, itensor *t, int ndim,
                           const int64_t *dims, snn_error *err)
{
    size_t n = 1;
    memset(t, 0, sizeof *t);
    if (ndim < 0 || ndim > SNN_MAX_DIMS)
        return snn_onnx_error(c, err, SNN_E_UNSUPPORTED, "rank %d", ndim);
    for (int k = 0; k < ndim; k++) {
        if (dims[k] < 0 || !snn_size_mul(n, (size_t)dims[k], &n) ||
            n > FOLD_MAX_VALUES)
            return snn_onnx_error(c, err, SNN_E_UNSUPPORTED,
                                  "shape computation too large");
        t->dims[k] = dims[k];
    }
    t->ndim = ndim;
    t->n = n;
    t->v = calloc(n ? n : 1, sizeof *t->v);
    if (!t->v)
        return snn_error_set(err, SNN_E_NOMEM, "out of memory");
    return SNN_OK;
}

/* Input k as an integer tensor. */
static snn_status it_input(onnx_ctx *c, size_t k, itensor *t, snn_error *err)
{
    const Onnx__TensorProto *p;
    memset(t, 0, sizeof *t);
    snn_status st = snn_onnx_const_input(c, k, &p, err);
    if (st == SNN_OK && p->n_dims > SNN_MAX_DIMS)
        st = snn_onnx_error(c, err, SNN_E_UNSUPPORTED, "rank %zu", p->n_dims);
    if (st == SNN_OK)
        st = snn_onnx_ints(c, p, &t->v, &t->n, err);
    if (st != SNN_OK)
        return st;
    t->ndim = (int)p->n_dims;
    for (int d = 0; d < t->ndim; d++)
        t->dims[d] = p->dims[d];
    return SNN_OK;
}

/* Binds t (taking its values) as output 0, a new INT64 constant. */
static snn_status it_define(onnx_ctx *c, itensor *t, snn_error *err)
{
    Onnx__TensorProto *p = malloc(sizeof *p);
    int64_t *dims = malloc((size_t)(t->ndim ? t->ndim : 1) * sizeof *dims);
    Onnx__TensorProto **grown =
        realloc(c->owned, (c->n_owned + 1) * sizeof *grown);
    if (grown)
        c->owned = grown;
    if (!p || !dims || !grown) {
        free(p);
        free(dims);
        it_free(t);
        return snn_error_set(err, SNN_E_NOMEM, "out of memory");
    }
    onnx__tensor_proto__init(p);
    memcpy(dims, t->dims, (size_t)t->ndim * sizeof *dims);
    p->n_dims = (size_t)t->ndim;
    p->dims = dims;
    p->has_data_type = 1;
    p->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__INT64;
    p->n_int64_data = t->n;
    p->int64_data = t->v;
    c->owned[c->n_owned++] = p;
    memset(t, 0, sizeof *t);
    onnx_value v = {.kind = ONNX_CONST, .tensor = p};
    return snn_onnx_define(c, 0, &v, err);
}

void snn_onnx_fold_free(onnx_ctx *c)
{
    for (size_t i = 0; i < c->n_owned; i++) {
        free(c->owned[i]->dims);
        free(c->owned[i]->int64_data);
        free(c->owned[i]);
    }
    free(c->owned);
    c->owned = NULL;
    c->n_owned = 0;
}

/* Axis a of a rank-r tensor, negative counting from the end. */
static int axis_of(int64_t a, int r, int *out)
{
    if (a < -r || a >= r)
        return 0;
    *out = (int)(a < 0 ? a + r : a);
    return 1;
}

/* ---- the ops ------------------------------------------------------------- */

/* Shape of a computed tensor: (1, per-sample dims...). */
static snn_status shape(onnx_ctx *c, snn_error *err)
{
    onnx_value *x;
    snn_status st = snn_onnx_layer_input(c, 0, &x, err);
    if (st != SNN_OK)
        return st;
    const snn_shape *s = &c->g->layers[x->layer].shape;
    int r = s->ndim + 1;
    int64_t start = snn_onnx_attr_int(c, "start", 0);
    int64_t end = snn_onnx_attr_int(c, "end", r);
    start = start < 0 ? start + r : start;
    end = end < 0 ? end + r : end > r ? r : end;
    if (start < 0 || start > end)
        start = end = 0;
    int64_t len = end - start;
    itensor t;
    st = it_alloc(c, &t, 1, &len, err);
    for (int64_t k = 0; st == SNN_OK && k < len; k++)
        t.v[k] = start + k == 0 ? 1 : (int64_t)s->dims[start + k - 1];
    return st == SNN_OK ? it_define(c, &t, err) : st;
}

static snn_status gather(onnx_ctx *c, snn_error *err)
{
    itensor data, idx, out;
    snn_status st = it_input(c, 0, &data, err);
    if (st == SNN_OK)
        st = it_input(c, 1, &idx, err);
    if (st == SNN_OK && (data.ndim != 1 || snn_onnx_attr_int(c, "axis", 0)))
        st = snn_onnx_error(c, err, SNN_E_UNSUPPORTED,
                            "only Gather from a vector of integers");
    if (st == SNN_OK)
        st = it_alloc(c, &out, idx.ndim, idx.dims, err);
    for (size_t k = 0; st == SNN_OK && k < idx.n; k++) {
        int at;
        if (!axis_of(idx.v[k], (int)data.n, &at))
            st = snn_onnx_error(c, err, SNN_E_FORMAT, "index out of range");
        else
            out.v[k] = data.v[at];
    }
    it_free(&data);
    it_free(&idx);
    if (st != SNN_OK) {
        it_free(&out);
        return st;
    }
    return it_define(c, &out, err);
}

/* Unsqueeze: axes as an attribute (before opset 13) or input 1. */
static snn_status unsqueeze(onnx_ctx *c, snn_error *err)
{
    itensor data, axes = {0};
    snn_status st = it_input(c, 0, &data, err);
    const Onnx__AttributeProto *a = snn_onnx_attr(c, "axes");
    if (st == SNN_OK && !a)
        st = it_input(c, 1, &axes, err);
    size_t n_axes = a ? a->n_ints : axes.n;
    const int64_t *ax = a ? a->ints : axes.v;
    int r = data.ndim + (int)n_axes;
    if (st == SNN_OK && r > SNN_MAX_DIMS)
        st = snn_onnx_error(c, err, SNN_E_UNSUPPORTED, "rank %d", r);
    int one[SNN_MAX_DIMS] = {0};
    for (size_t k = 0; st == SNN_OK && k < n_axes; k++) {
        int at;
        if (!axis_of(ax[k], r, &at) || one[at])
            st = snn_onnx_error(c, err, SNN_E_FORMAT, "bad axes");
        else
            one[at] = 1;
    }
    it_free(&axes);
    if (st != SNN_OK) {
        it_free(&data);
        return st;
    }
    int64_t dims[SNN_MAX_DIMS];
    for (int k = 0, src = 0; k < r; k++)
        dims[k] = one[k] ? 1 : data.dims[src++];
    data.ndim = r;
    memcpy(data.dims, dims, sizeof dims);
    return it_define(c, &data, err);
}

/* Concat of vectors. */
static snn_status concat(onnx_ctx *c, snn_error *err)
{
    int64_t total = 0;
    itensor part, out;
    for (size_t k = 0; k < c->node->n_input; k++) {
        snn_status st = it_input(c, k, &part, err);
        if (st == SNN_OK && part.ndim != 1)
            st = snn_onnx_error(c, err, SNN_E_UNSUPPORTED,
                                "only Concat of integer vectors");
        total += (int64_t)part.n;
        it_free(&part);
        if (st != SNN_OK)
            return st;
    }
    snn_status st = it_alloc(c, &out, 1, &total, err);
    for (size_t k = 0, at = 0; st == SNN_OK && k < c->node->n_input; k++) {
        st = it_input(c, k, &part, err);
        if (st == SNN_OK)
            memcpy(out.v + at, part.v, part.n * sizeof *part.v);
        at += part.n;
        it_free(&part);
    }
    if (st != SNN_OK) {
        it_free(&out);
        return st;
    }
    return it_define(c, &out, err);
}

static snn_status constant_of_shape(onnx_ctx *c, snn_error *err)
{
    itensor dims, out;
    int64_t fill = 0;
    const Onnx__AttributeProto *a = snn_onnx_attr(c, "value");
    snn_status st = it_input(c, 0, &dims, err);
    if (st == SNN_OK && a && a->t) {
        int64_t *v = NULL;
        size_t n = 0;
        st = snn_onnx_ints(c, a->t, &v, &n, err);
        if (st == SNN_OK && n == 1)
            fill = v[0];
        free(v);
    }
    if (st == SNN_OK && (dims.ndim != 1 || dims.n > SNN_MAX_DIMS))
        st = snn_onnx_error(c, err, SNN_E_UNSUPPORTED, "shape of rank > 8");
    if (st == SNN_OK)
        st = it_alloc(c, &out, (int)dims.n, dims.v, err);
    it_free(&dims);
    if (st != SNN_OK)
        return st;
    for (size_t k = 0; k < out.n; k++)
        out.v[k] = fill;
    return it_define(c, &out, err);
}

/* Reshape of a constant: same values, new dims (0 copies, -1 infers). */
static snn_status reshape(onnx_ctx *c, snn_error *err)
{
    itensor data, to;
    snn_status st = it_input(c, 0, &data, err);
    if (st == SNN_OK)
        st = it_input(c, 1, &to, err);
    if (st == SNN_OK && (to.n > SNN_MAX_DIMS || to.ndim != 1))
        st = snn_onnx_error(c, err, SNN_E_UNSUPPORTED, "bad shape");
    int64_t known = 1, infer = -1;
    for (size_t k = 0; st == SNN_OK && k < to.n; k++) {
        int64_t d = to.v[k] == 0 && (int)k < data.ndim ? data.dims[k]
                                                         : to.v[k];
        if (d == -1 && infer < 0)
            infer = (int64_t)k;
        else if (d < 0 || d > (int64_t)FOLD_MAX_VALUES)
            st = snn_onnx_error(c, err, SNN_E_FORMAT, "bad shape");
        else
            known = known * d > (int64_t)FOLD_MAX_VALUES ? 0 : known * d;
        data.dims[k] = d;
    }
    if (st == SNN_OK && infer >= 0)
        data.dims[infer] = known > 0 ? (int64_t)data.n / known : 0;
    if (st == SNN_OK && (known == 0 || (infer >= 0 ? data.dims[infer] * known
                                                  : known) != (int64_t)data.n))
        st = snn_onnx_error(c, err, SNN_E_SHAPE, "reshape changes the size");
    data.ndim = (int)to.n;
    it_free(&to);
    if (st != SNN_OK) {
        it_free(&data);
        return st;
    }
    return it_define(c, &data, err);
}

/* Row-major strides of t. */
static void strides_of(const itensor *t, int64_t *s)
{
    int64_t acc = 1;
    for (int k = t->ndim; k-- > 0;) {
        s[k] = acc;
        acc *= t->dims[k];
    }
}

/* out[i] = in[start + i * step] along every axis (perm maps out's axes to
 * in's), the index walk shared by Slice and Transpose. */
static void gather_strided(const itensor *in, itensor *out,
                           const int64_t *start, const int64_t *step,
                           const int *perm)
{
    int64_t sin[SNN_MAX_DIMS], idx[SNN_MAX_DIMS] = {0};
    strides_of(in, sin);
    for (size_t i = 0; i < out->n; i++) {
        int64_t off = 0;
        for (int k = 0; k < out->ndim; k++)
            off += (start[perm[k]] + idx[k] * step[perm[k]]) * sin[perm[k]];
        out->v[i] = in->v[off];
        for (int k = out->ndim; k-- > 0;) {
            if (++idx[k] < out->dims[k])
                break;
            idx[k] = 0;
        }
    }
}

/* The elements one Slice axis keeps: start, step and count, clamped as
 * the ONNX spec says. */
static int64_t slice_axis(int64_t dim, int64_t b, int64_t e, int64_t step,
                          int64_t *start)
{
    b = b < 0 ? b + dim : b;
    e = e < 0 ? e + dim : e;
    if (step > 0) {
        b = b < 0 ? 0 : b > dim ? dim : b;
        e = e < 0 ? 0 : e > dim ? dim : e;
        *start = b;
        return e > b ? (e - b + step - 1) / step : 0;
    }
    b = b < 0 ? -1 : b > dim - 1 ? dim - 1 : b;
    e = e < -1 ? -1 : e > dim - 1 ? dim - 1 : e;
    *start = b;
    return b > e ? (b - e - step - 1) / -step : 0;
}

static snn_status slice(onnx_ctx *c, snn_error *err)
{
    itensor data, p[4] = {{0}}, out = {0};
    snn_status st = it_input(c, 0, &data, err);
    for (size_t k = 1; k <= 4 && st == SNN_OK; k++)
        if (snn_onnx_has_input(c, k))
            st = it_input(c, k, &p[k - 1], err);
    if (st == SNN_OK && (c->opset < 10 || p[0].n != p[1].n ||
                         (p[2].v && p[2].n != p[0].n) ||
                         (p[3].v && p[3].n != p[0].n)))
        st = snn_onnx_error(c, err, SNN_E_UNSUPPORTED,
                            "only Slice with starts, ends, axes and steps "
                            "of one length (opset 10 or later)");
    int64_t start[SNN_MAX_DIMS] = {0}, step[SNN_MAX_DIMS], dims[SNN_MAX_DIMS];
    int perm[SNN_MAX_DIMS];
    for (int k = 0; k < SNN_MAX_DIMS; k++) {
        step[k] = 1;
        perm[k] = k;
        dims[k] = k < data.ndim ? data.dims[k] : 0;
    }
    for (size_t k = 0; st == SNN_OK && k < p[0].n; k++) {
        int ax;
        int64_t s = p[3].v ? p[3].v[k] : 1;
        if (!axis_of(p[2].v ? p[2].v[k] : (int64_t)k, data.ndim, &ax) ||
            s == 0)
            st = snn_onnx_error(c, err, SNN_E_FORMAT, "bad axes or steps");
        else {
            step[ax] = s;
            dims[ax] = slice_axis(data.dims[ax], p[0].v[k], p[1].v[k], s,
                                  &start[ax]);
        }
    }
    if (st == SNN_OK)
        st = it_alloc(c, &out, data.ndim, dims, err);
    if (st == SNN_OK)
        gather_strided(&data, &out, start, step, perm);
    it_free(&data);
    for (int k = 0; k < 4; k++)
        it_free(&p[k]);
    if (st != SNN_OK) {
        it_free(&out);
        return st;
    }
    return it_define(c, &out, err);
}

static snn_status transpose(onnx_ctx *c, snn_error *err)
{
    itensor data, out = {0};
    snn_status st = it_input(c, 0, &data, err);
    if (st != SNN_OK)
        return st;
    const Onnx__AttributeProto *a = snn_onnx_attr(c, "perm");
    int perm[SNN_MAX_DIMS], seen[SNN_MAX_DIMS] = {0};
    int64_t dims[SNN_MAX_DIMS], zero[SNN_MAX_DIMS] = {0}, one[SNN_MAX_DIMS];
    if (a && a->n_ints != (size_t)data.ndim)
        st = snn_onnx_error(c, err, SNN_E_FORMAT, "perm has the wrong rank");
    for (int k = 0; st == SNN_OK && k < data.ndim; k++) {
        int64_t pk = a ? a->ints[k] : data.ndim - 1 - k;
        if (pk < 0 || pk >= data.ndim || seen[pk]++)
            st = snn_onnx_error(c, err, SNN_E_FORMAT, "bad perm");
        else {
            perm[k] = (int)pk;
            dims[k] = data.dims[pk];
            one[k] = 1;
        }
    }
    if (st == SNN_OK)
        st = it_alloc(c, &out, data.ndim, dims, err);
    for (int k = data.ndim; k < SNN_MAX_DIMS; k++)
        one[k] = 1;
    if (st == SNN_OK)
        gather_strided(&data, &out, zero, one, perm);
    it_free(&data);
    if (st != SNN_OK) {
        it_free(&out);
        return st;
    }
    return it_define(c, &out, err);
}

/* Cast between integer types: the values stay. */
static snn_status cast(onnx_ctx *c, snn_error *err)
{
    int64_t to = snn_onnx_attr_int(c, "to", 0);
    if (to != ONNX__TENSOR_PROTO__DATA_TYPE__INT64 &&
        to != ONNX__TENSOR_PROTO__DATA_TYPE__INT32)
        return snn_onnx_error(c, err, SNN_E_UNSUPPORTED,
                              "only Cast of shapes to integers");
    itensor data;
    snn_status st = it_input(c, 0, &data, err);
    return st == SNN_OK ? it_define(c, &data, err) : st;
}

/* ---- dispatch ------------------------------------------------------------ */

static int all_inputs_const(onnx_ctx *c)
{
    for (size_t k = 0; k < c->node->n_input; k++) {
        onnx_value *v = NULL;
        snn_error ignored;
        if (!snn_onnx_has_input(c, k))
            continue;
        if (snn_onnx_value(c, c->node->input[k], &v, &ignored) != SNN_OK ||
            v->kind != ONNX_CONST)
            return 0;
    }
    return 1;
}

int snn_onnx_fold(onnx_ctx *c, snn_status *st, snn_error *err)
{
    static const struct {
        const char *op;
        snn_status (*fn)(onnx_ctx *c, snn_error *err);
    } folds[] = {
        {"Gather", gather},     {"Unsqueeze", unsqueeze},
        {"Concat", concat},     {"ConstantOfShape", constant_of_shape},
        {"Reshape", reshape},   {"Slice", slice},
        {"Transpose", transpose}, {"Cast", cast},
    };
    if (strcmp(c->node->op_type, "Shape") == 0) {
        *st = shape(c, err);
        return 1;
    }
    if (!all_inputs_const(c))
        return 0;
    for (size_t k = 0; k < sizeof folds / sizeof folds[0]; k++)
        if (strcmp(folds[k].op, c->node->op_type) == 0) {
            *st = folds[k].fn(c, err);
            return 1;
        }
    return 0;
}
