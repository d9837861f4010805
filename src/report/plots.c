/*
 * plots.c - one function per plot of the original's plot_vars, each
 * turning the report's numbers into an SVG figure.  Large layers are
 * summarized: rasters show at most RASTER_ROWS neurons, scatter plots of
 * more than SCATTER_MAX points become 2-D density maps, membrane traces
 * show the most active neurons, activity maps are PNG images.
 */
#include "report/rdata.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/svg.h"

#define RASTER_ROWS 400
#define SCATTER_MAX 3000
#define DENSITY_BINS 60
#define HIST_BINS 50
#define VMEM_TRACES 10

static const char *const palette[] = {"#1f77b4", "#ff7f0e", "#2ca02c",
                                      "#d62728", "#9467bd", "#8c564b",
                                      "#e377c2", "#7f7f7f"};

/* ---- the figure list ---- */

static snn_status add_figure(rp_figures *out, rp_buf *b, int layer,
                             const char *id, const char *title, snn_error *err)
{
    char *svg = rp_take(b);
    if (!svg || (out->n == out->cap && out->cap > ((size_t)1 << 20))) {
        free(svg);
        return snn_error_set(err, SNN_E_NOMEM, "report: cannot draw %s", id);
    }
    if (out->n == out->cap) {
        size_t cap = out->cap ? out->cap * 2 : 32;
        rp_figure *f = realloc(out->f, cap * sizeof *f);
        if (!f) {
            free(svg);
            return snn_error_set(err, SNN_E_NOMEM, "report: cannot draw %s", id);
        }
        out->f = f;
        out->cap = cap;
    }
    rp_figure *f = &out->f[out->n++];
    snprintf(f->id, sizeof f->id, "%s", id);
    snprintf(f->title, sizeof f->title, "%s", title);
    f->layer = layer;
    f->svg = svg;
    return SNN_OK;
}

void rp_figures_free(rp_figures *f)
{
    for (size_t i = 0; i < f->n; i++)
        free(f->f[i].svg);
    free(f->f);
    memset(f, 0, sizeof *f);
}

static void layer_id(char *id, size_t n, const rp_layer *l, const char *what)
{
    snprintf(id, n, "%.40s_%s", l->label, what);
}

/* ---- shared drawing helpers ---- */

static rp_axis axis(double lo, double hi, const char *label)
{
    if (!(hi > lo))
        hi = lo + 1;
    return (rp_axis){.lo = lo, .hi = hi, .log = 0, .label = label};
}

/* Counts on a log scale, room above the tallest bar. */
static rp_axis count_axis(size_t top, const char *label)
{
    return (rp_axis){.lo = 1, .hi = (double)top * 2, .log = 1, .label = label};
}

static double *time_axis(const snn_report *r)
{
    double *t = malloc((size_t)r->steps * sizeof *t);
    for (int i = 0; t && i < r->steps; i++)
        t[i] = (i + 1) * r->dt;
    return t;
}

/* Values to colours over [lo, hi]. */
static unsigned char *colorize(const float *v, size_t n, double lo, double hi,
                               int diverging)
{
    unsigned char *rgb = malloc(n * 3 + 1);
    double span = hi > lo ? hi - lo : 1;
    for (size_t i = 0; rgb && i < n; i++)
        rp_colormap((v[i] - lo) / span, diverging, rgb + 3 * i);
    return rgb;
}

/* A layer's values as one image: feature maps of (C, H, W) tiled in a
 * near-square grid with 1-pixel white gaps; a vector wrapped into rows. */
typedef struct tiling {
    size_t cols, rows, th, tw, w, h;
} tiling;

static tiling tile_layout(const snn_shape *s)
{
    tiling t;
    size_t c = s->ndim == 3 ? s->dims[0] : 1;
    t.th = s->ndim == 3 ? s->dims[1] : 1;
    t.tw = s->ndim == 3 ? s->dims[2] : snn_shape_numel(s);
    if (s->ndim != 3) {
        size_t n = t.tw, w = (size_t)ceil(sqrt((double)n));
        t.tw = w;
        t.th = (n + w - 1) / w;
    }
    t.cols = (size_t)ceil(sqrt((double)c));
    t.rows = (c + t.cols - 1) / t.cols;
    t.w = t.cols * (t.tw + 1) - 1;
    t.h = t.rows * (t.th + 1) - 1;
    return t;
}

