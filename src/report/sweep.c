/*
 * sweep.c - the record of a parameter sweep (the original's
 * [parameter_sweep]): one run per value, each with its own log folder;
 * this file writes what compares them, in the sweep's folder: sweep.json
 * for scripts, sweep.txt for people, and report/index.html with the
 * accuracy-vs-parameter plot the original draws.
 */
#include "snntb/report.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fsutil.h"
#include "report/svg.h"

#define PATH_LEN 4096

static json_t *number_or_null(int have, double v)
{
    return have ? json_real(v) : json_null();
}

static json_t *sweep_json(const char *section, const char *param,
                          int logscale, const snn_sweep_run *runs, size_t n)
{
    json_t *o = json_object(), *a = json_array();
    json_object_set_new(o, "param_name", json_string(param));
    json_object_set_new(o, "section", json_string(section));
    json_object_set_new(o, "param_logscale", json_boolean(logscale));
    for (size_t i = 0; i < n; i++) {
        const snn_results *r = &runs[i].res;
        json_t *run = json_object();
        json_object_set_new(run, "value", json_real(runs[i].value));
        json_object_set_new(run, "log_dir", json_string(runs[i].log_dir));
        json_object_set_new(run, "num_samples",
                            json_integer((json_int_t)r->num_samples));
        json_object_set_new(run, "ann_top1",
                            number_or_null(r->ann_evaluated, r->ann_top1));
        json_object_set_new(run, "snn_top1",
                            number_or_null(r->simulated, r->snn_top1));
        json_object_set_new(run, "snn_topk",
                            number_or_null(r->simulated, r->snn_topk));
        json_object_set_new(run, "mean_spikes_per_neuron_step",
                            json_real(r->mean_rate));
        json_object_set_new(run, "synaptic_operations_per_sample",
                            json_real(r->synops_per_sample));
        json_array_append_new(a, run);
    }
    json_object_set_new(o, "runs", a);
    return o;
}

