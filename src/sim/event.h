/*
 * event.h - the event-driven engine: one sample through all time steps
 * at a time, its whole state in one thread's cache.  A layer fed by
 * spikes either adds each spike's fan-out to the currents (scatter) or,
 * when its input is busy, multiplies the whole input by the weights with
 * BLAS (gather).  Internal to src/sim.
 */
#ifndef SNNTB_SIM_EVENT_H
#define SNNTB_SIM_EVENT_H

#include <stdint.h>

#include "sim/plan.h"
#include "sim/record.h"
#include "snntb/sim.h"

/* One thread's state for one sample, allocated once per simulation. */
typedef struct sim_work sim_work;

snn_status sim_work_create(const snn_net *net, const sim_plan *plan,
                           sim_work **work, snn_error *err);
void sim_work_free(sim_work *work);

/* One sample: what it starts from, and what it produced. */
typedef struct sim_sample {
    float *out_count; /* output spikes per class (canonical), zeroed here */
    double spikes;    /* spikes of neuron layers */
    double synops;    /* spikes times fan-out, layers fed by spikes */
    const rec_sample *rec; /* what to record; NULL: nothing */
    const float *x;   /* the sample's values (Poisson input, codes.c) */
    int keep_v;       /* start from the membrane potentials left by the
                         previous sample (reset_between_nth_sample) */
    int steps_run;    /* steps simulated: fewer after an early stop */
    double *layer_spikes;  /* per net layer, added to (not zeroed) */
} sim_sample;

/* Runs sample `sample` (its index in the dataset, for the random draws)
 * for o->steps steps.  cur0 is the first layer's input current in
 * canonical order, computed once for the sample (unused with Poisson or
 * step input).  Fails only when o->step_input does, or gives a frame
 * whose spikes carry different values. */
snn_status sim_event_sample(const snn_net *net, const sim_plan *plan,
                            sim_work *work, const float *cur0,
                            uint64_t sample, const snn_sim_opts *o,
                            sim_sample *out, snn_error *err);

#endif
