/*
 * bench_sim.c - speed figures for `make bench`: ANN inference and SNN
 * simulation throughput on a real model and dataset, with the accuracy
 * reached, so that a speed-up that broke the results shows at once.
 * Speed is measured here, never asserted in tests.
 *
 *   bench_sim MODEL.h5 DATASET_DIR idx|npz [N]   (N: 1000; capped at the dataset)
 *
 * SNNTB_ENGINE=auto|event|dense|reference picks the simulation engine
 * (default auto); SNNTB_STEPS the number of steps (default 100);
 * SNNTB_BATCH the batch size (default 100); SNNTB_SKIP_ANN=1 leaves out
 * the ANN timing (for tables of SNN runs).
 *
 * Normalization uses the first (up to) 1000 test samples: the figures are
 * about speed, and this keeps the set the same for every dataset format.
 */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pipeline/dataset_fit.h"
#include "snntb/ann.h"
#include "snntb/dataset.h"
#include "snntb/net.h"
#include "snntb/normalize.h"
#include "snntb/parse.h"
#include "snntb/progress.h"
#include "snntb/sim.h"

#define BATCH 100
#define BATCH_MAX 100000
#define REPEATS 3
#define NORM_SAMPLES 1000
#define STEPS 100
#define PERCENTILE 99.9

typedef struct bench {
    snn_graph graph;
    snn_dataset data;
    snn_net net;
    size_t n, batch;
    int steps;
    double ann_secs; /* best ANN pass over the same samples */
} bench;

static snn_status load(bench *b, const char *model, const char *dir,
                       const char *format, snn_error *err)
{
    snn_status st = snn_parse_keras(model, &b->graph, err);
    if (st != SNN_OK)
        return st;
    if (strcmp(format, "idx") == 0)
        st = snn_dataset_load_idx(&b->data, dir, err);
    else if (strcmp(format, "npz") == 0)
        st = snn_dataset_load_npz(&b->data, dir, err);
    else
        return snn_error_set(err, SNN_E_INVALID,
                             "dataset format %s: use idx or npz", format);
    if (st != SNN_OK)
        return st;
    return snn_dataset_fit(&b->data.x, &b->graph.layers[0].shape, dir, err);
}

/* CPU seconds of the whole process, all threads: less disturbed than the
 * wall time by other work on a shared machine. */
static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Rows [first, first + count) of x, sharing x's buffer. */
static snn_tensor rows(const snn_tensor *x, size_t first, size_t count)
{
    snn_tensor v = *x;
    v.dims[0] = count;
    v.data = x->data + first * (snn_tensor_numel(x) / x->dims[0]);
    return v;
}

/* Seconds for one pass of snn_ann_forward over the first n samples. */
static snn_status ann_pass(const bench *b, snn_tensor *acts, double *secs,
                           snn_error *err)
{
    double t0 = snn_now_seconds();
    for (size_t i = 0; i < b->n; i += b->batch) {
        size_t count = b->n - i < b->batch ? b->n - i : b->batch;
        snn_tensor x = rows(&b->data.x, i, count);
        snn_status st = snn_ann_forward(&b->graph, &x, acts, err);
        if (st != SNN_OK)
            return st;
    }
    *secs = snn_now_seconds() - t0;
    return SNN_OK;
}

/* Best of REPEATS passes, after one warm-up that also sizes acts. */
static snn_status bench_ann(bench *b, snn_error *err)
{
    snn_tensor *acts = calloc((size_t)b->graph.n_layers, sizeof *acts);
    if (!acts)
        return snn_error_set(err, SNN_E_NOMEM, "cannot allocate activations");
    double best = 0, secs = 0;
    snn_status st = ann_pass(b, acts, &secs, err);
    for (int r = 0; st == SNN_OK && r < REPEATS; r++) {
        st = ann_pass(b, acts, &secs, err);
        if (r == 0 || secs < best)
            best = secs;
    }
    b->ann_secs = best;
    snn_ann_acts_free(acts, b->graph.n_layers);
    free(acts);
    if (st != SNN_OK)
        return st;
    snn_score score;
    st = snn_ann_score(&b->graph, &b->data.x, &b->data.y, b->n, b->batch, 1,
                       &score, err);
    if (st != SNN_OK)
        return st;
    printf("%-4s %8zu %10.4f %14.1f %16s %8.2f%%\n", "ANN", b->n, best,
           (double)b->n / best, "-", 100.0 * (double)score.top1 / (double)score.n);
    return SNN_OK;
}

/* The graph passes `snntb run` makes before normalizing: a padding
 * merged into the convolution it feeds, batch norms folded. */
