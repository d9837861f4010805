/*
 * record.h - filling the caller's snn_sim_record (sim.h) from either
 * engine, and the classification both the record and the final score
 * use.  Internal to src/sim.
 */
#ifndef SNNTB_SIM_RECORD_H
#define SNNTB_SIM_RECORD_H

#include <stddef.h>

#include "snntb/sim.h"

/* One sample's share of the record: where its rows go, and this
 * thread's per-step sums (NULL where not recorded). */
typedef struct rec_sample {
    const snn_sim_record *rec;
    const snn_net *net;
    size_t row;           /* sample index relative to the first simulated */
    int label, top_k;
    size_t *top1, *topk;  /* steps entries each */
    double *synops;
} rec_sample;

/* Checks the record against the net and zeroes every buffer it names. */
snn_status sim_record_start(const snn_sim_record *rec, const snn_net *net,
                            int steps, snn_error *err);

/* Whether the sample records anything per neuron of layer i. */
int sim_record_neurons(const rec_sample *r, int i);

/* Neuron `canon` (canonical index) of layer i spiked at step t. */
void sim_record_spike(const rec_sample *r, int i, int t, size_t canon);

/* Membrane potential of neuron `canon` of layer i after step t. */
void sim_record_vmem(const rec_sample *r, int i, int t, size_t canon,
                     float v);

/* Adds the sample's top-1 / top-k hits by its output counts after step
 * t. */
void sim_record_hits(const rec_sample *r, int t, const float *out_count);

/* After an early stop before step t: steps t .. steps - 1 score the
 * sample by its final counts, as the original's cumulative sums do. */
void sim_record_rest(const rec_sample *r, int t, int steps,
                     const float *out_count);

/* The label of a one-hot row (the first largest entry). */
int sim_label(const float *onehot, size_t n);

/* The class with most output spikes (the first on ties), -1 if none;
 * *topk tells whether the label is among the top_k counts and fired. */
int sim_classify(const float *counts, size_t n, int label, int top_k,
                 int *topk);

#endif
