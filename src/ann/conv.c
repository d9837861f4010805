/*
 * conv.c - 2-D convolution (stride, dilation, asymmetric zero padding,
 * groups) as im2col + sgemm.
 *
 * The simulator calls this every time step, so it allocates nothing: the
 * im2col matrix is built tile by tile in a fixed stack buffer (a tile of
 * output positions times a chunk of kernel rows) and multiplied into the
 * output with beta = 1.  Work items (sample, group, tile) are spread over
 * OpenMP threads; OpenBLAS runs single-threaded inside the region.
 */
#include "ann/ops.h"

#include <cblas.h>

/* 64 KiB of floats per thread: an im2col tile that stays in L2. */
#define CONV_BUF 16384
/* Kernel rows per chunk; bounds the tile width from below at 32 columns. */
#define CONV_KCHUNK 512

typedef struct conv_geom {
    long c_in, h_in, w_in;     /* input channels per group, height, width */
    long o_grp, h_out, w_out;  /* output channels per group, height, width */
    long kh, kw, sh, sw, dh, dw, pt, pl;
    long k;                    /* rows of the im2col matrix: c_in*kh*kw */
    long p;                    /* output positions: h_out*w_out */
    long tile, kchunk;
} conv_geom;

static conv_geom conv_geometry(const snn_layer *l, const snn_shape *in)
{
    const snn_window *w = &l->win;
    conv_geom g;
    g.c_in = (long)in->dims[0] / l->groups;
    g.h_in = (long)in->dims[1];
    g.w_in = (long)in->dims[2];
    g.o_grp = (long)l->shape.dims[0] / l->groups;
    g.h_out = (long)l->shape.dims[1];
    g.w_out = (long)l->shape.dims[2];
    g.kh = w->kernel[0];
    g.kw = w->kernel[1];
    g.sh = w->stride[0];
    g.sw = w->stride[1];
    g.dh = w->dilation[0];
    g.dw = w->dilation[1];
    g.pt = w->pad[0];
    g.pl = w->pad[1];
    g.k = g.c_in * g.kh * g.kw;
    g.p = g.h_out * g.w_out;
    g.kchunk = g.k < CONV_KCHUNK ? g.k : CONV_KCHUNK;
    g.tile = CONV_BUF / g.kchunk;
    if (g.tile > g.p)
        g.tile = g.p;
    return g;
}

/* Output columns [ow0, ow1) of output row oh for kernel offset (i, j):
 * zeros where the window leaves the input, a strided copy of one input
 * row between (no per-element bounds test). */
static void im2col_span(const conv_geom *g, const float *plane, long i,
                        long j, long oh, long ow0, long ow1, float *dst)
{
    long h = oh * g->sh - g->pt + i * g->dh;
    long w0 = j * g->dw - g->pl; /* input column of output column 0 */
    /* Output columns whose input column lies in [0, w_in). */
    long lo = w0 >= 0 ? 0 : (-w0 + g->sw - 1) / g->sw;
    long hi = w0 >= g->w_in ? 0 : (g->w_in - w0 + g->sw - 1) / g->sw;
    if (h < 0 || h >= g->h_in)
        lo = hi = ow1;
    lo = lo < ow0 ? ow0 : lo > ow1 ? ow1 : lo;
    hi = hi < lo ? lo : hi > ow1 ? ow1 : hi;
    long ow = ow0;
    for (; ow < lo; ow++)
        *dst++ = 0.0f;
    for (; ow < hi; ow++)
        *dst++ = plane[h * g->w_in + w0 + ow * g->sw];
    for (; ow < ow1; ow++)
        *dst++ = 0.0f;
}

/* Rows [k0, k0+kc) and output positions [p0, p0+tw) of the im2col matrix
 * of one group's input xg, into buf (kc x tw). */
static void im2col_tile(const conv_geom *g, const float *xg, long k0,
                        long kc, long p0, long tw, float *buf)
{
    for (long r = 0; r < kc; r++) {
        long row = k0 + r;
        long c = row / (g->kh * g->kw);
        long i = row / g->kw % g->kh, j = row % g->kw;
        const float *plane = xg + c * g->h_in * g->w_in;
        float *dst = buf + r * tw;
        for (long p = p0; p < p0 + tw;) {
            long oh = p / g->w_out, ow = p % g->w_out;
            long ow1 = g->w_out - ow < p0 + tw - p ? g->w_out : ow + p0 + tw - p;
            im2col_span(g, plane, i, j, oh, ow, ow1, dst);
            dst += ow1 - ow;
            p += ow1 - ow;
        }
    }
}

/* One work item: output positions [p0, p0+tw) of group grp of one sample. */
static void conv_tile(const snn_layer *l, const conv_geom *g, const float *xs,
                      float *ys, long grp, long p0, float *buf)
{
    long tw = g->p - p0 < g->tile ? g->p - p0 : g->tile;
    const float *xg = xs + grp * g->c_in * g->h_in * g->w_in;
    const float *wg = l->weight.data + grp * g->o_grp * g->k;
    float *yg = ys + grp * g->o_grp * g->p + p0;
    for (long o = 0; o < g->o_grp; o++) {
        float b = l->bias.data ? l->bias.data[grp * g->o_grp + o] : 0.0f;
        for (long q = 0; q < tw; q++)
            yg[o * g->p + q] = b;
    }
    for (long k0 = 0; k0 < g->k; k0 += g->kchunk) {
        long kc = g->k - k0 < g->kchunk ? g->k - k0 : g->kchunk;
        im2col_tile(g, xg, k0, kc, p0, tw, buf);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)g->o_grp,
                    (int)tw, (int)kc, 1.0f, wg + k0, (int)g->k, buf, (int)tw,
                    1.0f, yg, (int)g->p);
    }
}

void snn_conv2d_forward(const snn_layer *l, const snn_shape *in,
                        const float *x, size_t n, float *y)
{
    conv_geom g = conv_geometry(l, in);
    long groups = l->groups;
    long tiles = (g.p + g.tile - 1) / g.tile;
    long items = (long)n * groups * tiles;
    long x_stride = g.c_in * groups * g.h_in * g.w_in;
    long y_stride = g.o_grp * groups * g.p;

#pragma omp parallel for schedule(dynamic)
    for (long it = 0; it < items; it++) {
        float buf[CONV_BUF];
        long s = it / (groups * tiles);
        long grp = it / tiles % groups, t = it % tiles;
        conv_tile(l, &g, x + s * x_stride, y + s * y_stride, grp,
                  t * g.tile, buf);
    }
}
