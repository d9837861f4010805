/*
 * codes.h - the spike codes other than rate coding (the original's
 * temporal_pattern, ttfs, ttfs_dyn_thresh and ttfs_corrective INIsim
 * backends), simulated one sample at a time through the ANN kernels in
 * canonical order.  sim.c runs every net with such a code here, in
 * parallel over the samples of a batch.  Internal to src/sim.
 */
#ifndef SNNTB_SIM_CODES_H
#define SNNTB_SIM_CODES_H

#include "sim/event.h"
#include "sim/plan.h"
#include "snntb/sim.h"

/* One thread's state for one sample, allocated once per simulation. */
typedef struct codes_work codes_work;

/* Checks o's code against its other options (num_bits, engine, input). */
snn_status sim_codes_check(const snn_net *net, const snn_sim_opts *o,
                           snn_error *err);

snn_status sim_codes_work_create(const snn_net *net, codes_work **work,
                                 snn_error *err);
void sim_codes_work_free(codes_work *work);

/* Runs sample `sample` (its dataset index; values out->x) for up to
 * o->steps steps under o->code, as sim_event_sample does. */
void sim_codes_sample(const snn_net *net, const sim_plan *plan,
                      codes_work *work, uint64_t sample,
                      const snn_sim_opts *o, sim_sample *out);

#endif
