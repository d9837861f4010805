/*
 * scalecache.c - see scalecache.h.  The file is JSON: {"key": {...},
 * "scale_factors": {"<layer name>": lambda, ...}}, readable by users who
 * want to see what normalization did; channel-wise, each layer's value is
 * the list of its channels' factors.
 */
#include "pipeline/scalecache.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <stdio.h>

#include "core/fsutil.h"

#define FNV_PRIME 0x100000001b3ULL

/* FNV-1a over 8-byte words in four interleaved lanes (then the tail
 * bytes), so that a normalization set of tens of MB hashes in a few ms
 * rather than a multiply per byte: a fingerprint, not a defence against
 * tampering. */
static uint64_t fnv1a(uint64_t h, const void *data, size_t n)
{
    const unsigned char *p = data;
    uint64_t lane[4] = {h, h ^ 1, h ^ 2, h ^ 3}, w;
    size_t i = 0;
    for (; i + 32 <= n; i += 32)
        for (int k = 0; k < 4; k++) {
            memcpy(&w, p + i + 8 * (size_t)k, sizeof w);
            lane[k] = (lane[k] ^ w) * FNV_PRIME;
        }
    for (int k = 0; k < 4; k++)
        h = (h ^ lane[k]) * FNV_PRIME;
    for (; i < n; i++)
        h = (h ^ p[i]) * FNV_PRIME;
    return h;
}

static uint64_t tensor_hash(uint64_t h, const snn_tensor *t)
{
    h = fnv1a(h, &t->ndim, sizeof t->ndim);
    h = fnv1a(h, t->dims, (size_t)t->ndim * sizeof t->dims[0]);
    return t->data ? fnv1a(h, t->data, snn_tensor_numel(t) * sizeof(float))
                   : h;
}

static uint64_t graph_hash(const snn_graph *g)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (int i = 0; i < g->n_layers; i++) {
        const snn_layer *l = &g->layers[i];
        h = fnv1a(h, l->name, strlen(l->name) + 1);
        h = fnv1a(h, &l->op, sizeof l->op);
        h = fnv1a(h, &l->act, sizeof l->act);
        h = tensor_hash(h, &l->weight);
        h = tensor_hash(h, &l->bias);
    }
    return h;
}

static json_t *hex(uint64_t h)
{
    char buf[17];
    snprintf(buf, sizeof buf, "%016llx", (unsigned long long)h);
    return json_string(buf);
}

static json_t *key_json(const snn_scale_key *k)
{
    json_t *o = json_object();
    json_object_set_new(o, "model_hash", hex(graph_hash(k->graph)));
    json_object_set_new(o, "normset", json_string(k->normset_name));
    json_object_set_new(o, "normset_samples",
                        json_integer((json_int_t)k->normset->dims[0]));
    json_object_set_new(o, "normset_hash",
                        hex(tensor_hash(0xcbf29ce484222325ULL, k->normset)));
    json_object_set_new(o, "percentile", json_real(k->percentile));
    json_object_set_new(o, "channelwise", json_boolean(k->channelwise));
    return o;
}

/* Layer i's factors from v: one number, or (channel-wise) a list, whose
 * length fixes the layout; the lists are appended to *chan. */
static int load_layer(const json_t *v, int channelwise, snn_scales *s, int i)
{
    if (!channelwise) {
        s->lambda[i] = json_is_number(v) ? json_number_value(v) : 0;
        return s->lambda[i] > 0;
    }
    size_t n = json_array_size(v), at = s->chan_at[i];
    double *grown = json_is_array(v) && n > 0
                        ? realloc(s->chan, (at + n) * sizeof *grown)
                        : NULL;
    if (!grown)
        return 0;
    s->chan = grown;
    s->lambda[i] = 0;
    for (size_t j = 0; j < n; j++) {
        json_t *f = json_array_get(v, j);
        s->chan[at + j] = json_is_number(f) ? json_number_value(f) : 0;
        if (!(s->chan[at + j] > 0))
            return 0;
        if (s->chan[at + j] > s->lambda[i])
            s->lambda[i] = s->chan[at + j];
    }
    s->chan_at[i + 1] = at + n;
    return 1;
}

int snn_scalecache_load(const char *path, const snn_scale_key *key,
                        snn_scales *out)
{
    const snn_graph *g = key->graph;
    json_t *root = json_load_file(path, 0, NULL);
    if (!root)
        return 0;
    json_t *want = key_json(key);
    json_t *factors = json_object_get(root, "scale_factors");
    int ok = json_equal(json_object_get(root, "key"), want) &&
             json_is_object(factors);
    json_decref(want);
    snn_scales s = {0};
    s.n = g->n_layers;
    s.lambda = ok ? calloc((size_t)g->n_layers, sizeof *s.lambda) : NULL;
    ok = ok && s.lambda;
    if (ok && key->channelwise) {
        s.chan_at = calloc((size_t)g->n_layers + 1, sizeof *s.chan_at);
        ok = s.chan_at != NULL;
    }
    for (int i = 0; ok && i < g->n_layers; i++)
        ok = load_layer(json_object_get(factors, g->layers[i].name),
                        key->channelwise, &s, i);
    json_decref(root);
    if (!ok) {
        snn_scales_free(&s);
        return 0;
    }
    *out = s;
    return 1;
}

static json_t *layer_json(const snn_scales *s, int i)
{
    if (!s->chan)
        return json_real(s->lambda[i]);
    json_t *a = json_array();
    for (size_t j = s->chan_at[i]; j < s->chan_at[i + 1]; j++)
        json_array_append_new(a, json_real(s->chan[j]));
    return a;
}

snn_status snn_scalecache_save(const char *path, const snn_scale_key *key,
                               const snn_scales *s, snn_error *err)
{
    const snn_graph *g = key->graph;
    json_t *root = json_object(), *factors = json_object();
    json_object_set_new(root, "key", key_json(key));
    for (int i = 0; i < g->n_layers && i < s->n; i++)
        json_object_set_new(factors, g->layers[i].name, layer_json(s, i));
    json_object_set_new(root, "scale_factors", factors);
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
    json_decref(root);
    if (!text)
        return snn_error_set(err, SNN_E_NOMEM, "cannot format %s", path);
    snn_status st = snn_write_atomic(path, text, strlen(text), err);
    free(text);
    return st;
}
