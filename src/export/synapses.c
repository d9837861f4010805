/*
 * synapses.c - expands a spiking net's synaptic ops (dense, convolution,
 * pooling) into synapse lists for the targets that take connections one by
 * one.  See synapses.h.
 */
#include "export/synapses.h"

#include <stdlib.h>
#include <string.h>

void snn_syn_free(snn_syn_list *s)
{
    free(s->pre);
    free(s->post);
    free(s->w);
    memset(s, 0, sizeof *s);
}

static snn_status syn_reserve(snn_syn_list *s, size_t n, snn_error *err)
{
    s->pre = malloc((n ? n : 1) * sizeof *s->pre);
    s->post = malloc((n ? n : 1) * sizeof *s->post);
    s->w = malloc((n ? n : 1) * sizeof *s->w);
    s->cap = n;
    if (s->pre && s->post && s->w)
        return SNN_OK;
    snn_syn_free(s);
    return snn_error_set(err, SNN_E_NOMEM, "cannot allocate %zu synapses", n);
}

static void syn_push(snn_syn_list *s, size_t pre, size_t post, float w)
{
    if (s->n == s->cap)
        return;
    s->pre[s->n] = (int64_t)pre;
    s->post[s->n] = (int64_t)post;
    s->w[s->n++] = w;
}

/* Element e of the tensor layer `input` outputs, as an index into the
 * population (or the sample) that emits it: flattens only re-index. */
static size_t source_index(const snn_net *net, int input, size_t e)
{
    while (input >= 0 && net->layers[input].unit == SNN_UNIT_RESHAPE) {
        const snn_net_layer *r = &net->layers[input];
        if (r->syn.flatten_hwc && r->in_shape.ndim == 3) {
            size_t c_n = r->in_shape.dims[0];
            size_t hw = r->in_shape.dims[1] * r->in_shape.dims[2];
            e = (e % c_n) * hw + e / c_n;
        }
        input = r->input;
    }
    return e;
}

int snn_syn_source_layer(const snn_net *net, int input)
{
    while (input >= 0 && net->layers[input].unit == SNN_UNIT_RESHAPE)
        input = net->layers[input].input;
    return input;
}

static void expand_dense(const snn_net *net, int i, float scale, snn_syn_list *s)
{
    const snn_layer *l = &net->layers[i].syn;
    size_t rows = l->weight.dims[0], cols = l->weight.dims[1];
    for (size_t j = 0; j < cols; j++) {
        size_t pre = source_index(net, net->layers[i].input, j);
        for (size_t o = 0; o < rows; o++)
            syn_push(s, pre, o, l->weight.data[o * cols + j] * scale);
    }
}

/* Input coordinate of output oy/ox at kernel offset ky/kx, or -1 in the
 * padding. */
static long in_coord(const snn_window *w, int axis, size_t o, int k,
                     size_t size)
{
    long at = (long)o * w->stride[axis] - w->pad[axis] +
              (long)k * w->dilation[axis];
    return at < 0 || at >= (long)size ? -1 : at;
}

static void expand_conv(const snn_net *net, int i, float scale, snn_syn_list *s)
{
    const snn_net_layer *nl = &net->layers[i];
    const snn_layer *l = &nl->syn;
    size_t ci_n = l->weight.dims[1], kh = l->weight.dims[2],
           kw = l->weight.dims[3];
    size_t o_n = l->shape.dims[0], oh = l->shape.dims[1], ow = l->shape.dims[2];
    size_t h = nl->in_shape.dims[1], wd = nl->in_shape.dims[2];
    size_t per_group = o_n / (size_t)l->groups;
    for (size_t o = 0; o < o_n; o++)
        for (size_t ci = 0; ci < ci_n; ci++) {
            size_t c = (o / per_group) * ci_n + ci;
            for (size_t ky = 0; ky < kh; ky++)
                for (size_t kx = 0; kx < kw; kx++) {
                    float wt = l->weight.data[((o * ci_n + ci) * kh + ky) * kw
                                              + kx] * scale;
                    for (size_t oy = 0; oy < oh; oy++) {
                        long y = in_coord(&l->win, 0, oy, (int)ky, h);
                        for (size_t ox = 0; y >= 0 && ox < ow; ox++) {
                            long x = in_coord(&l->win, 1, ox, (int)kx, wd);
                            if (x >= 0)
                                syn_push(s, source_index(net, nl->input,
                                                         (c * h + (size_t)y) *
                                                         wd + (size_t)x),
                                         (o * oh + oy) * ow + ox, wt);
                        }
                    }
                }
        }
}

