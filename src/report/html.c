/*
 * html.c - <log>/report/index.html: one self-contained page (inline SVG,
 * inline CSS and a few lines of JS, nothing fetched) with the run's
 * figures, the model summary and settings, then one section per layer
 * with a layer picker, like the original GUI's plot window.  Each figure
 * is also written to report/plots/<id>.svg for use elsewhere.
 */
#include "report/rdata.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fsutil.h"
#include "report/svg.h"

#define PATH_LEN 4096

static const char style[] =
    "body{font-family:sans-serif;margin:24px;color:#222;max-width:1800px}"
    "table{border-collapse:collapse;margin:8px 0 16px}"
    "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
    "th{background:#f3f3f3}td.l,th.l{text-align:left}"
    ".figs{display:flex;flex-wrap:wrap;gap:12px}"
    "figure{margin:0;border:1px solid #ddd;padding:4px}"
    "figcaption{font-size:12px;color:#666}"
    ".picker{position:sticky;top:0;background:#fff;padding:8px 0;"
    "border-bottom:1px solid #ccc;z-index:1}"
    ".cols{display:flex;gap:32px;flex-wrap:wrap}";

static const char script[] =
    "(function(){var pick=document.getElementById('pick'),"
    "cmp=document.getElementById('cmp');"
    "function show(){var v=pick.value,c=cmp.checked;"
    "document.querySelectorAll('.layer').forEach(function(d){"
    "d.style.display=(v==='all'||d.id===v)?'':'none';"
    "d.querySelectorAll('figure').forEach(function(f){"
    "f.style.display=(!c||f.dataset.cmp==='1')?'':'none';});});}"
    "pick.addEventListener('change',show);cmp.addEventListener('change',show);"
    "show();})();";

static void percent_cell(rp_buf *b, int have, double v)
{
    if (have)
        rp_printf(b, "<td>%.2f %%</td>", 100 * v);
    else
        rp_printf(b, "<td>&#8212;</td>");
}

static void results_table(rp_buf *b, const snn_report *r)
{
    const snn_results *s = &r->results;
    /* With top_k = 1 the top-k column would repeat top-1. */
    int with_k = r->top_k > 1;
    rp_printf(b, "<table><tr><th></th><th>top-1</th>");
    if (with_k)
        rp_printf(b, "<th>top-%d</th>", r->top_k);
    rp_printf(b, "</tr><tr><th class='l'>ANN</th>");
    percent_cell(b, s->ann_evaluated, s->ann_top1);
    if (with_k)
        percent_cell(b, s->ann_evaluated, s->ann_topk);
    rp_printf(b, "</tr><tr><th class='l'>SNN</th>");
    percent_cell(b, s->simulated, s->snn_top1);
    if (with_k)
        percent_cell(b, s->simulated, s->snn_topk);
    rp_printf(b, "</tr></table><table><tr><th class='l'>SNN top-1 averaged "
              "over classes</th>");
    percent_cell(b, s->simulated, s->snn_class_avg);
    rp_printf(b, "</tr>");
    rp_printf(b, "<tr><th class='l'>samples tested</th><td>%zu (%zu recorded "
              "in detail)</td></tr>", r->n_tested, r->n_rec);
    rp_printf(b, "<tr><th class='l'>samples without output spike</th><td>%zu</td></tr>",
              s->silent);
    rp_printf(b, "<tr><th class='l'>duration</th><td>%g ms = %d steps of %g ms</td></tr>",
              s->duration, r->steps, r->dt);
    rp_printf(b, "<tr><th class='l'>mean firing rate</th><td>%.4g spikes per "
              "neuron per step (%.4g Hz)</td></tr>", s->mean_rate,
              rp_rate_hz(s->mean_rate * r->steps, r->steps, r->dt));
    rp_printf(b, "<tr><th class='l'>SNN synaptic operations</th><td>%.4g per "
              "sample</td></tr>", s->synops_per_sample);
    rp_printf(b, "<tr><th class='l'>ANN multiply-accumulates</th><td>%.4g per "
              "sample</td></tr>", r->ann_macs);
    rp_printf(b, "<tr><th class='l'>simulation time</th><td>%.3f s</td></tr>"
              "<tr><th class='l'>wall time of the run</th><td>%.3f s</td></tr>"
              "</table>", s->sim_seconds, s->wall_seconds);
}

static void shape_text(char *buf, size_t n, const snn_shape *s)
{
    buf[0] = '\0';
    for (int d = 0; d < s->ndim; d++) {
        size_t len = strlen(buf);
        snprintf(buf + len, n - len, "%s%zu", d ? " &#215; " : "", s->dims[d]);
    }
}

static void layer_row(rp_buf *b, const snn_report *r, int i)
{
    const rp_layer *l = &r->layers[i];
    char shape[96];
    double sum = 0, pm, psd;
    for (size_t k = 0; k < l->size * r->n_rec; k++)
        sum += l->counts[k];
    double mean = sum / (double)(l->size * r->n_rec);
    size_t used = rp_layer_pearson(r, l, i == r->n_layers - 1, &pm, &psd);
    shape_text(shape, sizeof shape, &l->shape);
    rp_printf(b, "<tr><td class='l'>");
    rp_escaped(b, l->label);
    rp_printf(b, "</td><td class='l'>");
    rp_escaped(b, l->name);
    rp_printf(b, "</td><td class='l'>%s</td><td>%s</td><td>%zu</td><td>%zu</td>"
              "<td>%.4g</td>", l->kind, shape, l->size, l->params, l->macs);
    if (l->lambda > 0)
        rp_printf(b, "<td>%.4g</td>", l->lambda);
    else
        rp_printf(b, "<td>&#8212;</td>");
    rp_printf(b, "<td>%.4g</td>", rp_rate_hz(mean, r->steps, r->dt));
    if (used)
        rp_printf(b, "<td>%.3f &#177; %.3f</td></tr>", pm, psd);
    else
        rp_printf(b, "<td>&#8212;</td></tr>");
}

