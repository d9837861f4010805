/*
 * onnx.c - reads an ONNX model (what torch.onnx.export writes) into the
 * graph IR.
 *
 * The file is one ModelProto, unpacked by protobuf-c from the schema
 * Debian's libonnx-dev ships.  Nodes are in topological order; the reader
 * walks them keeping a table of named values: layer outputs and constants
 * (initializers and Constant nodes, consumed as weights, shapes and
 * paddings).  The graph's single data input becomes the input layer.
 */
#include "snntb/parse.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse/onnx_internal.h"
#include "parse/proto.h"
#include "parse/proto_graph.h"

#define ONNX_MAX ((size_t)2 << 30)
#define INPUT_DIM_MAX ((int64_t)1 << 24)

snn_status snn_onnx_error(const onnx_ctx *c, snn_error *err, snn_status st,
                          const char *fmt, ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (!c->node)
        return snn_error_set(err, st, "%s: %s", c->path, what);
    return snn_error_set(err, st, "%s: node '%s' (%s): %s", c->path,
                         c->node->name ? c->node->name : "",
                         c->node->op_type ? c->node->op_type : "", what);
}

/* ---- the value table ---------------------------------------------------- */

static onnx_value *find_value(const onnx_ctx *c, const char *name)
{
    for (size_t i = c->n_vals; i-- > 0;)
        if (strcmp(c->vals[i].name, name) == 0)
            return &c->vals[i];
    return NULL;
}

static snn_status bind(onnx_ctx *c, const onnx_value *v, snn_error *err)
{
    onnx_value *slot = find_value(c, v->name);
    if (!slot) {
        if (c->n_vals == c->cap_vals) {
            size_t cap = c->cap_vals ? 2 * c->cap_vals : 64;
            onnx_value *grown = realloc(c->vals, cap * sizeof *grown);
            if (!grown)
                return snn_error_set(err, SNN_E_NOMEM,
                                     "cannot grow the value table");
            c->vals = grown;
            c->cap_vals = cap;
        }
        slot = &c->vals[c->n_vals++];
    }
    *slot = *v;
    return SNN_OK;
}

snn_status snn_onnx_value(onnx_ctx *c, const char *name, onnx_value **v,
                          snn_error *err)
{
    *v = find_value(c, name);
    if (!*v)
        return snn_onnx_error(c, err, SNN_E_FORMAT,
                              "input '%s' is produced by no earlier node",
                              name);
    return SNN_OK;
}

int snn_onnx_has_input(const onnx_ctx *c, size_t k)
{
    return k < c->node->n_input && c->node->input[k][0] != '\0';
}

snn_status snn_onnx_layer_input(onnx_ctx *c, size_t k, onnx_value **v,
                                snn_error *err)
{
    if (!snn_onnx_has_input(c, k))
        return snn_onnx_error(c, err, SNN_E_FORMAT, "input %zu is missing",
                              k);
    snn_status st = snn_onnx_value(c, c->node->input[k], v, err);
    if (st == SNN_OK && (*v)->kind != ONNX_LAYER)
        return snn_onnx_error(c, err, SNN_E_UNSUPPORTED,
                              "input '%s' is a constant; only computed "
                              "tensors are supported here",
                              c->node->input[k]);
    return st;
}

snn_status snn_onnx_const_input(onnx_ctx *c, size_t k,
                                const Onnx__TensorProto **t, snn_error *err)
{
    onnx_value *v = NULL;
    if (!snn_onnx_has_input(c, k))
        return snn_onnx_error(c, err, SNN_E_FORMAT, "input %zu is missing",
                              k);
    snn_status st = snn_onnx_value(c, c->node->input[k], &v, err);
    if (st == SNN_OK && v->kind != ONNX_CONST)
        return snn_onnx_error(c, err, SNN_E_UNSUPPORTED,
                              "input '%s' must be a constant (an initializer "
                              "or Constant node)", c->node->input[k]);
    if (st == SNN_OK)
        *t = v->tensor;
    return st;
}

snn_status snn_onnx_define(onnx_ctx *c, size_t k, const onnx_value *v,
                           snn_error *err)
{
    if (k >= c->node->n_output || c->node->output[k][0] == '\0')
        return snn_onnx_error(c, err, SNN_E_FORMAT, "output %zu is missing",
                              k);
    onnx_value named = *v;
    named.name = c->node->output[k];
    return bind(c, &named, err);
}

snn_status snn_onnx_define_layer(onnx_ctx *c, size_t k, int layer,
                                 snn_error *err)
{
    onnx_value v = {.kind = ONNX_LAYER, .layer = layer};
    return snn_onnx_define(c, k, &v, err);
}

int snn_onnx_uses(const onnx_ctx *c, const char *name)
{
    int uses = 0;
    const Onnx__GraphProto *gr = c->graph;
    for (size_t i = 0; i < gr->n_node; i++)
        for (size_t k = 0; k < gr->node[i]->n_input; k++)
            uses += strcmp(gr->node[i]->input[k], name) == 0;
    for (size_t i = 0; i < gr->n_output; i++)
        uses += gr->output[i]->name && strcmp(gr->output[i]->name, name) == 0;
    return uses;
}

/* ---- graph inputs and constants ----------------------------------------- */

static int is_initializer(const Onnx__GraphProto *gr, const char *name)
{
    for (size_t i = 0; i < gr->n_initializer; i++)
        if (gr->initializer[i]->name &&
            strcmp(gr->initializer[i]->name, name) == 0)
            return 1;
    return 0;
}

/* Per-sample shape of a graph input: (N, C, H, W) -> (C, H, W), a
 * sequence (N, C, L) -> (C, 1, L), (N, F) -> (F); the batch size may be
 * symbolic. */
