/*
 * cmd_export.c - `snntb export --format F CONFIG.ini OUT`: converts the
 * model a config describes exactly as `snntb run` would (same parsing,
 * normalization and conversion), then writes the spiking net for another
 * simulator or toolchain instead of simulating it.  Argument parsing and
 * messages only; the work is in the library (snn_run_convert, snn_export).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "core/fsutil.h"
#include "core/strbuf.h"
#include "pipeline/dataset_fit.h"
#include "snntb/config.h"
#include "snntb/dataset.h"
#include "snntb/export.h"
#include "snntb/run.h"

typedef struct export_args {
    const char *format, *config, *out, *precision, *predictions;
    long test, sample;
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
            "  lava    OUT is a lava-dl netx HDF5 file for Loihi (8-bit\n"
            "          weights, integer thresholds)\n"
            "  megasim OUT is a folder: MegaSim netlist megasim.sch, .prm\n"
            "          and .stt files, and the input events of one sample\n"
            "\n"
            "options:\n"
            "  -f, --format FORMAT  nir, brian2, pynn, c, lava or megasim\n"
            "                       (required)\n"
            "  -o, --output OUT     where to write (or give OUT after CONFIG)\n"
            "      --precision P    c: float (default), int16 or int8\n"
            "      --test N         lava, c int16/int8: simulate the float\n"
            "                       and the quantized net natively on the\n"
            "                       first N samples and print both accuracies\n"
            "      --predictions F  with --test: the quantized net's native\n"
            "                       predictions, one per line, into F\n"
            "      --sample K       megasim: the sample whose input events\n"
            "                       are written (default 0)\n"
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
        } else if (!strcmp(s, "--precision")) {
            if (!has_value)
                return usage_error("--precision needs a value", "");
            a->precision = argv[++i];
        } else if (!strcmp(s, "--predictions")) {
            if (!has_value)
                return usage_error("--predictions needs a file", "");
            a->predictions = argv[++i];
        } else if (!strcmp(s, "--test") || !strcmp(s, "--sample")) {
            char *end;
            if (!has_value)
                return usage_error(s, " needs a value");
            long v = strtol(argv[++i], &end, 10);
            if (*end || end == argv[i] || v < 0)
                return usage_error("not a count: ", argv[i]);
            *(!strcmp(s, "--test") ? &a->test : &a->sample) = v;
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
        return usage_error("--format is required (nir, brian2, pynn, c, lava "
                           "or megasim)", "");
    if (!a->config || !a->out)
        return usage_error("CONFIG and OUT are required", "");
    return 0;
}

static snn_status parse_precision(const char *p, int *bits, snn_error *err)
{
    *bits = 0;
    if (!p || !strcmp(p, "float"))
        return SNN_OK;
    if (!strcmp(p, "int16") || !strcmp(p, "int8")) {
        *bits = p[3] == '1' ? 16 : 8;
        return SNN_OK;
    }
    return snn_error_set(err, SNN_E_INVALID, "--precision %s is not known "
                         "(use float, int16 or int8)", p);
}

/* The test set the config names, fitted to the net's input shape. */
static snn_status load_test_set(const snn_config *cfg, const snn_net *net,
                                snn_dataset *d, snn_error *err)
{
    char dir[4096], fbuf[16];
    const char *fmt = snn_config_get_str(cfg, "input", "dataset_format",
                                         fbuf, sizeof fbuf);
    snn_status st = snn_config_get_path(cfg, "paths", "dataset_path", dir,
                                        sizeof dir, err);
    if (st != SNN_OK)
        return st;
    int idx = fmt && !strcmp(fmt, "idx");
    st = idx ? snn_dataset_load_idx(d, dir, err)
             : snn_dataset_load_npz(d, dir, err);
    return st == SNN_OK ? snn_dataset_fit(&d->x, &net->input_shape, dir, err)
                        : st;
}

static snn_status write_predictions(const char *path, const int *pred,
                                    size_t n, snn_error *err)
{
    snn_strbuf b = {0};
    int ok = 1;
    for (size_t j = 0; ok && j < n; j++) {
        char line[16];
        int len = snprintf(line, sizeof line, "%d\n", pred[j]);
        ok = snn_strbuf_put(&b, line, (size_t)len, (size_t)1 << 30);
    }
    snn_status st = ok ? snn_write_atomic(path, b.p, b.len, err)
                       : snn_error_set(err, SNN_E_NOMEM, "%s: out of memory",
                                       path);
    free(b.p);
    return st;
}

/* --test N: what the quantization of a lava or fixed-point C export
 * costs, simulated natively. */