static unsigned char *tile_image(const snn_shape *s, const float *v,
                                 double lo, double hi, int diverging,
                                 tiling *t)
{
    *t = tile_layout(s);
    size_t n = snn_shape_numel(s), per = t->th * t->tw;
    unsigned char *img = malloc(t->w * t->h * 3 + 1);
    unsigned char *col = colorize(v, n, lo, hi, diverging);
    if (!img || !col) {
        free(img);
        free(col);
        return NULL;
    }
    memset(img, 255, t->w * t->h * 3);
    for (size_t i = 0; i < n; i++) {
        size_t ch = s->ndim == 3 ? i / per : 0, k = s->ndim == 3 ? i % per : i;
        size_t x = (ch % t->cols) * (t->tw + 1) + k % t->tw;
        size_t y = (ch / t->cols) * (t->th + 1) + k / t->tw;
        memcpy(img + 3 * (y * t->w + x), col + 3 * i, 3);
    }
    free(col);
    return img;
}

/* An activity map figure: the tiled image with a colour bar. */
static void draw_map(rp_buf *b, const char *title, const snn_shape *s,
                     const float *v, double lo, double hi, int diverging,
                     const char *unit)
{
    tiling t;
    unsigned char *img = tile_image(s, v, lo, hi, diverging, &t);
    rp_plot p;
    double aspect = (double)t.h / (double)t.w, w = 470;
    double h = fmin(fmax(40 + 12 + (w - 12 - 86) * aspect, 160), 520);
    svg_begin(&p, b, w, h, title, axis(0, (double)t.w, NULL),
              axis(0, (double)t.h, NULL));
    p.right = 86;
    double pw = p.w - p.left - p.right, ph = p.h - p.top - p.bottom;
    /* Keep pixels square: shrink the box along the longer side. */
    if (ph / pw > aspect)
        p.bottom += ph - pw * aspect;
    else
        p.right += pw - ph / aspect;
    if (img)
        svg_image(&p, img, (int)t.w, (int)t.h, 0, (double)t.w, 0, (double)t.h);
    else
        b->failed = 1;
    p.right = 86;
    svg_colorbar(&p, lo, hi, diverging, unit);
    svg_end(&p);
    free(img);
}

/* ---- run-wide plots ---- */

static snn_status plot_input_image(const snn_report *r, rp_figures *out,
                                   snn_error *err)
{
    rp_buf b = {0};
    char title[96];
    double lo, hi;
    size_t n = snn_shape_numel(&r->input_shape);
    rp_minmax(r->input, n, &lo, &hi);
    snprintf(title, sizeof title, "Input image (class: %d)", r->truth[0]);
    draw_map(&b, title, &r->input_shape, r->input, lo, hi, 0, "value");
    return add_figure(out, &b, -1, "input_image", "input_image", err);
}

static snn_status plot_error_t(const snn_report *r, rp_figures *out,
                               snn_error *err)
{
    rp_buf b = {0};
    rp_plot p;
    char x_label[64], k_label[32], ann_k[32];
    double *t = time_axis(r), *e1 = malloc((size_t)r->steps * sizeof *e1),
           *ek = malloc((size_t)r->steps * sizeof *ek);
    for (int i = 0; e1 && ek && i < r->steps; i++) {
        e1[i] = 100 * r->top1_t[i];
        ek[i] = 100 * r->topk_t[i];
    }
    snprintf(x_label, sizeof x_label, "simulation time [ms] (dt = %g ms)", r->dt);
    snprintf(k_label, sizeof k_label, "SNN top-%d", r->top_k);
    snprintf(ann_k, sizeof ann_k, "ANN top-%d", r->top_k);
    svg_begin(&p, &b, 560, 360, "Classification error vs time",
              axis(0, r->steps * r->dt, x_label), axis(0, 100, "error [%]"));
    if (t && e1 && ek) {
        svg_line(&p, t, e1, (size_t)r->steps, "#2ca02c", NULL, "SNN top-1");
        if (r->top_k > 1)
            svg_line(&p, t, ek, (size_t)r->steps, "#1f77b4", NULL, k_label);
    } else {
        b.failed = 1;
    }
    if (r->results.ann_evaluated) {
        svg_hline(&p, 100 * (1 - r->results.ann_top1), "#d62728", "6 4", "ANN top-1");
        if (r->top_k > 1)
            svg_hline(&p, 100 * (1 - r->results.ann_topk), "#ff7f0e", "2 3",
                      ann_k);
    }
    svg_end(&p);
    free(t);
    free(e1);
    free(ek);
    return add_figure(out, &b, -1, "error_t", "error_t", err);
}

