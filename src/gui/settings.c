/*
 * settings.c - the settings the page edits: one string per key of the
 * config schema (snn_config_schema_at), checked by the config parser
 * itself (snn_config_set), read from and written to INI files that
 * `snntb run` reads the same way.
 */
#define _XOPEN_SOURCE 700 /* realpath */
#include "gui/gui_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fsutil.h"
#include "core/strbuf.h"
#include "snntb/config.h"

#define MAX_INI_BYTES (1u << 20)

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

static void free_values(char **v)
{
    for (size_t i = 0; v && i < snn_config_schema_count(); i++)
        free(v[i]);
    free(v);
}

void gui_settings_free(gui_settings *s)
{
    free_values(s->values);
    s->values = NULL;
}

/* A copy of src (or of the defaults when src is NULL). */
static char **copy_values(char *const *src)
{
    size_t n = snn_config_schema_count();
    char **v = calloc(n, sizeof *v);
    for (size_t i = 0; v && i < n; i++) {
        snn_config_key k;
        snn_config_schema_at(i, &k);
        if (!(v[i] = dup_str(src ? src[i] : k.def))) {
            free_values(v);
            return NULL;
        }
    }
    return v;
}

snn_status gui_settings_defaults(gui_settings *s, snn_error *err)
{
    s->values = copy_values(NULL);
    return s->values ? SNN_OK
                     : snn_error_set(err, SNN_E_NOMEM, "gui: out of memory");
}

snn_status gui_settings_copy(gui_settings *dst, const gui_settings *src,
                             snn_error *err)
{
    dst->values = copy_values(src->values);
    return dst->values ? SNN_OK
                       : snn_error_set(err, SNN_E_NOMEM, "gui: out of memory");
}

static long key_index(const char *section, const char *key)
{
    for (size_t i = 0; i < snn_config_schema_count(); i++) {
        snn_config_key k;
        snn_config_schema_at(i, &k);
        if (!strcmp(k.section, section) && !strcmp(k.key, key))
            return (long)i;
    }
    return -1;
}

json_t *gui_settings_json(const gui_settings *s)
{
    json_t *all = json_object();
    for (size_t i = 0; all && i < snn_config_schema_count(); i++) {
        snn_config_key k;
        snn_config_schema_at(i, &k);
        json_t *sec = json_object_get(all, k.section);
        if (!sec) {
            sec = json_object();
            json_object_set_new(all, k.section, sec);
        }
        json_object_set_new(sec, k.key, json_string(s->values[i]));
    }
    return all;
}

/* A config with every value of v set as if the user had written it. */
static snn_status check_all(char *const *v, snn_error *err)
{
    snn_config *cfg;
    snn_status st = snn_config_new(&cfg, err);
    for (size_t i = 0; st == SNN_OK && i < snn_config_schema_count(); i++) {
        snn_config_key k;
        snn_config_schema_at(i, &k);
        if (strcmp(v[i], k.def) != 0)
            st = snn_config_set(cfg, k.section, k.key, v[i], err);
    }
    snn_config_free(cfg);
    return st;
}

snn_status gui_settings_check_value(const char *section, const char *key,
                                    const char *value, snn_error *err)
{
    if (key_index(section, key) < 0)
        return snn_error_set(err, SNN_E_INVALID, "config has no key [%s] %s",
                             section, key);
    snn_config *cfg;
    snn_status st = snn_config_new(&cfg, err);
    if (st == SNN_OK)
        st = snn_config_set(cfg, section, key, value, err);
    snn_config_free(cfg);
    return st;
}

static snn_status put_section(char **v, const char *section,
                              const json_t *keys, snn_error *err)
{
    const char *key;
    json_t *val;
    if (!json_is_object(keys))
        return snn_error_set(err, SNN_E_INVALID, "settings [%s]: expected an "
                             "object of key: value strings", section);
    json_object_foreach((json_t *)keys, key, val) {
        long i = key_index(section, key);
        if (i < 0)
            return snn_error_set(err, SNN_E_INVALID, "config has no key [%s] "
                                 "%s", section, key);
        if (!json_is_string(val))
            return snn_error_set(err, SNN_E_INVALID, "settings [%s] %s: the "
                                 "value must be a string", section, key);
        char *copy = dup_str(json_string_value(val));
        if (!copy)
            return snn_error_set(err, SNN_E_NOMEM, "gui: out of memory");
        free(v[i]);
        v[i] = copy;
    }
    return SNN_OK;
}

