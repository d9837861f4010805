/*
 * kwargs.c - see kwargs.h.
 */
#include "io/kwargs.h"

#include <string.h>

snn_status kw_parse(const snn_config *cfg, const char *section,
                    const char *key, py_value **out, snn_error *err)
{
    const char *text = snn_config_get(cfg, section, key);
    char why[256];
    *out = NULL;
    if (!py_literal_parse(text && *text ? text : "{}", out, why, sizeof why))
        return snn_error_set(err, SNN_E_INVALID, "config [%s] %s: %s",
                             section, key, why);
    if ((*out)->kind != PY_DICT) {
        py_value_free(*out);
        *out = NULL;
        return snn_error_set(err, SNN_E_INVALID,
                             "config [%s] %s must be a dict", section, key);
    }
    return SNN_OK;
}

const py_value *kw_get(const py_value *dict, const char *name)
{
    for (size_t i = 0; i + 1 < dict->n; i += 2)
        if (dict->items[i]->kind == PY_STR &&
            strcmp(dict->items[i]->text, name) == 0)
            return dict->items[i + 1];
    return NULL;
}

static int is_noop(const py_value *v)
{
    return v->kind == PY_NONE || (v->kind == PY_BOOL && !v->b) ||
           (v->kind == PY_INT && v->i == 0) ||
           (v->kind == PY_FLOAT && v->f == 0);
}

snn_status kw_check(const py_value *dict, const char *section,
                    const char *key, const char *const *known,
                    snn_error *err)
{
    for (size_t i = 0; i + 1 < dict->n; i += 2) {
        const py_value *k = dict->items[i];
        if (k->kind != PY_STR)
            return snn_error_set(err, SNN_E_INVALID,
                                 "config [%s] %s: keys must be strings",
                                 section, key);
        int ok = is_noop(dict->items[i + 1]);
        for (const char *const *q = known; !ok && *q; q++)
            ok = strcmp(*q, k->text) == 0;
        if (!ok)
            return snn_error_set(err, SNN_E_UNSUPPORTED,
                                 "config [%s] %s: '%s' is not supported by "
                                 "snntb", section, key, k->text);
    }
    return SNN_OK;
}

static snn_status wrong_type(const char *what, const char *name,
                             const char *want, snn_error *err)
{
    return snn_error_set(err, SNN_E_INVALID, "%s: '%s' must be %s", what,
                         name, want);
}

snn_status kw_bool(const py_value *dict, const char *what, const char *name,
                   int def, int *out, snn_error *err)
{
    const py_value *v = kw_get(dict, name);
    *out = def;
    if (!v)
        return SNN_OK;
    if (v->kind != PY_BOOL)
        return wrong_type(what, name, "True or False", err);
    *out = v->b;
    return SNN_OK;
}

snn_status kw_number(const py_value *dict, const char *what, const char *name,
                     double def, double *out, snn_error *err)
{
    const py_value *v = kw_get(dict, name);
    *out = def;
    if (!v || v->kind == PY_NONE)
        return SNN_OK;
    if (v->kind == PY_INT)
        *out = (double)v->i;
    else if (v->kind == PY_FLOAT)
        *out = v->f;
    else
        return wrong_type(what, name, "a number", err);
    return SNN_OK;
}

snn_status kw_str(const py_value *dict, const char *what, const char *name,
                  const char *def, const char **out, snn_error *err)
{
    const py_value *v = kw_get(dict, name);
    *out = def;
    if (!v)
        return SNN_OK;
    if (v->kind != PY_STR)
        return wrong_type(what, name, "a string", err);
    *out = v->text;
    return SNN_OK;
}
