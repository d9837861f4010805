/*
 * megasim.c - writes the spiking net for MegaSim, the event-driven
 * simulator of AER hardware modules that the original toolbox targets
 * (MegaSim_target_sim.py), in the files the original writes: the netlist
 * `megasim.sch`, one parameter file `.prm` per module (per feature map for
 * convolution and pooling) and one state file `.stt` per layer, and, for
 * a sample, the Poisson input events `InputLayer.stim` and the bias clock
 * `bias_clk.stim` (snn_export_megasim_stim).
 *
 * MegaSim computes in integers: weights, biases and thresholds are the
 * native values times `[cell] scaling_factor`, truncated toward zero as the
 * original's `%d` formatting does; spikes carry 1, so weights of layers
 * fed by spikes are multiplied by v_thresh.  As in the original: sample by
 * sample (no reset events), convolutions with valid padding and stride 1
 * (kernels flipped upside down, one input port per input feature map plus
 * one for the bias clock), pooling as a 1x1 kernel with subsampling (max
 * pooling falls back to average pooling, with a warning), flatten as
 * module_flatten, dense layers as module_fully_connected.  Differences,
 * where the original is wrong: each input port of a convolution gets the
 * kernel of its own input feature map (the original iterates kernel
 * rows), a pooling spike weighs 1 / (kh kw) (the original 1 / (kh + kw)),
 * and a softmax output becomes IF neurons (warning; MegaSim's softmax
 * module needs its own clock events).
 */
#include "snntb/export.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fsutil.h"
#include "export/export_internal.h"

#define INPUT_LABEL "InputLayer"
#define BIAS_LABEL "bias_clk"
#define TH_MINUS (-2147483646L)

typedef struct mega_writer {
    const snn_net *net;
    const snn_export_opts *o;
    const char *dir;
    snn_error *err;
    char (*labels)[SNN_NAME_MAX]; /* per net layer */
    int uses_biases;              /* some layer has a nonzero bias */
} mega_writer;

/* value * scaling_factor, truncated as the original's "%d" does. */
static long scaled(const mega_writer *w, double v)
{
    return (long)trunc(v * (double)w->o->scaling_factor);
}

static int has_bias(const snn_layer *l)
{
    for (size_t j = 0; j < snn_tensor_numel(&l->bias); j++)
        if (l->bias.data[j] != 0.0f)
            return 1;
    return 0;
}

static int is_pool(const snn_layer *l)
{
    return l->op == SNN_OP_MAXPOOL2D || l->op == SNN_OP_AVGPOOL2D;
}

static snn_status refuse(mega_writer *w, const snn_layer *l, const char *why)
{
    return snn_error_set(w->err, SNN_E_UNSUPPORTED, "layer '%s': the "
                         "MegaSim export %s", l->name, why);
}

static snn_status check_layer(mega_writer *w, int i)
{
    const snn_net_layer *nl = &w->net->layers[i];
    const snn_layer *l = &nl->syn;
    const snn_window *win = &l->win;
    if (nl->input != i - 1)
        return refuse(w, l, "needs a chain of layers");
    if (nl->unit == SNN_UNIT_RESHAPE)
        return i > 0 && i + 1 < w->net->n_layers &&
                       w->net->layers[i + 1].syn.op == SNN_OP_DENSE
                   ? SNN_OK
                   : refuse(w, l, "reads a flatten only between feature "
                            "maps and a dense layer");
    if (l->op == SNN_OP_DENSE)
        return SNN_OK;
    if (l->op != SNN_OP_CONV2D && !is_pool(l))
        return refuse(w, l, "has no module for this layer type");
    if (win->pad[0] || win->pad[1] || win->pad[2] || win->pad[3] ||
        win->dilation[0] != 1 || win->dilation[1] != 1)
        return refuse(w, l, "needs valid padding and no dilation");
    if (l->op == SNN_OP_CONV2D &&
        (win->stride[0] != 1 || win->stride[1] != 1 || l->groups != 1))
        return refuse(w, l, "needs stride 1 and no groups in "
                      "convolutions");
    if (is_pool(l) && (win->stride[0] != win->kernel[0] ||
                       win->stride[1] != win->kernel[1]))
        return refuse(w, l, "needs pooling strides equal to the pool size");
    if (i == 0 && l->op == SNN_OP_CONV2D && nl->in_shape.dims[0] != 1)
        return refuse(w, l, "reads a one-channel input only (one input "
                      "source, as the original)");
    if (i == 0 && is_pool(l))
        return refuse(w, l, "cannot pool the input");
    return SNN_OK;
}

