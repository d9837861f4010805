/*
 * scalecache.c - see scalecache.h.  The file is JSON: {"key": {...},
 * "scale_factors": {"<layer name>": lambda, ...}}, readable by users who
 * want to see what normalization did.
 */
#include "pipeline/scalecache.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/fsutil.h"

static json_t *file_identity(const char *path)
{
    struct stat st;
    json_t *o = json_object();
    json_object_set_new(o, "path", json_string(path ? path : ""));
    if (path && stat(path, &st) == 0) {
        json_object_set_new(o, "size", json_integer((json_int_t)st.st_size));
        json_object_set_new(o, "mtime", json_integer((json_int_t)st.st_mtime));
    }
    return o;
}

static json_t *key_json(const snn_scale_key *k)
{
    json_t *o = json_object();
    json_object_set_new(o, "model", file_identity(k->model_path));
    json_object_set_new(o, "normset", file_identity(k->normset_path));
    json_object_set_new(o, "normset_samples",
                        json_integer((json_int_t)k->normset_samples));
    json_object_set_new(o, "percentile", json_real(k->percentile));
    return o;
}

int snn_scalecache_load(const char *path, const snn_scale_key *key,
                        const snn_graph *g, snn_scales *out)
{
    json_t *root = json_load_file(path, 0, NULL);
    if (!root)
        return 0;
    json_t *want = key_json(key);
    json_t *factors = json_object_get(root, "scale_factors");
    int ok = json_equal(json_object_get(root, "key"), want) &&
             json_is_object(factors);
    json_decref(want);
    double *lambda = ok ? calloc((size_t)g->n_layers, sizeof *lambda) : NULL;
    ok = ok && lambda;
    for (int i = 0; ok && i < g->n_layers; i++) {
        json_t *v = json_object_get(factors, g->layers[i].name);
        ok = json_is_number(v) && json_number_value(v) > 0;
        if (ok)
            lambda[i] = json_number_value(v);
    }
    json_decref(root);
    if (!ok) {
        free(lambda);
        return 0;
    }
    out->lambda = lambda;
    out->n = g->n_layers;
    return 1;
}

snn_status snn_scalecache_save(const char *path, const snn_scale_key *key,
                               const snn_graph *g, const snn_scales *s,
                               snn_error *err)
{
    json_t *root = json_object(), *factors = json_object();
    json_object_set_new(root, "key", key_json(key));
    for (int i = 0; i < g->n_layers && i < s->n; i++)
        json_object_set_new(factors, g->layers[i].name,
                            json_real(s->lambda[i]));
    json_object_set_new(root, "scale_factors", factors);
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
    json_decref(root);
    if (!text)
        return snn_error_set(err, SNN_E_NOMEM, "cannot format %s", path);
    snn_status st = snn_write_atomic(path, text, strlen(text), err);
    free(text);
    return st;
}
