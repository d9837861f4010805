/*
 * quantize.c - the fixed-point form of a spiking net, for targets that
 * compute in integers: Loihi through Lava (8-bit weight mantissas,
 * thresholds below 2^17) and the int16 / int8 C export.  It exists so
 * that both targets share one quantization, and so that the native
 * simulator can run exactly what they run (the quantized net in native
 * units, every value dyadic) and report what the quantization costs.
 *
 * In threshold units a spike into layer i adds w (the native spike
 * carries v_thresh, the threshold is v_thresh) and the sample adds
 * w x / v_thresh; biases add b / v_thresh.  Each layer scales these by
 * 2^k, k as large as the weight bits (and max_shift) allow, and rounds;
 * the sample is rounded to x * 2^8, so a layer fed by it has the threshold
 * 2^(k + 8).  Pooling becomes a depthwise convolution with weights
 * 1 / cells, which integer targets run like any convolution; max-pooling
 * stays a gate of spike counts where the target has one (the C export),
 * else it falls back to average pooling.
 */
#include "snntb/export.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "export/export_internal.h"

static long lclamp(long v, long lim, size_t *clipped)
{
    if (v > lim || v < -lim) {
        (*clipped)++;
        return v > lim ? lim : -lim;
    }
    return v;
}

/* Layer i's weights in threshold units, in its own layout (pools as
 * depthwise (C, 1, KH, KW) kernels); *n receives the count. */
static float *unit_weights(const snn_net *net, int i, size_t *n)
{
    const snn_net_layer *nl = &net->layers[i];
    float in_scale = snn_export_fed_by_input(net, i) ? 1.0f / net->v_thresh
                                                     : 1.0f;
    if (nl->syn.op == SNN_OP_DENSE || nl->syn.op == SNN_OP_CONV2D) {
        *n = snn_tensor_numel(&nl->syn.weight);
        float *w = malloc((*n ? *n : 1) * sizeof *w);
        for (size_t j = 0; w && j < *n; j++)
            w[j] = nl->syn.weight.data[j] * in_scale;
        return w;
    }
    size_t cells = (size_t)nl->syn.win.kernel[0] * nl->syn.win.kernel[1];
    *n = nl->in_shape.dims[0] * cells;
    float *w = malloc((*n ? *n : 1) * sizeof *w);
    for (size_t j = 0; w && j < *n; j++)
        w[j] = in_scale / (float)cells;
    return w;
}

static float max_abs(const float *v, size_t n)
{
    float m = 0.0f;
    for (size_t j = 0; j < n; j++)
        m = fmaxf(m, fabsf(v[j]));
    return m;
}

/* The largest k in [0, kmax] with m * 2^k <= lim. */
static int pick_k(float m, long lim, int kmax)
{
    int k = 0;
    while (k < kmax && ldexp((double)m, k + 1) <= (double)lim)
        k++;
    return k;
}

static snn_status check_layer(const snn_net *net, int i,
                              const snn_quant_opts *o, const snn_log *log,
                              snn_error *err)
{
    const snn_net_layer *nl = &net->layers[i];
    const snn_window *w = &nl->syn.win;
    switch (nl->syn.op) {
    case SNN_OP_DENSE:
    case SNN_OP_CONV2D:
        break;
    case SNN_OP_MAXPOOL2D:
    case SNN_OP_AVGPOOL2D:
        if (w->pad[0] || w->pad[1] || w->pad[2] || w->pad[3] ||
            w->dilation[0] != 1 || w->dilation[1] != 1)
            return snn_error_set(err, SNN_E_UNSUPPORTED, "layer '%s': "
                                 "fixed-point export of padded or dilated "
                                 "pooling is not supported", nl->syn.name);
        if (nl->unit == SNN_UNIT_MAXGATE && !o->keep_maxgate)
            snn_warn(log, "layer '%s': max-pooling exported as average "
                     "pooling (the target has no max gate)", nl->syn.name);
        break;
    default:
        return snn_error_set(err, SNN_E_UNSUPPORTED, "layer '%s': "
                             "fixed-point export of %s layers is not "
                             "supported", nl->syn.name,
                             snn_op_name(nl->syn.op));
    }
    if (nl->unit == SNN_UNIT_SOFTMAX)
        snn_warn(log, "layer '%s': softmax output exported as IF neurons",
                 nl->syn.name);
    if (nl->syn.op != SNN_OP_DENSE && nl->in_shape.ndim != 3)
        return snn_error_set(err, SNN_E_UNSUPPORTED, "layer '%s': needs a "
                             "(C, H, W) input", nl->syn.name);
    return SNN_OK;
}