static int put_header(snn_strbuf *b, int in_ports)
{
    return snn_text_putf(b, ".integers\nn_in_ports %d\nn_out_ports 1\n"
                            "delay_to_process 0\ndelay_to_ack 0\n"
                            "fifo_depth 0\nn_repeat 1\ndelay_to_repeat 15\n",
                         in_ports);
}

/* The neuron part shared by conv, pooling and dense modules. */
static int put_neuron(snn_strbuf *b, const mega_writer *w, long memb_reset,
                      long refract)
{
    return snn_text_putf(b, "Xmin 0\nYmin 0\nTHplus %ld\nTHplusInfo 1\n"
                            "THminus %ld\nTHminusInfo 0\n"
                            "Reset_to_reminder %d\nMembReset %ld\n"
                            "TLplus 0\nTLminus 0\nTmin 0\nT_Refract %ld\n",
                         scaled(w, (double)w->net->v_thresh), TH_MINUS,
                         w->net->reset != SNN_RESET_ZERO, memb_reset,
                         refract);
}

static int put_output(snn_strbuf *b, const int crop[4], const int shift[2],
                      const int subsmp[2], const char *tail)
{
    return snn_text_putf(b, "crop_xmin %d\ncrop_xmax %d\ncrop_ymin %d\n"
                            "crop_ymax %d\nxshift_pre %d\nyshift_pre %d\n"
                            "x_subsmp %d\ny_subsmp %d\nxshift_pos 0\n"
                            "yshift_pos 0\nrectify 0\n.floats\n%s",
                         crop[0], crop[1], crop[2], crop[3], shift[0],
                         shift[1], subsmp[0], subsmp[1], tail);
}

static snn_status write_text(mega_writer *w, snn_strbuf *b, int ok,
                             const char *name, const char *ext)
{
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/%s%s", w->dir, name, ext);
    if (n < 0 || (size_t)n >= sizeof path) {
        free(b->p);
        memset(b, 0, sizeof *b);
        return snn_error_set(w->err, SNN_E_INVALID, "%s: path too long",
                             w->dir);
    }
    return snn_text_write(b, ok, path, w->err);
}

static snn_status write_state(mega_writer *w, const char *label)
{
    snn_strbuf b = {0};
    int ok = snn_text_put(&b, ".integers\ntime_busy_initial 0\n.floats\n");
    return write_text(w, &b, ok, label, ".stt");
}

/* A (rows x cols) block of integers, one row per line. */
static int put_rows(snn_strbuf *b, const long *v, size_t rows, size_t cols)
{
    int ok = 1;
    for (size_t r = 0; ok && r < rows; r++)
        for (size_t c = 0; ok && c < cols; c++)
            ok = snn_text_putf(b, "%ld%s", v[r * cols + c],
                               c + 1 == cols ? "\n" : " ");
    return ok;
}

/* Feature map f of convolution i: one port per input map, kernels flipped
 * upside down, and the bias port (Nx_array x Ny_array, as the original). */
static int put_conv_fm(snn_strbuf *b, const mega_writer *w, int i, size_t f,
                       long *tmp)
{
    const snn_net_layer *nl = &w->net->layers[i];
    const snn_layer *l = &nl->syn;
    int kh = l->win.kernel[0], kw = l->win.kernel[1];
    size_t cin = nl->in_shape.dims[0];
    int oh = (int)l->shape.dims[1], ow = (int)l->shape.dims[2];
    int nx = ow + kw - 1, ny = oh + kh - 1, bias = has_bias(l);
    double ws = snn_export_weight_scale(w->net, i);
    int ok = put_header(b, (int)cin + bias) &&
             snn_text_putf(b, "Nx_array %d\nNy_array %d\n", nx, ny) &&
             put_neuron(b, w, 0, (long)w->o->cell.tau_refrac);
    for (size_t c = 0; ok && c < cin; c++) {
        const float *k = l->weight.data + (f * cin + c) * (size_t)(kh * kw);
        for (int y = 0; y < kh; y++)
            for (int x = 0; x < kw; x++)
                tmp[y * kw + x] = scaled(w, k[(kh - 1 - y) * kw + x] * ws);
        ok = snn_text_putf(b, "Nx_kernel %d\nNy_kernel %d\nDx %d\nDy %d\n",
                           kh, kw, -(kh / 2), -(kw / 2)) &&
             put_rows(b, tmp, (size_t)kh, (size_t)kw);
    }
    if (ok && bias) {
        long bv = scaled(w, (double)l->bias.data[f]);
        ok = snn_text_putf(b, "Nx_kernel %d\nNy_kernel %d\nDx 0\nDy 0\n", nx,
                           ny);
        for (int r = 0; ok && r < nx; r++)
            for (int c = 0; ok && c < ny; c++)
                ok = snn_text_putf(b, "%ld%s", bv, c + 1 == ny ? "\n" : " ");
    }
    int crop[4] = {kw / 2, nx - kw + 1, kh / 2, ny - kh + 1};
    int shift[2] = {-(kw / 2), -(kh / 2)}, sub[2] = {1, 1};
    return ok && put_output(b, crop, shift, sub, "");
}

