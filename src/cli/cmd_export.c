/*
 * cmd_export.c - `snntb export --format F CONFIG.ini OUT`: converts the
 * model a config describes exactly as `snntb run` would (same parsing,
 * normalization and conversion), then writes the spiking net for another
 * simulator or toolchain instead of simulating it.  Argument parsing and
 * messages only; the work is in the library (snn_run_convert, snn_export).
 */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "core/fsutil.h"
#include "snntb/config.h"
#include "snntb/export.h"
#include "snntb/run.h"

typedef struct export_args {
    const char *format, *config, *out;
    int force, verbosity;
} export_args;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: snntb export --format FORMAT [options] CONFIG.ini OUT\n"
            "\n"
            "Converts the ANN the config names into a spiking network, as\n"
            "`snntb run` does, and writes it to OUT for another simulator:\n"
            "  nir     OUT is a NIR file (HDF5), read by nir.read() and the\n"
            "          NIR importers (snnTorch, Norse, Sinabs, Lava, ...)\n"
            "  brian2  OUT is a folder: run_brian2.py and connections.npz,\n"
            "          a script that builds and runs the net in Brian2\n"
            "  pynn    OUT is a folder: run_pynn.py and FromFileConnector\n"
            "          files; runs on NEST, Brian2, NEURON or SpiNNaker\n"
            "  c       OUT is one dependency-free C99 file with a main():\n"
            "          cc -O2 -o net OUT -lm && ./net SAMPLES.f32\n"
            "\n"
            "options:\n"
            "  -f, --format FORMAT  nir, brian2, pynn or c (required)\n"
            "  -o, --output OUT     where to write (or give OUT after CONFIG)\n"
            "      --force          replace an existing OUT\n"
            "  -q, --quiet          warnings and errors only\n"
            "  -h, --help           this help\n");
}

static void log_to_stderr(void *user, snn_log_level level, const char *msg)
{
    (void)user;
    fprintf(stderr, "snntb: %s%s\n",
            level == SNN_LOG_ERROR ? "error: "
            : level == SNN_LOG_WARN ? "warning: " : "", msg);
}

static int usage_error(const char *what, const char *arg)
{
    fprintf(stderr, "snntb: error: %s%s\n", what, arg);
    usage(stderr);
    return 2;
}

static int take_positional(export_args *a, const char *arg)
{
    if (!a->config)
        a->config = arg;
    else if (!a->out)
        a->out = arg;
    else
        return usage_error("unexpected argument ", arg);
    return 0;
}

/* Returns 0 to go on, 1 after --help, 2 on a usage error. */
static int parse_args(int argc, char **argv, export_args *a)
{
    memset(a, 0, sizeof *a);
    a->verbosity = SNN_LOG_INFO;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        int has_value = i + 1 < argc;
        if (!strcmp(s, "-h") || !strcmp(s, "--help")) {
            usage(stdout);
            return 1;
        } else if (!strcmp(s, "-f") || !strcmp(s, "--format")) {
            if (!has_value)
                return usage_error("--format needs a value", "");
            a->format = argv[++i];
        } else if (!strcmp(s, "-o") || !strcmp(s, "--output")) {
            if (!has_value || a->out)
                return usage_error("give OUT once", "");
            a->out = argv[++i];
        } else if (!strcmp(s, "--force")) {
            a->force = 1;
        } else if (!strcmp(s, "-q") || !strcmp(s, "--quiet")) {
            a->verbosity = SNN_LOG_WARN;
        } else if (s[0] == '-' && s[1]) {
            return usage_error("unknown option ", s);
        } else if (take_positional(a, s)) {
            return 2;
        }
    }
    if (!a->format)
        return usage_error("--format is required (nir, brian2, pynn or c)", "");
    if (!a->config || !a->out)
        return usage_error("CONFIG and OUT are required", "");
    return 0;
}

int snn_cmd_export(int argc, char **argv)
{
    export_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc)
        return rc == 1 ? 0 : 2;
    /* Before the conversion, which can take a while. */
    if (!a.force && snn_file_exists(a.out)) {
        fprintf(stderr, "snntb: error: %s exists: not overwriting it (use "
                "--force)\n", a.out);
        return 1;
    }
    snn_log log = {log_to_stderr, NULL, a.verbosity};
    snn_error err = {0};
    snn_export_format format;
    snn_config *cfg = NULL;
    snn_net net = {0};
    snn_status st = snn_export_format_parse(a.format, &format, &err);
    if (st == SNN_OK)
        st = snn_config_load(&cfg, a.config, &log, &err);
    snn_export_opts opts = {0};
    if (st == SNN_OK) {
        snn_export_opts_from_config(cfg, &opts);
        opts.force = a.force;
        st = snn_run_convert(cfg, &log, &net, &err);
    }
    if (st == SNN_OK)
        st = snn_export(&net, format, a.out, &opts, &log, &err);
    int n_layers = net.n_layers;
    snn_net_free(&net);
    snn_config_free(cfg);
    if (st != SNN_OK) {
        fprintf(stderr, "snntb: error: %s\n", err.msg);
        return 1;
    }
    if (a.verbosity >= SNN_LOG_INFO)
        printf("wrote %s (%s, %d layers)\n", a.out, a.format, n_layers);
    return 0;
}
