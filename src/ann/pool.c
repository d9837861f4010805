/*
 * pool.c - 2-D max and average pooling over a window with stride,
 * dilation and asymmetric padding.
 *
 * Padded cells never take part in the max.  The average divides by the
 * number of in-bounds cells (Keras 'same', ONNX with count_include_pad =
 * 0), or with count_pad by the cells inside the padded input (Caffe, ONNX
 * count_include_pad = 1: padding counts as zeros, but a ceil_mode window
 * running past the padding is clipped).  A window with no cell to count
 * gives 0.
 */
#include "ann/ops.h"

#include <float.h>

typedef struct pool_geom {
    long h_in, w_in, h_out, w_out;
    long kh, kw, sh, sw, dh, dw, pt, pl, pb, pr;
    int count_pad;
} pool_geom;

static pool_geom pool_geometry(const snn_layer *l, const snn_shape *in)
{
    const snn_window *w = &l->win;
    pool_geom g = {
        .h_in = (long)in->dims[1], .w_in = (long)in->dims[2],
        .h_out = (long)l->shape.dims[1], .w_out = (long)l->shape.dims[2],
        .kh = w->kernel[0], .kw = w->kernel[1],
        .sh = w->stride[0], .sw = w->stride[1],
        .dh = w->dilation[0], .dw = w->dilation[1],
        .pt = w->pad[0], .pl = w->pad[1], .pb = w->pad[2], .pr = w->pad[3],
        .count_pad = w->count_pad,
    };
    return g;
}

/* The pooled value of the window whose top-left tap is at (h0, w0). */
static float pool_window(const pool_geom *g, const float *plane, long h0,
                         long w0, int is_max)
{
    float acc = is_max ? -FLT_MAX : 0.0f;
    long count = 0;
    for (long i = 0; i < g->kh; i++) {
        long h = h0 + i * g->dh;
        int h_padded = h >= -g->pt && h < g->h_in + g->pb;
        for (long j = 0; j < g->kw; j++) {
            long w = w0 + j * g->dw;
            int inside = h >= 0 && h < g->h_in && w >= 0 && w < g->w_in;
            if (!inside) {
                count += g->count_pad && !is_max && h_padded &&
                         w >= -g->pl && w < g->w_in + g->pr;
                continue;
            }
            float v = plane[h * g->w_in + w];
            if (is_max)
                acc = v > acc ? v : acc;
            else
                acc += v;
            count++;
        }
    }
    if (count == 0)
        return 0.0f;
    return is_max ? acc : acc / (float)count;
}

void snn_pool2d_forward(const snn_layer *l, const snn_shape *in,
                        const float *x, size_t n, float *y)
{
    pool_geom g = pool_geometry(l, in);
    int is_max = l->op == SNN_OP_MAXPOOL2D;
    long planes = (long)n * (long)in->dims[0];

#pragma omp parallel for schedule(static)
    for (long pl = 0; pl < planes; pl++) {
        const float *src = x + pl * g.h_in * g.w_in;
        float *dst = y + pl * g.h_out * g.w_out;
        for (long oh = 0; oh < g.h_out; oh++)
            for (long ow = 0; ow < g.w_out; ow++)
                dst[oh * g.w_out + ow] = pool_window(
                    &g, src, oh * g.sh - g.pt, ow * g.sw - g.pl, is_max);
    }
}
