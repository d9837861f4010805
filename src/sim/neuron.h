/*
 * neuron.h - the per-step state updates of the simulator's units:
 * integrate-and-fire, stochastic softmax output, and max-pool spike
 * gating.  Internal; kept apart from sim.c so each can be tested against
 * hand-computed spike trains.
 */
#ifndef SNNTB_SIM_NEURON_H
#define SNNTB_SIM_NEURON_H

#include <stddef.h>
#include <stdint.h>
#include "snntb/graph.h"
#include "snntb/net.h"

typedef struct snn_neuron_params {
    float v_thresh;
    snn_reset reset;
} snn_neuron_params;

/* Identifies one random draw so that it does not depend on batching or
 * threads: (seed, first sample of the batch, step, layer) plus the sample
 * offset and neuron index inside the draw. */
typedef struct snn_rng_key {
    uint64_t seed, sample, step, layer;
} snn_rng_key;

/* A uniform number in [0, 1) for neuron `neuron` of sample key->sample+j. */
double snn_rng_uniform(const snn_rng_key *key, size_t j, size_t neuron);

/* The membranes of n neurons at the start of a sample: the net's v_init
 * (a fraction of v_thresh). */
void snn_membrane_start(const snn_net *net, float *v, size_t n);

/* v += cur; where v >= v_thresh: spike (spk = v_thresh) and reset.
 * Returns the sum of spk. */
double snn_if_fire(const snn_neuron_params *p, const float *cur, float *v,
                   float *spk, size_t n);

/* As snn_if_fire, but lists the indices of the neurons that fired in
 * events (room for n) instead of writing a spike tensor; returns their
 * number. */
size_t snn_if_fire_events(const snn_neuron_params *p, const float *cur,
                          float *v, uint32_t *events, size_t n);

/* Softmax output layer of b samples x n neurons: v += cur; each neuron
 * fires with probability softmax(v) over its sample's layer, then resets
 * as an IF neuron would.  Returns the sum of spk. */
double snn_softmax_fire(const snn_neuron_params *p, const float *cur,
                        float *v, float *spk, size_t b, size_t n,
                        const snn_rng_key *key);

/* Max-pooling by spike counts: adds this step's input spikes to count,
 * then each window passes the spike of its input that has the largest
 * count so far (the first one on ties).  `pool` is the pooling layer. */
void snn_maxgate_step(const snn_layer *pool, const snn_shape *in,
                      const float *spikes, float *count, size_t b,
                      float *out);

#endif