static snn_status write_json(const char *path, const char *section,
                             const char *param, int logscale,
                             const snn_sweep_run *runs, size_t n,
                             snn_error *err)
{
    json_t *o = sweep_json(section, param, logscale, runs, n);
    char *text = json_dumps(o, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
    json_decref(o);
    if (!text)
        return snn_error_set(err, SNN_E_NOMEM, "cannot format %s", path);
    snn_status st = snn_write_atomic(path, text, strlen(text), err);
    free(text);
    return st;
}

/* A figure as text: "-" when the run did not produce it. */
static void percent(char *buf, size_t n, int have, double v)
{
    if (have)
        snprintf(buf, n, "%.2f", 100 * v);
    else
        snprintf(buf, n, "-");
}

/* A run's accuracies as the table and the page print them. */
typedef struct run_cells {
    char ann[16], t1[16], tk[16];
} run_cells;

static run_cells cells_of(const snn_results *r)
{
    run_cells c;
    percent(c.ann, sizeof c.ann, r->ann_evaluated, r->ann_top1);
    percent(c.t1, sizeof c.t1, r->simulated, r->snn_top1);
    percent(c.tk, sizeof c.tk, r->simulated, r->snn_topk);
    return c;
}

static snn_status write_text(const char *path, const char *param,
                             const snn_sweep_run *runs, size_t n,
                             snn_error *err)
{
    rp_buf b = {0};
    rp_printf(&b, "%14s %10s %10s %10s %14s %16s\n", param, "ANN top-1",
              "SNN top-1", "SNN top-k", "spikes/n/step", "synops/sample");
    for (size_t i = 0; i < n; i++) {
        const snn_results *r = &runs[i].res;
        run_cells c = cells_of(r);
        rp_printf(&b, "%14.6g %10s %10s %10s %14.4g %16.4g\n", runs[i].value,
                  c.ann, c.t1, c.tk, r->mean_rate, r->synops_per_sample);
    }
    char *text = rp_take(&b);
    if (!text)
        return snn_error_set(err, SNN_E_NOMEM, "cannot format %s", path);
    snn_status st = snn_write_atomic(path, text, strlen(text), err);
    free(text);
    return st;
}

/* The x axis: the values' range, widened to whole decades on a log
 * scale (where the ticks are), by 5 % each side otherwise. */
static rp_axis value_axis(const snn_sweep_run *runs, size_t n, int logscale,
                          const char *label)
{
    double lo = runs[0].value, hi = runs[0].value;
    for (size_t i = 1; i < n; i++) {
        lo = runs[i].value < lo ? runs[i].value : lo;
        hi = runs[i].value > hi ? runs[i].value : hi;
    }
    if (logscale) {
        lo = pow(10, floor(log10(lo)));
        hi = pow(10, ceil(log10(hi)));
        hi = hi > lo ? hi : lo * 10;
    } else {
        double pad = hi > lo ? 0.05 * (hi - lo) : 0.5;
        lo -= pad;
        hi += pad;
    }
    return (rp_axis){.lo = lo, .hi = hi, .log = logscale, .label = label};
}

/* The y axis: whole percent around the accuracies shown (SNN and ANN),
 * so that a sweep's differences of a point or less are visible. */
static rp_axis accuracy_axis(const snn_sweep_run *runs, size_t n)
{
    double lo = 100, hi = 0;
    for (size_t i = 0; i < n; i++) {
        const snn_results *r = &runs[i].res;
        double v[2] = {100 * r->snn_top1, 100 * r->ann_top1};
        int has[2] = {r->simulated, r->ann_evaluated};
        for (int k = 0; k < 2; k++)
            if (has[k]) {
                lo = v[k] < lo ? v[k] : lo;
                hi = v[k] > hi ? v[k] : hi;
            }
    }
    if (hi < lo)
        return (rp_axis){.lo = 0, .hi = 100, .label = "top-1 accuracy [%]"};
    lo = floor(lo) - 1;
    hi = ceil(hi) + 1;
    return (rp_axis){.lo = lo < 0 ? 0 : lo, .hi = hi > 100 ? 100 : hi,
                     .label = "top-1 accuracy [%]"};
}

static char *sweep_svg(const char *param, int logscale,
                       const snn_sweep_run *runs, size_t n)
{
    rp_buf b = {0};
    rp_plot p;
    double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    size_t m = 0;
    char title[160];
    snprintf(title, sizeof title, "SNN accuracy vs %s", param);
    svg_begin(&p, &b, 560, 360, title, value_axis(runs, n, logscale, param),
              accuracy_axis(runs, n));
    for (size_t i = 0; x && y && i < n; i++)
        if (runs[i].res.simulated) {
            x[m] = runs[i].value;
            y[m++] = 100 * runs[i].res.snn_top1;
        }
    if (!x || !y)
        b.failed = 1;
    else if (m > 0)
        svg_line(&p, x, y, m, "#2ca02c", NULL, "SNN top-1");
    float *fx = malloc((m ? m : 1) * sizeof *fx);
    float *fy = malloc((m ? m : 1) * sizeof *fy);
    for (size_t i = 0; fx && fy && i < m; i++) {
        fx[i] = (float)x[i];
        fy[i] = (float)y[i];
    }
    if (fx && fy && m > 0)
        svg_points(&p, fx, fy, m, "#2ca02c", NULL);
    if (runs[0].res.ann_evaluated)
        svg_hline(&p, 100 * runs[0].res.ann_top1, "#d62728", "6 4",
                  "ANN top-1");
    svg_end(&p);
    free(x);
    free(y);
    free(fx);
    free(fy);
    return rp_take(&b);
}

static char *sweep_page(const char *section, const char *param,
                        const char *svg, const snn_sweep_run *runs, size_t n)
{
    rp_buf b = {0};
    rp_printf(&b, "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
              "<title>snntb parameter sweep</title><style>body{font-family:"
              "sans-serif;margin:24px}table{border-collapse:collapse}td,th{"
              "border:1px solid #ccc;padding:3px 8px;text-align:right}"
              "</style></head><body><h1>Parameter sweep: [");
    rp_escaped(&b, section);
    rp_printf(&b, "] ");
    rp_escaped(&b, param);
    rp_printf(&b, "</h1>%s<table><tr><th>", svg);
    rp_escaped(&b, param);
    /* Top-k only when it differs from top-1; links relative to report/,
     * so the folder can be moved or copied. */
    int k = n ? runs[0].res.top_k : 1;
    rp_printf(&b, "</th><th>ANN top-1 [%%]</th><th>SNN top-1 [%%]</th>");
    if (k > 1)
        rp_printf(&b, "<th>SNN top-%d [%%]</th>", k);
    rp_printf(&b, "<th>run</th></tr>");
    for (size_t i = 0; i < n; i++) {
        run_cells c = cells_of(&runs[i].res);
        rp_printf(&b, "<tr><td>%g</td><td>%s</td><td>%s</td>", runs[i].value,
                  c.ann, c.t1);
        if (k > 1)
            rp_printf(&b, "<td>%s</td>", c.tk);
        const char *base = strrchr(runs[i].log_dir, '/');
        base = base ? base + 1 : runs[i].log_dir;
        rp_printf(&b, "<td><a href='../sweep/");
        rp_escaped(&b, base);
        rp_printf(&b, "/'>");
        rp_escaped(&b, runs[i].log_dir);
        rp_printf(&b, "</a></td></tr>");
    }
    rp_printf(&b, "</table></body></html>\n");
    return rp_take(&b);
}

/* report/index.html and report/plots/sweep.svg. */
static snn_status write_report(const char *log_dir, const char *section,
                               const char *param, int logscale,
                               const snn_sweep_run *runs, size_t n,
                               snn_error *err)
{
    char dir[PATH_LEN], plots[PATH_LEN], path[PATH_LEN];
    snn_status st = snn_path_join(dir, sizeof dir, log_dir, "report", err);
    if (st == SNN_OK)
        st = snn_path_join(plots, sizeof plots, dir, "plots", err);
    if (st == SNN_OK)
        st = snn_mkdirs(plots, err);
    if (st != SNN_OK)
        return st;
    char *svg = sweep_svg(param, logscale, runs, n);
    char *html = svg ? sweep_page(section, param, svg, runs, n) : NULL;
    if (!html)
        st = snn_error_set(err, SNN_E_NOMEM, "cannot draw the sweep plot");
    if (st == SNN_OK)
        st = snn_path_join(path, sizeof path, plots, "sweep.svg", err);
    if (st == SNN_OK)
        st = snn_write_atomic(path, svg, strlen(svg), err);
    if (st == SNN_OK)
        st = snn_path_join(path, sizeof path, dir, "index.html", err);
    if (st == SNN_OK)
        st = snn_write_atomic(path, html, strlen(html), err);
    free(svg);
    free(html);
    return st;
}

snn_status snn_report_sweep(const char *log_dir, const char *section,
                            const char *param, int logscale,
                            const snn_sweep_run *runs, size_t n,
                            snn_error *err)
{
    char path[PATH_LEN];
    if (n == 0)
        return snn_error_set(err, SNN_E_INVALID, "a sweep without runs");
    snn_status st = snn_path_join(path, sizeof path, log_dir, "sweep.json",
                                  err);
    if (st == SNN_OK)
        st = write_json(path, section, param, logscale, runs, n, err);
    if (st == SNN_OK)
        st = snn_path_join(path, sizeof path, log_dir, "sweep.txt", err);
    if (st == SNN_OK)
        st = write_text(path, param, runs, n, err);
    if (st == SNN_OK)
        st = write_report(log_dir, section, param, logscale, runs, n, err);
    return st;
}
