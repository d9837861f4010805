/*
 * conv_transpose.c - transposed convolution (Keras Conv2DTranspose, ONNX
 * ConvTranspose): every input cell scatters its value times the kernel
 * into the output, at stride steps, minus the padding.  Written as a
 * scatter per output channel so that threads never share an output cell;
 * it serves ANN inference only, so plain loops are fast enough.
 */
#include "ann/ops.h"

typedef struct convt_geom {
    long c_grp, o_grp, hi, wi, ho, wo, kh, kw, sh, sw, dh, dw, pt, pl;
} convt_geom;

static convt_geom convt_geometry(const snn_layer *l, const snn_shape *in)
{
    const snn_window *w = &l->win;
    convt_geom g = {
        .c_grp = (long)in->dims[0] / l->groups,
        .o_grp = (long)l->weight.dims[1],
        .hi = (long)in->dims[1], .wi = (long)in->dims[2],
        .ho = (long)l->shape.dims[1], .wo = (long)l->shape.dims[2],
        .kh = w->kernel[0], .kw = w->kernel[1],
        .sh = w->stride[0], .sw = w->stride[1],
        .dh = w->dilation[0], .dw = w->dilation[1],
        .pt = w->pad[0], .pl = w->pad[1],
    };
    return g;
}

/* Adds input channel c's plane x, through kernel k (kh x kw), into the
 * output plane y. */
static void scatter_plane(const convt_geom *g, const float *x,
                          const float *k, float *y)
{
    for (long ih = 0; ih < g->hi; ih++)
        for (long iw = 0; iw < g->wi; iw++) {
            float v = x[ih * g->wi + iw];
            if (v == 0.0f)
                continue;
            for (long i = 0; i < g->kh; i++) {
                long oh = ih * g->sh - g->pt + i * g->dh;
                if (oh < 0 || oh >= g->ho)
                    continue;
                for (long j = 0; j < g->kw; j++) {
                    long ow = iw * g->sw - g->pl + j * g->dw;
                    if (ow >= 0 && ow < g->wo)
                        y[oh * g->wo + ow] += v * k[i * g->kw + j];
                }
            }
        }
}

void snn_conv2d_t_forward(const snn_layer *l, const snn_shape *in,
                          const float *x, size_t n, float *y)
{
    convt_geom g = convt_geometry(l, in);
    long outs = g.o_grp * l->groups, plane_in = g.hi * g.wi;
    long plane_out = g.ho * g.wo, kk = g.kh * g.kw;
    long items = (long)n * outs;
#pragma omp parallel for schedule(static)
    for (long it = 0; it < items; it++) {
        long s = it / outs, o = it % outs, grp = o / g.o_grp;
        float *dst = y + it * plane_out;
        float b = l->bias.data ? l->bias.data[o] : 0.0f;
        for (long q = 0; q < plane_out; q++)
            dst[q] = b;
        for (long c = grp * g.c_grp; c < (grp + 1) * g.c_grp; c++)
            scatter_plane(&g, x + (s * (long)in->dims[0] + c) * plane_in,
                          l->weight.data + (c * g.o_grp + o % g.o_grp) * kk,
                          dst);
    }
}
