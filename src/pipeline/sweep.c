/*
 * sweep.c - see sweep.h.  Each value gets a full, ordinary run on its own
 * copy of the config, so a sweep measures exactly what single runs with
 * those values would; only the comparison is new.
 */
#include "pipeline/sweep.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fsutil.h"

static const char *const sections[] = {"cell", "conversion", "normalization",
                                       "simulation", "input"};

#define N_SECTIONS (sizeof sections / sizeof sections[0])

snn_status snn_sweep_wanted(const snn_config *cfg, int *wanted,
                            snn_error *err)
{
    char **values = NULL;
    snn_status st = snn_config_get_list(cfg, "parameter_sweep",
                                        "param_values", &values, err);
    *wanted = st == SNN_OK && values[0] != NULL;
    snn_strlist_free(values);
    return st;
}

static const char *section_of(const char *name)
{
    for (size_t i = 0; i < N_SECTIONS; i++)
        if (snn_config_key_is_number(sections[i], name))
            return sections[i];
    return NULL;
}

/* Checks the whole sweep before the first run: the name, and each value
 * on a copy of the config. */
static snn_status check_sweep(const snn_config *cfg, const char *section,
                              const char *name, char **values, int logscale,
                              snn_error *err)
{
    if (!section)
        return snn_error_set(err, SNN_E_INVALID,
                             "config [parameter_sweep] param_name = %s: no "
                             "numeric option of that name in [cell], "
                             "[conversion], [normalization], [simulation] "
                             "or [input]", name);
    snn_config *copy = NULL;
    snn_status st = snn_config_dup(cfg, &copy, err);
    for (size_t i = 0; st == SNN_OK && values[i]; i++) {
        if (logscale && !(strtod(values[i], NULL) > 0))
            st = snn_error_set(err, SNN_E_INVALID,
                               "config [parameter_sweep] param_values: %s "
                               "cannot be shown on a log scale "
                               "(param_logscale = True): values must be > 0",
                               values[i]);
        else
            st = snn_config_set(copy, section, name, values[i], err);
    }
    snn_config_free(copy);
    return st;
}

/* The config of one run: cfg with name = value, no sweep, its own log
 * folder. */
static snn_status run_config(const snn_config *cfg, const char *section,
                             const char *name, const char *value,
                             const char *dir, snn_config **out,
                             snn_error *err)
{
    snn_status st = snn_config_dup(cfg, out, err);
    if (st == SNN_OK)
        st = snn_config_set(*out, section, name, value, err);
    if (st == SNN_OK)
        st = snn_config_set(*out, "parameter_sweep", "param_values", "[]",
                            err);
    if (st == SNN_OK)
        st = snn_config_set(*out, "paths", "log_dir_of_current_run", dir, err);
    if (st != SNN_OK) {
        snn_config_free(*out);
        *out = NULL;
    }
    return st;
}

/* Normalization factors are cached per log folder and keyed by content
 * (pipeline/scalecache.c): the previous run's cache is offered to the
 * next, which reuses it only if its key matches. */
static snn_status offer_scales(const char *from_dir, const char *to_dir,
                               snn_error *err)
{
    char from[4096], dir[4096], to[4096], *text = NULL;
    const char *rel = "normalization/scale_factors.json";
    snn_status st = snn_path_join(from, sizeof from, from_dir, rel, err);
    if (st == SNN_OK)
        st = snn_path_join(dir, sizeof dir, to_dir, "normalization", err);
    if (st == SNN_OK)
        st = snn_path_join(to, sizeof to, to_dir, rel, err);
    if (st != SNN_OK || !snn_file_exists(from) || snn_file_exists(to))
        return st;
    st = snn_read_text(from, (size_t)1 << 30, "scale factors", &text, NULL,
                       err);
    if (st == SNN_OK)
        st = snn_mkdirs(dir, err);
    if (st == SNN_OK)
        st = snn_write_atomic(to, text, strlen(text), err);
    free(text);
    return st;
}

/* <log_dir>/sweep/<name>_<value> */
static snn_status run_dir(const char *log_dir, const char *name,
                          const char *value, snn_sweep_run *run,
                          snn_error *err)
{
    char rel[256];
    snprintf(rel, sizeof rel, "sweep/%s_%s", name, value);
    return snn_path_join(run->log_dir, sizeof run->log_dir, log_dir, rel,
                         err);
}

static snn_status run_one(const snn_config *cfg, const snn_log *log,
                          const snn_run_hooks *hooks, const char *section,
                          const char *name, const char *value,
                          snn_sweep_run *run, snn_error *err)
{
    snn_config *one = NULL;
    snn_status st = run_config(cfg, section, name, value, run->log_dir, &one,
                               err);
    if (st != SNN_OK)
        return st;
    snn_info(log, "sweep: [%s] %s = %s", section, name, value);
    run->value = strtod(value, NULL);
    char done_dir[4096];
    st = snn_run(one, log, hooks, &run->res, done_dir, sizeof done_dir, err);
    snn_config_free(one);
    return st;
}

snn_status snn_sweep(const snn_config *cfg, const snn_log *log,
                         const snn_run_hooks *hooks, const char *log_dir,
                         snn_results *last, snn_error *err)
{
    char name[128], **values = NULL;
    if (!snn_config_get_str(cfg, "parameter_sweep", "param_name", name,
                            sizeof name))
        return snn_error_set(err, SNN_E_INVALID,
                             "config [parameter_sweep] param_name is missing");
    int logscale = snn_config_get_bool(cfg, "parameter_sweep",
                                       "param_logscale");
    const char *section = section_of(name);
    snn_status st = snn_config_get_list(cfg, "parameter_sweep",
                                        "param_values", &values, err);
    if (st == SNN_OK)
        st = check_sweep(cfg, section, name, values, logscale, err);
    size_t n = 0;
    while (st == SNN_OK && values[n])
        n++;
    snn_sweep_run *runs = st == SNN_OK ? calloc(n, sizeof *runs) : NULL;
    if (st == SNN_OK && !runs)
        st = snn_error_set(err, SNN_E_NOMEM, "cannot allocate the sweep");
    for (size_t i = 0; st == SNN_OK && i < n; i++) {
        st = run_dir(log_dir, name, values[i], &runs[i], err);
        if (st == SNN_OK && i > 0)
            st = offer_scales(runs[i - 1].log_dir, runs[i].log_dir, err);
        if (st == SNN_OK)
            st = run_one(cfg, log, hooks, section, name, values[i], &runs[i],
                         err);
    }
    if (st == SNN_OK)
        st = snn_report_sweep(log_dir, section, name, logscale, runs, n, err);
    if (st == SNN_OK)
        *last = runs[n - 1].res;
    free(runs);
    snn_strlist_free(values);
    return st;
}