/* Turns pooling into the depthwise convolution whose weights w holds. */
static void as_conv(snn_layer *l, const snn_shape *in, int was_pool)
{
    if (!was_pool)
        return;
    l->op = SNN_OP_CONV2D;
    l->groups = (int)in->dims[0];
    l->win.count_pad = 0;
}

/* The weight tensor of layer i's quantized forms: its own shape, or
 * (C, 1, KH, KW) for pooling. */
static snn_status weight_tensor(snn_tensor *t, const snn_net_layer *nl,
                                int pool, snn_error *err)
{
    if (!pool)
        return snn_tensor_init(t, nl->syn.weight.ndim, nl->syn.weight.dims,
                               err);
    size_t d[4] = {nl->in_shape.dims[0], 1, (size_t)nl->syn.win.kernel[0],
                   (size_t)nl->syn.win.kernel[1]};
    return snn_tensor_init(t, 4, d, err);
}

typedef struct qstats {
    size_t w_clipped, b_clipped;
} qstats;

/* Quantizes layer i into q->net and q->ints. */
static snn_status quantize_layer(const snn_net *net, int i,
                                 const snn_quant_opts *o, snn_quant *q,
                                 qstats *qs, snn_error *err)
{
    const snn_net_layer *nl = &net->layers[i];
    snn_net_layer *ql = &q->net.layers[i], *il = &q->ints.layers[i];
    int in_fed = snn_export_fed_by_input(net, i);
    int pool = nl->syn.op == SNN_OP_MAXPOOL2D ||
               nl->syn.op == SNN_OP_AVGPOOL2D;
    size_t n = 0;
    float *u = unit_weights(net, i, &n);
    if (!u)
        return snn_error_set(err, SNN_E_NOMEM, "layer '%s': cannot allocate "
                             "its weights", nl->syn.name);
    for (size_t j = 0; j < n; j++)
        if (!isfinite(u[j])) {
            free(u);
            return snn_error_set(err, SNN_E_INVALID, "layer '%s': weights "
                                 "are not finite", nl->syn.name);
        }
    long lim = (1L << (o->weight_bits - 1)) - 1;
    int in_shift = in_fed ? SNN_QUANT_INPUT_SHIFT : 0;
    int k = pick_k(max_abs(u, n), lim, o->max_shift - in_shift);
    int shift = k + in_shift;
    snn_status st = weight_tensor(&ql->syn.weight, nl, pool, err);
    if (st == SNN_OK)
        st = weight_tensor(&il->syn.weight, nl, pool, err);
    float wback = in_fed ? net->v_thresh : 1.0f;
    for (size_t j = 0; st == SNN_OK && j < n; j++) {
        long w = lclamp(lrint(ldexp((double)u[j], k)), lim, &qs->w_clipped);
        il->syn.weight.data[j] = (float)w;
        ql->syn.weight.data[j] = (float)ldexp((double)w, -k) * wback;
    }
    free(u);
    size_t nb = pool ? 0 : snn_tensor_numel(&nl->syn.bias);
    if (st == SNN_OK && nb) {
        st = snn_tensor_init(&ql->syn.bias, 1, &nb, err);
        if (st == SNN_OK)
            st = snn_tensor_init(&il->syn.bias, 1, &nb, err);
    }
    for (size_t j = 0; st == SNN_OK && j < nb; j++) {
        if (!isfinite(nl->syn.bias.data[j]))
            return snn_error_set(err, SNN_E_INVALID, "layer '%s': biases "
                                 "are not finite", nl->syn.name);
        double r = ldexp((double)(nl->syn.bias.data[j] / net->v_thresh),
                         shift);
        long b = lclamp(lrint(r), o->bias_max, &qs->b_clipped);
        il->syn.bias.data[j] = (float)b;
        ql->syn.bias.data[j] = (float)ldexp((double)b, -shift) *
                               net->v_thresh;
    }
    as_conv(&ql->syn, &nl->in_shape, pool);
    as_conv(&il->syn, &nl->in_shape, pool);
    ql->unit = il->unit = SNN_UNIT_IF;
    q->shift[i] = shift;
    return st;
}

