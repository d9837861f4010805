/*
 * svg.h - a small SVG plot writer for the report: a frame with ticks,
 * axis labels and a title, and the marks the original's matplotlib plots
 * use (lines, points, bars with error bars, step histograms, reference
 * lines, images with a colour bar, text), plus a legend.  Images are PNGs
 * inside the SVG (png.c), so a large activity map costs kilobytes, not one
 * element per neuron.  Internal to the report stage.
 */
#ifndef SNNTB_REPORT_SVG_H
#define SNNTB_REPORT_SVG_H

#include <stddef.h>
#include "core/strbuf.h"

/* Text that grows; a failed allocation sticks, so writers check once at
 * the end. */
typedef struct rp_buf {
    snn_strbuf s;
    int failed;
} rp_buf;

void rp_printf(rp_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Appends text with &, <, >, " escaped for XML. */
void rp_escaped(rp_buf *b, const char *text);
/* Takes the text (the caller frees it); NULL when anything failed. */
char *rp_take(rp_buf *b);

typedef struct rp_axis {
    double lo, hi;
    int log;            /* log10 scale; lo and hi must be > 0 */
    const char *label;  /* with its unit, e.g. "time [ms]" */
    int no_ticks;       /* categories labelled by the caller */
} rp_axis;

typedef struct rp_plot {
    rp_buf *out;
    double w, h;                 /* the whole figure, px */
    double left, right, top, bottom; /* margins around the plot area */
    rp_axis x, y;
    char legend[8][96];
    char legend_style[8][96];    /* SVG attributes of the legend swatch */
    int n_legend;
} rp_plot;

/* Starts a figure of w x h px with a frame, ticks and labels.  A NULL
 * x.label leaves the frame out (image-only figures). */
void svg_begin(rp_plot *p, rp_buf *out, double w, double h,
               const char *title, rp_axis x, rp_axis y);
/* Draws the legend and closes the figure. */
void svg_end(rp_plot *p);

/* Data to px. */
double svg_px(const rp_plot *p, double v);
double svg_py(const rp_plot *p, double v);

/* style: SVG presentation attributes, e.g. "stroke='#1f77b4'". */
void svg_line(rp_plot *p, const double *x, const double *y, size_t n,
              const char *color, const char *dash, const char *legend);
void svg_points(rp_plot *p, const float *x, const float *y, size_t n,
                const char *color, const char *legend);
void svg_hline(rp_plot *p, double y, const char *color, const char *dash,
               const char *legend);
void svg_vline(rp_plot *p, double x, const char *color, const char *dash,
               const char *legend);
/* Bars at x = 0..n-1 (x axis from -0.5 to n-0.5) with optional error
 * bars (err may be NULL) and category labels under them. */
void svg_bars(rp_plot *p, const double *v, const double *err, size_t n,
              const char *const *labels, const char *color);
/* A step-filled histogram of counts over nbins equal bins on [lo, hi]. */
void svg_hist(rp_plot *p, const size_t *counts, size_t nbins, double lo,
              double hi, const char *color, const char *legend);
/* rgb (iw x ih, rows top down) stretched over the data box
 * [x0, x1] x [y0, y1]; pixels stay square-edged when scaled. */
void svg_image(rp_plot *p, const unsigned char *rgb, int iw, int ih,
               double x0, double x1, double y0, double y1);
/* A vertical colour bar right of the plot area for values lo..hi. */
void svg_colorbar(rp_plot *p, double lo, double hi, int diverging,
                  const char *label);
void svg_text(rp_plot *p, double px, double py, const char *anchor,
              double size, const char *text);

/* Colour maps: t in [0, 1] to RGB.  viridis for magnitudes; a blue-white-
 * red map for signed differences. */
void rp_colormap(double t, int diverging, unsigned char rgb[3]);

/* PNG (8-bit RGB, zlib-compressed) as base64 text appended to out
 * (png.c). */
void rp_png_base64(rp_buf *out, const unsigned char *rgb, int w, int h);

#endif
