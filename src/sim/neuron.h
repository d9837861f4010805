/*
 * neuron.h - the per-step state updates of the simulator's units:
 * integrate-and-fire (with the original's refractory period, leak,
 * clipping, clamping and payloads), stochastic softmax output, and
 * max-pool spike gating.  Internal; kept apart from sim.c so each can be
 * tested against hand-computed spike trains.
 */
#ifndef SNNTB_SIM_NEURON_H
#define SNNTB_SIM_NEURON_H

#include <stddef.h>
#include <stdint.h>
#include "snntb/graph.h"
#include "snntb/net.h"

/* One layer's update in one step.  Zero beyond v_thresh and reset is
 * the plain IF neuron.  Per step, each neuron: input = 0 if held or
 * refractory, else the current; V += input; clipped to [v_min, v_max];
 * minus leak if V > 0; fires when V >= v_thresh. */
typedef struct snn_neuron_params {
    float v_thresh;      /* this step's threshold, and the spike's value */
    snn_reset reset;
    float v_reset;       /* where reset to zero sets V */
    float leak;          /* taken from V > 0 every step; 0: none */
    int clip;
    float v_min, v_max;
    int hold;            /* clamped this step: input ignored */
    uint32_t step;       /* this step, 0-based */
    uint32_t refrac;     /* steps ignored after a spike */
    uint32_t *refrac_until; /* per neuron: first step that integrates
                               again; NULL: no refractory period */
    /* Payloads (NULL: off): per neuron, the payload its spikes carry and
     * the sum of the payloads it sent before; v_thresh0 is the configured
     * threshold the residual is measured from. */
    float *payload, *payload_sum;
    float v_thresh0;
    /* SNN_ACT_BINARY_SIGMOID / _TANH: the original's binary neurons fire
     * a spike of +v_thresh at V > 0 (binary_tanh also -v_thresh at V < 0)
     * and reset as `reset` says, the negative side mirrored (V + v_thresh
     * under subtraction, V mod v_thresh >= 0 under modulo).  Any other
     * value: the IF neuron. */
    snn_activation binary;
} snn_neuron_params;

/* The params of net layer `layer` at step `step` (0-based): the net's
 * threshold, reset, v_reset, leak (0.1 dt), clipping, refractory steps,
 * whether the layer is clamped and its binary activation, if any.  State
 * pointers stay NULL. */
void snn_neuron_params_init(snn_neuron_params *p, const snn_net *net,
                            int layer, int step);

/* Whether p asks for nothing beyond threshold, reset and v_reset (and
 * is not a binary neuron). */
int snn_neuron_plain(const snn_neuron_params *p);

/* Steps whose input a neuron ignores after a spike: the d >= 1 with
 * d * dt < tau_refrac (the original compares refrac_until > t). */
uint32_t snn_refrac_steps(float tau_refrac, float dt);
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

/* v += cur; where v >= v_thresh: spike (spk = v_thresh, plus the
 * payload with payloads) and reset.  Returns the number of spikes. */
size_t snn_if_fire(const snn_neuron_params *p, const float *cur, float *v,
                   float *spk, size_t n);

/* As snn_if_fire, but lists the indices of the neurons that fired in
 * events (room for n) instead of writing a spike tensor; returns their
 * number.  Not for payloads or binary neurons (a spike's value is not
 * kept; the event engine runs neither). */
size_t snn_if_fire_events(const snn_neuron_params *p, const float *cur,
                          float *v, uint32_t *events, size_t n);

/* Softmax output layer of b samples x n neurons: v integrates cur as an
 * IF neuron's does; each neuron fires with probability softmax(v) over its
 * sample's layer, then resets as an IF neuron would (payloads aside).
 * Returns the number of spikes. */
size_t snn_softmax_fire(const snn_neuron_params *p, const float *cur,
                        float *v, float *spk, size_t b, size_t n,
                        const snn_rng_key *key);

/* Max-pooling by rate estimates: updates each input's estimate in `rate`
 * with this step's spikes (counts for FIR and AVG, r <- 1.005 r + 0.995 s
 * for EXP), then each window passes the spike of its input with the
 * largest estimate (the first one on ties).  `pool` is the pooling
 * layer. */
void snn_maxgate_step(const snn_layer *pool, const snn_shape *in,
                      snn_maxpool type, const float *spikes, float *rate,
                      size_t b, float *out);

#endif