static void confusion_cells(rp_plot *p, const size_t *cm, int classes,
                            int cols, size_t max)
{
    float *v = malloc((size_t)classes * (size_t)cols * sizeof *v);
    for (size_t i = 0; v && i < (size_t)classes * (size_t)cols; i++)
        v[i] = (float)cm[i];
    unsigned char *rgb = v ? colorize(v, (size_t)classes * (size_t)cols, 0,
                                      (double)max, 0) : NULL;
    if (rgb)
        svg_image(p, rgb, cols, classes, 0, cols, 0, classes);
    else
        p->out->failed = 1;
    char text[32];
    for (int i = 0; classes <= 20 && i < classes; i++)
        for (int j = 0; j < cols; j++) {
            size_t c = cm[(size_t)i * (size_t)cols + (size_t)j];
            if (!c)
                continue;
            snprintf(text, sizeof text, "%zu", c);
            rp_printf(p->out, "<g fill='%s'>", c * 2 > max ? "#000" : "#fff");
            svg_text(p, svg_px(p, j + 0.5), svg_py(p, classes - i - 0.5) + 4,
                     "middle", 10, text);
            rp_printf(p->out, "</g>");
        }
    free(v);
    free(rgb);
}

static void confusion_labels(rp_plot *p, int classes, int cols)
{
    char text[16];
    for (int j = 0; j < cols; j++) {
        snprintf(text, sizeof text, "%d", j);
        svg_text(p, svg_px(p, j + 0.5), p->h - p->bottom + 14, "middle", 10,
                 j == classes ? "none" : text);
    }
    for (int i = 0; i < classes; i++) {
        snprintf(text, sizeof text, "%d", i);
        svg_text(p, p->left - 6, svg_py(p, classes - i - 0.5) + 4, "end", 10, text);
    }
    svg_text(p, p->left + (p->w - p->left - p->right) / 2, p->h - 10,
             "middle", 13, "predicted class");
    rp_printf(p->out, "<text x='16' y='%.1f' font-size='13' text-anchor='middle' "
              "transform='rotate(-90 16 %.1f)'>true class</text>",
              (p->top + p->h - p->bottom) / 2, (p->top + p->h - p->bottom) / 2);
}

static snn_status plot_confusion(const snn_report *r, rp_figures *out,
                                 snn_error *err)
{
    int classes = r->n_classes, cols = classes + 1;
    size_t *cm = calloc((size_t)classes * (size_t)cols, sizeof *cm);
    if (!cm)
        return snn_error_set(err, SNN_E_NOMEM, "report: confusion matrix");
    size_t used = rp_confusion(r->truth, r->guess, r->n_tested, classes, cm), max = 1;
    for (size_t i = 0; i < (size_t)classes * (size_t)cols; i++)
        max = cm[i] > max ? cm[i] : max;
    rp_buf b = {0};
    rp_plot p;
    char title[96];
    snprintf(title, sizeof title, "Confusion matrix (%zu samples)", used);
    svg_begin(&p, &b, 520, 500, title, axis(0, cols, NULL), axis(0, classes, NULL));
    p.left = 50;
    p.bottom = 46;
    p.right = 86;
    confusion_cells(&p, cm, classes, cols, max);
    confusion_labels(&p, classes, cols);
    svg_colorbar(&p, 0, (double)max, 0, "samples");
    svg_end(&p);
    free(cm);
    return add_figure(out, &b, -1, "confusion_matrix", "confusion_matrix", err);
}

static snn_status plot_operations(const snn_report *r, rp_figures *out,
                                  snn_error *err)
{
    rp_buf b = {0};
    rp_plot p;
    char x_label[64];
    double *t = time_axis(r), ann = r->ann_macs / 1e6;
    double top = fmax(r->synops_t[r->steps - 1], ann) * 1.1;
    snprintf(x_label, sizeof x_label, "simulation time [ms] (dt = %g ms)", r->dt);
    svg_begin(&p, &b, 560, 360, "SNN operations per sample (cumulative)",
              axis(0, r->steps * r->dt, x_label), axis(0, top, "operations [MOps]"));
    if (t)
        svg_line(&p, t, r->synops_t, (size_t)r->steps, "#1f77b4", NULL,
                 "SNN synaptic ops");
    else
        b.failed = 1;
    svg_hline(&p, ann, "#d62728", "6 4", "ANN MACs");
    svg_end(&p);
    free(t);
    return add_figure(out, &b, -1, "operations", "operations", err);
}

