/*
 * caffe.c - reads a Caffe model: the .prototxt (text format) gives the
 * net's structure, the .caffemodel (binary) the learned blobs, matched to
 * the prototxt's layers by name, as Caffe's own CopyTrainedLayersFrom does.
 *
 * Both files may use current `layer` or legacy V1 `layers` messages; they
 * are unified into caffe_view records.  Layers excluded from the TEST phase
 * are dropped (a train_val prototxt's training data layer).  Blobs are
 * names, rebound by in-place layers, so the reader tracks which graph
 * layer currently holds each name.
 */
#include "snntb/parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse/caffe_internal.h"
#include "parse/proto.h"
#include "parse/proto_graph.h"

#define PROTOTXT_MAX ((size_t)64 << 20)
#define CAFFEMODEL_MAX ((size_t)2 << 30)

/* ---- unifying layer messages -------------------------------------------- */

static void view_from_layer(caffe_view *v, const Caffe__LayerParameter *l)
{
    memset(v, 0, sizeof *v);
    v->name = l->name ? l->name : "";
    v->type = l->type ? l->type : "";
    v->n_bottom = l->n_bottom;
    v->bottom = l->bottom;
    v->n_top = l->n_top;
    v->top = l->top;
    v->n_blobs = l->n_blobs;
    v->blobs = l->blobs;
    v->n_include = l->n_include;
    v->include = l->include;
    v->n_exclude = l->n_exclude;
    v->exclude = l->exclude;
    v->conv = l->convolution_param;
    v->pool = l->pooling_param;
    v->ip = l->inner_product_param;
    v->input = l->input_param;
    v->memory = l->memory_data_param;
    v->relu = l->relu_param;
    v->softmax = l->softmax_param;
    v->flatten = l->flatten_param;
    v->bn = l->batch_norm_param;
    v->scale = l->scale_param;
    v->concat = l->concat_param;
    v->eltwise = l->eltwise_param;
}

/* Legacy enum types under the names current Caffe gives them; others keep
 * their enum name, which only appears in an "unsupported" message. */
static const char *v1_type_name(Caffe__V1LayerParameter__LayerType t)
{
    static const struct {
        Caffe__V1LayerParameter__LayerType t;
        const char *name;
    } names[] = {
        {CAFFE__V1_LAYER_PARAMETER__LAYER_TYPE__CONVOLUTION, "Convolution"},
        {CAFFE__V1_LAYER_PARAMETER__LAYER_TYPE__INNER_PRODUCT, "InnerProduct"},
        {CAFFE__V1_LAYER_PARAMETER__LAYER_TYPE__POOLING, "Pooling"},
        {CAFFE__V1_LAYER_PARAMETER__LAYER_TYPE__RELU, "ReLU"},
        {CAFFE__V1_LAYER_PARAMETER__LAYER_TYPE__SOFTMAX, "Softmax"},
        {CAFFE__V1_LAYER_PARAMETER__LAYER_TYPE__DROPOUT, "Dropout"},
        {CAFFE__V1_LAYER_PARAMETER__LAYER_TYPE__FLATTEN, "Flatten"},
        {CAFFE__V1_LAYER_PARAMETER__LAYER_TYPE__CONCAT, "Concat"},
        {CAFFE__V1_LAYER_PARAMETER__LAYER_TYPE__ELTWISE, "Eltwise"},
        {CAFFE__V1_LAYER_PARAMETER__LAYER_TYPE__DATA, "Data"},
        {CAFFE__V1_LAYER_PARAMETER__LAYER_TYPE__MEMORY_DATA, "MemoryData"},
        {CAFFE__V1_LAYER_PARAMETER__LAYER_TYPE__ACCURACY, "Accuracy"},
        {CAFFE__V1_LAYER_PARAMETER__LAYER_TYPE__SOFTMAX_LOSS,
         "SoftmaxWithLoss"},
        {CAFFE__V1_LAYER_PARAMETER__LAYER_TYPE__SIGMOID, "Sigmoid"},
        {CAFFE__V1_LAYER_PARAMETER__LAYER_TYPE__TANH, "TanH"},
        {CAFFE__V1_LAYER_PARAMETER__LAYER_TYPE__SPLIT, "Split"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].t == t)
            return names[i].name;
    const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(
        &caffe__v1_layer_parameter__layer_type__descriptor, (int)t);
    return ev ? ev->name : "unknown V1 type";
}