/* Feature map of a pooling layer: a 1x1 kernel of weight 1 / (kh kw),
 * subsampled by the pool size. */
static int put_pool_fm(snn_strbuf *b, const mega_writer *w, int i)
{
    const snn_layer *l = &w->net->layers[i].syn;
    int kh = l->win.kernel[0], kw = l->win.kernel[1];
    int nx = (int)l->shape.dims[2] * kw, ny = (int)l->shape.dims[1] * kh;
    double ws = snn_export_weight_scale(w->net, i);
    int crop[4] = {0, nx - 1, 0, ny - 1}, shift[2] = {0, 0},
        sub[2] = {kw, kh};
    return put_header(b, 1) &&
           snn_text_putf(b, "Nx_array %d\nNy_array %d\n", nx, ny) &&
           put_neuron(b, w, 0, 0) &&
           snn_text_put(b, "Nx_kernel 1\nNy_kernel 1\nDx 0\nDy 0\n") &&
           snn_text_putf(b, "%ld\n", scaled(w, ws / (double)(kh * kw))) &&
           put_output(b, crop, shift, sub, "");
}

static snn_status write_maps(mega_writer *w, int i)
{
    const snn_layer *l = &w->net->layers[i].syn;
    size_t maps = l->shape.dims[0];
    int kh = l->win.kernel[0], kw = l->win.kernel[1];
    long *tmp = malloc((size_t)(kh * kw) * sizeof *tmp);
    if (!tmp)
        return snn_error_set(w->err, SNN_E_NOMEM, "layer '%s': cannot "
                             "allocate a kernel", l->name);
    snn_status st = SNN_OK;
    for (size_t f = 0; st == SNN_OK && f < maps; f++) {
        snn_strbuf b = {0};
        int ok = is_pool(l) ? put_pool_fm(&b, w, i)
                            : put_conv_fm(&b, w, i, f, tmp);
        char name[SNN_NAME_MAX + 24];
        snprintf(name, sizeof name, "%s_%zu", w->labels[i], f);
        st = write_text(w, &b, ok, name, ".prm");
    }
    free(tmp);
    return st;
}

/* module_flatten: one port per feature map of the layer before. */
static snn_status write_flatten(mega_writer *w, int i)
{
    const snn_shape *in = &w->net->layers[i].in_shape;
    snn_strbuf b = {0};
    int ok = put_header(&b, (int)in->dims[0]);
    for (size_t c = 0; ok && c < in->dims[0]; c++)
        ok = snn_text_putf(&b, "Nx_array %zu\nNy_array %zu\n", in->dims[1],
                           in->dims[2]);
    ok = ok && snn_text_put(&b, ".floats\n");
    return write_text(w, &b, ok, w->labels[i], ".prm");
}

/* module_fully_connected: one row of weights per input neuron, inputs in
 * channels-first order (the flatten's ports one after the other). */