/* Cumulative spikes of sample 0 per layer and in total. */
static snn_status plot_spikecounts(const snn_report *r, rp_figures *out,
                                   snn_error *err)
{
    size_t steps = (size_t)r->steps;
    int nl = r->n_layers < 7 ? r->n_layers : 7;
    double *t = time_axis(r), *cum = calloc(steps * (size_t)(nl + 1), sizeof *cum);
    rp_buf b = {0};
    if (!t || !cum) {
        free(t);
        free(cum);
        return snn_error_set(err, SNN_E_NOMEM, "report: spikecounts");
    }
    double *total = cum + steps * (size_t)nl;
    for (int i = 0; i < r->n_layers; i++) {
        const rp_layer *l = &r->layers[i];
        double run = 0;
        for (size_t s = 0; s < steps; s++) {
            for (size_t k = 0; k < l->size; k++)
                run += l->raster0[s * l->size + k];
            if (i < nl)
                cum[(size_t)i * steps + s] = run;
            total[s] += run;
        }
    }
    rp_plot p;
    char x_label[64];
    snprintf(x_label, sizeof x_label, "simulation time [ms] (dt = %g ms)", r->dt);
    svg_begin(&p, &b, 560, 360, "SNN spike count, sample 0 (cumulative)",
              axis(0, r->steps * r->dt, x_label),
              axis(0, total[steps - 1] * 1.05, "spikes"));
    svg_line(&p, t, total, steps, "#000", NULL, "all layers");
    for (int i = 0; i < nl; i++)
        svg_line(&p, t, cum + (size_t)i * steps, steps, palette[i % 8], "4 2",
                 r->layers[i].label);
    svg_end(&p);
    free(t);
    free(cum);
    return add_figure(out, &b, -1, "spikecounts", "spikecounts", err);
}

static snn_status plot_pearson(const snn_report *r, rp_figures *out,
                               snn_error *err)
{
    double *m = calloc((size_t)r->n_layers + 1, sizeof *m);
    double *sd = calloc((size_t)r->n_layers + 1, sizeof *sd);
    const char **labels = calloc((size_t)r->n_layers + 1, sizeof *labels);
    rp_buf b = {0};
    if (!m || !sd || !labels) {
        free(m);
        free(sd);
        free(labels);
        return snn_error_set(err, SNN_E_NOMEM, "report: Pearson");
    }
    for (int i = 0; i < r->n_layers; i++) {
        rp_layer_pearson(r, &r->layers[i], i == r->n_layers - 1, &m[i], &sd[i]);
        labels[i] = r->layers[i].label;
    }
    rp_plot p;
    char title[96];
    snprintf(title, sizeof title, "ANN-SNN correlation per layer, mean of %zu "
             "samples", r->n_rec);
    rp_axis x = axis(-0.5, r->n_layers - 0.5, "");
    x.no_ticks = 1;
    svg_begin(&p, &b, 560, 400, title, x, axis(0, 1, "Pearson coefficient"));
    p.bottom = 120;
    svg_bars(&p, m, sd, (size_t)r->n_layers, labels, "#9ecae1");
    svg_end(&p);
    free(m);
    free(sd);
    free(labels);
    return add_figure(out, &b, -1, "pearson", "correlation (Pearson per layer)", err);
}

/* The values of every layer's recorded samples, concatenated. */
static float *all_values(const snn_report *r, int counts, size_t *n)
{
    size_t total = 0;
    for (int i = 0; i < r->n_layers; i++)
        total += r->layers[i].size * r->n_rec;
    float *v = malloc(total * sizeof *v + 1), *w = v;
    for (int i = 0; v && i < r->n_layers; i++) {
        const rp_layer *l = &r->layers[i];
        for (size_t k = 0; k < l->size * r->n_rec; k++)
            *w++ = counts ? l->counts[k] / (float)r->steps : l->act[k];
    }
    *n = total;
    return v;
}

static size_t max_count(const size_t *c, size_t n)
{
    size_t m = 1;
    for (size_t i = 0; i < n; i++)
        m = c[i] > m ? c[i] : m;
    return m;
}