static snn_status prepare_snn(bench *b, snn_error *err)
{
    snn_status st = snn_compose_convs(&b->graph, err);
    if (st == SNN_OK)
        st = snn_fold_batchnorm(&b->graph, err);
    if (st != SNN_OK)
        return st;
    size_t have = snn_dataset_size(&b->data);
    snn_tensor xnorm = rows(&b->data.x, 0, have < NORM_SAMPLES ? have : NORM_SAMPLES);
    snn_scales scales = {0};
    st = snn_compute_scales(&b->graph, &xnorm, PERCENTILE, BATCH, &scales,
                            err);
    if (st == SNN_OK)
        st = snn_apply_scales(&b->graph, &scales, err);
    snn_scales_free(&scales);
    if (st != SNN_OK)
        return st;
    snn_convert_opts co = {1.0f, SNN_RESET_SUBTRACT, 1.0f};
    return snn_convert(&b->graph, &co, &b->net, err);
}

static snn_status bench_snn(bench *b, snn_error *err)
{
    snn_status st = prepare_snn(b, err);
    if (st != SNN_OK)
        return st;
    const char *e = getenv("SNNTB_ENGINE");
    int engine = e ? snn_sim_engine_parse(e) : SNN_ENGINE_AUTO;
    if (engine < 0)
        return snn_error_set(err, SNN_E_INVALID,
                             "SNNTB_ENGINE=%s: use auto, event, dense or "
                             "reference", e);
    snn_sim_opts so = {.steps = b->steps, .batch_size = b->batch, .top_k = 1,
                       .seed = 0x5eed, .engine = (snn_sim_engine)engine};
    snn_sim_result sr;
    double t0 = snn_now_seconds(), c0 = cpu_seconds();
    st = snn_simulate(&b->net, &b->data.x, &b->data.y, b->n, &so, &sr, err);
    double secs = snn_now_seconds() - t0, cpu = cpu_seconds() - c0;
    if (st != SNN_OK)
        return st;
    printf("%-4s %8zu %10.4f %14.1f %16.0f %8.2f%%\n", "SNN", sr.n, secs,
           (double)sr.n / secs, (double)sr.n * b->steps / secs,
           100.0 * (double)sr.top1 / (double)sr.n);
    printf("SNN engine %s: %.4g synaptic operations per sample, %.4g per "
           "second", e ? e : "auto", sr.synops / (double)sr.n, sr.synops / secs);
    if (b->ann_secs > 0)
        printf("; SNN time / ANN time %.1f", secs / b->ann_secs);
    printf("\n");
    printf("SNN cpu seconds %.3f (all threads), %.4g synaptic operations per "
           "cpu second\n", cpu, sr.synops / cpu);
    snn_sim_result_free(&sr);
    return SNN_OK;
}

static snn_status run(bench *b, int argc, char **argv, snn_error *err)
{
    snn_status st = load(b, argv[1], argv[2], argv[3], err);
    if (st != SNN_OK)
        return st;
    size_t have = snn_dataset_size(&b->data);
    char *end = NULL;
    b->n = argc > 4 ? strtoul(argv[4], &end, 10) : 1000;
    if (argc > 4 && (*end || b->n == 0))
        return snn_error_set(err, SNN_E_INVALID,
                             "N = %s: give a positive number of samples",
                             argv[4]);
    if (b->n > have)
        b->n = have;
    printf("model %s, dataset %s (%s), %d OpenMP threads\n", argv[1], argv[2],
           argv[3], omp_get_max_threads());
    const char *steps = getenv("SNNTB_STEPS"), *batch = getenv("SNNTB_BATCH");
    b->steps = steps ? atoi(steps) : STEPS;
    b->batch = batch ? strtoul(batch, NULL, 10) : BATCH;
    if (b->steps < 1 || b->batch < 1 || b->batch > BATCH_MAX)
        return snn_error_set(err, SNN_E_INVALID,
                             "SNNTB_STEPS >= 1 and 1 <= SNNTB_BATCH <= %d",
                             BATCH_MAX);
    printf("SNN: %d steps, batch %zu, normalized on %zu samples (p%g)\n",
           b->steps, b->batch, have < NORM_SAMPLES ? have : NORM_SAMPLES,
           PERCENTILE);
    printf("%-4s %8s %10s %14s %16s %9s\n", "what", "samples", "seconds",
           "samples/s", "sample-steps/s", "top-1");
    const char *skip = getenv("SNNTB_SKIP_ANN");
    if (!skip || strcmp(skip, "1") != 0)
        st = bench_ann(b, err);
    if (st == SNN_OK)
        st = bench_snn(b, err);
    return st;
}

int main(int argc, char **argv)
{
    if (argc < 4 || argc > 5) {
        fprintf(stderr, "usage: %s MODEL.h5 DATASET_DIR idx|npz [N]\n", argv[0]);
        return 2;
    }
    bench b;
    memset(&b, 0, sizeof b);
    snn_graph_init(&b.graph);
    snn_error err = {0};
    snn_status st = run(&b, argc, argv, &err);
    if (st != SNN_OK)
        fprintf(stderr, "bench_sim: %s\n", err.msg);
    snn_net_free(&b.net);
    snn_dataset_free(&b.data);
    snn_graph_free(&b.graph);
    return st == SNN_OK ? 0 : 1;
}