static snn_status input_shape(onnx_ctx *c, const Onnx__ValueInfoProto *in,
                              snn_shape *s, snn_error *err)
{
    const Onnx__TypeProto *t = in->type;
    const Onnx__TensorShapeProto *sh =
        t && t->value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE &&
                t->tensor_type ? t->tensor_type->shape : NULL;
    size_t nd = sh ? sh->n_dim : 0;
    if (nd < 2 || nd > 4)
        return snn_onnx_error(c, err, SNN_E_UNSUPPORTED,
                              "graph input '%s' has rank %zu; expected (N, "
                              "C, H, W), (N, C, L) or (N, F)", in->name, nd);
    s->ndim = nd == 2 ? 1 : 3;
    s->dims[1] = 1;
    for (size_t k = 1; k < nd; k++) {
        const Onnx__TensorShapeProto__Dimension *d = sh->dim[k];
        int fixed = d->value_case ==
                    ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
        if (!fixed || d->dim_value < 1 || d->dim_value > INPUT_DIM_MAX)
            return snn_onnx_error(c, err, SNN_E_UNSUPPORTED,
                                  "graph input '%s': dimension %zu must be a "
                                  "fixed size between 1 and %lld", in->name,
                                  k, (long long)INPUT_DIM_MAX);
        s->dims[nd == 3 && k == 2 ? 2 : k - 1] = (size_t)d->dim_value;
    }
    return SNN_OK;
}

static snn_status add_input(onnx_ctx *c, snn_error *err)
{
    const Onnx__GraphProto *gr = c->graph;
    const Onnx__ValueInfoProto *in = NULL;
    for (size_t i = 0; i < gr->n_input; i++) {
        if (!gr->input[i]->name || is_initializer(gr, gr->input[i]->name))
            continue;
        if (in)
            return snn_onnx_error(c, err, SNN_E_UNSUPPORTED,
                                  "graph inputs '%s' and '%s': only one is "
                                  "supported", in->name, gr->input[i]->name);
        in = gr->input[i];
    }
    if (!in)
        return snn_onnx_error(c, err, SNN_E_FORMAT, "the graph has no input");
    snn_layer l;
    snn_layer_defaults(&l, SNN_OP_INPUT, in->name, "Input");
    snn_status st = input_shape(c, in, &l.shape, err);
    int idx;
    if (st == SNN_OK)
        st = snn_pg_add(c->g, &l, &idx, err);
    onnx_value v = {.name = in->name, .kind = ONNX_LAYER, .layer = idx};
    return st == SNN_OK ? bind(c, &v, err) : st;
}

static snn_status add_initializers(onnx_ctx *c, snn_error *err)
{
    for (size_t i = 0; i < c->graph->n_initializer; i++) {
        const Onnx__TensorProto *t = c->graph->initializer[i];
        if (!t->name)
            return snn_onnx_error(c, err, SNN_E_FORMAT,
                                  "initializer %zu has no name", i);
        onnx_value v = {.name = t->name, .kind = ONNX_CONST, .tensor = t};
        snn_status st = bind(c, &v, err);
        if (st != SNN_OK)
            return st;
    }
    return SNN_OK;
}

/* ---- the model ---------------------------------------------------------- */

static snn_status check_model(onnx_ctx *c, const Onnx__ModelProto *m,
                              snn_error *err)
{
    if (!m->graph || m->graph->n_node == 0 || !m->has_ir_version ||
        m->ir_version < 1)
        return snn_error_set(err, SNN_E_FORMAT,
                             "%s: not an ONNX model (no ir_version or no "
                             "graph)", c->path);
    c->graph = m->graph;
    c->opset = 0;
    for (size_t i = 0; i < m->n_opset_import; i++) {
        const Onnx__OperatorSetIdProto *o = m->opset_import[i];
        if (!o->domain || !o->domain[0] || strcmp(o->domain, "ai.onnx") == 0)
            c->opset = o->version;
    }
    if (c->opset < 1)
        /* IR version 2 files may omit it: the opset of that era. */
        c->opset = 1;
    return SNN_OK;
}

static snn_status build(onnx_ctx *c, snn_error *err)
{
    snn_status st = add_input(c, err);
    if (st == SNN_OK)
        st = add_initializers(c, err);
    for (size_t i = 0; st == SNN_OK && i < c->graph->n_node; i++) {
        c->node = c->graph->node[i];
        if (!c->node->op_type)
            return snn_onnx_error(c, err, SNN_E_FORMAT, "node has no op_type");
        st = snn_onnx_node(c, err);
    }
    c->node = NULL;
    if (st == SNN_OK && c->g->n_layers < 2)
        st = snn_onnx_error(c, err, SNN_E_FORMAT,
                            "the graph computes nothing from its input");
    return st;
}

snn_status snn_parse_onnx(const char *path, snn_graph *g, snn_error *err)
{
    snn_graph_init(g);
    uint8_t *data = NULL;
    size_t len = 0;
    ProtobufCMessage *msg = NULL;
    onnx_ctx c = {.path = path, .g = g};
    snn_status st = snn_proto_read_file(path, ONNX_MAX, &data, &len, err);
    if (st == SNN_OK)
        st = snn_proto_unpack(&onnx__model_proto__descriptor, data, len, path,
                              &msg, err);
    free(data);
    if (st == SNN_OK)
        st = check_model(&c, (const Onnx__ModelProto *)msg, err);
    if (st == SNN_OK)
        st = build(&c, err);
    if (st == SNN_OK)
        snprintf(g->source, sizeof g->source, "onnx opset %lld",
                 (long long)c.opset);
    else
        snn_graph_free(g);
    free(c.vals);
    snn_onnx_fold_free(&c);
    if (msg)
        protobuf_c_message_free_unpacked(msg, NULL);
    return st;
}