static snn_status plot_hist_all(const snn_report *r, rp_figures *out,
                                snn_error *err)
{
    size_t na, nr, ca[HIST_BINS], cr[HIST_BINS];
    float *a = all_values(r, 0, &na), *s = all_values(r, 1, &nr);
    rp_buf b = {0};
    if (!a || !s) {
        free(a);
        free(s);
        return snn_error_set(err, SNN_E_NOMEM, "report: histogram");
    }
    double lo1, hi1, lo2, hi2;
    rp_minmax(a, na, &lo1, &hi1);
    rp_minmax(s, nr, &lo2, &hi2);
    double lo = fmin(lo1, lo2), hi = fmax(hi1, hi2);
    hi = hi > lo ? hi : lo + 1;
    rp_histogram(a, na, lo, hi, HIST_BINS, ca);
    rp_histogram(s, nr, lo, hi, HIST_BINS, cr);
    size_t top = max_count(ca, HIST_BINS);
    top = max_count(cr, HIST_BINS) > top ? max_count(cr, HIST_BINS) : top;
    rp_plot p;
    svg_begin(&p, &b, 560, 360, "Distribution of activations and spike rates, "
              "all layers", axis(lo, hi, "ANN activation / SNN rate [spikes per step]"),
              count_axis(top, "count (log)"));
    svg_hist(&p, ca, HIST_BINS, lo, hi, "#1f77b4", "ANN activations");
    svg_hist(&p, cr, HIST_BINS, lo, hi, "#ff7f0e", "SNN spike rates");
    svg_end(&p);
    free(a);
    free(s);
    return add_figure(out, &b, -1, "hist_spikerates_activations",
                      "hist_spikerates_activations", err);
}

/* ---- per-layer plots ---- */

static snn_status plot_raster(const snn_report *r, int li, rp_figures *out,
                              snn_error *err)
{
    const rp_layer *l = &r->layers[li];
    size_t stride = (l->size + RASTER_ROWS - 1) / RASTER_ROWS, rows = (l->size + stride - 1) / stride;
    size_t steps = (size_t)r->steps;
    unsigned char *img = malloc(rows * steps * 3 + 1);
    rp_buf b = {0};
    if (!img)
        return snn_error_set(err, SNN_E_NOMEM, "report: raster of %s", l->label);
    for (size_t k = 0; k < rows; k++)
        for (size_t s = 0; s < steps; s++) {
            unsigned char v = l->raster0[s * l->size + k * stride] ? 20 : 255;
            unsigned char *px = img + 3 * ((rows - 1 - k) * steps + s);
            px[0] = v;
            px[1] = v;
            px[2] = (unsigned char)(v == 255 ? 255 : 160);
        }
    rp_plot p;
    char title[160], y_label[64];
    snprintf(title, sizeof title, "Spike trains of %.60s, sample 0", l->label);
    snprintf(y_label, sizeof y_label, stride > 1 ? "neuron index (every %zu-th)"
             : "neuron index", stride);
    svg_begin(&p, &b, 560, 380, title, axis(0, steps * r->dt, "time [ms]"),
              axis(0, (double)l->size, y_label));
    svg_image(&p, img, (int)steps, (int)rows, 0, steps * r->dt, 0, (double)l->size);
    svg_end(&p);
    free(img);
    char id[96];
    layer_id(id, sizeof id, l, "spiketrains");
    return add_figure(out, &b, li, id, "spiketrains", err);
}

/* Rates of sample 0 in Hz. */
static float *rates_hz(const snn_report *r, const rp_layer *l, size_t n)
{
    float *v = malloc(n * sizeof *v + 1);
    for (size_t k = 0; v && k < n; k++)
        v[k] = (float)rp_rate_hz(l->counts[k], r->steps, r->dt);
    return v;
}

static snn_status plot_rate_map(const snn_report *r, int li, rp_figures *out,
                                snn_error *err)
{
    const rp_layer *l = &r->layers[li];
    float *hz = rates_hz(r, l, l->size * r->n_rec);
    if (!hz)
        return snn_error_set(err, SNN_E_NOMEM, "report: rates of %s", l->label);
    rp_buf b = {0};
    char title[160], id[96];
    double lo, hi;
    rp_minmax(hz, l->size, &lo, &hi);
    snprintf(title, sizeof title, "Spike rates of %.60s, sample 0", l->label);
    draw_map(&b, title, &l->shape, hz, 0, fmax(hi, 1), 0, "rate [Hz]");
    layer_id(id, sizeof id, l, "spikerates");
    snn_status st = add_figure(out, &b, li, id, "spikerates", err);
    size_t counts[HIST_BINS], n = l->size * r->n_rec;
    rp_minmax(hz, n, &lo, &hi);
    hi = hi > lo ? hi : lo + 1;
    rp_histogram(hz, n, lo, hi, HIST_BINS, counts);
    rp_plot p;
    snprintf(title, sizeof title, "Spike-rate distribution of %.60s, %zu samples",
             l->label, r->n_rec);
    svg_begin(&p, &b, 560, 340, title, axis(lo, hi, "rate [Hz]"),
              count_axis(max_count(counts, HIST_BINS), "neurons (log)"));
    svg_hist(&p, counts, HIST_BINS, lo, hi, "#ff7f0e", NULL);
    svg_end(&p);
    layer_id(id, sizeof id, l, "spikerates_hist");
    if (st == SNN_OK)
        st = add_figure(out, &b, li, id, "spikerates (histogram)", err);
    else
        free(rp_take(&b));
    free(hz);
    return st;
}