static snn_status write_dense(mega_writer *w, int i)
{
    const snn_layer *l = &w->net->layers[i].syn;
    size_t rows = l->weight.dims[0], cols = l->weight.dims[1];
    int bias = has_bias(l);
    double ws = snn_export_weight_scale(w->net, i);
    size_t n = rows * cols;
    long *t = malloc((n ? n : 1) * sizeof *t);
    if (!t)
        return snn_error_set(w->err, SNN_E_NOMEM, "layer '%s': cannot "
                             "allocate its weights", l->name);
    for (size_t j = 0; j < cols; j++) {
        size_t q = snn_export_dense_column(w->net, i, j);
        for (size_t o = 0; o < rows; o++)
            t[q * rows + o] = scaled(w, l->weight.data[o * cols + j] * ws);
    }
    snn_strbuf b = {0};
    int ok = put_header(&b, 1 + bias) &&
             snn_text_putf(&b, "population_size %zu\nNy_array 1\n", rows) &&
             put_neuron(&b, w, 0, (long)w->o->cell.tau_refrac) &&
             snn_text_putf(&b, "Nx_array_pre %zu\nNy_array_pre 1\n", cols) &&
             put_rows(&b, t, cols, rows);
    if (ok && bias) {
        ok = snn_text_put(&b, "Nx_array_pre 1\nNy_array_pre 1\n");
        for (size_t o = 0; ok && o < rows; o++)
            ok = snn_text_putf(&b, "%ld%s", scaled(w, l->bias.data[o]),
                               o + 1 == rows ? "\n" : " ");
    }
    int crop[4] = {0, (int)rows, 0, (int)rows}, shift[2] = {0, 0},
        sub[2] = {1, 1};
    ok = ok && put_output(&b, crop, shift, sub, "    ");
    free(t);
    return write_text(w, &b, ok, w->labels[i], ".prm");
}

/* The netlist line of feature map f (or the module) of layer i. */
static int put_netlist_inputs(snn_strbuf *b, const mega_writer *w, int i,
                              size_t f)
{
    const snn_net_layer *nl = &w->net->layers[i];
    const snn_layer *l = &nl->syn;
    int ok = snn_text_put(b, "{");
    if (i == 0)
        ok = ok && snn_text_put(b, INPUT_LABEL);
    else if (is_pool(l))
        ok = ok && snn_text_putf(b, "%s_%zu", w->labels[i - 1], f);
    else if (l->op == SNN_OP_CONV2D || nl->unit == SNN_UNIT_RESHAPE)
        for (size_t c = 0; ok && c < nl->in_shape.dims[0]; c++)
            ok = snn_text_putf(b, "%s%s_%zu", c ? "," : "", w->labels[i - 1],
                               c);
    else
        ok = ok && snn_text_put(b, w->labels[i - 1]);
    if (ok && !is_pool(l) && nl->unit != SNN_UNIT_RESHAPE && has_bias(l))
        ok = snn_text_put(b, "," BIAS_LABEL);
    return ok && snn_text_put(b, "}");
}

static int put_netlist_layer(snn_strbuf *b, const mega_writer *w, int i)
{
    const snn_net_layer *nl = &w->net->layers[i];
    const char *lab = w->labels[i];
    int ok = 1;
    if (nl->unit == SNN_UNIT_RESHAPE || nl->syn.op == SNN_OP_DENSE) {
        const char *mod = nl->unit == SNN_UNIT_RESHAPE
                              ? "module_flatten" : "module_fully_connected";
        ok = snn_text_putf(b, "%s ", mod) &&
             put_netlist_inputs(b, w, i, 0) &&
             snn_text_putf(b, "{%s} %s.prm %s.stt\n", lab, lab, lab);
    } else {
        for (size_t f = 0; ok && f < nl->syn.shape.dims[0]; f++)
            ok = snn_text_put(b, "module_conv ") &&
                 put_netlist_inputs(b, w, i, f) &&
                 snn_text_putf(b, "{%s_%zu} %s_%zu.prm %s.stt\n", lab, f,
                               lab, f, lab);
    }
    return ok && snn_text_put(b, "\n");
}

static snn_status write_netlist(mega_writer *w)
{
    snn_strbuf b = {0};
    int ok = snn_text_put(&b, ".netlist\nsource {" INPUT_LABEL "} "
                              INPUT_LABEL ".stim\n\n");
    if (ok && w->uses_biases)
        ok = snn_text_put(&b, "source {" BIAS_LABEL "} " BIAS_LABEL
                              ".stim\n");
    for (int i = 0; ok && i < w->net->n_layers; i++)
        ok = put_netlist_layer(&b, w, i);
    ok = ok && snn_text_putf(&b, "\n.options\nTmax=%d\n",
                             (int)w->o->duration);
    return write_text(w, &b, ok, "megasim", ".sch");
}

