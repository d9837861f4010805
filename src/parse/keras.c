/*
 * keras.c - reads a Keras model into the graph: a legacy HDF5 model file
 * (model_config + model_weights), a .json architecture with a
 * weights-only .h5 of the same stem beside it, or a Keras 3 .keras archive
 * (keras_zip.c).
 *
 * This half handles files and topology: Sequential models in their three
 * JSON shapes (Keras 1/early 2 list, Keras 2 dict, Keras 3 with
 * InputLayer), Functional models (DAGs: branches, a tensor feeding several
 * layers, Add and Concatenate joining them; each layer applied once), and
 * the model's data format.  keras_layers.c converts each layer, after
 * keras1.c has rewritten a Keras 1 layer into its Keras 2 form.
 *
 * HDF5 prints its own error stack by default; our messages replace it, so
 * the whole read runs inside H5E_BEGIN_TRY/H5E_END_TRY, which restores the
 * caller's (process-wide) HDF5 error handler afterwards.
 */
#include "snntb/parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h5util.h"
#include "keras_internal.h"

/* Where the architecture and the weights come from. */
typedef struct keras_sources {
    json_t *model;    /* model_config (or the .json file) */
    hid_t file;       /* the HDF5 file holding the weights */
    hid_t weights;    /* its group of per-layer groups */
    char wpath[4096]; /* that file's name */
    char version[32]; /* a .keras archive's keras_version, or "" */
    int zip;          /* a .keras archive: variables by saver path */
} keras_sources;

/* Progress through the layer list.  Per Keras layer i: out[i], the graph
 * layer carrying its output (a Dropout passes its input's on).  Per graph
 * layer: rank of its output. */
typedef struct keras_walk {
    int *out;
    int *rank;
    size_t cap; /* entries of rank */
    int last;   /* output of the previous Keras layer */
    char vars[KERAS_VARS_MAX]; /* .keras: the current layer's variables */
} keras_walk;

/* The layers feeding one node, by name. */
typedef struct keras_sources_of {
    const char *name[SNN_MAX_INPUTS];
    size_t n;
} keras_srcs;

static int has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* ---- files -------------------------------------------------------------- */

static snn_status load_json_file(const char *path, json_t **out,
                                 snn_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return snn_error_set(err, SNN_E_IO, "%s: cannot open", path);
    fclose(f);
    json_error_t jerr;
    *out = json_load_file(path, 0, &jerr);
    if (!*out)
        return snn_error_set(err, SNN_E_FORMAT, "%s:%d: invalid JSON: %s",
                             path, jerr.line, jerr.text);
    return SNN_OK;
}

static snn_status open_json_pair(const char *path, keras_sources *s,
                                 snn_error *err)
{
    size_t stem = strlen(path) - strlen(".json");
    if (stem + sizeof ".h5" > sizeof s->wpath)
        return snn_error_set(err, SNN_E_INVALID, "%s: path too long", path);
    snprintf(s->wpath, sizeof s->wpath, "%.*s.h5", (int)stem, path);
    snn_status st = load_json_file(path, &s->model, err);
    if (st == SNN_OK)
        st = snn_h5_open(s->wpath, &s->file, err);
    if (st == SNN_OK && (s->weights = H5Gopen2(s->file, "/", H5P_DEFAULT)) < 0)
        st = snn_error_set(err, SNN_E_FORMAT, "%s: no root group",
                           s->wpath);
    return st;
}

static snn_status open_archive(const char *path, keras_sources *s,
                               snn_error *err)
{
    if (strlen(path) + sizeof ":model.weights.h5" > sizeof s->wpath)
        return snn_error_set(err, SNN_E_INVALID, "%s: path too long", path);
    snprintf(s->wpath, sizeof s->wpath, "%s:model.weights.h5", path);
    s->zip = 1;
    snn_status st = snn_keras_zip_open(path, &s->model, s->version, &s->file,
                                       err);
    if (st == SNN_OK && (s->weights = H5Gopen2(s->file, "/", H5P_DEFAULT)) < 0)
        st = snn_error_set(err, SNN_E_FORMAT, "%s: no root group",
                           s->wpath);
    return st;
}

