/*
 * report.h - what a run found, and the files that record it in the run's
 * log folder: results.json (machine-readable) and accuracy.txt (as the
 * original toolbox writes it).
 */
#ifndef SNNTB_REPORT_H
#define SNNTB_REPORT_H

#include <stddef.h>
#include "snntb/status.h"

typedef struct snn_results {
    size_t num_samples;
    int top_k;
    int ann_evaluated;
    double ann_top1, ann_topk;  /* fractions in [0, 1] */
    int simulated;
    double snn_top1, snn_topk;
    size_t silent;              /* samples with no output spike */
    double duration, dt;        /* ms */
    double mean_rate;           /* spikes per neuron per time step */
    double synops_per_sample;   /* synaptic operations (snn_sim_result) */
    double sim_seconds;         /* simulation only */
    double wall_seconds;        /* the whole run */
} snn_results;

/* Writes results.json and accuracy.txt into log_dir (which must exist),
 * each complete or not at all. */
snn_status snn_results_write(const char *log_dir, const snn_results *r,
                             snn_error *err);

#endif
