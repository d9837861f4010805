/*
 * report.h - what a run found, and the files that record it in the run's
 * log folder: results.json (machine-readable) and accuracy.txt (as the
 * original toolbox writes it); and, when the config's plot_vars or
 * log_vars ask, the recorded activity in log_vars/ and the HTML report
 * with the original's plots in report/index.html (see docs/report.md).
 */
#ifndef SNNTB_REPORT_H
#define SNNTB_REPORT_H

#include <stddef.h>
#include "snntb/config.h"
#include "snntb/graph.h"
#include "snntb/net.h"
#include "snntb/sim.h"
#include "snntb/status.h"
#include "snntb/tensor.h"

/* At most this many neuron layers get a firing rate in results.json. */
#define SNN_RESULTS_MAX_LAYERS 256

typedef struct snn_layer_rate {
    char name[SNN_NAME_MAX];
    double rate;                /* spikes per neuron per time step */
} snn_layer_rate;

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
    double snn_class_avg;       /* top-1 per class, averaged over the
                                   classes among the samples */
    snn_layer_rate layer_rates[SNN_RESULTS_MAX_LAYERS]; /* neuron layers */
    int n_layer_rates;
    double sim_seconds;         /* simulation only */
    double wall_seconds;        /* the whole run */
} snn_results;

/* The per-run figures of a simulation of `steps` steps of net on samples
 * labelled one-hot by y's first sr->n rows: the class-averaged accuracy
 * and the mean firing rate of each neuron layer (the first
 * SNN_RESULTS_MAX_LAYERS). */
void snn_results_take_sim(snn_results *r, const snn_net *net,
                          const snn_sim_result *sr, const snn_tensor *y,
                          int steps);

/* Writes results.json and accuracy.txt into log_dir (which must exist),
 * each complete or not at all. */
snn_status snn_results_write(const char *log_dir, const snn_results *r,
                             snn_error *err);

/* The original's plot_vars, as bits; {'all'} is all of them. */
enum {
    SNN_PLOT_INPUT_IMAGE = 1u << 0,
    SNN_PLOT_SPIKETRAINS = 1u << 1,
    SNN_PLOT_SPIKERATES = 1u << 2,
    SNN_PLOT_ACTIVATIONS = 1u << 3,
    SNN_PLOT_CORRELATION = 1u << 4,
    SNN_PLOT_ERROR_T = 1u << 5,
    SNN_PLOT_CONFUSION = 1u << 6,
    SNN_PLOT_OPERATIONS = 1u << 7,
    SNN_PLOT_SPIKECOUNTS = 1u << 8,
    SNN_PLOT_HIST = 1u << 9, /* hist_spikerates_activations */
    SNN_PLOT_V_MEM = 1u << 10,
    SNN_PLOT_NORMALIZATION = 1u << 11,
    SNN_PLOT_ALL = (1u << 12) - 1
};

/* At most this many samples are recorded in detail (activations, spike
 * counts): enough for the plots, small enough for a report of a few MB. */
#define SNN_REPORT_MAX_SAMPLES 100

/* What cfg's [output] plot_vars and log_vars ask for: *plots the bits,
 * *logs whether log_vars names anything. */
snn_status snn_report_wanted(const snn_config *cfg, unsigned *plots,
                             int *logs, snn_error *err);

/* The activity a run records for its logs and plots. */
typedef struct snn_report snn_report;

snn_status snn_report_new(snn_report **out, unsigned plots, snn_error *err);
void snn_report_free(snn_report *r);

/* The normalization factors, one per graph layer (snn_scales), for the
 * before/after histograms. */
snn_status snn_report_set_scales(snn_report *r, const double *lambda, int n,
                                 snn_error *err);

/* Allocates what the simulator fills while simulating n samples of net
 * and points opts->record at it (opts->steps must be set).  The first
 * min(n, SNN_REPORT_MAX_SAMPLES) samples are recorded in detail. */
snn_status snn_report_record(snn_report *r, const snn_net *net, size_t n,
                             snn_sim_opts *opts, snn_error *err);

/* Keeps the predictions of sr and the labels (y one-hot, first sr->n
 * rows) for the confusion matrix. */
snn_status snn_report_take_sim(snn_report *r, const snn_sim_result *sr,
                               const snn_tensor *y, snn_error *err);

/* Completes the record and writes it: the ANN activations of the recorded
 * samples of x through g (the graph net was converted from), then
 * <log_dir>/log_vars/ and <log_dir>/report/.  res gives the figures of the
 * summary; cfg the settings shown and the batch size of log_vars.
 * Writes nothing when the run did not simulate here (another simulator:
 * the run has warned that plot_vars and log_vars are unused). */
snn_status snn_report_write(snn_report *r, const snn_config *cfg,
                            const snn_graph *g, const snn_net *net,
                            const snn_tensor *x, const snn_results *res,
                            const char *log_dir, snn_error *err);

/* One run of a parameter sweep ([parameter_sweep]). */
typedef struct snn_sweep_run {
    double value;          /* the parameter's value in this run */
    char log_dir[4096];    /* where the run wrote its results */
    snn_results res;
} snn_sweep_run;

/* Writes a sweep's table into log_dir: sweep.json (every run's figures),
 * sweep.txt (the same as aligned text), and report/index.html with the
 * accuracy-vs-parameter plot (a log axis when logscale; also
 * report/plots/sweep.svg) and links to the runs' own reports. */
snn_status snn_report_sweep(const char *log_dir, const char *section,
                            const char *param, int logscale,
                            const snn_sweep_run *runs, size_t n,
                            snn_error *err);

/* `snntb report`: redraws <log_dir>/report/ from <log_dir>/log_vars/
 * without simulating again. */
snn_status snn_report_rebuild(const char *log_dir, snn_error *err);

#endif
