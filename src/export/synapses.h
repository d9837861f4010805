/*
 * synapses.h - a spiking net's connections as explicit synapse lists
 * (pre, post, weight), the form that simulators without convolutions
 * (Brian2, PyNN's FromListConnector/FromFileConnector) take.  Flattens
 * only re-index, so every list connects two neuron populations, or the
 * sample to the first one.  Internal to the library.
 */
#ifndef SNNTB_EXPORT_SYNAPSES_H
#define SNNTB_EXPORT_SYNAPSES_H

#include <stddef.h>
#include <stdint.h>
#include "snntb/net.h"
#include "snntb/status.h"

typedef struct snn_syn_list {
    int64_t *pre, *post;
    float *w;
    size_t n, cap;
} snn_syn_list;

void snn_syn_free(snn_syn_list *s);

/* The synapses into neuron (or gate) layer i: weights times v_thresh when
 * fed by spikes (targets' spikes carry 1); average pooling (and
 * max-pooling, exported as average pooling) weighs each in-bounds cell
 * 1/count.  pre indexes the source population (snn_syn_source_pop). */
snn_status snn_syn_expand(const snn_net *net, int i, snn_syn_list *s,
                          snn_error *err);

/* The net layer whose neurons feed layer `input` through flattens, or -1
 * when that is the sample. */
int snn_syn_source_layer(const snn_net *net, int input);

/* Per neuron of layer i: the per-step bias of its channel or unit (0
 * where the layer has none).  NULL when out of memory; free() it. */
float *snn_syn_neuron_bias(const snn_net *net, int i);

#endif