static snn_status plot_act_map(const snn_report *r, int li, rp_figures *out,
                               snn_error *err)
{
    const rp_layer *l = &r->layers[li];
    rp_buf b = {0};
    char title[160], id[96];
    double lo, hi;
    rp_minmax(l->act, l->size, &lo, &hi);
    snprintf(title, sizeof title, "ANN activations of %.60s, sample 0", l->label);
    draw_map(&b, title, &l->shape, l->act, fmin(lo, 0), hi, 0, "activation");
    layer_id(id, sizeof id, l, "activations");
    return add_figure(out, &b, li, id, "activations", err);
}

/* Each normalized by its maximum, as the original does. */
static snn_status plot_minus(const snn_report *r, int li, rp_figures *out,
                             snn_error *err)
{
    const rp_layer *l = &r->layers[li];
    float *d = malloc(l->size * sizeof *d + 1);
    if (!d)
        return snn_error_set(err, SNN_E_NOMEM, "report: %s", l->label);
    double alo, ahi, clo, chi;
    rp_minmax(l->act, l->size, &alo, &ahi);
    rp_minmax(l->counts, l->size, &clo, &chi);
    for (size_t k = 0; k < l->size; k++)
        d[k] = (float)((chi > 0 ? l->counts[k] / chi : 0) -
                       (ahi > 0 ? l->act[k] / ahi : l->act[k]));
    rp_buf b = {0};
    char title[160], id[96];
    snprintf(title, sizeof title, "Rates - activations, %.60s", l->label);
    draw_map(&b, title, &l->shape, d, -1, 1, 1, "difference");
    free(d);
    layer_id(id, sizeof id, l, "spikerates_minus_activations");
    return add_figure(out, &b, li, id, "spikerates minus activations", err);
}

/* Many points become a log-density image over the same axes. */
static void density(rp_plot *p, const float *x, const float *y, size_t n)
{
    enum { B = DENSITY_BINS };
    float grid[B * B] = {0};
    for (size_t i = 0; i < n; i++) {
        int gx = (int)((x[i] - p->x.lo) / (p->x.hi - p->x.lo) * B);
        int gy = (int)((y[i] - p->y.lo) / (p->y.hi - p->y.lo) * B);
        gx = gx < 0 ? 0 : gx >= B ? B - 1 : gx;
        gy = gy < 0 ? 0 : gy >= B ? B - 1 : gy;
        grid[(B - 1 - gy) * B + gx] += 1;
    }
    float top = 0;
    for (int i = 0; i < B * B; i++) {
        grid[i] = grid[i] > 0 ? log10f(grid[i]) + 1 : 0;
        top = grid[i] > top ? grid[i] : top;
    }
    unsigned char rgb[B * B * 3];
    for (int i = 0; i < B * B; i++) {
        if (grid[i] > 0)
            rp_colormap(grid[i] / top, 0, rgb + 3 * i);
        else
            memset(rgb + 3 * i, 255, 3);
    }
    svg_image(p, rgb, B, B, p->x.lo, p->x.hi, p->y.lo, p->y.hi);
}

static snn_status plot_correlation(const snn_report *r, int li, rp_figures *out,
                                   snn_error *err)
{
    const rp_layer *l = &r->layers[li];
    size_t n = l->size * r->n_rec, sat = 0;
    float *hz = rates_hz(r, l, n);
    if (!hz)
        return snn_error_set(err, SNN_E_NOMEM, "report: %s", l->label);
    double alo, ahi, rlo, rhi, max_hz = rp_rate_hz(r->steps, r->steps, r->dt);
    rp_minmax(l->act, n, &alo, &ahi);
    rp_minmax(hz, n, &rlo, &rhi);
    for (size_t k = 0; k < n; k++)
        sat += l->counts[k] >= r->steps - 1;
    double pr = rp_pearson(l->act, hz, n);
    rp_buf b = {0};
    rp_plot p;
    char title[160], note[96], id[96];
    snprintf(title, sizeof title, "ANN-SNN correlation of %.60s: r = %.4f", l->label, pr);
    svg_begin(&p, &b, 520, 420, title, axis(fmin(alo, 0), fmax(ahi, 1e-6) * 1.05,
              "ANN activation"), axis(0, fmax(rhi, max_hz * 0.1) * 1.05, "SNN rate [Hz]"));
    if (n > SCATTER_MAX)
        density(&p, l->act, hz, n);
    else
        svg_points(&p, l->act, hz, n, "#1f77b4", NULL);
    snprintf(note, sizeof note, "%zu points (%zu samples), %.2f%% saturated%s", n,
             r->n_rec, 100.0 * (double)sat / (double)n,
             n > SCATTER_MAX ? "; colour: log density" : "");
    svg_text(&p, p.w - p.right - 6, p.h - p.bottom - 8, "end", 11, note);
    svg_end(&p);
    free(hz);
    layer_id(id, sizeof id, l, "correlation");
    return add_figure(out, &b, li, id, "correlation", err);
}

