/*
 * rdata.h - what the plots and the HTML report show, in one place: filled
 * by a run (collect.c) or read back from log_vars (logvars.c), so that
 * `snntb report` draws exactly what the run drew.  Also the statistics
 * behind the plots, kept apart from drawing so tests can check the
 * numbers.  Internal to the report stage.
 */
#ifndef SNNTB_REPORT_RDATA_H
#define SNNTB_REPORT_RDATA_H

#include <stddef.h>
#include "snntb/graph.h"
#include "snntb/net.h"
#include "snntb/report.h"

/* One spiking layer as the report shows it (flatten layers are left out,
 * as the original leaves them out). */
typedef struct rp_layer {
    char label[SNN_NAME_MAX + 48]; /* "01Conv2D_6x24x24", the original's */
    char name[SNN_NAME_MAX];
    char kind[32];                 /* Conv2D, Dense, MaxPool2D, ... */
    snn_shape shape;
    size_t size;                   /* neurons */
    size_t params;
    double macs;                   /* ANN multiply-accumulates per sample */
    int neurons;                   /* integrate-and-fire (has v_mem) */
    double lambda, lambda_prev;    /* normalization factors; 0: none */
    float *act;      /* n_rec x size: ANN activations (normalized net) */
    float *counts;   /* n_rec x size: SNN spike counts */
    unsigned char *raster0; /* steps x size: spikes of sample 0 */
    float *vmem0;    /* steps x size, or NULL: potentials of sample 0 */
    float *weights;  /* the layer's normalized weights, or NULL */
    size_t n_weights;
} rp_layer;

#define RP_MAX_SETTINGS 40

struct snn_report {
    unsigned plots;         /* SNN_PLOT_* bits */
    int steps, top_k, n_classes;
    double dt, v_thresh;
    size_t n_tested, n_rec;
    snn_shape input_shape;
    float *input;           /* n_rec x input size */
    int *truth, *guess;     /* n_tested; guess -1: no output spike */
    /* Per step, over all samples tested, as log_vars stores them: top-1
     * and top-k error (fractions) and cumulative synaptic operations per
     * sample in millions (the original's MOps). */
    double *top1_t, *topk_t, *synops_t;
    /* Neuron operations per sample as the original counts them, from the
     * net: each step one state update per neuron with a bias, and at
     * step 0 also the first layer's constant input current (2 ops per
     * multiply-accumulate); neurops_t is their cumulative sum, millions. */
    double neurops_first, neurops_step;
    double *neurops_t;
    double ann_macs;        /* per sample */
    snn_results results;
    char source[SNN_NAME_MAX];
    char settings[RP_MAX_SETTINGS][2][256]; /* config (key, value) */
    int n_settings;
    rp_layer *layers;
    int n_layers;
    /* What the simulator fills during a run (collect.c). */
    double *graph_lambda;   /* per graph layer, from normalization */
    int n_graph_lambda;
    void *rec;              /* the recording buffers, collect.c */
};

/* Statistics (stats.c). */

/* Pearson's r of a and b over n points; NaN when either is constant. */
double rp_pearson(const float *a, const float *b, size_t n);

/* The original's per-sample coefficient: points where both are zero are
 * dropped, and so are saturated activations (>= max_act) unless
 * keep_saturated (the output layer).  NaN when fewer than 2 points. */
double rp_pearson_filtered(const float *rates, const float *acts, size_t n,
                           double max_act, int keep_saturated);

/* Counts v[0..n) in nbins equal bins over [lo, hi]; values outside go to
 * the end bins, so the counts sum to n (NaNs are skipped). */
void rp_histogram(const float *v, size_t n, double lo, double hi,
                  size_t nbins, size_t *counts);

/* counts is classes x (classes + 1): row = true class, column = predicted
 * class, the last column the samples without output spike.  Labels out
 * of range are skipped; returns how many were counted. */
size_t rp_confusion(const int *truth, const int *guess, size_t n,
                    int classes, size_t *counts);

void rp_minmax(const float *v, size_t n, double *lo, double *hi);

/* The neuron operations of one sample's step 0 and of every step after
 * (see neurops_t): constant_input says the first layer's input current is
 * computed once per sample (not Poisson or per-step DVS input). */
void rp_neuron_ops(const snn_net *net, int constant_input, double *first,
                   double *per_step);

/* Per-sample spike rate in Hz of a spike count over steps of dt ms. */
double rp_rate_hz(double count, int steps, double dt);

/* Mean and standard deviation over samples of the layer's per-sample
 * filtered Pearson coefficient (NaN samples skipped); returns the number
 * of samples used.  is_output keeps saturated units. */
size_t rp_layer_pearson(const struct snn_report *r, const rp_layer *l,
                        int is_output, double *mean, double *sd);

/* Plots (plots.c): every plot the report's bits ask for, as SVG. */
typedef struct rp_figure {
    char id[64];       /* file stem: "error_t", "01Conv2D_6x24x24_spikerates" */
    char title[160];
    int layer;         /* index into layers, -1: a run-wide plot */
    char *svg;
} rp_figure;

typedef struct rp_figures {
    rp_figure *f;
    size_t n, cap;
} rp_figures;

snn_status rp_make_figures(const struct snn_report *r, rp_figures *out,
                           snn_error *err);
void rp_figures_free(rp_figures *f);

/* Writes <dir>/report/index.html and the SVGs under <dir>/report/plots. */
snn_status rp_write_html(const struct snn_report *r, const rp_figures *f,
                         const char *dir, snn_error *err);

/* log_vars (logvars.c). */
snn_status rp_logvars_save(const struct snn_report *r, const char *dir,
                           size_t batch_size, snn_error *err);
snn_status rp_logvars_load(struct snn_report *r, const char *dir,
                           snn_error *err);

/* Frees everything a report holds (collect.c). */
void rp_report_clear(struct snn_report *r);

#endif
