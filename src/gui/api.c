/*
 * api.c - the JSON endpoints of `snntb gui` (token already checked by
 * server.c): the config schema with tooltips, the settings being edited
 * (checked by the config parser, kept in <wd>/.snntb-gui.ini), loading
 * and saving config files in the working directory, starting, stopping
 * and following a run, and the past runs under <wd>/log/gui/.
 */
#define _DEFAULT_SOURCE /* DT_DIR */
#include "gui/gui_internal.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/fsutil.h"
#include "snntb/config.h"

#define RUNS_DIR "log/gui"

/* ---- the schema --------------------------------------------------------- */

static json_t *choices_json(const char *const *choices)
{
    json_t *a = json_array();
    for (size_t i = 0; choices && choices[i]; i++)
        json_array_append_new(a, json_string(choices[i]));
    return a;
}

static json_t *key_json(const snn_config_key *k)
{
    const char *tip = snn_gui_tooltip(k->section, k->key);
    return json_pack("{s:s, s:s, s:s, s:s, s:o, s:b, s:s}", "key", k->key,
                     "default", k->def, "kind", k->kind, "rule", k->rule,
                     "choices", choices_json(k->choices), "empty_ok",
                     k->empty_ok, "tooltip", tip ? tip : "");
}

static json_t *schema_json(void)
{
    json_t *sections = json_array(), *keys = NULL;
    const char *current = "";
    for (size_t i = 0; i < snn_config_schema_count(); i++) {
        snn_config_key k;
        snn_config_schema_at(i, &k);
        if (strcmp(current, k.section) != 0) {
            current = k.section;
            keys = json_array();
            json_array_append_new(sections, json_pack("{s:s, s:o}", "name",
                                                      k.section, "keys", keys));
        }
        json_array_append_new(keys, key_json(&k));
    }
    return json_pack("{s:o}", "sections", sections);
}

/* ---- settings ----------------------------------------------------------- */

static json_t *settings_json(snn_gui *g)
{
    pthread_mutex_lock(&g->lock);
    json_t *v = gui_settings_json(&g->settings);
    pthread_mutex_unlock(&g->lock);
    return json_pack("{s:o, s:s, s:s}", "values", v, "wd", g->wd,
                     "settings_file", g->settings_path);
}

/* Replaces the settings with next (on success) and writes them to the
 * last-settings file; call with the lock held. */
static snn_status adopt(snn_gui *g, gui_settings *next, snn_error *err)
{
    snn_status st = gui_settings_save(next, g->settings_path, err);
    if (st == SNN_OK) {
        gui_settings_free(&g->settings);
        g->settings = *next;
    } else {
        gui_settings_free(next);
    }
    return st;
}

static enum MHD_Result post_settings(snn_gui *g, gui_request *r)
{
    snn_error err = {0};
    gui_settings next = {0};
    pthread_mutex_lock(&g->lock);
    snn_status st = gui_settings_copy(&next, &g->settings, &err);
    if (st == SNN_OK)
        st = gui_settings_update(&next, json_object_get(r->body, "values"),
                                 &err);
    if (st == SNN_OK)
        st = adopt(g, &next, &err);
    else
        gui_settings_free(&next);
    pthread_mutex_unlock(&g->lock);
    if (st != SNN_OK)
        return gui_reply_error(r->conn, st == SNN_E_IO ? 500 : 422, "%s",
                               err.msg);
    return gui_reply_json(r->conn, MHD_HTTP_OK, settings_json(g));
}

static const char *body_str(const gui_request *r, const char *name)
{
    return json_string_value(json_object_get(r->body, name));
}

static enum MHD_Result post_validate(gui_request *r)
{
    const char *sec = body_str(r, "section"), *key = body_str(r, "key");
    const char *value = body_str(r, "value");
    if (!sec || !key || !value)
        return gui_reply_error(r->conn, MHD_HTTP_BAD_REQUEST, "validate needs "
                               "section, key and value strings");
    snn_error err = {0};
    snn_status st = gui_settings_check_value(sec, key, value, &err);
    return gui_reply_json(r->conn, MHD_HTTP_OK,
                          json_pack("{s:b, s:s}", "ok", st == SNN_OK, "error",
                                    st == SNN_OK ? "" : err.msg));
}

/* ---- config files ------------------------------------------------------- */

static enum MHD_Result body_path(snn_gui *g, gui_request *r, int must_exist,
                                 char *path, size_t n)
{
    const char *rel = body_str(r, "path");
    snn_error err = {0};
    if (!rel)
        return gui_reply_error(r->conn, MHD_HTTP_BAD_REQUEST,
                               "a \"path\" string is needed");
    if (gui_path_resolve(g->wd, rel, must_exist, path, n, &err) != SNN_OK)
        return gui_reply_error(r->conn, MHD_HTTP_FORBIDDEN, "%s", err.msg);
    return MHD_YES;
}

