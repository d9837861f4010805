/*
 * svg.c - see svg.h.  Hand-written SVG keeps the report free of a plotting
 * library: every figure is a frame, "nice" ticks, and a few mark types.
 * No clip paths or ids, so many figures can be inlined in one page.
 */
#include "report/svg.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RP_BUF_MAX ((size_t)1 << 30)

void rp_printf(rp_buf *b, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = 1;
        return;
    }
    if ((size_t)n < sizeof small) {
        if (!snn_strbuf_put(&b->s, small, (size_t)n, RP_BUF_MAX))
            b->failed = 1;
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big) {
        b->failed = 1;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    if (!snn_strbuf_put(&b->s, big, (size_t)n, RP_BUF_MAX))
        b->failed = 1;
    free(big);
}

void rp_escaped(rp_buf *b, const char *text)
{
    for (const char *c = text; *c; c++) {
        switch (*c) {
        case '&': rp_printf(b, "&amp;"); break;
        case '<': rp_printf(b, "&lt;"); break;
        case '>': rp_printf(b, "&gt;"); break;
        case '"': rp_printf(b, "&quot;"); break;
        case '\'': rp_printf(b, "&#39;"); break;
        default:
            if (!snn_strbuf_put(&b->s, c, 1, RP_BUF_MAX))
                b->failed = 1;
        }
    }
}

char *rp_take(rp_buf *b)
{
    if (!b->s.p && !b->failed && !snn_strbuf_put(&b->s, "", 0, RP_BUF_MAX))
        b->failed = 1;
    if (b->failed) {
        free(b->s.p);
        memset(b, 0, sizeof *b);
        return NULL;
    }
    char *p = b->s.p;
    memset(b, 0, sizeof *b);
    return p;
}

static double axis_t(const rp_axis *a, double v)
{
    if (a->log) {
        double lo = log10(a->lo), hi = log10(a->hi);
        return (log10(v > 0 ? v : a->lo) - lo) / (hi - lo);
    }
    return (v - a->lo) / (a->hi - a->lo);
}

double svg_px(const rp_plot *p, double v)
{
    return p->left + axis_t(&p->x, v) * (p->w - p->left - p->right);
}

double svg_py(const rp_plot *p, double v)
{
    return p->h - p->bottom - axis_t(&p->y, v) * (p->h - p->top - p->bottom);
}

/* 1, 2 or 5 times a power of ten, about span / 5. */
static double nice_step(double span)
{
    double raw = span / 5, mag = pow(10, floor(log10(raw))), f = raw / mag;
    return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * mag;
}

static void tick_label(char *buf, size_t n, double v, double step)
{
    if (fabs(v) < step * 1e-9)
        v = 0;
    int dec = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
    if (fabs(v) >= 1e5 || dec > 4)
        snprintf(buf, n, "%g", v);
    else
        snprintf(buf, n, "%.*f", dec, v);
}

/* Calls draw(p, value, label) for each tick of axis a. */
static void each_tick(rp_plot *p, const rp_axis *a,
                      void (*draw)(rp_plot *, double, const char *))
{
    char label[32];
    if (a->no_ticks)
        return;
    if (a->log) {
        for (double e = ceil(log10(a->lo) - 1e-9); e <= log10(a->hi) + 1e-9; e++) {
            snprintf(label, sizeof label, "%g", pow(10, e));
            draw(p, pow(10, e), label);
        }
        return;
    }
    double step = nice_step(a->hi - a->lo);
    for (double v = ceil(a->lo / step - 1e-9) * step; v <= a->hi + step * 1e-9;
         v += step) {
        tick_label(label, sizeof label, v, step);
        draw(p, v, label);
    }
}

static void x_tick(rp_plot *p, double v, const char *label)
{
    double x = svg_px(p, v), y = p->h - p->bottom;
    rp_printf(p->out, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' "
              "stroke='#333'/>", x, y, x, y + 5);
    svg_text(p, x, y + 18, "middle", 11, label);
}

static void y_tick(rp_plot *p, double v, const char *label)
{
    double x = p->left, y = svg_py(p, v);
    rp_printf(p->out, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' "
              "stroke='#333'/><line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' "
              "stroke='#eee'/>", x - 5, y, x, y, x + 1, y, p->w - p->right, y);
    svg_text(p, x - 8, y + 4, "end", 11, label);
}

static void draw_frame(rp_plot *p)
{
    double pw = p->w - p->left - p->right, ph = p->h - p->top - p->bottom;
    each_tick(p, &p->y, y_tick);
    each_tick(p, &p->x, x_tick);
    rp_printf(p->out, "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' "
              "fill='none' stroke='#333'/>", p->left, p->top, pw, ph);
    svg_text(p, p->left + pw / 2, p->h - 12, "middle", 13, p->x.label);
    if (p->y.label) {
        double cy = p->top + ph / 2;
        rp_printf(p->out, "<text x='16' y='%.1f' font-size='13' "
                  "text-anchor='middle' transform='rotate(-90 16 %.1f)'>",
                  cy, cy);
        rp_escaped(p->out, p->y.label);
        rp_printf(p->out, "</text>");
    }
}

