/*
 * input.h - what the first layer sees each step when the input is not a
 * constant current: Poisson spike frames drawn from the sample's values
 * with the counter-based RNG, so that a sample's spikes depend only on
 * (seed, sample, step, input neuron), not on batching or threads.
 * Internal to src/sim.
 */
#ifndef SNNTB_SIM_INPUT_H
#define SNNTB_SIM_INPUT_H

#include <stddef.h>
#include <stdint.h>

#include "snntb/sim.h"

/* The RNG layer key of input draws (neuron layers use their index). */
#define SIM_INPUT_RNG_LAYER UINT64_MAX

/* Whether o asks for Poisson input. */
int sim_input_poisson(const snn_sim_opts *o);

/* The spikes' amplitude: the largest of a sample's n values. */
float sim_input_peak(const float *x, size_t n);

/* Whether all n values are zero: the original's early stopping ends a
 * simulation at an empty input. */
int sim_input_empty(const float *x, size_t n);

/* Poisson frame of step t for sample `sample` (its dataset index) with
 * values x (n, canonical order) and peak sim_input_peak(x): input k fires
 * when u * 1000 / (rate * dt) * peak <= |x[k]|, u uniform in [0, 1) drawn
 * for (seed, sample, t, SIM_INPUT_RNG_LAYER, k); a spike is peak *
 * sign(x[k]), silence 0.  While *fired (the sample's input spikes so
 * far) is below o->poisson_events, or that is negative, a frame is drawn
 * and *fired grows by its spikes; after, frames are empty.  Writes out
 * (n); returns the frame's spike count. */
size_t sim_input_frame(const snn_sim_opts *o, double dt, const float *x,
                       size_t n, float peak, uint64_t sample, int t,
                       long *fired, float *out);

/* Whether sample number `row` (from the first simulated) keeps the
 * membrane potentials of sample row - 1 (reset_between_nth_sample): the
 * original resets after sample i only when i % reset_every == 0. */
int sim_keep_v(const snn_sim_opts *o, size_t row);

#endif
