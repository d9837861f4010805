/*
 * export.c - picks the writer for a target format, guards existing user
 * files, and holds the conventions the writers share (export_internal.h).
 */
#include "snntb/export.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fsutil.h"
#include "export/export_internal.h"

static const struct {
    const char *name;
    snn_export_format format;
} formats[] = {
    {"nir", SNN_EXPORT_NIR},
    {"brian2", SNN_EXPORT_BRIAN2},
    {"pynn", SNN_EXPORT_PYNN},
    {"c", SNN_EXPORT_C},
    {"lava", SNN_EXPORT_LAVA},
    {"megasim", SNN_EXPORT_MEGASIM},
};

#define N_FORMATS (sizeof formats / sizeof formats[0])

snn_status snn_export_format_parse(const char *name, snn_export_format *f,
                                   snn_error *err)
{
    for (size_t i = 0; i < N_FORMATS; i++)
        if (strcmp(name, formats[i].name) == 0) {
            *f = formats[i].format;
            return SNN_OK;
        }
    return snn_error_set(err, SNN_E_INVALID,
                         "export format '%s' is not known (use nir, brian2, "
                         "pynn, c, lava or megasim)",
                         name);
}

snn_status snn_export(const snn_net *net, snn_export_format f,
                      const char *out, const snn_export_opts *opts,
                      const snn_log *log, snn_error *err)
{
    if (net->n_layers < 1)
        return snn_error_set(err, SNN_E_INVALID, "the spiking net is empty");
    if (net->v_init != 0)
        return snn_error_set(err, SNN_E_UNSUPPORTED,
                             "the net starts its membranes at v_init = %g x "
                             "v_thresh: exports do not carry an initial "
                             "potential yet (use [conversion] v_init = 0)",
                             (double)net->v_init);
    const snn_net_layer *multi = snn_net_multi_input(net);
    if (multi)
        return snn_error_set(err, SNN_E_UNSUPPORTED,
                             "layer '%s' (%s): exports do not carry layers "
                             "with several inputs (Add, Concatenate) yet; "
                             "the built-in simulator runs them",
                             multi->syn.name, multi->syn.type);
    const snn_net_layer *re = snn_net_resampling(net);
    if (re)
        return snn_error_set(err, SNN_E_UNSUPPORTED,
                             "layer '%s' (%s): exports do not carry %s yet; "
                             "the built-in simulator runs it", re->syn.name,
                             re->syn.type, snn_op_name(re->syn.op));
    if (!opts->force && snn_file_exists(out))
        return snn_error_set(err, SNN_E_INVALID,
                             "%s exists: not overwriting it (use --force)",
                             out);
    switch (f) {
    case SNN_EXPORT_NIR:
        return snn_export_nir(net, out, log, err);
    case SNN_EXPORT_BRIAN2:
        return snn_export_brian2(net, out, opts, log, err);
    case SNN_EXPORT_PYNN:
        return snn_export_pynn(net, out, opts, log, err);
    case SNN_EXPORT_C:
        return snn_export_c(net, out, opts, log, err);
    case SNN_EXPORT_LAVA:
        return snn_export_lava(net, out, log, err);
    case SNN_EXPORT_MEGASIM:
        return snn_export_megasim(net, out, opts, log, err);
    }
    return snn_error_set(err, SNN_E_INVALID, "unknown export format %d",
                         (int)f);
}

void snn_export_opts_from_config(const snn_config *cfg, snn_export_opts *o)
{
    memset(o, 0, sizeof *o);
    o->duration = snn_config_get_float(cfg, "simulation", "duration");
    o->cell.cm = snn_config_get_float(cfg, "cell", "cm");
    o->cell.tau_m = snn_config_get_float(cfg, "cell", "tau_m");
    o->cell.tau_syn_e = snn_config_get_float(cfg, "cell", "tau_syn_E");
    o->cell.tau_syn_i = snn_config_get_float(cfg, "cell", "tau_syn_I");
    o->cell.tau_refrac = snn_config_get_float(cfg, "cell", "tau_refrac");
    o->cell.delay = snn_config_get_float(cfg, "cell", "delay");
    o->scaling_factor = snn_config_get_int(cfg, "cell", "scaling_factor");
}

int snn_export_fed_by_input(const snn_net *net, int i)
{
    int src = net->layers[i].input;
    while (src >= 0 && net->layers[src].unit == SNN_UNIT_RESHAPE)
        src = net->layers[src].input;
    return src < 0;
}

float snn_export_weight_scale(const snn_net *net, int i)
{
    return snn_export_fed_by_input(net, i) ? 1.0f : net->v_thresh;
}

size_t snn_export_dense_column(const snn_net *net, int i, size_t j)
{
    int src = net->layers[i].input;
    if (src < 0)
        return j;
    const snn_net_layer *fl = &net->layers[src];
    if (fl->unit != SNN_UNIT_RESHAPE || !fl->syn.flatten_hwc ||
        fl->in_shape.ndim != 3)
        return j;
    /* Column j is element j of the (H, W, C) order: position p, channel c. */
    size_t c_n = fl->in_shape.dims[0];
    size_t hw = fl->in_shape.dims[1] * fl->in_shape.dims[2];
    return (j % c_n) * hw + j / c_n;
}

void snn_export_safe_name(char *dst, size_t n, const char *src)
{
    size_t k = 0;
    for (; k + 1 < n && src[k]; k++) {
        unsigned char ch = (unsigned char)src[k];
        dst[k] = isalnum(ch) || ch == '-' || ch == '_' ? (char)ch : '_';
    }
    if (n)
        dst[k] = '\0';
}

const char *snn_export_reset_name(snn_reset r)
{
    switch (r) {
    case SNN_RESET_ZERO:
        return "zero";
    case SNN_RESET_MODULO:
        return "modulo";
    case SNN_RESET_SUBTRACT:
        break;
    }
    return "subtract";
}

int snn_text_put(snn_strbuf *b, const char *s)
{
    return snn_strbuf_put(b, s, strlen(s), SNN_TEXT_MAX);
}

int snn_text_putf(snn_strbuf *b, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    return n >= 0 && (size_t)n < sizeof line && snn_text_put(b, line);
}

snn_status snn_text_write(snn_strbuf *b, int ok, const char *path,
                          snn_error *err)
{
    snn_status st = ok ? snn_write_atomic(path, b->p, b->len, err)
                       : snn_error_set(err, SNN_E_NOMEM, "%s: cannot build "
                                       "the text (out of memory or over "
                                       "%zu bytes)", path, SNN_TEXT_MAX);
    free(b->p);
    memset(b, 0, sizeof *b);
    return st;
}