static enum MHD_Result load_config(snn_gui *g, gui_request *r)
{
    char path[PATH_MAX] = "";
    enum MHD_Result ret = body_path(g, r, 1, path, sizeof path);
    if (!path[0])
        return ret;
    snn_error err = {0};
    gui_settings next = {0};
    snn_status st = gui_settings_defaults(&next, &err);
    if (st == SNN_OK)
        st = gui_settings_load(&next, path, g->wd, &g->log, &err);
    pthread_mutex_lock(&g->lock);
    if (st == SNN_OK)
        st = adopt(g, &next, &err);
    else
        gui_settings_free(&next);
    pthread_mutex_unlock(&g->lock);
    if (st != SNN_OK)
        return gui_reply_error(r->conn, 422, "%s", err.msg);
    return gui_reply_json(r->conn, MHD_HTTP_OK, settings_json(g));
}

static enum MHD_Result save_config(snn_gui *g, gui_request *r)
{
    char path[PATH_MAX] = "";
    enum MHD_Result ret = body_path(g, r, 0, path, sizeof path);
    if (!path[0])
        return ret;
    if (snn_file_exists(path) &&
        !json_is_true(json_object_get(r->body, "overwrite")))
        return gui_reply_error(r->conn, MHD_HTTP_CONFLICT, "%s exists: "
                               "confirm to replace it", body_str(r, "path"));
    snn_error err = {0};
    pthread_mutex_lock(&g->lock);
    snn_status st = gui_settings_save(&g->settings, path, &err);
    pthread_mutex_unlock(&g->lock);
    if (st != SNN_OK)
        return gui_reply_error(r->conn, 500, "%s", err.msg);
    return gui_reply_json(r->conn, MHD_HTTP_OK,
                          json_pack("{s:s}", "path", path));
}

static int ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), m = strlen(tail);
    return n >= m && strcmp(s + n - m, tail) == 0;
}