static snn_status open_model_h5(const char *path, keras_sources *s,
                                snn_error *err)
{
    if (strlen(path) >= sizeof s->wpath)
        return snn_error_set(err, SNN_E_INVALID, "%s: path too long", path);
    snprintf(s->wpath, sizeof s->wpath, "%s", path);
    snn_status st = snn_h5_open(path, &s->file, err);
    if (st != SNN_OK)
        return st;
    if (H5Aexists(s->file, "model_config") <= 0)
        return snn_error_set(err, SNN_E_FORMAT,
                             "%s: no model_config attribute (a weights-only "
                             "file? give its .json architecture instead)",
                             path);
    char *text;
    st = snn_h5_attr_string(s->file, "model_config", path, &text, err);
    if (st != SNN_OK)
        return st;
    json_error_t jerr;
    s->model = json_loads(text, 0, &jerr);
    free(text);
    if (!s->model)
        return snn_error_set(err, SNN_E_FORMAT,
                             "%s: model_config is not valid JSON: %s", path,
                             jerr.text);
    if (!snn_h5_has(s->file, "model_weights") ||
        (s->weights = H5Gopen2(s->file, "model_weights", H5P_DEFAULT)) < 0)
        return snn_error_set(err, SNN_E_FORMAT,
                             "%s: no model_weights group (saved without "
                             "weights?)", path);
    return SNN_OK;
}

static void sources_close(keras_sources *s)
{
    json_decref(s->model);
    if (s->weights >= 0)
        H5Gclose(s->weights);
    if (s->file >= 0)
        H5Fclose(s->file);
}

/* keras_version from the JSON (to_json writes it) or the HDF5 root. */
static void read_version(keras_ctx *c, const keras_sources *s)
{
    const char *v = json_string_value(json_object_get(s->model,
                                                      "keras_version"));
    char *attr = NULL;
    if (!v && s->version[0])
        v = s->version;
    if (!v && H5Aexists(s->file, "keras_version") > 0 &&
        snn_h5_attr_string(s->file, "keras_version", s->wpath, &attr,
                           NULL) == SNN_OK)
        v = attr;
    if (v && sscanf(v, "%d.%d.%d", &c->version[0], &c->version[1],
                    &c->version[2]) < 1)
        memset(c->version, 0, sizeof c->version);
    free(attr);
}

/* ---- topology ----------------------------------------------------------- */

static const char *layer_name(json_t *layer)
{
    const char *name = json_string_value(
        json_object_get(json_object_get(layer, "config"), "name"));
    return name ? name : json_string_value(json_object_get(layer, "name"));
}

/* The model-wide image layout: that of the first layer which states one.
 * Flatten only says in which order it flattens, so it counts only when no
 * other layer states a layout.  A model with a 1-D layer (Conv1D,
 * MaxPooling1D, ...) works on sequences. */
static snn_status detect_layout(keras_ctx *c, json_t *layers, snn_error *err)
{
    const char *layout = NULL, *flat = NULL, *who = NULL;
    size_t i;
    json_t *layer;
    json_array_foreach(layers, i, layer) {
        json_t *cfg = json_object_get(layer, "config");
        const char *df = json_string_value(json_object_get(cfg,
                                                           "data_format"));
        const char *cls = json_string_value(json_object_get(layer,
                                                            "class_name"));
        if (cls && strlen(cls) > 2 && strcmp(cls + strlen(cls) - 2, "1D") == 0)
            c->sequence = 1;
        if (!df)
            continue;
        if (cls && strcmp(cls, "Flatten") == 0) {
            flat = flat ? flat : df;
        } else if (!layout) {
            layout = df;
            who = layer_name(layer);
        } else if (strcmp(layout, df) != 0) {
            return snn_error_set(err, SNN_E_UNSUPPORTED,
                                 "%s: layer '%s' uses %s but layer '%s' uses "
                                 "%s; mixed data formats are not supported",
                                 c->path, layer_name(layer), df, who, layout);
        }
    }
    layout = layout ? layout : flat ? flat : "channels_last";
    if (strcmp(layout, "channels_last") && strcmp(layout, "channels_first"))
        return snn_error_set(err, SNN_E_UNSUPPORTED,
                             "%s: data_format '%s' is not supported", c->path,
                             layout);
    c->channels_first = strcmp(layout, "channels_first") == 0;
    return SNN_OK;
}