static void view_from_v1(caffe_view *v, const Caffe__V1LayerParameter *l)
{
    memset(v, 0, sizeof *v);
    v->name = l->name ? l->name : "";
    v->type = v1_type_name(l->type);
    v->n_bottom = l->n_bottom;
    v->bottom = l->bottom;
    v->n_top = l->n_top;
    v->top = l->top;
    v->n_blobs = l->n_blobs;
    v->blobs = l->blobs;
    v->n_include = l->n_include;
    v->include = l->include;
    v->n_exclude = l->n_exclude;
    v->exclude = l->exclude;
    v->conv = l->convolution_param;
    v->pool = l->pooling_param;
    v->ip = l->inner_product_param;
    v->memory = l->memory_data_param;
    v->relu = l->relu_param;
    v->softmax = l->softmax_param;
    v->concat = l->concat_param;
    v->eltwise = l->eltwise_param;
}

static int rule_is_test(const Caffe__NetStateRule *r)
{
    return !r->has_phase || r->phase == CAFFE__PHASE__TEST;
}

/* Caffe's StateMeetsRule for the TEST phase, levels and stages aside. */
static int in_test_phase(const caffe_view *v)
{
    for (size_t i = 0; i < v->n_exclude; i++)
        if (rule_is_test(v->exclude[i]))
            return 0;
    if (v->n_include == 0)
        return 1;
    for (size_t i = 0; i < v->n_include; i++)
        if (rule_is_test(v->include[i]))
            return 1;
    return 0;
}

/* The views of a net's layers, current and legacy; with test_only, only
 * those in the TEST phase. */
static snn_status make_views(const Caffe__NetParameter *net, int test_only,
                             caffe_view **out, size_t *n, snn_error *err)
{
    size_t total = net->n_layer + net->n_layers;
    caffe_view *v = calloc(total ? total : 1, sizeof *v);
    if (!v)
        return snn_error_set(err, SNN_E_NOMEM, "cannot allocate %zu layers",
                             total);
    size_t k = 0;
    for (size_t i = 0; i < net->n_layer; i++) {
        view_from_layer(&v[k], net->layer[i]);
        k += !test_only || in_test_phase(&v[k]);
    }
    for (size_t i = 0; i < net->n_layers; i++) {
        view_from_v1(&v[k], net->layers[i]);
        k += !test_only || in_test_phase(&v[k]);
    }
    *out = v;
    *n = k;
    return SNN_OK;
}

/* ---- blobs by name ------------------------------------------------------ */

static caffe_blob *find_blob(const caffe_ctx *c, const char *name)
{
    for (size_t i = c->n_blobs; i-- > 0;)
        if (strcmp(c->blobs[i].name, name) == 0)
            return &c->blobs[i];
    return NULL;
}

snn_status snn_caffe_bottom(caffe_ctx *c, size_t i, size_t k, int *layer,
                            snn_error *err)
{
    const caffe_view *v = &c->views[i];
    caffe_blob *b = k < v->n_bottom ? find_blob(c, v->bottom[k]) : NULL;
    if (!b)
        return snn_error_set(err, SNN_E_FORMAT,
                             "%s: layer '%s' (%s): bottom %zu ('%s') is not "
                             "produced by any earlier layer", c->path,
                             v->name, v->type, k,
                             k < v->n_bottom ? v->bottom[k] : "missing");
    b->reads++;
    *layer = b->layer;
    return SNN_OK;
}

snn_status snn_caffe_define(caffe_ctx *c, const char *name, int layer,
                            snn_error *err)
{
    caffe_blob *b = find_blob(c, name);
    if (!b) {
        if (c->n_blobs == c->cap_blobs) {
            size_t cap = c->cap_blobs ? 2 * c->cap_blobs : 16;
            caffe_blob *grown = realloc(c->blobs, cap * sizeof *grown);
            if (!grown)
                return snn_error_set(err, SNN_E_NOMEM,
                                     "cannot grow the blob table");
            c->blobs = grown;
            c->cap_blobs = cap;
        }
        b = &c->blobs[c->n_blobs++];
        b->name = name;
    }
    b->layer = layer;
    b->reads = 0;
    return SNN_OK;
}

static int reads_blob(const caffe_view *v, const char *name)
{
    for (size_t k = 0; k < v->n_bottom; k++)
        if (strcmp(v->bottom[k], name) == 0)
            return 1;
    return 0;
}

static int writes_blob(const caffe_view *v, const char *name)
{
    for (size_t k = 0; k < v->n_top; k++)
        if (strcmp(v->top[k], name) == 0)
            return 1;
    return 0;
}

int snn_caffe_sole_reader(const caffe_ctx *c, size_t i)
{
    const caffe_view *v = &c->views[i];
    const caffe_blob *b = v->n_bottom ? find_blob(c, v->bottom[0]) : NULL;
    if (!b || b->reads != 1)
        return 0;
    /* In place: whoever reads the name later reads our output. */
    if (writes_blob(v, v->bottom[0]))
        return 1;
    for (size_t j = i + 1; j < c->n_views; j++) {
        if (reads_blob(&c->views[j], v->bottom[0]))
            return 0;
        if (writes_blob(&c->views[j], v->bottom[0]))
            return 1;
    }
    return 1;
}