static void model_table(rp_buf *b, const snn_report *r)
{
    char shape[96];
    size_t params = 0;
    shape_text(shape, sizeof shape, &r->input_shape);
    rp_printf(b, "<p>Source: ");
    rp_escaped(b, r->source[0] ? r->source : "unknown");
    rp_printf(b, "; input %s.</p><table><tr><th class='l'>layer</th>"
              "<th class='l'>name</th><th class='l'>op</th><th>shape</th>"
              "<th>neurons</th><th>params</th><th>ANN MACs</th>"
              "<th>scale factor</th><th>mean rate [Hz]</th>"
              "<th>Pearson r</th></tr>", shape);
    for (int i = 0; i < r->n_layers; i++) {
        layer_row(b, r, i);
        params += r->layers[i].params;
    }
    rp_printf(b, "</table><p>%zu parameters in the layers above.</p>", params);
}

static void settings_table(rp_buf *b, const snn_report *r)
{
    rp_printf(b, "<table>");
    for (int i = 0; i < r->n_settings; i++) {
        rp_printf(b, "<tr><th class='l'>");
        rp_escaped(b, r->settings[i][0]);
        rp_printf(b, "</th><td class='l'>");
        rp_escaped(b, r->settings[i][1]);
        rp_printf(b, "</td></tr>");
    }
    rp_printf(b, "</table>");
}

/* Figures the compare view keeps: what sets ANN against SNN. */
static int compare_kind(const char *what)
{
    return !strcmp(what, "activations") || !strcmp(what, "spikerates") ||
           !strcmp(what, "spikerates minus activations") ||
           !strcmp(what, "correlation");
}

static void figure_html(rp_buf *b, const rp_figure *f)
{
    rp_printf(b, "<figure data-cmp='%d'>%s<figcaption>%s &#8212; plots/%s.svg"
              "</figcaption></figure>", compare_kind(f->title), f->svg,
              f->title, f->id);
}

static void layer_sections(rp_buf *b, const snn_report *r, const rp_figures *f)
{
    rp_printf(b, "<h2>Layers</h2><div class='picker'><label>Layer: <select "
              "id='pick'><option value='all'>all layers</option>");
    for (int i = 0; i < r->n_layers; i++) {
        rp_printf(b, "<option value='layer%d'>", i);
        rp_escaped(b, r->layers[i].label);
        rp_printf(b, "</option>");
    }
    rp_printf(b, "</select></label> <label><input type='checkbox' id='cmp'> "
              "only ANN activations vs SNN spike rates</label></div>");
    for (int i = 0; i < r->n_layers; i++) {
        rp_printf(b, "<div class='layer' id='layer%d'><h3>", i);
        rp_escaped(b, r->layers[i].label);
        rp_printf(b, "</h3><div class='figs'>");
        for (size_t k = 0; k < f->n; k++)
            if (f->f[k].layer == i)
                figure_html(b, &f->f[k]);
        rp_printf(b, "</div></div>");
    }
}

static char *page(const snn_report *r, const rp_figures *f)
{
    rp_buf b = {0};
    rp_printf(&b, "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
              "<title>snntb report</title><style>%s</style></head><body>"
              "<h1>snntb report</h1><div class='cols'><div><h2>Results</h2>",
              style);
    results_table(&b, r);
    rp_printf(&b, "</div><div><h2>Settings</h2>");
    settings_table(&b, r);
    rp_printf(&b, "</div></div><h2>Model</h2>");
    model_table(&b, r);
    rp_printf(&b, "<h2>Whole run</h2><div class='figs'>");
    for (size_t k = 0; k < f->n; k++)
        if (f->f[k].layer < 0)
            figure_html(&b, &f->f[k]);
    rp_printf(&b, "</div>");
    layer_sections(&b, r, f);
    rp_printf(&b, "<script>%s</script></body></html>\n", script);
    return rp_take(&b);
}

static snn_status write_svgs(const rp_figures *f, const char *dir,
                             snn_error *err)
{
    char plots[PATH_LEN], path[PATH_LEN], name[96];
    snn_status st = snn_path_join(plots, sizeof plots, dir, "plots", err);
    if (st == SNN_OK)
        st = snn_mkdirs(plots, err);
    for (size_t k = 0; st == SNN_OK && k < f->n; k++) {
        snprintf(name, sizeof name, "%s.svg", f->f[k].id);
        st = snn_path_join(path, sizeof path, plots, name, err);
        if (st == SNN_OK)
            st = snn_write_atomic(path, f->f[k].svg, strlen(f->f[k].svg), err);
    }
    return st;
}

snn_status rp_write_html(const snn_report *r, const rp_figures *f,
                         const char *log_dir, snn_error *err)
{
    char dir[PATH_LEN], path[PATH_LEN];
    snn_status st = snn_path_join(dir, sizeof dir, log_dir, "report", err);
    if (st == SNN_OK)
        st = snn_mkdirs(dir, err);
    if (st == SNN_OK)
        st = write_svgs(f, dir, err);
    if (st == SNN_OK)
        st = snn_path_join(path, sizeof path, dir, "index.html", err);
    if (st != SNN_OK)
        return st;
    char *html = page(r, f);
    if (!html)
        return snn_error_set(err, SNN_E_NOMEM, "cannot build %s", path);
    st = snn_write_atomic(path, html, strlen(html), err);
    free(html);
    return st;
}
