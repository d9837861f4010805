/*
 * cmd_run.c - `snntb [run] CONFIG`: reads a config in the original
 * toolbox's INI format, runs the pipeline, prints what it found.  Argument
 * parsing and presentation only; the work is in the library (snn_run).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "snntb/config.h"
#include "snntb/progress.h"
#include "snntb/run.h"
#include "cli/commands.h"

typedef struct cli_opts {
    const char *config;
    int quiet;
    int verbosity;
    const char *sets[64];
    int n_sets;
} cli_opts;

typedef struct cli_progress {
    snn_progress bar;
    const char *label;
    int enabled;
} cli_progress;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: snntb [run] [options] CONFIG.ini\n"
            "\n"
            "Converts the ANN the config names into a spiking network,\n"
            "simulates it and reports ANN and SNN accuracy.  CONFIG uses the\n"
            "INI format of the Python SNN toolbox.\n"
            "\n"
            "options:\n"
            "  -q, --quiet            no progress bar, warnings only\n"
            "  -v, --verbose          more detail (repeatable)\n"
            "  -s, --set SEC.KEY=VAL  override a config value\n"
            "  -h, --help             this help\n");
}

/* A message ends the progress line first, so the two never share one. */
static void log_to_stderr(void *user, snn_log_level level, const char *msg)
{
    cli_progress *p = user;
    snn_progress_finish(&p->bar);
    const char *tag = level == SNN_LOG_ERROR  ? "error: "
                      : level == SNN_LOG_WARN ? "warning: "
                                              : "";
    fprintf(stderr, "snntb: %s%s\n", tag, msg);
}

static void on_progress(void *user, const char *label, size_t done,
                        size_t total, size_t correct)
{
    cli_progress *p = user;
    if (!p->enabled)
        return;
    if (p->label != label) {
        snn_progress_finish(&p->bar);
        snn_progress_start(&p->bar, stderr, label);
        p->label = label;
    }
    snn_progress_update(&p->bar, done, total, correct);
}

/* Returns 0 to run, 1 to exit successfully (help), 2 on a usage error. */
static int parse_args(int argc, char **argv, cli_opts *o)
{
    memset(o, 0, sizeof *o);
    o->verbosity = SNN_LOG_INFO;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 1;
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            o->quiet = 1;
            o->verbosity = SNN_LOG_WARN;
        } else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
            o->verbosity++;
        } else if (!strcmp(a, "-s") || !strcmp(a, "--set")) {
            if (i + 1 >= argc || o->n_sets == 64) {
                fprintf(stderr, "snntb: error: %s needs SECTION.KEY=VALUE\n", a);
                return 2;
            }
            o->sets[o->n_sets++] = argv[++i];
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "snntb: error: unknown option %s\n", a);
            usage(stderr);
            return 2;
        } else if (o->config) {
            fprintf(stderr, "snntb: error: more than one config given\n");
            return 2;
        } else {
            o->config = a;
        }
    }
    if (!o->config) {
        usage(stderr);
        return 2;
    }
    return 0;
}

/* A config file's unknown key is only warned about (the original's files
 * carry keys snntb does not use), but a --set the parser does not know is
 * a typo the user just made: it would silently change nothing.  The error
 * names the section that does hold the key, if one does. */
static snn_status check_known_key(const char *spec, const char *sec,
                                  const char *key, snn_error *err)
{
    const char *home = NULL;
    for (size_t i = 0; i < snn_config_schema_count(); i++) {
        snn_config_key k;
        snn_config_schema_at(i, &k);
        if (strcmp(k.key, key) != 0)
            continue;
        if (strcmp(k.section, sec) == 0)
            return SNN_OK;
        home = k.section;
    }
    if (home)
        return snn_error_set(err, SNN_E_INVALID,
                             "--set %s: [%s] has no key '%s'; it is in [%s]",
                             spec, sec, key, home);
    return snn_error_set(err, SNN_E_INVALID,
                         "--set %s: unknown key [%s] %s", spec, sec, key);
}

static snn_status apply_set(snn_config *cfg, const char *spec, snn_error *err)
{
    char sec[128], key[128];
    const char *dot = strchr(spec, '.'), *eq = strchr(spec, '=');
    if (!dot || !eq || dot > eq || dot - spec >= (long)sizeof sec ||
        eq - dot - 1 >= (long)sizeof key)
        return snn_error_set(err, SNN_E_INVALID,
                             "--set %s: expected SECTION.KEY=VALUE", spec);
    snprintf(sec, sizeof sec, "%.*s", (int)(dot - spec), spec);
    snprintf(key, sizeof key, "%.*s", (int)(eq - dot - 1), dot + 1);
    snn_status st = check_known_key(spec, sec, key, err);
    return st == SNN_OK ? snn_config_set(cfg, sec, key, eq + 1, err) : st;
}

static void print_accuracy(const char *what, double top1, int k, double topk)
{
    printf("%s accuracy:       top-1 %.2f %%", what, 100 * top1);
    if (k > 1)
        printf("   top-%d %.2f %%", k, 100 * topk);
    printf("\n");
}

static void print_results(const snn_results *r, const char *log_dir)
{
    printf("\nsamples tested:     %zu\n", r->num_samples);
    if (r->ann_evaluated)
        print_accuracy("ANN", r->ann_top1, r->top_k, r->ann_topk);
    if (r->simulated) {
        print_accuracy("SNN", r->snn_top1, r->top_k, r->snn_topk);
        printf("simulation:         %g ms at dt %g ms, %.3f spikes/neuron/step"
               " (%.1f Hz)\n", r->duration, r->dt, r->mean_rate,
               r->dt > 0 ? r->mean_rate * 1000 / r->dt : 0);
        printf("synaptic ops:       %.4g per sample\n", r->synops_per_sample);
        if (r->silent)
            printf("no output spike:    %zu samples (counted wrong)\n",
                   r->silent);
        printf("simulation time:    %.2f s (%.1f samples/s)\n", r->sim_seconds,
               r->sim_seconds > 0 ? (double)r->num_samples / r->sim_seconds : 0);
    }
    printf("wall time:          %.2f s\n", r->wall_seconds);
    printf("results in:         %s\n", log_dir);
}

int snn_cmd_run(int argc, char **argv)
{
    cli_opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc)
        return rc == 1 ? 0 : 2;
    cli_progress prog = {.enabled = !o.quiet && isatty(fileno(stderr))};
    snn_log log = {log_to_stderr, &prog, o.verbosity};
    snn_error err = {0};
    snn_config *cfg = NULL;
    snn_status st = snn_config_load(&cfg, o.config, &log, &err);
    for (int i = 0; st == SNN_OK && i < o.n_sets; i++)
        st = apply_set(cfg, o.sets[i], &err);
    snn_results res;
    char log_dir[4096] = "";
    snn_run_hooks hooks = {on_progress, &prog, NULL};
    if (st == SNN_OK)
        st = snn_run(cfg, &log, &hooks, &res, log_dir, sizeof log_dir, &err);
    snn_progress_finish(&prog.bar);
    snn_config_free(cfg);
    if (st != SNN_OK) {
        fprintf(stderr, "snntb: error: %s\n", err.msg);
        return 1;
    }
    print_results(&res, log_dir);
    return 0;
}