/* The neurons with the most spikes in sample 0 (ties: lower index). */
static size_t most_active(const rp_layer *l, size_t *pick)
{
    size_t n = 0;
    for (size_t k = 0; k < l->size; k++) {
        size_t pos = n < VMEM_TRACES ? n++ : VMEM_TRACES;
        while (pos > 0 && l->counts[pick[pos - 1]] < l->counts[k]) {
            if (pos < VMEM_TRACES)
                pick[pos] = pick[pos - 1];
            pos--;
        }
        if (pos < VMEM_TRACES)
            pick[pos] = k;
    }
    return n;
}

static snn_status plot_vmem(const snn_report *r, int li, rp_figures *out,
                            snn_error *err)
{
    const rp_layer *l = &r->layers[li];
    size_t pick[VMEM_TRACES], steps = (size_t)r->steps;
    size_t n = most_active(l, pick);
    double *t = time_axis(r), *v = malloc(steps * sizeof *v);
    rp_buf b = {0};
    if (!t || !v) {
        free(t);
        free(v);
        return snn_error_set(err, SNN_E_NOMEM, "report: v_mem of %s", l->label);
    }
    double lo = 0, hi = r->v_thresh;
    for (size_t i = 0; i < n; i++)
        for (size_t s = 0; s < steps; s++) {
            lo = fmin(lo, l->vmem0[s * l->size + pick[i]]);
            hi = fmax(hi, l->vmem0[s * l->size + pick[i]]);
        }
    rp_plot p;
    char title[160], id[96];
    snprintf(title, sizeof title, "Membrane potential of %.60s, sample 0 "
             "(%zu most active neurons)", l->label, n);
    svg_begin(&p, &b, 560, 360, title, axis(0, steps * r->dt, "time [ms]"),
              axis(lo - 0.1 * (hi - lo), hi + 0.1 * (hi - lo), "membrane potential [V_thresh units]"));
    for (size_t i = 0; i < n; i++) {
        for (size_t s = 0; s < steps; s++)
            v[s] = l->vmem0[s * l->size + pick[i]];
        svg_line(&p, t, v, steps, palette[i % 8], NULL, NULL);
    }
    svg_hline(&p, r->v_thresh, "#d62728", "6 4", "V_thresh");
    svg_hline(&p, 0, "#1f77b4", "2 3", "V_reset");
    svg_end(&p);
    free(t);
    free(v);
    layer_id(id, sizeof id, l, "v_mem");
    return add_figure(out, &b, li, id, "v_mem", err);
}

/* One histogram with a marked value. */
static snn_status hist_marked(rp_figures *out, int li, const char *id,
                              const char *what, const char *title,
                              const float *v, size_t n, const char *x_label,
                              double mark, const char *mark_label,
                              snn_error *err)
{
    size_t counts[HIST_BINS];
    double lo, hi;
    rp_minmax(v, n, &lo, &hi);
    lo = fmin(lo, mark);
    hi = fmax(hi, mark);
    hi = hi > lo ? hi : lo + 1;
    rp_histogram(v, n, lo, hi, HIST_BINS, counts);
    rp_buf b = {0};
    rp_plot p;
    svg_begin(&p, &b, 520, 330, title, axis(lo, hi, x_label),
              count_axis(max_count(counts, HIST_BINS), "count (log)"));
    svg_hist(&p, counts, HIST_BINS, lo, hi, "#1f77b4", NULL);
    if (mark_label)
        svg_vline(&p, mark, "#d62728", "6 4", mark_label);
    svg_end(&p);
    return add_figure(out, &b, li, id, what, err);
}

/* Before = after x lambda (activations) and x lambda / lambda_prev
 * (weights): normalization divided by exactly these factors. */
