/*
 * qeval.c - what a fixed-point export costs in accuracy, measured with the
 * native simulator: the converted net, the same net with the target's
 * neurons (its reset; IF neurons for a softmax output; average pooling
 * for max-pooling where the target has no max gate), and the quantized net (snn_quantize) on samples rounded as the
 * target rounds them (snn_quant_input).  The quantized net in native
 * units is exactly what the integer target computes, so no target is
 * needed to know its accuracy.
 */
#include "snntb/export.h"

#include <stdlib.h>
#include <string.h>

#include "export/export_internal.h"
#include "snntb/sim.h"

static snn_status run(const snn_net *net, const snn_tensor *x,
                      const snn_tensor *y, size_t n, int steps,
                      snn_sim_result *r, snn_error *err)
{
    snn_sim_opts so;
    memset(&so, 0, sizeof so);
    so.steps = steps;
    so.batch_size = 100;
    so.top_k = 1;
    so.seed = SNN_NATIVE_SEED;
    memset(r, 0, sizeof *r);
    return snn_simulate(net, x, y, n, &so, r, err);
}

/* The float net with the target's neurons: its reset, IF neurons for a
 * softmax output, average pooling for max-pooling (layers share net's
 * tensors; free only the array). */
static snn_net_layer *like_target(const snn_net *net,
                                  const snn_quant_opts *o, snn_reset reset,
                                  snn_net *like)
{
    snn_net_layer *l = malloc((size_t)net->n_layers * sizeof *l);
    if (!l)
        return NULL;
    memcpy(l, net->layers, (size_t)net->n_layers * sizeof *l);
    for (int i = 0; i < net->n_layers; i++)
        if (l[i].unit == SNN_UNIT_SOFTMAX)
            l[i].unit = SNN_UNIT_IF;
        else if (l[i].unit == SNN_UNIT_MAXGATE && !o->keep_maxgate) {
            l[i].unit = SNN_UNIT_IF;
            l[i].syn.op = SNN_OP_AVGPOOL2D;
        }
    like->reset = reset;
    return l;
}

static double top1(const snn_sim_result *r)
{
    return r->n ? (double)r->top1 / (double)r->n : 0.0;
}

snn_status snn_quant_evaluate(const snn_net *net, const snn_quant_opts *o,
                              const snn_tensor *x, const snn_tensor *y,
                              size_t n, int steps, const snn_log *log,
                              snn_quant_eval *ev, int *quant_pred,
                              snn_error *err)
{
    memset(ev, 0, sizeof *ev);
    if (n == 0 || n > x->dims[0])
        return snn_error_set(err, SNN_E_INVALID, "quantization check: %zu "
                             "samples asked, %zu available", n,
                             x->ndim ? x->dims[0] : 0);
    snn_quant q;
    snn_tensor xq = {0};
    snn_sim_result rf = {0}, rr = {0}, rq = {0};
    snn_status st = snn_quantize(net, o, log, &q, err);
    if (st != SNN_OK)
        return st;
    st = snn_tensor_copy(&xq, x, err);
    if (st == SNN_OK) {
        size_t clipped = snn_quant_input(&xq, n);
        if (clipped)
            snn_warn(log, "%zu input values outside [-1, 1] were clipped",
                     clipped);
        st = run(net, x, y, n, steps, &rf, err);
    }
    snn_net like = *net;
    like.layers = st == SNN_OK ? like_target(net, o, q.net.reset, &like) : NULL;
    if (st == SNN_OK && !like.layers)
        st = snn_error_set(err, SNN_E_NOMEM, "cannot allocate a net");
    if (st == SNN_OK)
        st = run(&like, x, y, n, steps, &rr, err);
    free(like.layers);
    if (st == SNN_OK)
        st = run(&q.net, &xq, y, n, steps, &rq, err);
    if (st == SNN_OK) {
        ev->n = n;
        ev->float_top1 = top1(&rf);
        ev->float_reset_top1 = top1(&rr);
        ev->quant_top1 = top1(&rq);
        for (size_t j = 0; j < n; j++)
            ev->agree += rf.predictions[j] == rq.predictions[j];
        if (quant_pred)
            memcpy(quant_pred, rq.predictions, n * sizeof *quant_pred);
    }
    snn_sim_result_free(&rf);
    snn_sim_result_free(&rr);
    snn_sim_result_free(&rq);
    snn_tensor_free(&xq);
    snn_quant_free(&q);
    return st;
}
