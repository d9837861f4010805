/*
 * clamp.c - the original's filename_clamp_indices: a JSON object
 * {"layer index": time} that holds a layer's membrane potential (its
 * input ignored) until that time, layer by layer, so that deeper layers
 * start integrating once their inputs fire steadily.  Read onto a
 * converted net; a file the net cannot honour is an error, not a
 * silently ignored entry.
 */
#include "snntb/net.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>

/* The layer index a key names, or -1 when it is not a decimal index. */
static long key_index(const char *key)
{
    char *end;
    if (*key < '0' || *key > '9')
        return -1;
    errno = 0;
    long i = strtol(key, &end, 10);
    return *end || errno ? -1 : i;
}

static snn_status set_clamp(snn_net *net, const char *path, const char *key,
                            json_t *value, snn_error *err)
{
    long i = key_index(key);
    if (i < 0 || i >= net->n_layers)
        return snn_error_set(err, SNN_E_INVALID,
                             "%s: key \"%s\" names no layer of the spiking "
                             "net (layer indices 0..%d)", path, key,
                             net->n_layers - 1);
    snn_net_layer *l = &net->layers[i];
    if (l->unit != SNN_UNIT_IF && l->unit != SNN_UNIT_SOFTMAX)
        return snn_error_set(err, SNN_E_INVALID,
                             "%s: layer %ld ('%s') has no membrane to clamp "
                             "(it is a %s)", path, i, l->syn.name,
                             l->unit == SNN_UNIT_MAXGATE ? "max-pool gate"
                             : l->n_proj > 0             ? "concatenation"
                             : l->syn.op == SNN_OP_FLATTEN ? "flatten"
                                                           : "re-indexing");
    double t = json_is_number(value) ? json_number_value(value) : -1;
    if (!(t >= 0) || t > 1e30)
        return snn_error_set(err, SNN_E_INVALID,
                             "%s: the value of \"%s\" must be a time step "
                             "(a number >= 0)", path, key);
    l->clamp_until = (float)t;
    return SNN_OK;
}

snn_status snn_net_load_clamps(snn_net *net, const char *path,
                               snn_error *err)
{
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    if (!root && jerr.line < 0)
        return snn_error_set(err, SNN_E_IO,
                             "config [paths] filename_clamp_indices: cannot "
                             "read %s: %s", path, jerr.text);
    if (!root)
        return snn_error_set(err, SNN_E_FORMAT,
                             "config [paths] filename_clamp_indices: %s is "
                             "not valid JSON: %s (line %d)", path, jerr.text,
                             jerr.line);
    snn_status st = SNN_OK;
    if (!json_is_object(root))
        st = snn_error_set(err, SNN_E_FORMAT,
                           "%s: expected a JSON object {\"layer index\": "
                           "time step}", path);
    const char *key;
    json_t *value;
    json_object_foreach(root, key, value) {
        if (st == SNN_OK)
            st = set_clamp(net, path, key, value, err);
    }
    json_decref(root);
    return st;
}