static snn_status plot_normalization(const snn_report *r, int li,
                                     rp_figures *out, snn_error *err)
{
    const rp_layer *l = &r->layers[li];
    size_t n = l->size * r->n_rec, nw = l->n_weights;
    float *before = malloc((n > nw ? n : nw) * sizeof *before + 1);
    if (!before)
        return snn_error_set(err, SNN_E_NOMEM, "report: %s", l->label);
    char title[160], id[96], mark[64];
    for (size_t k = 0; k < n; k++)
        before[k] = (float)(l->act[k] * l->lambda);
    snprintf(title, sizeof title, "Activations of %.60s before normalization", l->label);
    snprintf(mark, sizeof mark, "scale factor %.3g", l->lambda);
    layer_id(id, sizeof id, l, "norm_act_before");
    snn_status st = hist_marked(out, li, id, "normalization_activations", title,
                                before, n, "activation", l->lambda, mark, err);
    snprintf(title, sizeof title, "Activations of %.60s after normalization", l->label);
    layer_id(id, sizeof id, l, "norm_act_after");
    if (st == SNN_OK)
        st = hist_marked(out, li, id, "normalization_activations", title,
                         l->act, n, "activation", 1, "1 (percentile)", err);
    double wf = l->lambda_prev > 0 ? l->lambda / l->lambda_prev : 1;
    for (size_t k = 0; k < nw; k++)
        before[k] = (float)(l->weights[k] * wf);
    snprintf(title, sizeof title, "Weights of %.60s before normalization", l->label);
    layer_id(id, sizeof id, l, "norm_w_before");
    if (st == SNN_OK && nw)
        st = hist_marked(out, li, id, "normalization_activations", title,
                         before, nw, "weight", 0, NULL, err);
    snprintf(title, sizeof title, "Weights of %.60s after normalization", l->label);
    layer_id(id, sizeof id, l, "norm_w_after");
    if (st == SNN_OK && nw)
        st = hist_marked(out, li, id, "normalization_activations", title,
                         l->weights, nw, "weight", 0, NULL, err);
    free(before);
    return st;
}

static snn_status layer_figures(const snn_report *r, int li, rp_figures *out,
                                snn_error *err)
{
    const rp_layer *l = &r->layers[li];
    unsigned w = r->plots;
    snn_status st = SNN_OK;
    if (w & SNN_PLOT_SPIKETRAINS)
        st = plot_raster(r, li, out, err);
    if (st == SNN_OK && (w & SNN_PLOT_ACTIVATIONS))
        st = plot_act_map(r, li, out, err);
    if (st == SNN_OK && (w & SNN_PLOT_SPIKERATES))
        st = plot_rate_map(r, li, out, err);
    if (st == SNN_OK && (w & SNN_PLOT_SPIKERATES) && (w & SNN_PLOT_ACTIVATIONS))
        st = plot_minus(r, li, out, err);
    if (st == SNN_OK && (w & SNN_PLOT_CORRELATION))
        st = plot_correlation(r, li, out, err);
    if (st == SNN_OK && (w & SNN_PLOT_V_MEM) && l->vmem0)
        st = plot_vmem(r, li, out, err);
    if (st == SNN_OK && (w & SNN_PLOT_NORMALIZATION) && l->lambda > 0 &&
        l->n_weights)
        st = plot_normalization(r, li, out, err);
    return st;
}

snn_status rp_make_figures(const snn_report *r, rp_figures *out,
                           snn_error *err)
{
    static const struct {
        unsigned bit;
        snn_status (*fn)(const snn_report *, rp_figures *, snn_error *);
    } run_plots[] = {
        {SNN_PLOT_INPUT_IMAGE, plot_input_image}, {SNN_PLOT_ERROR_T, plot_error_t},
        {SNN_PLOT_CONFUSION, plot_confusion},     {SNN_PLOT_OPERATIONS, plot_operations},
        {SNN_PLOT_SPIKECOUNTS, plot_spikecounts}, {SNN_PLOT_CORRELATION, plot_pearson},
        {SNN_PLOT_HIST, plot_hist_all},
    };
    memset(out, 0, sizeof *out);
    if (r->steps < 1 || r->n_rec < 1 || r->n_tested < 1 || r->n_classes < 1)
        return snn_error_set(err, SNN_E_INVALID, "report: nothing recorded to plot");
    snn_status st = SNN_OK;
    for (size_t i = 0; st == SNN_OK && i < sizeof run_plots / sizeof run_plots[0]; i++)
        if (r->plots & run_plots[i].bit)
            st = run_plots[i].fn(r, out, err);
    for (int i = 0; st == SNN_OK && i < r->n_layers; i++)
        st = layer_figures(r, i, out, err);
    if (st != SNN_OK)
        rp_figures_free(out);
    return st;
}
