/*
 * sim.h - the native time-stepped simulator (the counterpart of the
 * original's INIsim): constant-current input, integrate-and-fire layers
 * updated in order every step, batches of samples side by side.
 */
#ifndef SNNTB_SIM_H
#define SNNTB_SIM_H

#include <stdint.h>
#include "snntb/net.h"
#include "snntb/status.h"
#include "snntb/tensor.h"

/* Called after every batch; lets the CLI draw a progress bar. */
typedef void (*snn_sim_progress)(void *user, size_t done, size_t total,
                                 size_t top1_correct);

/* How layers fed by spikes compute their currents.  All engines give the
 * same spikes up to the rounding order of the sums. */
typedef enum snn_sim_engine {
    SNN_ENGINE_AUTO,     /* event-driven; a layer step whose input is busy
                            runs as one dense BLAS product instead */
    SNN_ENGINE_EVENT,    /* event-driven only: each spike adds its fan-out */
    SNN_ENGINE_DENSE,    /* per sample, every such layer step as a dense
                            BLAS product over its whole input */
    SNN_ENGINE_REFERENCE /* the whole batch layer by layer through the ANN
                            kernels: slow, kept as the plain reference */
} snn_sim_engine;

/* What a run records beyond accuracy, for logs and plots.  Every pointer is
 * optional (NULL: not recorded); the caller allocates, the simulator zeroes
 * and fills.  Sample indices are relative to the first simulated sample.
 * Neurons are in the layer's canonical (C, H, W) order.  A layer's spikes
 * are its output events: for a max-pool gate, the spikes it passes; for a
 * flatten, its input's spikes re-indexed. */
typedef struct snn_sim_record {
    /* Against time, summed over all samples, opts->steps entries each:
     * samples correct at top-1 / top-k if classified by their output spike
     * counts at the end of that step (the original's error_t), and the
     * synaptic operations done in that step. */
    size_t *top1_at_step, *topk_at_step;
    double *synops_at_step;
    /* Per net layer (an array of net->n_layers pointers; an entry may be
     * NULL to skip that layer): each neuron's spike count over the run,
     * (record_samples x layer size) floats, for the first record_samples
     * samples (rows past the samples simulated stay zero). */
    float **spike_counts;
    size_t record_samples;
    /* The first sample in detail, per net layer (entry may be NULL):
     * raster0[l] is (steps x layer size) bytes, 1 where the neuron spiked;
     * vmem0[l] is (steps x layer size) floats, the membrane potential after
     * that step's reset (neuron layers only: an entry for a max-pool gate
     * or a flatten is an error). */
    unsigned char **raster0;
    float **vmem0;
} snn_sim_record;

/* How neurons encode values in spikes ([conversion] spike_code). */
typedef enum snn_spike_code {
    SNN_CODE_RATE,            /* temporal_mean_rate: spike counts */
    SNN_CODE_PATTERN,         /* temporal_pattern: one bit per step */
    SNN_CODE_TTFS,            /* time to first spike, one spike each */
    SNN_CODE_TTFS_DYN_THRESH, /* ttfs, threshold raised by pending input */
    SNN_CODE_TTFS_CORRECTIVE  /* ttfs with corrective (negative) spikes */
} snn_spike_code;

/* Parses the original's spike_code names; -1 otherwise. */
int snn_spike_code_parse(const char *name);