void svg_begin(rp_plot *p, rp_buf *out, double w, double h,
               const char *title, rp_axis x, rp_axis y)
{
    memset(p, 0, sizeof *p);
    p->out = out;
    p->w = w;
    p->h = h;
    p->left = x.label ? 72 : 12;
    p->right = 24;
    p->top = 44;
    p->bottom = x.label ? 52 : 12;
    p->x = x;
    p->y = y;
    rp_printf(out, "<svg xmlns='http://www.w3.org/2000/svg' "
              "xmlns:xlink='http://www.w3.org/1999/xlink' width='%.0f' "
              "height='%.0f' viewBox='0 0 %.0f %.0f' font-family='sans-serif'>"
              "<rect width='100%%' height='100%%' fill='#fff'/>", w, h, w, h);
    svg_text(p, w / 2, 24, "middle", 15, title);
}

static void legend_entry(rp_plot *p, const char *style, const char *text)
{
    if (!text || p->n_legend >= 8)
        return;
    snprintf(p->legend[p->n_legend], sizeof p->legend[0], "%s", text);
    snprintf(p->legend_style[p->n_legend], sizeof p->legend_style[0], "%s",
             style);
    p->n_legend++;
}

void svg_end(rp_plot *p)
{
    if (p->x.label)
        draw_frame(p);
    if (p->n_legend) {
        size_t longest = 0;
        for (int i = 0; i < p->n_legend; i++)
            longest = strlen(p->legend[i]) > longest ? strlen(p->legend[i]) : longest;
        double bw = 44 + 6.8 * (double)longest;
        double x = p->w - p->right - bw - 8, y = p->top + 8;
        rp_printf(p->out, "<rect x='%.1f' y='%.1f' width='%.0f' height='%d' "
                  "fill='#fff' fill-opacity='0.85' stroke='#bbb'/>", x, y, bw,
                  p->n_legend * 18 + 8);
        for (int i = 0; i < p->n_legend; i++) {
            double ly = y + 16 + 18 * i;
            rp_printf(p->out, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' "
                      "stroke-width='3' %s/>", x + 6, ly - 4, x + 28, ly - 4,
                      p->legend_style[i]);
            svg_text(p, x + 34, ly, "start", 12, p->legend[i]);
        }
    }
    rp_printf(p->out, "</svg>\n");
}

void svg_text(rp_plot *p, double px, double py, const char *anchor,
              double size, const char *text)
{
    if (!text)
        return;
    rp_printf(p->out, "<text x='%.1f' y='%.1f' font-size='%g' "
              "text-anchor='%s'>", px, py, size, anchor);
    rp_escaped(p->out, text);
    rp_printf(p->out, "</text>");
}

static void style_of(char *buf, size_t n, const char *color, const char *dash)
{
    snprintf(buf, n, "stroke='%s'%s%s%s", color, dash ? " stroke-dasharray='" : "",
             dash ? dash : "", dash ? "'" : "");
}

void svg_line(rp_plot *p, const double *x, const double *y, size_t n,
              const char *color, const char *dash, const char *legend)
{
    char style[96];
    style_of(style, sizeof style, color, dash);
    rp_printf(p->out, "<polyline fill='none' stroke-width='1.8' %s points='",
              style);
    for (size_t i = 0; i < n; i++)
        rp_printf(p->out, "%.1f,%.1f ", svg_px(p, x[i]), svg_py(p, y[i]));
    rp_printf(p->out, "'/>");
    legend_entry(p, style, legend);
}

/* One path of zero-length round-capped segments: a dot costs ~12 bytes. */
void svg_points(rp_plot *p, const float *x, const float *y, size_t n,
                const char *color, const char *legend)
{
    rp_printf(p->out, "<path stroke='%s' stroke-width='3.5' "
              "stroke-linecap='round' stroke-opacity='0.6' d='", color);
    for (size_t i = 0; i < n; i++)
        rp_printf(p->out, "M%.1f %.1fh0", svg_px(p, x[i]), svg_py(p, y[i]));
    rp_printf(p->out, "'/>");
    char style[96];
    style_of(style, sizeof style, color, NULL);
    legend_entry(p, style, legend);
}

void svg_hline(rp_plot *p, double y, const char *color, const char *dash,
               const char *legend)
{
    char style[96];
    style_of(style, sizeof style, color, dash);
    rp_printf(p->out, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' "
              "stroke-width='1.8' %s/>", p->left, svg_py(p, y),
              p->w - p->right, svg_py(p, y), style);
    legend_entry(p, style, legend);
}

void svg_vline(rp_plot *p, double x, const char *color, const char *dash,
               const char *legend)
{
    char style[96];
    style_of(style, sizeof style, color, dash);
    rp_printf(p->out, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' "
              "stroke-width='1.8' %s/>", svg_px(p, x), p->top, svg_px(p, x),
              p->h - p->bottom, style);
    legend_entry(p, style, legend);
}