snn_status gui_settings_update(gui_settings *s, const json_t *values,
                               snn_error *err)
{
    const char *section;
    json_t *keys;
    if (!json_is_object(values))
        return snn_error_set(err, SNN_E_INVALID, "settings: expected an "
                             "object of sections");
    char **v = copy_values(s->values);
    snn_status st = v ? SNN_OK
                      : snn_error_set(err, SNN_E_NOMEM, "gui: out of memory");
    json_object_foreach((json_t *)values, section, keys) {
        if (st == SNN_OK)
            st = put_section(v, section, keys, err);
    }
    if (st == SNN_OK)
        st = check_all(v, err);
    if (st != SNN_OK) {
        free_values(v);
        return st;
    }
    free_values(s->values);
    s->values = v;
    return SNN_OK;
}

/* The folder of path, as realpath gives it. */
static int folder_is(const char *path, const char *wd)
{
    char real[PATH_MAX];
    const char *slash = strrchr(path, '/');
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) : 1,
             slash ? (slash == path ? "/" : path) : ".");
    return realpath(dir, real) && strcmp(real, wd) == 0;
}

snn_status gui_settings_load(gui_settings *s, const char *path,
                             const char *wd, const snn_log *log,
                             snn_error *err)
{
    snn_config *cfg;
    snn_status st = snn_config_load(&cfg, path, log, err);
    if (st != SNN_OK)
        return st;
    char **v = copy_values(NULL);
    /* An empty path_wd means the file's folder: kept empty only when the
     * file lies in the working directory, where runs start. */
    int keep_wd = folder_is(path, wd);
    for (size_t i = 0; v && i < snn_config_schema_count(); i++) {
        snn_config_key k;
        snn_config_schema_at(i, &k);
        int wd_key = !strcmp(k.section, "paths") && !strcmp(k.key, "path_wd");
        if (!snn_config_is_set(cfg, k.section, k.key) && (!wd_key || keep_wd))
            continue;
        char *val = dup_str(snn_config_get(cfg, k.section, k.key));
        if (!val) {
            free_values(v);
            v = NULL;
            break;
        }
        free(v[i]);
        v[i] = val;
    }
    snn_config_free(cfg);
    if (!v)
        return snn_error_set(err, SNN_E_NOMEM, "gui: out of memory");
    free_values(s->values);
    s->values = v;
    return SNN_OK;
}

/* key = value, continuation lines indented so that they stay in it. */
static int put_entry(snn_strbuf *b, const char *key, const char *value)
{
    int ok = snn_strbuf_put(b, key, strlen(key), MAX_INI_BYTES) &&
             snn_strbuf_put(b, " = ", 3, MAX_INI_BYTES);
    for (const char *p = value; ok && *p;) {
        size_t n = strcspn(p, "\n");
        ok = snn_strbuf_put(b, p, n, MAX_INI_BYTES);
        p += n;
        if (ok && *p == '\n') {
            ok = snn_strbuf_put(b, "\n    ", 5, MAX_INI_BYTES);
            p++;
        }
    }
    return ok && snn_strbuf_put(b, "\n", 1, MAX_INI_BYTES);
}

snn_status gui_settings_save(const gui_settings *s, const char *path,
                             snn_error *err)
{
    static const char head[] = "# snntb config, written by snntb gui\n";
    snn_strbuf b = {0};
    const char *section = "";
    int ok = snn_strbuf_put(&b, head, sizeof head - 1, MAX_INI_BYTES);
    for (size_t i = 0; ok && i < snn_config_schema_count(); i++) {
        snn_config_key k;
        snn_config_schema_at(i, &k);
        if (!strcmp(s->values[i], k.def))
            continue;
        if (strcmp(section, k.section) != 0) {
            section = k.section;
            ok = snn_strbuf_put(&b, "\n[", 2, MAX_INI_BYTES) &&
                 snn_strbuf_put(&b, section, strlen(section), MAX_INI_BYTES) &&
                 snn_strbuf_put(&b, "]\n", 2, MAX_INI_BYTES);
        }
        ok = ok && put_entry(&b, k.key, s->values[i]);
    }
    snn_status st = ok ? snn_write_atomic(path, b.p, b.len, err)
                       : snn_error_set(err, SNN_E_NOMEM, "%s: settings too "
                                       "large", path);
    free(b.p);
    return st;
}