typedef struct snn_sim_opts {
    int steps;          /* time steps per sample: duration / dt */
    size_t batch_size;
    int top_k;
    uint64_t seed;      /* stochastic output neurons; results do not depend
                           on batch size or thread count */
    snn_sim_progress progress;
    void *progress_user;
    snn_sim_engine engine; /* AUTO when zeroed; nets the event engine does
                              not cover (a first layer that is not a neuron
                              layer, snn_sim_event_unsupported) run on
                              REFERENCE */
    snn_sim_record *record; /* NULL: record nothing, at no cost */
    /* NULL, or asked (with progress_user) after each batch but the last:
     * non-zero ends the simulation with an error saying so (a GUI's Stop). */
    int (*stop)(void *user);
    /* Everything below keeps the plain rate-coded, constant-current
     * simulation when zeroed. */
    snn_spike_code code;    /* codes other than RATE run one sample at a
                               time through the ANN kernels (codes.c);
                               engine must be AUTO or REFERENCE */
    int num_bits;           /* PATTERN: bits per value; must equal steps */
    double input_rate;      /* > 0: Poisson input of this rate (Hz, with
                               net->dt in ms): each step an input fires
                               with probability |x| / max(x) * rate * dt /
                               1000, max over the sample, carrying
                               max(x) * sign(x) */
    long poisson_events;    /* per sample, stop drawing input spikes once
                               this many fired (< 1: no limit) */
    /* NULL, or an input that is a fresh frame every step (DVS event
     * frames, [input] eventframe_width): fills frame (the net's input
     * size) with sample `sample`'s input (samples numbered from 0 as
     * fetch's first) of step t.  A batch's steps are asked in order once
     * the batch is fetched, possibly from several threads at once for
     * different samples; the samples' x are then not used.  Rate code
     * only, without Poisson input.  The frames' non-zero values are
     * spikes into the first layer (counted as synaptic operations); the
     * event engine (auto, event, dense) needs them all to carry one
     * positive value per frame (DVS frames: 1) and refuses others, the
     * reference engine takes any. */
    snn_status (*step_input)(void *user, size_t sample, int t, float *frame,
                             snn_error *err);
    void *step_user;
    int early_stopping;     /* a sample ends at the first step whose input
                               is empty (Poisson events or, with
                               step_input, events used up) */
    int reset_every;        /* reset_between_nth_sample (<= 1: every
                               sample starts from rest): sample i + 1
                               keeps sample i's membrane potentials unless
                               i % reset_every == 0; samples then run one
                               after another on one thread */
} snn_sim_opts;

/* The option of net->cell that the event engine (engines event and dense)
 * does not run, or NULL: such a net runs on the reference engine under
 * auto, and engine event or dense refuses it. */
const char *snn_sim_event_unsupported(const snn_net *net);

/* Why engine auto runs net on the reference engine: the option of
 * snn_sim_event_unsupported, or the first layer the event engine does not
 * cover and why (written into buf); NULL when the event engine runs it. */
const char *snn_sim_reference_reason(const snn_net *net, char *buf, size_t n);

/* Parses "auto", "event", "dense" or "reference"; -1 otherwise. */
int snn_sim_engine_parse(const char *name);

typedef struct snn_sim_result {
    size_t n;            /* samples simulated */
    size_t top1, topk;   /* correct predictions */
    size_t silent;       /* samples whose output layer never fired */
    double spikes;       /* spikes emitted by neuron layers, all samples */
    double neuron_steps; /* neurons x steps x samples, for the mean rate */
    double synops;       /* synaptic operations, all samples: each spike
                            into a Dense, Conv2D or average-pooling layer
                            times its fan-out (the first layer's constant
                            input current is computed once, not counted;
                            Poisson and step_input frames are counted) */
    int *predictions;    /* n predicted classes (-1: no output spike);
                            free with snn_sim_result_free */
    double *layer_spikes; /* per net layer: its spikes, all samples (0 for
                             max-pool gates and flattens); freed with
                             snn_sim_result_free */
} snn_sim_result;

/* Simulates the first n samples of x (shaped (N, net input shape)) with
 * one-hot labels y (N, classes). */
snn_status snn_simulate(const snn_net *net, const snn_tensor *x,
                        const snn_tensor *y, size_t n,
                        const snn_sim_opts *opts, snn_sim_result *res,
                        snn_error *err);

/* Fills x with samples [first, first + n) of a run (net input layout),
 * for a caller that reads its dataset batch by batch. */
typedef snn_status (*snn_sim_fetch)(void *user, size_t first, size_t n,
                                    float *x, snn_error *err);

/* snn_simulate with the samples read by fetch, one batch at a time, so
 * that only one batch is in memory; y holds the n labels.  Results are
 * those snn_simulate gives on the same samples. */
snn_status snn_simulate_fetch(const snn_net *net, snn_sim_fetch fetch,
                              void *user, const snn_tensor *y, size_t n,
                              const snn_sim_opts *opts, snn_sim_result *res,
                              snn_error *err);
void snn_sim_result_free(snn_sim_result *res);

#endif