static int is_dir(const char *dir, const struct dirent *d)
{
    char path[PATH_MAX];
    struct stat sb;
    if (d->d_type != DT_UNKNOWN)
        return d->d_type == DT_DIR;
    return snn_path_join(path, sizeof path, dir, d->d_name, NULL) == SNN_OK &&
           stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* The names in folder dir ending in tail, sorted: folders or files. */
static json_t *list_names(const char *dir, const char *tail, int dirs)
{
    json_t *a = json_array();
    struct dirent **names = NULL;
    int n = scandir(dir, &names, NULL, alphasort);
    for (int i = 0; i < n; i++) {
        const char *name = names[i]->d_name;
        int folder = is_dir(dir, names[i]);
        if (name[0] != '.' && ends_with(name, tail) && folder == dirs)
            json_array_append_new(a, json_string(name));
        free(names[i]);
    }
    free(names);
    return a;
}

/* ---- runs --------------------------------------------------------------- */

static enum MHD_Result start_run(snn_gui *g, gui_request *r)
{
    snn_error err = {0};
    int busy = 0;
    pthread_mutex_lock(&g->lock);
    snn_status st = gui_settings_save(&g->settings, g->settings_path, &err);
    pthread_mutex_unlock(&g->lock);
    if (st == SNN_OK)
        st = gui_job_start(g->job, g->settings_path, &busy, &err);
    if (st != SNN_OK)
        return gui_reply_error(r->conn, busy ? MHD_HTTP_CONFLICT : 500, "%s",
                               err.msg);
    return gui_reply_json(r->conn, MHD_HTTP_ACCEPTED,
                          gui_job_state(g->job, NULL));
}

static json_t *read_json_file(const char *dir, const char *name)
{
    char path[PATH_MAX];
    if (snn_path_join(path, sizeof path, dir, name, NULL) != SNN_OK)
        return NULL;
    return json_load_file(path, JSON_REJECT_DUPLICATES, NULL);
}

/* One past run: its results and whether it has a report. */
static json_t *run_json(const char *runs, const char *label, int with_plots)
{
    char dir[PATH_MAX], plots[PATH_MAX], rel[PATH_MAX];
    struct stat sb;
    snprintf(rel, sizeof rel, "%s/%s", RUNS_DIR, label);
    if (snn_path_join(dir, sizeof dir, runs, label, NULL) != SNN_OK ||
        snn_path_join(plots, sizeof plots, dir, "report/plots", NULL) != SNN_OK ||
        stat(dir, &sb) != 0)
        return NULL;
    json_t *res = read_json_file(dir, "results.json");
    json_t *run = json_pack("{s:s, s:s, s:I, s:o, s:b}", "label", label,
                            "path", rel,
                            "mtime", (json_int_t)sb.st_mtime, "results",
                            res ? res : json_null(), "report",
                            snn_file_exists(plots));
    if (run && with_plots)
        json_object_set_new(run, "plots", list_names(plots, ".svg", 0));
    return run;
}

static int newer_first(const void *a, const void *b)
{
    json_int_t ta = json_integer_value(json_object_get(*(json_t *const *)a, "mtime"));
    json_int_t tb = json_integer_value(json_object_get(*(json_t *const *)b, "mtime"));
    return (tb > ta) - (tb < ta);
}

static enum MHD_Result list_runs(snn_gui *g, gui_request *r)
{
    char runs[PATH_MAX];
    if (snn_path_join(runs, sizeof runs, g->wd, RUNS_DIR, NULL) != SNN_OK)
        return gui_reply_error(r->conn, 500, "working directory path too long");
    json_t *labels = list_names(runs, "", 1);
    size_t n = json_array_size(labels), k = 0;
    json_t **items = calloc(n ? n : 1, sizeof *items);
    for (size_t i = 0; items && i < n; i++) {
        json_t *run = run_json(runs, json_string_value(json_array_get(labels, i)), 0);
        if (run)
            items[k++] = run;
    }
    qsort(items, k, sizeof *items, newer_first);
    json_t *out = json_array();
    for (size_t i = 0; i < k; i++)
        json_array_append_new(out, items[i]);
    free(items);
    json_decref(labels);
    return gui_reply_json(r->conn, MHD_HTTP_OK, json_pack("{s:o}", "runs", out));
}

static enum MHD_Result show_run(snn_gui *g, gui_request *r, const char *label)
{
    char rel[PATH_MAX], dir[PATH_MAX], runs[PATH_MAX];
    snn_error err = {0};
    snprintf(rel, sizeof rel, "%s/%s", RUNS_DIR, label);
    if (!*label || strchr(label, '/') ||
        gui_path_resolve(g->wd, rel, 1, dir, sizeof dir, &err) != SNN_OK)
        return gui_reply_error(r->conn, MHD_HTTP_NOT_FOUND, "no run '%s' in "
                               "%s/%s%s%s", label, g->wd, RUNS_DIR,
                               err.msg[0] ? ": " : "", err.msg);
    snn_path_join(runs, sizeof runs, g->wd, RUNS_DIR, NULL);
    json_t *run = run_json(runs, label, 1);
    if (!run)
        return gui_reply_error(r->conn, MHD_HTTP_NOT_FOUND, "no run '%s'",
                               label);
    return gui_reply_json(r->conn, MHD_HTTP_OK, run);
}

/* ---- routing ------------------------------------------------------------ */

static enum MHD_Result api_get(snn_gui *g, gui_request *r, const char *path)
{
    if (!strcmp(path, "schema"))
        return gui_reply_json(r->conn, MHD_HTTP_OK, schema_json());
    if (!strcmp(path, "settings"))
        return gui_reply_json(r->conn, MHD_HTTP_OK, settings_json(g));
    if (!strcmp(path, "configs"))
        return gui_reply_json(r->conn, MHD_HTTP_OK,
                              json_pack("{s:o}", "configs",
                                        list_names(g->wd, ".ini", 0)));
    if (!strcmp(path, "run"))
        return gui_reply_json(r->conn, MHD_HTTP_OK, gui_job_state(g->job, NULL));
    if (!strcmp(path, "run/events"))
        return gui_events(g, r->conn);
    if (!strcmp(path, "runs"))
        return list_runs(g, r);
    if (!strncmp(path, "runs/", 5))
        return show_run(g, r, path + 5);
    return gui_reply_error(r->conn, MHD_HTTP_NOT_FOUND, "no such endpoint");
}

static enum MHD_Result api_post(snn_gui *g, gui_request *r, const char *path)
{
    if (!strcmp(path, "settings"))
        return post_settings(g, r);
    if (!strcmp(path, "validate"))
        return post_validate(r);
    if (!strcmp(path, "config/load"))
        return load_config(g, r);
    if (!strcmp(path, "config/save"))
        return save_config(g, r);
    if (!strcmp(path, "run"))
        return start_run(g, r);
    if (!strcmp(path, "run/stop")) {
        gui_job_stop(g->job);
        return gui_reply_json(r->conn, MHD_HTTP_OK, gui_job_state(g->job, NULL));
    }
    return gui_reply_error(r->conn, MHD_HTTP_NOT_FOUND, "no such endpoint");
}

enum MHD_Result gui_api(snn_gui *g, gui_request *r)
{
    const char *path = r->url + strlen("/api/");
    return r->body ? api_post(g, r, path) : api_get(g, r, path);
}