void svg_bars(rp_plot *p, const double *v, const double *err, size_t n,
              const char *const *labels, const char *color)
{
    double base = svg_py(p, p->y.lo > 0 ? p->y.lo : 0);
    for (size_t i = 0; i < n; i++) {
        if (isnan(v[i]))
            continue;
        double x0 = svg_px(p, (double)i - 0.4), x1 = svg_px(p, (double)i + 0.4);
        double top = svg_py(p, v[i]);
        rp_printf(p->out, "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' "
                  "fill='%s'/>", x0, fmin(top, base), x1 - x0,
                  fabs(base - top), color);
        if (err && !isnan(err[i])) {
            double xc = (x0 + x1) / 2;
            rp_printf(p->out, "<path stroke='#222' d='M%.1f %.1fV%.1fM%.1f "
                      "%.1fh8M%.1f %.1fh8'/>", xc, svg_py(p, v[i] - err[i]),
                      svg_py(p, v[i] + err[i]), xc - 4,
                      svg_py(p, v[i] - err[i]), xc - 4,
                      svg_py(p, v[i] + err[i]));
        }
    }
    for (size_t i = 0; labels && i < n; i++) {
        double x = svg_px(p, (double)i), y = p->h - p->bottom + 14;
        rp_printf(p->out, "<text x='%.1f' y='%.1f' font-size='10' "
                  "text-anchor='end' transform='rotate(-40 %.1f %.1f)'>",
                  x + 4, y, x + 4, y);
        rp_escaped(p->out, labels[i]);
        rp_printf(p->out, "</text>");
    }
}

void svg_hist(rp_plot *p, const size_t *counts, size_t nbins, double lo,
              double hi, const char *color, const char *legend)
{
    double width = (hi - lo) / (double)nbins;
    double floor_v = p->y.log ? p->y.lo : 0;
    rp_printf(p->out, "<path fill='%s' fill-opacity='0.45' stroke='%s' d='M%.1f "
              "%.1f", color, color, svg_px(p, lo), svg_py(p, floor_v));
    for (size_t b = 0; b < nbins; b++) {
        double c = counts[b] > 0 ? (double)counts[b] : floor_v;
        rp_printf(p->out, "V%.1fH%.1f", svg_py(p, c),
                  svg_px(p, lo + width * (double)(b + 1)));
    }
    rp_printf(p->out, "V%.1fZ'/>", svg_py(p, floor_v));
    char style[96];
    style_of(style, sizeof style, color, NULL);
    legend_entry(p, style, legend);
}

void svg_image(rp_plot *p, const unsigned char *rgb, int iw, int ih,
               double x0, double x1, double y0, double y1)
{
    double px0 = svg_px(p, x0), px1 = svg_px(p, x1);
    double py0 = svg_py(p, y1), py1 = svg_py(p, y0);
    rp_printf(p->out, "<image x='%.1f' y='%.1f' width='%.1f' height='%.1f' "
              "preserveAspectRatio='none' style='image-rendering:pixelated' "
              "xlink:href='data:image/png;base64,", fmin(px0, px1),
              fmin(py0, py1), fabs(px1 - px0), fabs(py1 - py0));
    rp_png_base64(p->out, rgb, iw, ih);
    rp_printf(p->out, "'/>");
}

void svg_colorbar(rp_plot *p, double lo, double hi, int diverging,
                  const char *label)
{
    enum { N = 128 };
    unsigned char rgb[N * 3];
    for (int i = 0; i < N; i++)
        rp_colormap(1.0 - (double)i / (N - 1), diverging, rgb + 3 * i);
    rp_plot bar = *p;
    bar.left = p->w - p->right + 14;
    bar.right = p->right - 28;
    bar.x = (rp_axis){.lo = 0, .hi = 1, .log = 0, .label = NULL};
    bar.y = (rp_axis){.lo = lo, .hi = hi > lo ? hi : lo + 1, .log = 0, .label = NULL};
    svg_image(&bar, rgb, 1, N, 0, 1, bar.y.lo, bar.y.hi);
    char text[32];
    double step = nice_step(bar.y.hi - bar.y.lo);
    for (double v = ceil(bar.y.lo / step - 1e-9) * step;
         v <= bar.y.hi + step * 1e-9; v += step) {
        tick_label(text, sizeof text, v, step);
        svg_text(p, p->w - p->right + 32, svg_py(&bar, v) + 4, "start", 10, text);
    }
    svg_text(p, p->w - p->right + 28, p->top - 8, "middle", 11, label);
}

/* Piecewise-linear approximations; the stops are the maps' own. */
void rp_colormap(double t, int diverging, unsigned char rgb[3])
{
    static const double viridis[5][3] = {
        {68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98},
        {253, 231, 37}};
    static const double bwr[3][3] = {{59, 76, 192}, {247, 247, 247},
                                     {180, 4, 38}};
    const double(*stops)[3] = diverging ? bwr : viridis;
    int n = diverging ? 3 : 5;
    if (!(t >= 0))
        t = 0;
    if (t > 1)
        t = 1;
    double pos = t * (n - 1);
    int i = pos >= n - 1 ? n - 2 : (int)pos;
    double f = pos - i;
    for (int c = 0; c < 3; c++)
        rgb[c] = (unsigned char)(stops[i][c] + f * (stops[i + 1][c] - stops[i][c]) + 0.5);
}