/* Names of the layers feeding a node, in order, whatever the Keras version
 * wrote: Keras 2 lists [name, node, tensor, kwargs], Keras 3 nests
 * {"keras_history": [name, node, tensor]} inside the call's args.  Counts
 * past SNN_MAX_INPUTS without storing. */
static void collect_sources(json_t *v, keras_srcs *out)
{
    size_t i;
    const char *key;
    json_t *e;
    if (json_is_array(v) && json_array_size(v) >= 3 &&
        json_is_string(json_array_get(v, 0)) &&
        json_is_integer(json_array_get(v, 1))) {
        if (out->n < SNN_MAX_INPUTS)
            out->name[out->n] = json_string_value(json_array_get(v, 0));
        out->n++;
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, e)
            collect_sources(e, out);
    } else if (json_is_object(v)) {
        json_object_foreach(v, key, e)
            collect_sources(e, out);
    }
}

/* The graph layer carrying the output of the Keras layer called name,
 * among the first `before` layers; -1 if there is none. */
static int output_of(json_t *layers, size_t before, const keras_walk *w,
                     const char *name)
{
    for (size_t j = 0; j < before; j++) {
        const char *other = layer_name(json_array_get(layers, j));
        if (other && strcmp(other, name) == 0)
            return w->out[j];
    }
    return -1;
}

static snn_status functional_inputs(const keras_ctx *c, json_t *layers,
                                    size_t i, const keras_walk *w,
                                    int *inputs, int *n_in, snn_error *err)
{
    json_t *nodes = json_object_get(json_array_get(layers, i),
                                    "inbound_nodes");
    keras_srcs src = {{NULL}, 0};
    if (json_array_size(nodes) > 1)
        return snn_error_set(err, SNN_E_UNSUPPORTED,
                             "%s: layer '%s' is applied %zu times; shared "
                             "layers are not supported", c->path, c->name,
                             json_array_size(nodes));
    collect_sources(json_array_get(nodes, 0), &src);
    if (src.n == 0)
        return snn_error_set(err, SNN_E_FORMAT,
                             "%s: layer '%s' has no inbound node", c->path,
                             c->name);
    if (src.n > SNN_MAX_INPUTS)
        return snn_error_set(err, SNN_E_UNSUPPORTED,
                             "%s: layer '%s' has %zu inputs; at most %d are "
                             "supported", c->path, c->name, src.n,
                             SNN_MAX_INPUTS);
    for (size_t k = 0; k < src.n; k++) {
        inputs[k] = output_of(layers, i, w, src.name[k]);
        if (inputs[k] < 0)
            return snn_error_set(err, SNN_E_FORMAT,
                                 "%s: layer '%s' takes its input from "
                                 "unknown layer '%s'", c->path, c->name,
                                 src.name[k]);
    }
    *n_in = (int)src.n;
    return SNN_OK;
}

static snn_status add_input(keras_ctx *c, keras_walk *w, json_t *cfg,
                            const char *name, snn_graph *g, snn_error *err)
{
    if (g->n_layers > 0)
        return snn_error_set(err, SNN_E_UNSUPPORTED,
                             "%s: layer '%s': models with more than one input "
                             "are not supported", c->path, name);
    snn_layer l;
    snn_status st = snn_keras_input(c, cfg, name, &l, err);
    if (st == SNN_OK)
        st = snn_graph_add(g, &l, &w->last, err);
    if (st == SNN_OK)
        w->rank[w->last] = c->rank;
    return st;
}

/* Appends the converted layers, each fed by the one before, the first by
 * inputs; w->last becomes the last one. */
static snn_status append(keras_ctx *c, keras_walk *w, snn_layer *ls, int n,
                         const int *inputs, int n_in, snn_graph *g,
                         snn_error *err)
{
    snn_status st = SNN_OK;
    int k = 0;
    for (; k < n && st == SNN_OK; k++) {
        if ((size_t)g->n_layers >= w->cap)
            st = snn_error_set(err, SNN_E_INVALID, "%s: too many layers",
                               c->path);
        if (st != SNN_OK)
            break;
        if (k == 0) {
            memcpy(ls[k].inputs, inputs, (size_t)n_in * sizeof *inputs);
            ls[k].n_inputs = n_in;
        } else {
            ls[k].inputs[0] = w->last;
            ls[k].n_inputs = 1;
        }
        st = snn_graph_add(g, &ls[k], &w->last, err);
        if (st == SNN_OK)
            w->rank[w->last] = c->rank;
    }
    for (k = st == SNN_OK ? n : k; k < n; k++)
        snn_keras_layer_release(&ls[k]);
    return st;
}