const caffe_view *snn_caffe_weights(const caffe_ctx *c, size_t i)
{
    const caffe_view *v = &c->views[i];
    if (v->n_blobs)
        return v;
    for (size_t j = 0; j < c->n_wviews; j++)
        if (strcmp(c->wviews[j].name, v->name) == 0)
            return &c->wviews[j];
    return NULL;
}

/* ---- the net ------------------------------------------------------------ */

/* Inputs declared at net level (input: + input_shape / input_dim), the
 * form deploy prototxts used before the Input layer existed. */
static snn_status net_input(caffe_ctx *c, const Caffe__NetParameter *net,
                            snn_error *err)
{
    if (net->n_input == 0)
        return SNN_OK;
    if (net->n_input > 1)
        return snn_error_set(err, SNN_E_UNSUPPORTED,
                             "%s: %zu net inputs; only one is supported",
                             c->path, net->n_input);
    snn_layer l;
    snn_layer_defaults(&l, SNN_OP_INPUT, net->input[0], "Input");
    size_t nd = 0;
    long long d[4] = {0};
    if (net->n_input_shape) {
        nd = net->input_shape[0]->n_dim;
        for (size_t k = 0; k < nd && k < 4; k++)
            d[k] = net->input_shape[0]->dim[k];
    } else {
        nd = net->n_input_dim;
        for (size_t k = 0; k < nd && k < 4; k++)
            d[k] = net->input_dim[k];
    }
    if ((nd != 4 && nd != 2) || d[1] < 1 || d[nd - 1] < 1 ||
        (nd == 4 && d[2] < 1))
        return snn_error_set(err, SNN_E_FORMAT,
                             "%s: net input '%s' needs a shape of (N, C, H, "
                             "W) or (N, C) with positive sizes", c->path,
                             net->input[0]);
    l.shape.ndim = (int)nd - 1;
    for (size_t k = 1; k < nd; k++)
        l.shape.dims[k - 1] = (size_t)d[k];
    int idx;
    snn_status st = snn_pg_add(c->g, &l, &idx, err);
    if (st != SNN_OK)
        return st;
    return snn_caffe_define(c, net->input[0], idx, err);
}

static snn_status build(caffe_ctx *c, const Caffe__NetParameter *net,
                        snn_error *err)
{
    snn_status st = net_input(c, net, err);
    for (size_t i = 0; st == SNN_OK && i < c->n_views; i++)
        st = snn_caffe_layer(c, i, err);
    if (st != SNN_OK)
        return st;
    if (c->g->n_layers < 2)
        return snn_error_set(err, SNN_E_FORMAT,
                             "%s: the net has no input or no layers",
                             c->path);
    return SNN_OK;
}

static snn_status load_net(const char *path, int text, size_t max,
                           Caffe__NetParameter **net, snn_error *err)
{
    uint8_t *data;
    size_t len;
    ProtobufCMessage *msg = NULL;
    snn_status st = snn_proto_read_file(path, max, &data, &len, err);
    if (st != SNN_OK)
        return st;
    if (text)
        st = snn_proto_text_parse(&caffe__net_parameter__descriptor,
                                  (const char *)data, len, path, &msg, err);
    else
        st = snn_proto_unpack(&caffe__net_parameter__descriptor, data, len,
                              path, &msg, err);
    free(data);
    *net = (Caffe__NetParameter *)msg;
    return st;
}

snn_status snn_parse_caffe(const char *prototxt, const char *caffemodel,
                           snn_graph *g, snn_error *err)
{
    snn_graph_init(g);
    Caffe__NetParameter *def = NULL, *trained = NULL;
    caffe_ctx c = {.path = prototxt, .wpath = caffemodel, .g = g};
    snn_status st = load_net(prototxt, 1, PROTOTXT_MAX, &def, err);
    if (st == SNN_OK)
        st = load_net(caffemodel, 0, CAFFEMODEL_MAX, &trained, err);
    if (st == SNN_OK)
        st = make_views(def, 1, &c.views, &c.n_views, err);
    if (st == SNN_OK)
        st = make_views(trained, 0, &c.wviews, &c.n_wviews, err);
    if (st == SNN_OK && c.n_wviews == 0)
        st = snn_error_set(err, SNN_E_FORMAT,
                           "%s: holds no layers (not a .caffemodel?)",
                           caffemodel);
    if (st == SNN_OK)
        st = build(&c, def, err);
    if (st == SNN_OK)
        snprintf(g->source, sizeof g->source, "caffe");
    else
        snn_graph_free(g);
    free(c.views);
    free(c.wviews);
    free(c.blobs);
    if (def)
        protobuf_c_message_free_unpacked(&def->base, NULL);
    if (trained)
        protobuf_c_message_free_unpacked(&trained->base, NULL);
    return st;
}
