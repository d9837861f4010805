/*
 * keras.c - reads a Keras model into the graph: a legacy HDF5 model file
 * (model_config + model_weights), a .json architecture with a
 * weights-only .h5 or Keras 3 .weights.h5 of the same stem beside it, or a
 * Keras 3 .keras archive (keras_zip.c).
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
    int zip;          /* variables by saver path (layers/.../vars): a
                         .keras archive or a Keras 3 .weights.h5 */
} keras_sources;

/* Progress through one model's layer list (the top model's, or that of a
 * model nested in it).  Per Keras layer i: out[i], the graph layer
 * carrying its output (a Dropout passes its input's on).  Per graph layer:
 * rank of its output. */
typedef struct keras_walk {
    int *out;
    int *rank;          /* shared by the walks of nested models */
    size_t cap;         /* entries of rank */
    int last;           /* output of the previous Keras layer */
    int feed;           /* a nested model: the graph layer its input layer
                           stands for; -1 for the top model */
    const char *prefix; /* .keras: where this model's layers' variables
                           live ("" or "layers/sequential/") */
    const char *wgroup; /* legacy HDF5: the top-level group that holds a
                           nested model's weights; NULL for the top model */
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

/* The weights beside a .json: <stem>.h5 as Keras 1/2 save_weights wrote
 * it (a group per layer), or Keras 3's <stem>.weights.h5, laid out as in
 * a .keras archive. */
static snn_status open_json_pair(const char *path, keras_sources *s,
                                 snn_error *err)
{
    size_t stem = strlen(path) - strlen(".json");
    if (stem + sizeof ".weights.h5" > sizeof s->wpath)
        return snn_error_set(err, SNN_E_INVALID, "%s: path too long", path);
    snprintf(s->wpath, sizeof s->wpath, "%.*s.weights.h5", (int)stem, path);
    FILE *f = fopen(s->wpath, "rb");
    if (f)
        fclose(f);
    else
        snprintf(s->wpath, sizeof s->wpath, "%.*s.h5", (int)stem, path);
    snn_status st = load_json_file(path, &s->model, err);
    if (st == SNN_OK)
        st = snn_h5_open(s->wpath, &s->file, err);
    if (st == SNN_OK && (s->weights = H5Gopen2(s->file, "/", H5P_DEFAULT)) < 0)
        st = snn_error_set(err, SNN_E_FORMAT, "%s: no root group",
                           s->wpath);
    s->zip = st == SNN_OK && snn_h5_has(s->file, "layers") &&
             H5Aexists(s->file, "layer_names") <= 0;
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

static int is_model(const char *cls)
{
    return cls && (strcmp(cls, "Sequential") == 0 ||
                   strcmp(cls, "Functional") == 0 ||
                   strcmp(cls, "Model") == 0);
}

static const char *class_of(json_t *layer)
{
    return json_string_value(json_object_get(layer, "class_name"));
}

/* The layer list of a model entry {class_name, config}: the config itself
 * (Keras 1 and early 2 Sequential) or its "layers". */
static json_t *model_layers(json_t *model)
{
    json_t *config = json_object_get(model, "config");
    return json_is_array(config) ? config : json_object_get(config, "layers");
}

/* Layers of the model and of the models nested in it. */
static size_t count_layers(json_t *layers)
{
    size_t n = 0, i;
    json_t *layer;
    json_array_foreach(layers, i, layer)
        n += is_model(class_of(layer)) ? count_layers(model_layers(layer))
                                       : 1;
    return n;
}

/* Keras 1 configs, nested models' included, in Keras 2's terms. */
static snn_status translate_keras1(keras_ctx *c, json_t *layers,
                                   snn_error *err)
{
    snn_status st = SNN_OK;
    size_t i;
    json_t *layer;
    json_array_foreach(layers, i, layer) {
        st = is_model(class_of(layer))
                 ? translate_keras1(c, model_layers(layer), err)
                 : snn_keras1_translate(c, layer, err);
        if (st != SNN_OK)
            break;
    }
    return st;
}

static const char *layer_name(json_t *layer)
{
    const char *name = json_string_value(
        json_object_get(json_object_get(layer, "config"), "name"));
    return name ? name : json_string_value(json_object_get(layer, "name"));
}

/* The layouts the layers state: the first non-Flatten one with the layer
 * stating it, and the first Flatten's. */
typedef struct keras_layout {
    const char *layout, *who, *flat;
} keras_layout;

static snn_status scan_layout(keras_ctx *c, json_t *layers, keras_layout *k,
                              snn_error *err)
{
    size_t i;
    json_t *layer;
    json_array_foreach(layers, i, layer) {
        json_t *cfg = json_object_get(layer, "config");
        const char *df = json_string_value(json_object_get(cfg,
                                                           "data_format"));
        const char *cls = class_of(layer);
        if (is_model(cls)) {
            snn_status st = scan_layout(c, model_layers(layer), k, err);
            if (st != SNN_OK)
                return st;
            continue;
        }
        if (cls && strlen(cls) > 2 && strcmp(cls + strlen(cls) - 2, "1D") == 0)
            c->sequence = 1;
        if (!df)
            continue;
        if (cls && strcmp(cls, "Flatten") == 0) {
            k->flat = k->flat ? k->flat : df;
        } else if (!k->layout) {
            k->layout = df;
            k->who = layer_name(layer);
        } else if (strcmp(k->layout, df) != 0) {
            return snn_error_set(err, SNN_E_UNSUPPORTED,
                                 "%s: layer '%s' uses %s but layer '%s' uses "
                                 "%s; mixed data formats are not supported",
                                 c->path, layer_name(layer), df, k->who,
                                 k->layout);
        }
    }
    return SNN_OK;
}

/* The model-wide image layout: that of the first layer which states one.
 * Flatten only says in which order it flattens, so it counts only when no
 * other layer states a layout.  A model with a 1-D layer (Conv1D,
 * MaxPooling1D, ...) works on sequences. */
static snn_status detect_layout(keras_ctx *c, json_t *layers, snn_error *err)
{
    keras_layout k = {NULL, NULL, NULL};
    snn_status st = scan_layout(c, layers, &k, err);
    if (st != SNN_OK)
        return st;
    const char *layout = k.layout ? k.layout : k.flat ? k.flat
                                                      : "channels_last";
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
    if (w->feed >= 0) {
        w->last = w->feed; /* a nested model's input: what feeds it */
        return SNN_OK;
    }
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
        const char *other = class_of(json_array_get(layers, j));
        n += other && strcmp(other, cls) == 0 &&
             (functional || strcmp(cls, "InputLayer") != 0);
    }
    snn_keras_vars_path(w->prefix, cls, n, w->vars, sizeof w->vars);
}

static snn_status walk(keras_ctx *c, keras_walk *w, json_t *model,
                       snn_graph *g, int *result, snn_error *err);

/* A model used as a layer of this one: its layers join the graph, its
 * input layer standing for what feeds it.  Keras saves its variables
 * under its own path (.keras) or, legacy, all in the group of the
 * outermost nested model. */
static snn_status visit_model(keras_ctx *c, keras_walk *w, json_t *layers,
                              size_t i, int functional, snn_graph *g,
                              snn_error *err)
{
    char prefix[KERAS_VARS_MAX];
    int feed = g->n_layers ? w->last : -1, n_in = 1;
    snn_status st = SNN_OK;
    if (functional) {
        int inputs[SNN_MAX_INPUTS];
        st = functional_inputs(c, layers, i, w, inputs, &n_in, err);
        feed = st == SNN_OK ? inputs[0] : -1;
    }
    if (st == SNN_OK && n_in != 1)
        st = snn_error_set(err, SNN_E_UNSUPPORTED,
                           "%s: nested model '%s' takes %d inputs; one is "
                           "supported", c->path, c->name, n_in);
    /* The saver path also bounds the recursion on a hostile file. */
    if (st == SNN_OK && strlen(w->vars) + 1 >= sizeof w->vars)
        st = snn_error_set(err, SNN_E_UNSUPPORTED,
                           "%s: model '%s' is nested too deeply", c->path,
                           c->name);
    if (st != SNN_OK)
        return st;
    /* w->vars is <prefix>layers/<name>/vars: its models' layers are under
     * <prefix>layers/<name>/. */
    snprintf(prefix, sizeof prefix, "%.*s", (int)(strlen(w->vars) - 4),
             w->vars);
    keras_walk inner = {NULL, w->rank, w->cap, feed, feed, prefix,
                        w->wgroup ? w->wgroup : c->name, ""};
    int out = -1;
    st = walk(c, &inner, json_array_get(layers, i), g, &out, err);
    w->last = out;
    return st;
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
    vars_path(w, layers, i, functional, c->cls);
    c->vars = c->vars ? w->vars : NULL;
    c->wgroup = w->wgroup;
    snn_status st = SNN_OK;
    if (is_model(c->cls)) {
        st = visit_model(c, w, layers, i, functional, g, err);
    } else if (strcmp(c->cls, "InputLayer") == 0) {
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

/* A Functional model must have one input and one output; *out is the
 * graph layer carrying the output. */
static snn_status functional_output(const keras_ctx *c, json_t *config,
                                    json_t *layers, const keras_walk *w,
                                    int *out, snn_error *err)
{
    keras_srcs ins = {{NULL}, 0}, outs = {{NULL}, 0};
    collect_sources(json_object_get(config, "input_layers"), &ins);
    collect_sources(json_object_get(config, "output_layers"), &outs);
    if (ins.n != 1 || outs.n != 1)
        return snn_error_set(err, SNN_E_UNSUPPORTED,
                             "%s: a model with %zu inputs and %zu outputs is "
                             "not supported (one of each is)", c->path, ins.n,
                             outs.n);
    *out = output_of(layers, json_array_size(layers), w, outs.name[0]);
    if (*out < 0)
        return snn_error_set(err, SNN_E_FORMAT,
                             "%s: output layer '%s' is not a layer of the "
                             "model", c->path, outs.name[0]);
    return SNN_OK;
}

/* The model's output must be the graph's last layer, and every layer must
 * lead to it, so that nothing computed is left dangling. */
static snn_status check_ends(const keras_ctx *c, int out, const snn_graph *g,
                             snn_error *err)
{
    if (out != g->n_layers - 1)
        return snn_error_set(err, SNN_E_UNSUPPORTED,
                             "%s: output layer '%s' is not the last layer "
                             "computed", c->path, g->layers[out].name);
    for (int k = 0; k + 1 < g->n_layers; k++)
        if (snn_graph_consumers(g, k) == 0)
            return snn_error_set(err, SNN_E_UNSUPPORTED,
                                 "%s: the output of layer '%s' is not used "
                                 "by the model's output", c->path,
                                 g->layers[k].name);
    return SNN_OK;
}

/* Adds the layers of model (the top model, or one nested in it) to the
 * graph; *result is the graph layer carrying its output. */
static snn_status walk(keras_ctx *c, keras_walk *w, json_t *model,
                       snn_graph *g, int *result, snn_error *err)
{
    const char *cls = class_of(model);
    json_t *layers = model_layers(model);
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
    w->out = calloc(n, sizeof(int));
    if (!w->out)
        st = snn_error_set(err, SNN_E_NOMEM, "%s: %zu layers", c->path, n);
    for (size_t i = 0; st == SNN_OK && i < n; i++)
        st = visit(c, w, layers, i, functional, g, err);
    *result = w->last;
    if (st == SNN_OK && functional)
        st = functional_output(c, json_object_get(model, "config"), layers, w,
                               result, err);
    free(w->out);
    w->out = NULL;
    return st;
}

static snn_status build(keras_ctx *c, json_t *model, snn_graph *g,
                        snn_error *err)
{
    json_t *layers = model_layers(model);
    snn_status st = c->version[0] == 1 ? translate_keras1(c, layers, err)
                                       : SNN_OK;
    if (st == SNN_OK)
        st = detect_layout(c, layers, err);
    if (st != SNN_OK)
        return st;
    size_t cap = KERAS_MAX_LAYERS * count_layers(layers) + 1;
    keras_walk w = {NULL, calloc(cap, sizeof(int)), cap, 0, -1, "", NULL, ""};
    int out = -1;
    if (!w.rank)
        st = snn_error_set(err, SNN_E_NOMEM, "%s: %zu layers", c->path, cap);
    if (st == SNN_OK)
        st = walk(c, &w, model, g, &out, err);
    if (st == SNN_OK)
        st = check_ends(c, out, g, err);
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
    keras_ctx c = {path, src.wpath, src.weights, {0, 0, 0}, 0, 0, 0,
                   src.zip ? "" : NULL, NULL, NULL, NULL, NULL, 0, 0};
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