/* Converts the layer fed by graph layers inputs[] and appends it.  Shapes
 * are inferred first, as some layers (global pooling) need their input's. */
static snn_status add_layer(keras_ctx *c, keras_walk *w, json_t *cfg,
                            const int *inputs, int n_in, snn_graph *g,
                            snn_error *err)
{
    snn_status st = snn_graph_infer_shapes(g, err);
    if (st != SNN_OK)
        return snn_error_prefix(err, "%s: ", c->path);
    c->rank = w->rank[inputs[0]];
    c->in = &g->layers[inputs[0]].shape;
    c->n_inputs = n_in;
    snn_layer ls[KERAS_MAX_LAYERS];
    int n = 0;
    st = snn_keras_layer(c, cfg, ls, &n, err);
    w->last = inputs[0];
    if (st != SNN_OK)
        return st;
    if (n == 0 && n_in > 1)
        return snn_error_set(err, SNN_E_UNSUPPORTED,
                             "%s: layer '%s' of type '%s' has %d inputs",
                             c->path, c->name, c->cls, n_in);
    return append(c, w, ls, n, inputs, n_in, g, err);
}

/* Where a .keras archive keeps layer i's variables: Keras' saver numbers
 * the layers of each class in model.layers order, which for a Sequential
 * leaves out its InputLayer. */
static void vars_path(keras_walk *w, json_t *layers, size_t i,
                      int functional, const char *cls)
{
    int n = 0;
    for (size_t j = 0; j < i; j++) {
        const char *other = json_string_value(
            json_object_get(json_array_get(layers, j), "class_name"));
        n += other && strcmp(other, cls) == 0 &&
             (functional || strcmp(cls, "InputLayer") != 0);
    }
    snn_keras_vars_path(cls, n, w->vars, sizeof w->vars);
}

static snn_status visit(keras_ctx *c, keras_walk *w, json_t *layers, size_t i,
                        int functional, snn_graph *g, snn_error *err)
{
    json_t *layer = json_array_get(layers, i);
    json_t *cfg = json_object_get(layer, "config");
    c->name = layer_name(layer);
    c->cls = json_string_value(json_object_get(layer, "class_name"));
    if (!c->name || !c->cls)
        return snn_error_set(err, SNN_E_FORMAT,
                             "%s: layer %zu has no name or class_name",
                             c->path, i);
    if (c->vars) {
        vars_path(w, layers, i, functional, c->cls);
        c->vars = w->vars;
    }
    snn_status st = SNN_OK;
    if (strcmp(c->cls, "InputLayer") == 0) {
        st = add_input(c, w, cfg, c->name, g, err);
    } else if (functional) {
        int inputs[SNN_MAX_INPUTS], n_in = 0;
        st = functional_inputs(c, layers, i, w, inputs, &n_in, err);
        if (st == SNN_OK)
            st = add_layer(c, w, cfg, inputs, n_in, g, err);
    } else {
        /* Keras 2 Sequential: the first layer carries the input shape. */
        if (g->n_layers == 0) {
            char name[SNN_NAME_MAX];
            snprintf(name, sizeof name, "%.100s_input", c->name);
            st = add_input(c, w, cfg, name, g, err);
        }
        int input = w->last;
        if (st == SNN_OK)
            st = add_layer(c, w, cfg, &input, 1, g, err);
    }
    w->out[i] = w->last;
    return st;
}

/* A Functional model must have one input and one output, and every layer
 * must lead to that output (the graph's last layer), so that nothing
 * computed is left dangling. */