static snn_status report_quantization(const snn_config *cfg,
                                      const snn_net *net,
                                      snn_export_format f, int bits,
                                      const export_args *a,
                                      const snn_export_opts *o,
                                      const snn_log *log, snn_error *err)
{
    snn_dataset d = {0};
    snn_quant_opts qo;
    snn_quant_eval ev;
    snn_quant_opts_for(f, bits, &qo);
    snn_status st = load_test_set(cfg, net, &d, err);
    size_t n = (size_t)a->test;
    if (st == SNN_OK && n > snn_dataset_size(&d))
        n = snn_dataset_size(&d);
    int steps = (int)(o->duration / (double)net->dt + 0.5);
    int *pred = st == SNN_OK && a->predictions ? calloc(n, sizeof *pred)
                                               : NULL;
    if (st == SNN_OK && a->predictions && !pred)
        st = snn_error_set(err, SNN_E_NOMEM, "cannot allocate predictions");
    if (st == SNN_OK)
        st = snn_quant_evaluate(net, &qo, &d.x, &d.y, n, steps, log, &ev,
                                pred, err);
    if (st == SNN_OK && pred)
        st = write_predictions(a->predictions, pred, n, err);
    free(pred);
    if (st == SNN_OK)
        printf("native accuracy on %zu samples: float %.4f, target neurons "
               "%.4f, quantized %.4f (%d-bit weights); %zu/%zu predictions "
               "equal to the float net's\n", ev.n, ev.float_top1,
               ev.float_reset_top1, ev.quant_top1, qo.weight_bits, ev.agree,
               ev.n);
    snn_dataset_free(&d);
    return st;
}

/* MegaSim's input events for sample --sample K of the config's test set. */
static snn_status write_megasim_stim(const snn_config *cfg,
                                     const snn_net *net, const export_args *a,
                                     const snn_export_opts *o, snn_error *err)
{
    snn_dataset d = {0};
    snn_status st = load_test_set(cfg, net, &d, err);
    size_t per = snn_shape_numel(&net->input_shape);
    if (st == SNN_OK && (size_t)a->sample >= snn_dataset_size(&d))
        st = snn_error_set(err, SNN_E_INVALID, "--sample %ld: the test set "
                           "has %zu samples", a->sample,
                           snn_dataset_size(&d));
    if (st == SNN_OK)
        st = snn_export_megasim_stim(net, a->out,
                                     d.x.data + (size_t)a->sample * per,
                                     o->duration, (uint64_t)a->sample, err);
    snn_dataset_free(&d);
    return st;
}

static snn_status export_extras(const snn_config *cfg, const snn_net *net,
                                snn_export_format f, int bits,
                                const export_args *a,
                                const snn_export_opts *o, const snn_log *log,
                                snn_error *err)
{
    if (f == SNN_EXPORT_MEGASIM)
        return write_megasim_stim(cfg, net, a, o, err);
    if (!a->test)
        return SNN_OK;
    return report_quantization(cfg, net, f, bits, a, o, log, err);
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
    int bits = 0;
    snn_status st = snn_export_format_parse(a.format, &format, &err);
    if (st == SNN_OK)
        st = parse_precision(a.precision, &bits, &err);
    if (st == SNN_OK && bits && format != SNN_EXPORT_C)
        st = snn_error_set(&err, SNN_E_INVALID, "--precision is for the C "
                           "export");
    if (st == SNN_OK && a.test && format != SNN_EXPORT_LAVA && !bits)
        st = snn_error_set(&err, SNN_E_INVALID, "--test is for the lava "
                           "export and the int16 / int8 C export");
    if (st == SNN_OK && a.predictions && !a.test)
        st = snn_error_set(&err, SNN_E_INVALID, "--predictions needs --test");
    if (st == SNN_OK && a.sample && format != SNN_EXPORT_MEGASIM)
        st = snn_error_set(&err, SNN_E_INVALID, "--sample is for the megasim "
                           "export");
    if (st == SNN_OK)
        st = snn_config_load(&cfg, a.config, &log, &err);
    snn_export_opts opts = {0};
    if (st == SNN_OK) {
        snn_export_opts_from_config(cfg, &opts);
        opts.force = a.force;
        opts.precision = bits;
        st = snn_run_convert(cfg, &log, &net, &err);
    }
    if (st == SNN_OK)
        st = snn_export(&net, format, a.out, &opts, &log, &err);
    if (st == SNN_OK)
        st = export_extras(cfg, &net, format, bits, &a, &opts, &log, &err);
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