/* Average pooling: each valid input cell weighs 1/count, padding left out
 * of the count, as the ANN kernel does. */
static void expand_pool(const snn_net *net, int i, float scale, snn_syn_list *s)
{
    const snn_net_layer *nl = &net->layers[i];
    const snn_window *w = &nl->syn.win;
    size_t c_n = nl->in_shape.dims[0], h = nl->in_shape.dims[1],
           wd = nl->in_shape.dims[2];
    size_t oh = nl->syn.shape.dims[1], ow = nl->syn.shape.dims[2];
    for (size_t c = 0; c < c_n; c++)
        for (size_t oy = 0; oy < oh; oy++)
            for (size_t ox = 0; ox < ow; ox++) {
                int count = 0;
                for (int pass = 0; pass < 2; pass++)
                    for (int ky = 0; ky < w->kernel[0]; ky++)
                        for (int kx = 0; kx < w->kernel[1]; kx++) {
                            long y = in_coord(w, 0, oy, ky, h);
                            long x = in_coord(w, 1, ox, kx, wd);
                            if (y < 0 || x < 0)
                                continue;
                            if (pass == 0)
                                count++;
                            else
                                syn_push(s, source_index(net, nl->input,
                                                         (c * h + (size_t)y) *
                                                         wd + (size_t)x),
                                         (c * oh + oy) * ow + ox,
                                         scale / (float)count);
                        }
            }
}

/* Upper bound of the synapses of layer i, for one allocation. */
static int synapse_bound(const snn_net_layer *nl, size_t *n)
{
    const snn_layer *l = &nl->syn;
    size_t out = snn_shape_numel(&l->shape), per;
    if (l->op == SNN_OP_DENSE)
        per = l->weight.dims[1];
    else if (l->op == SNN_OP_CONV2D)
        per = l->weight.dims[1] * l->weight.dims[2] * l->weight.dims[3];
    else
        per = (size_t)l->win.kernel[0] * (size_t)l->win.kernel[1];
    return snn_size_mul(out, per, n);
}

snn_status snn_syn_expand(const snn_net *net, int i, snn_syn_list *s,
                          snn_error *err)
{
    const snn_net_layer *nl = &net->layers[i];
    size_t bound;
    if (!synapse_bound(nl, &bound))
        return snn_error_set(err, SNN_E_NOMEM, "layer '%s': too many "
                             "synapses", nl->syn.name);
    snn_status st = syn_reserve(s, bound, err);
    if (st != SNN_OK)
        return snn_error_prefix(err, "layer '%s': ", nl->syn.name);
    float scale = snn_syn_source_layer(net, nl->input) < 0 ? 1.0f
                                                           : net->v_thresh;
    if (nl->syn.op == SNN_OP_DENSE)
        expand_dense(net, i, scale, s);
    else if (nl->syn.op == SNN_OP_CONV2D)
        expand_conv(net, i, scale, s);
    else
        expand_pool(net, i, scale, s);
    return SNN_OK;
}

float *snn_syn_neuron_bias(const snn_net *net, int i)
{
    const snn_net_layer *nl = &net->layers[i];
    size_t n = snn_net_layer_size(net, i);
    float *b = calloc(n ? n : 1, sizeof *b);
    size_t nb = snn_tensor_numel(&nl->syn.bias);
    if (!b || nb == 0)
        return b;
    size_t per = n / nb;
    for (size_t k = 0; k < n; k++)
        b[k] = nl->syn.bias.data[k / per];
    return b;
}