static void make_labels(mega_writer *w)
{
    for (int i = 0; i < w->net->n_layers; i++) {
        const snn_layer *l = &w->net->layers[i].syn;
        snn_export_safe_name(w->labels[i], SNN_NAME_MAX, l->name);
        w->uses_biases |= l->op != SNN_OP_FLATTEN && has_bias(l);
    }
}

static snn_status write_layers(mega_writer *w)
{
    snn_status st = SNN_OK;
    for (int i = 0; st == SNN_OK && i < w->net->n_layers; i++) {
        const snn_net_layer *nl = &w->net->layers[i];
        if (nl->unit == SNN_UNIT_RESHAPE)
            st = write_flatten(w, i);
        else if (nl->syn.op == SNN_OP_DENSE)
            st = write_dense(w, i);
        else
            st = write_maps(w, i);
        if (st == SNN_OK)
            st = write_state(w, w->labels[i]);
    }
    return st;
}

static void warn_fallbacks(const snn_net *net, const snn_log *log)
{
    for (int i = 0; i < net->n_layers; i++) {
        const snn_net_layer *nl = &net->layers[i];
        if (nl->unit == SNN_UNIT_MAXGATE)
            snn_warn(log, "layer '%s': max-pooling exported as average "
                     "pooling (MegaSim has no max gate, as in the original)",
                     nl->syn.name);
        if (nl->unit == SNN_UNIT_SOFTMAX)
            snn_warn(log, "layer '%s': softmax output exported as IF "
                     "neurons", nl->syn.name);
    }
}

snn_status snn_export_megasim(const snn_net *net, const char *dir,
                              const snn_export_opts *opts,
                              const snn_log *log, snn_error *err)
{
    if (opts->scaling_factor < 1)
        return snn_error_set(err, SNN_E_INVALID, "MegaSim export: [cell] "
                             "scaling_factor must be at least 1");
    mega_writer w = {net, opts, dir, err, NULL, 0};
    snn_status st = SNN_OK;
    for (int i = 0; st == SNN_OK && i < net->n_layers; i++)
        st = check_layer(&w, i);
    if (st != SNN_OK)
        return st;
    st = snn_mkdirs(dir, err);
    if (st != SNN_OK)
        return st;
    w.labels = calloc((size_t)net->n_layers, sizeof *w.labels);
    if (!w.labels)
        return snn_error_set(err, SNN_E_NOMEM, "cannot allocate the labels");
    warn_fallbacks(net, log);
    make_labels(&w);
    st = write_layers(&w);
    if (st == SNN_OK)
        st = write_netlist(&w);
    free(w.labels);
    return st;
}

/* splitmix64: the stimulus's reproducible uniform draws in [0, 1). */
static double next_uniform(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return (double)(z >> 11) * (1.0 / 9007199254740992.0);
}

snn_status snn_export_megasim_stim(const snn_net *net, const char *dir,
                                   const float *sample, double duration,
                                   uint64_t seed, snn_error *err)
{
    const snn_shape *in = &net->input_shape;
    size_t h = in->ndim == 3 ? in->dims[1] : 1;
    size_t wd = in->ndim == 3 ? in->dims[2] : snn_shape_numel(in);
    int steps = (int)(duration / (double)net->dt + 0.5);
    snn_strbuf spikes = {0}, clock = {0};
    int ok = 1;
    for (int t = 0; ok && t < steps; t++) {
        long ts = (long)((double)t * (double)net->dt);
        for (size_t y = 0; ok && y < h; y++)
            for (size_t x = 0; ok && x < wd; x++)
                if (next_uniform(&seed) < (double)sample[y * wd + x])
                    ok = snn_text_putf(&spikes, "%ld -1 -1 %zu %zu 1\n", ts,
                                       x, y);
        ok = ok && snn_text_putf(&clock, "%ld -1 -1 0 0 1\n", ts);
    }
    mega_writer w = {net, NULL, dir, err, NULL, 0};
    snn_status st = write_text(&w, &spikes, ok, INPUT_LABEL, ".stim");
    if (st == SNN_OK)
        return write_text(&w, &clock, ok, BIAS_LABEL, ".stim");
    free(clock.p);
    return st;
}
