/*
 * net.h - the spiking network intermediate representation, and the
 * conversion that builds it from a (normalized) graph.
 *
 * A spiking layer keeps the ANN layer's synaptic op unchanged (same
 * weights, same window) and replaces the activation by integrate-and-fire
 * neurons.  Simulators and exporters read this IR only.
 */
#ifndef SNNTB_NET_H
#define SNNTB_NET_H

#include "snntb/graph.h"
#include "snntb/status.h"

typedef enum snn_reset {
    SNN_RESET_SUBTRACT, /* V -= V_th: keeps the residual (default) */
    SNN_RESET_ZERO,     /* V = 0 */
    SNN_RESET_MODULO    /* V = V mod V_th */
} snn_reset;

typedef enum snn_unit {
    SNN_UNIT_IF,      /* integrate-and-fire neurons fed by the synaptic op */
    SNN_UNIT_SOFTMAX, /* output neurons firing with probability softmax(V) */
    SNN_UNIT_MAXGATE, /* max-pooling: passes the spikes of the input that
                         has fired most so far in each window */
    SNN_UNIT_RESHAPE  /* flatten: spikes re-indexed, no neurons */
} snn_unit;

typedef struct snn_net_layer {
    snn_layer syn;      /* the synaptic op; syn.act is not used */
    snn_unit unit;
    int input;          /* the net layer feeding this one; -1: the input */
    snn_shape in_shape;
} snn_net_layer;

typedef struct snn_net {
    snn_net_layer *layers;
    int n_layers;
    snn_shape input_shape;
    snn_reset reset;
    float v_thresh;
    float dt;           /* ms per time step; biases are pre-scaled by it */
    float v_init;       /* membrane potential of every neuron at the start
                           of a sample, as a fraction of v_thresh (0: the
                           original's rest; 0.5: Deng & Gu 2021, Bu et al.
                           2022); snn_convert sets 0 */
} snn_net;

typedef struct snn_convert_opts {
    float v_thresh;
    snn_reset reset;
    float dt;
} snn_convert_opts;

/* Whether every layer of g has a spiking counterpart (BatchNorm counts: it
 * is folded first).  Cheap: lets a run refuse a model before the slow
 * normalization pass.  snn_convert checks the same. */
snn_status snn_convert_check(const snn_graph *g, snn_error *err);

/* Builds the spiking net from g, whose batch norms must be folded.  g is
 * left unchanged; the net owns copies of the weights.  A clipped ReLU
 * converts when its bound equals v_thresh (normalization scales a clipped
 * layer by its bound, so the bound becomes 1): the IF neuron saturates at
 * one spike per step, which is the clip. */
snn_status snn_convert(const snn_graph *g, const snn_convert_opts *opts,
                       snn_net *net, snn_error *err);
void snn_net_free(snn_net *net);

/* Number of neurons in layer i (its output size). */
size_t snn_net_layer_size(const snn_net *net, int i);

#endif