/* Copies net's structure (no tensors) into dst. */
static snn_status copy_frame(snn_net *dst, const snn_net *net,
                             const snn_quant_opts *o, snn_error *err)
{
    *dst = *net;
    dst->layers = calloc((size_t)net->n_layers, sizeof *dst->layers);
    if (!dst->layers) {
        dst->n_layers = 0;
        return snn_error_set(err, SNN_E_NOMEM, "cannot allocate the "
                             "quantized net");
    }
    for (int i = 0; i < net->n_layers; i++) {
        dst->layers[i] = net->layers[i];
        memset(&dst->layers[i].syn.weight, 0, sizeof(snn_tensor));
        memset(&dst->layers[i].syn.bias, 0, sizeof(snn_tensor));
    }
    if (o->reset_zero)
        dst->reset = SNN_RESET_ZERO;
    return SNN_OK;
}

snn_status snn_quantize(const snn_net *net, const snn_quant_opts *o,
                        const snn_log *log, snn_quant *q, snn_error *err)
{
    memset(q, 0, sizeof *q);
    if (o->weight_bits < 2 || o->weight_bits > 24 || o->max_shift < 1 ||
        o->max_shift > 30 || !(net->v_thresh > 0))
        return snn_error_set(err, SNN_E_INVALID, "quantization: weight bits "
                             "%d or threshold exponent %d out of range",
                             o->weight_bits, o->max_shift);
    if (o->reset_zero && net->reset != SNN_RESET_ZERO)
        snn_warn(log, "the target resets to zero: the net's reset by %s is "
                 "not kept", snn_export_reset_name(net->reset));
    snn_status st = SNN_OK;
    for (int i = 0; st == SNN_OK && i < net->n_layers; i++)
        if (net->layers[i].unit != SNN_UNIT_RESHAPE)
            st = check_layer(net, i, o, log, err);
    if (st == SNN_OK)
        st = copy_frame(&q->net, net, o, err);
    if (st == SNN_OK)
        st = copy_frame(&q->ints, net, o, err);
    q->shift = st == SNN_OK ? calloc((size_t)net->n_layers, sizeof *q->shift)
                            : NULL;
    if (st == SNN_OK && !q->shift)
        st = snn_error_set(err, SNN_E_NOMEM, "cannot allocate the "
                           "quantized net");
    qstats qs = {0, 0};
    for (int i = 0; st == SNN_OK && i < net->n_layers; i++) {
        snn_unit u = net->layers[i].unit;
        if (u != SNN_UNIT_RESHAPE && (u != SNN_UNIT_MAXGATE || !o->keep_maxgate))
            st = quantize_layer(net, i, o, q, &qs, err);
    }
    if (st != SNN_OK) {
        snn_quant_free(q);
        return st;
    }
    if (qs.w_clipped || qs.b_clipped)
        snn_warn(log, "quantization clipped %zu weights and %zu biases to "
                 "the target's range", qs.w_clipped, qs.b_clipped);
    return SNN_OK;
}

void snn_quant_free(snn_quant *q)
{
    snn_net_free(&q->net);
    snn_net_free(&q->ints);
    free(q->shift);
    memset(q, 0, sizeof *q);
}

size_t snn_quant_input(snn_tensor *x, size_t n)
{
    size_t per = x->ndim ? snn_tensor_numel(x) / x->dims[0] : 0;
    size_t clipped = 0;
    for (size_t j = 0; j < n * per; j++) {
        float v = x->data[j];
        if (v > 1.0f || v < -1.0f)
            clipped++;
        v = fminf(fmaxf(v, -1.0f), 1.0f);
        x->data[j] = ldexpf((float)lrintf(ldexpf(v, SNN_QUANT_INPUT_SHIFT)),
                            -SNN_QUANT_INPUT_SHIFT);
    }
    return clipped;
}

void snn_quant_opts_for(snn_export_format f, int precision,
                        snn_quant_opts *o)
{
    memset(o, 0, sizeof *o);
    if (f == SNN_EXPORT_LAVA) {
        /* 8-bit weights; vThMant = 2^shift - 1 < 2^17; 13-bit biases. */
        o->weight_bits = 8;
        o->max_shift = 16;
        o->bias_max = (1L << 12) - 1;
        o->reset_zero = 1;
        return;
    }
    o->weight_bits = precision == 8 ? 8 : 16;
    o->keep_maxgate = 1;
    /* Membranes of a few thresholds stay far inside int32. */
    o->max_shift = 24;
    o->bias_max = 1L << 24;
}