static snn_status check_ends(const keras_ctx *c, json_t *config,
                             json_t *layers, const keras_walk *w,
                             const snn_graph *g, snn_error *err)
{
    keras_srcs in = {{NULL}, 0}, out = {{NULL}, 0};
    collect_sources(json_object_get(config, "input_layers"), &in);
    collect_sources(json_object_get(config, "output_layers"), &out);
    if (in.n != 1 || out.n != 1)
        return snn_error_set(err, SNN_E_UNSUPPORTED,
                             "%s: a model with %zu inputs and %zu outputs is "
                             "not supported (one of each is)", c->path, in.n,
                             out.n);
    if (output_of(layers, json_array_size(layers), w, out.name[0]) !=
        g->n_layers - 1)
        return snn_error_set(err, SNN_E_UNSUPPORTED,
                             "%s: output layer '%s' is not the last layer "
                             "computed", c->path, out.name[0]);
    for (int k = 0; k + 1 < g->n_layers; k++)
        if (snn_graph_consumers(g, k) == 0)
            return snn_error_set(err, SNN_E_UNSUPPORTED,
                                 "%s: the output of layer '%s' is not used "
                                 "by the model's output", c->path,
                                 g->layers[k].name);
    return SNN_OK;
}

static snn_status build(keras_ctx *c, json_t *model, snn_graph *g,
                        snn_error *err)
{
    const char *cls = json_string_value(json_object_get(model, "class_name"));
    json_t *config = json_object_get(model, "config");
    json_t *layers = json_is_array(config) ? config
                                           : json_object_get(config, "layers");
    size_t n = json_array_size(layers);
    if (!cls || n == 0)
        return snn_error_set(err, SNN_E_FORMAT,
                             "%s: the model config has no class_name or no "
                             "layers", c->path);
    int functional = strcmp(cls, "Model") == 0 ||
                     strcmp(cls, "Functional") == 0;
    if (!functional && strcmp(cls, "Sequential") != 0)
        return snn_error_set(err, SNN_E_UNSUPPORTED,
                             "%s: model class '%s' is not supported "
                             "(Sequential and Functional are)", c->path, cls);
    snn_status st = SNN_OK;
    for (size_t i = 0; st == SNN_OK && c->version[0] == 1 && i < n; i++)
        st = snn_keras1_translate(c, json_array_get(layers, i), err);
    if (st == SNN_OK)
        st = detect_layout(c, layers, err);
    if (st != SNN_OK)
        return st;
    size_t cap = KERAS_MAX_LAYERS * n + 1;
    keras_walk w = {calloc(n, sizeof(int)), calloc(cap, sizeof(int)), cap, 0,
                    ""};
    if (!w.out || !w.rank)
        st = snn_error_set(err, SNN_E_NOMEM, "%s: %zu layers", c->path, n);
    for (size_t i = 0; st == SNN_OK && i < n; i++)
        st = visit(c, &w, layers, i, functional, g, err);
    if (st == SNN_OK && functional)
        st = check_ends(c, config, layers, &w, g, err);
    free(w.out);
    free(w.rank);
    return st;
}

static snn_status parse(const char *path, snn_graph *g, snn_error *err)
{
    keras_sources src = {NULL, -1, -1, "", "", 0};
    snn_status st = has_suffix(path, ".json")    ? open_json_pair(path, &src, err)
                    : has_suffix(path, ".keras") ? open_archive(path, &src, err)
                                                 : open_model_h5(path, &src,
                                                                 err);
    keras_ctx c = {path,  src.wpath, src.weights, {0, 0, 0}, 0,    0, 0,
                   src.zip ? "" : NULL, NULL, NULL, NULL, 0, 0};
    if (st == SNN_OK) {
        read_version(&c, &src);
        st = build(&c, src.model, g, err);
    }
    if (st == SNN_OK && (st = snn_graph_infer_shapes(g, err)) != SNN_OK)
        snn_error_prefix(err, "%s: ", path);
    if (st == SNN_OK)
        snprintf(g->source, sizeof g->source, "keras %d.%d.%d", c.version[0],
                 c.version[1], c.version[2]);
    sources_close(&src);
    return st;
}

snn_status snn_parse_keras(const char *path, snn_graph *g, snn_error *err)
{
    snn_status st = SNN_OK;
    snn_graph_init(g);
    H5E_BEGIN_TRY {
        st = parse(path, g, err);
    } H5E_END_TRY;
    if (st != SNN_OK)
        snn_graph_free(g);
    return st;
}
