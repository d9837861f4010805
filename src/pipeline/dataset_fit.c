/*
 * dataset_fit.c - see dataset_fit.h.
 */
#include "pipeline/dataset_fit.h"

#include <stdlib.h>
#include <string.h>

static int sample_is(const snn_tensor *x, size_t a, size_t b, size_t c)
{
    return x->ndim == 4 && x->dims[1] == a && x->dims[2] == b &&
           x->dims[3] == c;
}

static snn_status hwc_to_chw(snn_tensor *x, const snn_shape *in,
                             snn_error *err)
{
    size_t c = in->dims[0], h = in->dims[1], w = in->dims[2];
    size_t per = c * h * w, n = x->dims[0];
    float *out = malloc(n * per * sizeof *out);
    if (!out)
        return snn_error_set(err, SNN_E_NOMEM, "cannot transpose samples");
    for (size_t s = 0; s < n; s++) {
        const float *src = x->data + s * per;
        float *dst = out + s * per;
        for (size_t y = 0; y < h; y++)
            for (size_t xx = 0; xx < w; xx++)
                for (size_t ch = 0; ch < c; ch++)
                    dst[(ch * h + y) * w + xx] = src[(y * w + xx) * c + ch];
    }
    free(x->data);
    x->data = out;
    return SNN_OK;
}

static void set_shape(snn_tensor *x, const snn_shape *in)
{
    x->ndim = in->ndim + 1;
    for (int i = 0; i < in->ndim; i++)
        x->dims[i + 1] = in->dims[i];
}

/* A 1-D model's input is held as a (C, 1, steps) image. */
static int is_sequence(const snn_shape *in)
{
    return in->ndim == 3 && in->dims[1] == 1;
}

/* (N, steps, C) as Keras stores sequences, or (N, C, steps) as ONNX and
 * channels_first Keras do; when steps == C (> 1) the two cannot be told
 * apart and the samples are refused. */
static snn_status fit_sequence(snn_tensor *x, const snn_shape *in,
                               const char *what, snn_error *err)
{
    size_t c = in->dims[0], steps = in->dims[2];
    int last = x->dims[1] == steps && x->dims[2] == c;
    int first = x->dims[1] == c && x->dims[2] == steps;
    if (last && first && c > 1)
        return snn_error_set(err, SNN_E_SHAPE,
                             "%s: samples are (%zu, %zu) but the model's 1-D "
                             "input has %zu steps of %zu channels, so "
                             "(steps, channels) and (channels, steps) cannot "
                             "be told apart; store them as (N, %zu, 1, %zu) "
                             "(channels first) or (N, 1, %zu, %zu) (channels "
                             "last)",
                             what, x->dims[1], x->dims[2], steps, c, c, steps,
                             steps, c);
    if (!last && !first)
        return snn_error_set(err, SNN_E_SHAPE,
                             "%s: samples are (%zu, %zu) but the model's 1-D "
                             "input is %zu steps of %zu channels: (N, %zu, "
                             "%zu) (steps, channels) or (N, %zu, %zu) "
                             "(channels, steps)",
                             what, x->dims[1], x->dims[2], steps, c, steps, c,
                             c, steps);
    if (last && !first) {
        snn_status st = hwc_to_chw(x, in, err);
        if (st != SNN_OK)
            return st;
    }
    set_shape(x, in);
    return SNN_OK;
}

snn_status snn_dataset_fit(snn_tensor *x, const snn_shape *in,
                           const char *what, snn_error *err)
{
    char have[96], want[96];
    size_t per = snn_shape_numel(in);
    if (x->ndim < 1 || x->dims[0] == 0 || !x->data)
        return snn_error_set(err, SNN_E_SHAPE, "%s: no samples", what);
    size_t n = x->dims[0];
    if (in->ndim == 3 &&
        sample_is(x, in->dims[0], in->dims[1], in->dims[2]))
        return SNN_OK;
    if (in->ndim == 3 &&
        sample_is(x, in->dims[1], in->dims[2], in->dims[0])) {
        snn_status st = hwc_to_chw(x, in, err);
        if (st == SNN_OK)
            set_shape(x, in);
        return st;
    }
    /* A flat model input, or a 1-D one of a single channel (where every
     * layout is the same), takes samples of any shape with as many values
     * (e.g. IDX images as pixel sequences); a 3-D input also takes
     * (N, H, W) for one channel. */
    int flat_ok = (in->ndim == 1 || (is_sequence(in) && in->dims[0] == 1)) &&
                  snn_tensor_numel(x) == n * per;
    int gray_ok = in->ndim == 3 && in->dims[0] == 1 && x->ndim == 3 &&
                  x->dims[1] == in->dims[1] && x->dims[2] == in->dims[2];
    if (flat_ok || gray_ok) {
        set_shape(x, in);
        return SNN_OK;
    }
    if (is_sequence(in) && x->ndim == 3)
        return fit_sequence(x, in, what, err);
    return snn_error_set(err, SNN_E_SHAPE,
                         "%s: samples are %s but the model's input is %s "
                         "(channels first) or its channels-last transpose",
                         what,
                         snn_shape_str(x->ndim - 1, x->dims + 1, have,
                                       sizeof have),
                         snn_shape_str(in->ndim, in->dims, want, sizeof want));
}
