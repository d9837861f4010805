/*
 * run.c - the pipeline a config describes, stage after stage:
 * parse -> (ANN score) -> fold batch norms -> normalize -> convert ->
 * simulate -> results.  Each stage is one call into its module; this file
 * only reads the config, moves data between stages and times them.
 */
#include "snntb/run.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fsutil.h"
#include "pipeline/calibrate.h"
#include "pipeline/dataset_fit.h"
#include "pipeline/scalecache.h"
#include "pipeline/sweep.h"
#include "snntb/ann.h"
#include "snntb/dataset.h"
#include "snntb/export.h"
#include "snntb/normalize.h"
#include "snntb/parse.h"
#include "snntb/progress.h"

#define PATH_MAX_LEN 4096

/* Everything a run reads from the config, read once. */
typedef struct run_settings {
    char path_wd[PATH_MAX_LEN];
    char filename_ann[PATH_MAX_LEN];
    char model_lib[64];
    char dataset_path[PATH_MAX_LEN];
    char dataset_format[64];
    char log_dir[PATH_MAX_LEN];
    int evaluate_ann, normalize, simulate;
    double percentile;
    size_t num_to_test, batch_size;
    int top_k;
    double duration, dt, v_thresh;
    snn_reset reset;
    int softmax_to_relu;
    snn_cell cell;      /* [cell] options beyond v_thresh and reset */
    int max2avg_pool, binarize, quantize, quantize_bias, qm, qf;
    int norm_schedule;  /* [normalization] normalization_schedule */
    char clamp_path[PATH_MAX_LEN]; /* filename_clamp_indices; "": none */
    /* Low-latency conversion (docs/lowlatency.md). */
    double v_init;      /* fraction of v_thresh */
    int channelwise;
    size_t calibration_samples;
    snn_sim_engine engine;
    snn_spike_code code;
    int num_bits, early_stopping, reset_every;
    double input_rate;  /* Hz; 0: constant current */
    long poisson_events;
    char simulator[64];
    snn_export_opts export_opts; /* simulators other than INI */
    unsigned plots;     /* [output] plot_vars as SNN_PLOT_* bits */
    int logs;           /* [output] log_vars names something */
} run_settings;

typedef struct run_ctx {
    const snn_config *cfg;
    const snn_log *log;
    const snn_run_hooks *hooks;
    run_settings s;
    snn_graph graph;
    snn_dataset_src *data; /* read batch by batch */
    size_t n;              /* samples tested */
    size_t *order;         /* their indices in data, in test order */
    snn_tensor xb;         /* the batch being read */
    size_t fetched;        /* first sample of the simulator's last batch */
    snn_tensor y;          /* one-hot labels of the tested samples */
    snn_net net;
    snn_report *report; /* NULL unless plot_vars or log_vars ask */
    /* The normalization set, read once for normalization and bias
     * calibration and dropped when the net is converted. */
    snn_tensor xnorm;
    char norm_path[PATH_MAX_LEN];
} run_ctx;

static snn_status read_str(const snn_config *cfg, const char *sec,
                           const char *key, char *buf, size_t n,
                           snn_error *err)
{
    if (!snn_config_get_str(cfg, sec, key, buf, n))
        return snn_error_set(err, SNN_E_INVALID, "config [%s] %s is missing",
                             sec, key);
    return SNN_OK;
}

static snn_reset reset_mode(const char *text)
{
    if (strcmp(text, "Reset to zero") == 0)
        return SNN_RESET_ZERO;
    if (strcmp(text, "Reset by modulo") == 0)
        return SNN_RESET_MODULO;
    return SNN_RESET_SUBTRACT;
}

/* INI simulates here; the Python simulators get an export (run_stages). */
static snn_status check_simulator(const snn_config *cfg, run_settings *s,
                                  snn_error *err)
{
    char *sim = s->simulator;
    snn_status st = read_str(cfg, "simulation", "simulator", sim,
                             sizeof s->simulator, err);
    snn_export_opts_from_config(cfg, &s->export_opts);
    if (st == SNN_OK && strcmp(sim, "INI") != 0 &&
        !snn_export_simulator_known(sim))
        return snn_error_set(err, SNN_E_UNSUPPORTED,
                             "config [simulation] simulator = %s: only the "
                             "built-in simulator INI runs here, and %s are "
                             "exported; %s is not available yet", sim,
                             snn_export_simulators(), sim);
    return st;
}

static snn_status check_nonempty_list(const snn_config *cfg, const char *sec,
                                      const char *key, int *nonempty,
                                      snn_error *err)
{
    char **items = NULL;
    snn_status st = snn_config_get_list(cfg, sec, key, &items, err);
    if (st == SNN_OK)
        *nonempty = items[0] != NULL;
    snn_strlist_free(items);
    return st;
}

/* Logs and plots come from the built-in simulator's recording. */
static int records_activity(const snn_config *cfg)
{
    char sim[64];
    return snn_config_get_bool(cfg, "tools", "simulate") &&
           snn_config_get_str(cfg, "simulation", "simulator", sim, sizeof sim) &&
           strcmp(sim, "INI") == 0;
}

/* log_vars and plot_vars come from the built-in simulator's recording:
 * asked of an exported run, they would silently stay empty. */
static snn_status check_outputs(const snn_config *cfg, const snn_log *log,
                                snn_error *err)
{
    int nonempty = 0;
    snn_status st = SNN_OK;
    const char *outputs[] = {"log_vars", "plot_vars"};
    for (int i = 0; st == SNN_OK && i < 2; i++) {
        st = check_nonempty_list(cfg, "output", outputs[i], &nonempty, err);
        if (st == SNN_OK && nonempty && !records_activity(cfg))
            snn_warn(log, "config [output] %s: logs and plots are recorded "
                     "only when the built-in simulator INI runs", outputs[i]);
    }
    return st;
}

static snn_maxpool maxpool_type(const char *text)
{
    if (strcmp(text, "exp_max") == 0)
        return SNN_MAXPOOL_EXP;
    return strcmp(text, "avg_max") == 0 ? SNN_MAXPOOL_AVG : SNN_MAXPOOL_FIR;
}

/* [cell] quantize_format: "Qm.f" or "m.f". */
static snn_status read_qformat(const snn_config *cfg, run_settings *s,
                               snn_error *err)
{
    const char *text = snn_config_get(cfg, "cell", "quantize_format");
    int used = 0;
    if (text && (*text == 'Q' || *text == 'q'))
        text++;
    if (!text || sscanf(text, "%d.%d%n", &s->qm, &s->qf, &used) != 2 ||
        text[used])
        return snn_error_set(err, SNN_E_INVALID,
                             "config [cell] quantize_weights = True needs "
                             "[cell] quantize_format = Qm.f (integer and "
                             "fraction bits, e.g. Q2.6)");
    return SNN_OK;
}

/* The neuron model's and the conversion's options (docs/config.md). */
static snn_status read_cell(const snn_config *cfg, run_settings *s,
                            snn_error *err)
{
    snn_cell *c = &s->cell;
    c->tau_refrac = (float)snn_config_get_float(cfg, "cell", "tau_refrac");
    c->v_reset = (float)snn_config_get_float(cfg, "cell", "v_reset");
    c->leak = snn_config_get_bool(cfg, "cell", "leak");
    c->v_clip = snn_config_get_bool(cfg, "cell", "v_clip");
    c->v_min = (float)snn_config_get_float(cfg, "cell", "v_clip_min");
    c->v_max = (float)snn_config_get_float(cfg, "cell", "v_clip_max");
    c->payloads = snn_config_get_bool(cfg, "cell", "payloads");
    c->bias_relaxation = snn_config_get_bool(cfg, "cell", "bias_relaxation");
    c->duration = (float)snn_config_get_float(cfg, "simulation", "duration");
    c->online_normalization =
        snn_config_get_bool(cfg, "normalization", "online_normalization");
    c->maxpool = maxpool_type(snn_config_get(cfg, "conversion", "maxpool_type"));
    s->max2avg_pool = snn_config_get_bool(cfg, "conversion", "max2avg_pool");
    s->norm_schedule =
        snn_config_get_bool(cfg, "normalization", "normalization_schedule");
    s->binarize = snn_config_get_bool(cfg, "cell", "binarize_weights");
    s->quantize = snn_config_get_bool(cfg, "cell", "quantize_weights");
    s->quantize_bias = snn_config_get_bool(cfg, "cell", "quantize_bias");
    if (s->binarize && s->quantize)
        return snn_error_set(err, SNN_E_INVALID,
                             "config [cell] binarize_weights and "
                             "quantize_weights are both True: choose one");
    snn_status st = s->quantize ? read_qformat(cfg, s, err) : SNN_OK;
    const char *clamp = snn_config_get(cfg, "paths", "filename_clamp_indices");
    if (st == SNN_OK && clamp && *clamp)
        st = snn_config_get_path(cfg, "paths", "filename_clamp_indices",
                                 s->clamp_path, sizeof s->clamp_path, err);
    return st;
}

static snn_status read_log_dir(const snn_config *cfg, run_settings *s,
                               snn_error *err)
{
    const char *given = snn_config_get(cfg, "paths", "log_dir_of_current_run");
    if (given && *given)
        return snn_config_get_path(cfg, "paths", "log_dir_of_current_run",
                                   s->log_dir, sizeof s->log_dir, err);
    char label[256], rel[PATH_MAX_LEN];
    snn_status st = read_str(cfg, "paths", "runlabel", label, sizeof label, err);
    if (st != SNN_OK)
        return st;
    snprintf(rel, sizeof rel, "log/gui/%s", label);
    return snn_path_join(s->log_dir, sizeof s->log_dir, s->path_wd, rel, err);
}

/* Spike code, Poisson input and run control.  temporal_pattern takes
 * num_bits steps, as the original sets duration = num_bits. */
static void read_spike_settings(const snn_config *cfg, const snn_log *log,
                                run_settings *s)
{
    /* The schema allows only the names snn_spike_code_parse knows. */
    s->code = (snn_spike_code)snn_spike_code_parse(
        snn_config_get(cfg, "conversion", "spike_code"));
    s->num_bits = (int)snn_config_get_int(cfg, "conversion", "num_bits");
    if (snn_config_get_bool(cfg, "input", "poisson_input"))
        s->input_rate = (double)snn_config_get_int(cfg, "input", "input_rate");
    s->poisson_events = (long)snn_config_get_int(
        cfg, "input", "num_poisson_events_per_sample");
    s->early_stopping = snn_config_get_bool(cfg, "simulation", "early_stopping");
    s->reset_every = (int)snn_config_get_int(cfg, "simulation",
                                             "reset_between_nth_sample");
    if (s->code == SNN_CODE_PATTERN && s->duration != s->num_bits * s->dt) {
        snn_info(log, "spike_code temporal_pattern: simulating num_bits = %d "
                 "steps instead of duration %g", s->num_bits, s->duration);
        s->duration = s->num_bits * s->dt;
    }
}

static snn_status read_settings(const snn_config *cfg, const snn_log *log,
                                run_settings *s, snn_error *err)
{
    memset(s, 0, sizeof *s);
    char reset[64];
    snn_status st = check_simulator(cfg, s, err);
    if (st == SNN_OK)
        st = check_outputs(cfg, log, err);
    if (st == SNN_OK)
        st = snn_config_get_path(cfg, "paths", "path_wd", s->path_wd,
                                 sizeof s->path_wd, err);
    if (st == SNN_OK)
        st = read_str(cfg, "paths", "filename_ann", s->filename_ann,
                      sizeof s->filename_ann, err);
    if (st == SNN_OK && !s->filename_ann[0])
        st = snn_error_set(err, SNN_E_INVALID,
                           "config [paths] filename_ann is not set: name the "
                           "model file (without extension) in path_wd");
    if (st == SNN_OK)
        st = read_str(cfg, "input", "model_lib", s->model_lib,
                      sizeof s->model_lib, err);
    if (st == SNN_OK)
        st = snn_config_get_path(cfg, "paths", "dataset_path", s->dataset_path,
                                 sizeof s->dataset_path, err);
    if (st == SNN_OK)
        st = read_str(cfg, "input", "dataset_format", s->dataset_format,
                      sizeof s->dataset_format, err);
    if (st == SNN_OK)
        st = read_str(cfg, "cell", "reset", reset, sizeof reset, err);
    if (st == SNN_OK)
        st = read_log_dir(cfg, s, err);
    if (st == SNN_OK)
        st = read_cell(cfg, s, err);
    if (st != SNN_OK)
        return st;
    s->evaluate_ann = snn_config_get_bool(cfg, "tools", "evaluate_ann");
    s->normalize = snn_config_get_bool(cfg, "tools", "normalize");
    s->simulate = snn_config_get_bool(cfg, "tools", "simulate");
    s->percentile = snn_config_get_float(cfg, "normalization", "percentile");
    s->num_to_test = (size_t)snn_config_get_int(cfg, "simulation", "num_to_test");
    s->batch_size = (size_t)snn_config_get_int(cfg, "simulation", "batch_size");
    s->top_k = (int)snn_config_get_int(cfg, "simulation", "top_k");
    s->duration = snn_config_get_float(cfg, "simulation", "duration");
    s->dt = snn_config_get_float(cfg, "simulation", "dt");
    s->v_thresh = snn_config_get_float(cfg, "cell", "v_thresh");
    s->reset = reset_mode(reset);
    s->softmax_to_relu = snn_config_get_bool(cfg, "conversion", "softmax_to_relu");
    s->v_init = snn_config_get_float(cfg, "conversion", "v_init");
    s->channelwise = snn_config_get_bool(cfg, "normalization", "channelwise");
    s->calibration_samples = (size_t)snn_config_get_int(
        cfg, "conversion", "bias_calibration_samples");
    if (s->channelwise && !s->normalize)
        return snn_error_set(err, SNN_E_INVALID,
                             "config [normalization] channelwise = True "
                             "needs [tools] normalize = True");
    if (s->channelwise &&
        snn_config_get_bool(cfg, "normalization", "normalization_schedule"))
        return snn_error_set(err, SNN_E_UNSUPPORTED,
                             "config [normalization] channelwise and "
                             "normalization_schedule do not combine: the "
                             "schedule lowers one percentile per layer");
    /* The schema allows only the names snn_sim_engine_parse knows. */
    s->engine = (snn_sim_engine)snn_sim_engine_parse(
        snn_config_get(cfg, "simulation", "engine"));
    read_spike_settings(cfg, log, s);
    if (s->code != SNN_CODE_RATE && strcmp(s->simulator, "INI") != 0)
        return snn_error_set(err, SNN_E_UNSUPPORTED,
                             "config [conversion] spike_code = %s runs in the "
                             "built-in simulator only (simulator = INI), not "
                             "in %s", snn_config_get(cfg, "conversion",
                                                     "spike_code"),
                             s->simulator);
    return snn_report_wanted(cfg, &s->plots, &s->logs, err);
}

static void progress(const run_ctx *c, const char *label, size_t done,
                     size_t total, size_t correct)
{
    if (c->hooks && c->hooks->progress)
        c->hooks->progress(c->hooks->user, label, done, total, correct);
}

/* Reads the tested samples at positions [first, first + n) into x (fitted
 * to the model's input) and, when y is not NULL, their labels. */
static snn_status read_tested(run_ctx *c, size_t first, size_t n,
                              snn_tensor *x, snn_tensor *y, snn_error *err)
{
    snn_status st = snn_dataset_src_read(c->data, c->order + first, n, x, y,
                                         err);
    if (st == SNN_OK)
        st = snn_dataset_fit(x, &c->graph.layers[0].shape,
                             snn_dataset_src_name(c->data), err);
    return st;
}

/* Opens the dataset and checks that its first sample fits the model. */
static snn_status open_dataset(run_ctx *c, snn_error *err)
{
    const snn_shape *in = &c->graph.layers[0].shape;
    snn_status st = snn_dataset_open(&c->data, c->cfg, in->ndim, in->dims,
                                     err);
    size_t first = 0;
    if (st == SNN_OK)
        st = snn_dataset_src_read(c->data, &first, 1, &c->xb, NULL, err);
    if (st == SNN_OK)
        st = snn_dataset_fit(&c->xb, in, snn_dataset_src_name(c->data), err);
    return st;
}

/* [simulation] sample_idxs_to_test, when it lists any, in its order. */
static snn_status listed_samples(run_ctx *c, snn_error *err)
{
    char **items = NULL;
    snn_status st = snn_config_get_list(c->cfg, "simulation",
                                        "sample_idxs_to_test", &items, err);
    size_t k = 0, have = snn_dataset_src_size(c->data);
    while (st == SNN_OK && items[k])
        k++;
    c->order = st == SNN_OK && k ? malloc(k * sizeof *c->order) : NULL;
    if (k && !c->order)
        st = snn_error_set(err, SNN_E_NOMEM, "cannot list the samples");
    for (size_t i = 0; st == SNN_OK && c->order && i < k; i++) {
        char *end;
        long v = strtol(items[i], &end, 10);
        if (*end || v < 0 || (size_t)v >= have)
            st = snn_error_set(err, SNN_E_INVALID,
                               "config [simulation] sample_idxs_to_test: "
                               "index %s is out of range (the dataset %s has "
                               "%zu samples, 0..%zu)", items[i],
                               snn_dataset_src_name(c->data), have, have - 1);
        else
            c->order[i] = (size_t)v;
    }
    c->n = c->order ? k : 0;
    snn_strlist_free(items);
    return st;
}

/* The samples a run tests: sample_idxs_to_test, or the first num_to_test
 * (all of them, with a warning, when num_to_test exceeds the dataset, as a
 * user asking for "all of it" would expect); and their labels. */
static snn_status choose_samples(run_ctx *c, snn_error *err)
{
    size_t have = snn_dataset_src_size(c->data);
    snn_status st = listed_samples(c, err);
    if (st == SNN_OK && !c->order) {
        c->n = c->s.num_to_test;
        if (c->n > have) {
            snn_warn(c->log, "num_to_test = %zu but the dataset has %zu "
                     "samples: testing all %zu", c->n, have, have);
            c->n = have;
        }
        c->order = malloc(c->n * sizeof *c->order);
        if (!c->order)
            return snn_error_set(err, SNN_E_NOMEM, "cannot list the samples");
        for (size_t i = 0; i < c->n; i++)
            c->order[i] = i;
    }
    size_t dims[2] = {c->n, snn_dataset_src_classes(c->data)};
    if (st == SNN_OK)
        st = snn_tensor_init(&c->y, 2, dims, err);
    for (size_t i = 0; st == SNN_OK && i < c->n; i++)
        c->y.data[i * dims[1] +
                  (size_t)snn_dataset_src_label(c->data, c->order[i])] = 1.0f;
    return st;
}

static snn_status evaluate_ann(run_ctx *c, size_t n, snn_results *res,
                               snn_error *err)
{
    snn_score score = {0}, part;
    snn_tensor yb = {0};
    int n_acts = c->graph.n_layers;
    snn_tensor *acts = calloc(n_acts > 0 ? (size_t)n_acts : 1, sizeof *acts);
    snn_status st = acts ? SNN_OK
                         : snn_error_set(err, SNN_E_NOMEM,
                                         "cannot allocate activations");
    progress(c, "ANN", 0, n, 0);
    for (size_t first = 0; st == SNN_OK && first < n;
         first += c->s.batch_size) {
        size_t b = n - first < c->s.batch_size ? n - first : c->s.batch_size;
        st = read_tested(c, first, b, &c->xb, &yb, err);
        if (st == SNN_OK)
            st = snn_ann_score_acts(&c->graph, &c->xb, &yb, b, b,
                                    c->s.top_k, acts, &part, err);
        if (st == SNN_OK) {
            score.n += part.n;
            score.top1 += part.top1;
            score.topk += part.topk;
            progress(c, "ANN", score.n, n, score.top1);
        }
    }
    snn_tensor_free(&yb);
    if (acts)
        snn_ann_acts_free(acts, n_acts);
    free(acts);
    if (st != SNN_OK)
        return st;
    res->ann_evaluated = 1;
    res->ann_top1 = (double)score.top1 / (double)score.n;
    res->ann_topk = (double)score.topk / (double)score.n;
    return SNN_OK;
}

/* At most this many samples go into normalization: enough for a stable
 * 99.9th percentile, and what the original's examples use. */
#define NORMSET_MAX 10000

static void keep_first(snn_tensor *x, size_t n)
{
    if (x->dims[0] > n)
        x->dims[0] = n;
}

/* The original normalizes on <dataset_path>/x_norm.npz; an IDX dataset
 * has its training images for that.  Without either we use test samples
 * and say so. */
static snn_status load_normset(run_ctx *c, snn_tensor *xnorm, char *path,
                               size_t n, snn_error *err)
{
    const char *dir = c->s.dataset_path;
    int idx = strcmp(c->s.dataset_format, "idx") == 0;
    const char *name = idx ? "train-images-idx3-ubyte" : "x_norm.npz";
    snn_status st = snn_path_join(path, n, dir, name, err);
    if (st != SNN_OK)
        return st;
    if (idx && snn_idx_load_images(dir, name, xnorm, NULL) == SNN_OK) {
        keep_first(xnorm, NORMSET_MAX);
        return snn_dataset_fit(xnorm, &c->graph.layers[0].shape, path, err);
    }
    if (!idx && snn_file_exists(path)) {
        st = snn_npz_load(path, "arr_0", xnorm, err);
        if (st == SNN_OK)
            st = snn_dataset_fit(xnorm, &c->graph.layers[0].shape, path, err);
        return st;
    }
    size_t take = snn_dataset_src_size(c->data);
    if (take > NORMSET_MAX)
        take = NORMSET_MAX;
    snn_warn(c->log, "%s not found: normalizing on the first %zu test samples",
             path, take);
    /* The cache key names what the factors came from. */
    int w = snprintf(path, n, "%s#test[:%zu]", dir, take);
    if (w < 0 || (size_t)w >= n)
        return snn_error_set(err, SNN_E_INVALID, "path too long: %s", dir);
    size_t *first = malloc(take * sizeof *first);
    if (!first)
        return snn_error_set(err, SNN_E_NOMEM, "cannot list the samples");
    for (size_t i = 0; i < take; i++)
        first[i] = i;
    st = snn_dataset_src_read(c->data, first, take, xnorm, NULL, err);
    free(first);
    if (st == SNN_OK)
        st = snn_dataset_fit(xnorm, &c->graph.layers[0].shape,
                             snn_dataset_src_name(c->data), err);
    return st;
}

/* c->xnorm, read on first use. */
static snn_status normset(run_ctx *c, snn_error *err)
{
    if (c->xnorm.data)
        return SNN_OK;
    return load_normset(c, &c->xnorm, c->norm_path, sizeof c->norm_path, err);
}

/* normalization_schedule, the original's apply_normalization_schedule:
 * the i-th layer with weights (from 0) takes its scale factor at the
 * percentile int(percentile - 0.02 i), truncated as Python's int() does.
 * The percentile only steps down every 50 layers or so: one normalization
 * pass per distinct value. */
static snn_status scheduled_scales(run_ctx *c, const snn_tensor *x,
                                   snn_scales *out, snn_error *err)
{
    const snn_graph *g = &c->graph;
    snn_status st = SNN_OK;
    double have = -1;
    int w = 0;
    snn_scales at = {0};
    memset(out, 0, sizeof *out);
    for (int k = 0; st == SNN_OK && k < g->n_layers; k++) {
        if (!snn_layer_scaled(g, k))
            continue;
        double p = trunc(c->s.percentile - 0.02 * w++);
        if (p != have) {
            /* The first percentile's pass gives every layer's factor. */
            snn_scales_free(&at);
            st = snn_compute_scales(g, x, p < 0 ? 0 : p, c->s.batch_size,
                                    out->lambda ? &at : out, err);
            have = p;
        }
        if (st == SNN_OK && at.lambda)
            out->lambda[k] = at.lambda[k];
    }
    /* Layers without a factor of their own take it as before. */
    if (st == SNN_OK && out->lambda)
        snn_scales_inherit(g, out);
    snn_scales_free(&at);
    if (st != SNN_OK)
        snn_scales_free(out);
    return st;
}

static snn_status normalize(run_ctx *c, snn_error *err)
{
    char cache_dir[PATH_MAX_LEN], cache[PATH_MAX_LEN];
    snn_scales scales = {0};
    snn_status st = normset(c, err);
    const snn_tensor *xnorm = &c->xnorm;
    snn_scale_key key = {&c->graph, xnorm, c->norm_path, c->s.percentile,
                         c->s.channelwise};
    if (st == SNN_OK)
        st = snn_path_join(cache_dir, sizeof cache_dir, c->s.log_dir,
                           "normalization", err);
    if (st == SNN_OK)
        st = snn_path_join(cache, sizeof cache, cache_dir,
                           c->s.norm_schedule ? "scale_factors_schedule.json"
                                              : "scale_factors.json", err);
    if (st == SNN_OK && snn_scalecache_load(cache, &key, &scales)) {
        snn_info(c->log, "reusing scale factors from %s", cache);
    } else if (st == SNN_OK) {
        snn_info(c->log, "normalizing on %zu samples (percentile %g%s)",
                 xnorm->dims[0], c->s.percentile,
                 c->s.channelwise ? ", channel-wise" : "");
        if (c->s.norm_schedule)
            st = scheduled_scales(c, xnorm, &scales, err);
        else
            st = (c->s.channelwise ? snn_compute_channel_scales
                                   : snn_compute_scales)(
                &c->graph, xnorm, c->s.percentile, c->s.batch_size, &scales,
                err);
        if (st == SNN_OK)
            st = snn_mkdirs(cache_dir, err);
        if (st == SNN_OK)
            st = snn_scalecache_save(cache, &key, &scales, err);
    }
    if (st == SNN_OK)
        st = snn_apply_scales(&c->graph, &scales, err);
    if (st == SNN_OK && c->report)
        st = snn_report_set_scales(c->report, scales.lambda, scales.n, err);
    snn_scales_free(&scales);
    return st;
}

static void sim_progress(void *user, size_t done, size_t total,
                         size_t correct)
{
    progress(user, "SNN", done, total, correct);
}

static int stop_asked(const run_ctx *c)
{
    return c->hooks && c->hooks->stop && c->hooks->stop(c->hooks->user);
}

static int sim_stop(void *user)
{
    return stop_asked(user);
}

/* Between stages: ends the run when the caller asked it to stop. */
static snn_status check_stop(const run_ctx *c, const char *next,
                             snn_error *err)
{
    if (!stop_asked(c))
        return SNN_OK;
    return snn_error_set(err, SNN_E_INVALID, "run stopped on request before %s",
                         next);
}

/* The simulator's batches, read as it asks for them. */
static snn_status sim_fetch(void *user, size_t first, size_t n, float *x,
                            snn_error *err)
{
    run_ctx *c = user;
    snn_status st = read_tested(c, first, n, &c->xb, NULL, err);
    if (st == SNN_OK)
        memcpy(x, c->xb.data, snn_tensor_numel(&c->xb) * sizeof *x);
    c->fetched = first;
    return st;
}

/* DVS event frames (eventframe_width): sample's frame of step t, from the
 * batch sim_fetch read last. */
static snn_status sim_step_input(void *user, size_t sample, int t,
                                 float *frame, snn_error *err)
{
    run_ctx *c = user;
    return snn_dataset_src_step_frame(c->data, sample - c->fetched, t, frame,
                                      err);
}

static snn_sim_opts sim_opts(run_ctx *c)
{
    int steps = (int)(c->s.duration / c->s.dt + 0.5);
    snn_sim_opts so = {.steps = steps, .batch_size = c->s.batch_size,
                       .top_k = c->s.top_k, .seed = 0x5eed,
                       .progress = sim_progress, .progress_user = c,
                       .engine = c->s.engine, .code = c->s.code,
                       .num_bits = c->s.num_bits,
                       .input_rate = c->s.input_rate,
                       .poisson_events = c->s.poisson_events,
                       .early_stopping = c->s.early_stopping,
                       .reset_every = c->s.reset_every,
                       .stop = sim_stop};
    return so;
}

/* Without normalization a clipped ReLU still needs its bound at the
 * threshold: only clipped layers are scaled. */
static snn_status scale_clipped(run_ctx *c, snn_error *err)
{
    snn_scales scales;
    snn_status st = snn_clip_scales(&c->graph, &scales, err);
    if (st == SNN_OK)
        st = snn_apply_scales(&c->graph, &scales, err);
    snn_scales_free(&scales);
    return st;
}

/* Bias calibration on the first samples of the normalization set. */
static snn_status calibrate(run_ctx *c, snn_error *err)
{
    snn_status st = normset(c, err);
    const snn_tensor *xcal = &c->xnorm;
    size_t n = c->s.calibration_samples;
    if (st == SNN_OK && n > xcal->dims[0]) {
        snn_warn(c->log, "bias_calibration_samples = %zu but %s has %zu "
                 "samples: calibrating on all of them", n, c->norm_path,
                 xcal->dims[0]);
        n = xcal->dims[0];
    }
    snn_sim_opts so = sim_opts(c);
    if (st == SNN_OK) {
        snn_info(c->log, "calibrating biases on %zu samples of %s (%d steps)",
                 n, c->norm_path, so.steps);
        st = snn_calibrate_biases(&c->net, &c->graph, xcal, n, &so, err);
    }
    return st;
}

/* Fold, normalize and convert: the graph becomes c->net. */
static snn_status convert_net(run_ctx *c, snn_error *err)
{
    snn_status st = snn_compose_convs(&c->graph, err);
    if (st == SNN_OK)
        st = snn_convert_check(&c->graph, err);
    if (st == SNN_OK)
        st = snn_fold_batchnorm(&c->graph, err);
    if (c->s.softmax_to_relu)
        snn_graph_softmax_to_relu(&c->graph);
    /* The original changes these in its parser, before normalizing. */
    if (c->s.max2avg_pool)
        snn_graph_max2avg_pool(&c->graph);
    if (c->s.binarize)
        snn_graph_binarize_weights(&c->graph);
    if (st == SNN_OK && c->s.quantize)
        st = snn_graph_quantize_weights(&c->graph, c->s.qm, c->s.qf,
                                        c->s.quantize_bias, err);
    if (st == SNN_OK && c->s.normalize)
        st = normalize(c, err);
    else if (st == SNN_OK && snn_graph_has_clip(&c->graph))
        st = scale_clipped(c, err);
    snn_convert_opts co = {(float)c->s.v_thresh, c->s.reset, (float)c->s.dt};
    if (st == SNN_OK)
        st = snn_convert(&c->graph, &co, &c->net, err);
    if (st == SNN_OK)
        st = snn_net_set_cell(&c->net, &c->s.cell, err);
    if (st == SNN_OK && c->s.clamp_path[0])
        st = snn_net_load_clamps(&c->net, c->s.clamp_path, err);
    if (st == SNN_OK)
        c->net.v_init = (float)c->s.v_init;
    if (st == SNN_OK && c->s.calibration_samples > 0)
        st = calibrate(c, err);
    snn_tensor_free(&c->xnorm);
    return st;
}

/* <log_dir>/predictions.txt: one predicted class per sample (-1: no
 * output spike), for comparing with exports run elsewhere. */
static snn_status write_predictions(const char *log_dir,
                                    const snn_sim_result *sr, snn_error *err)
{
    char path[PATH_MAX_LEN];
    snn_status st = snn_path_join(path, sizeof path, log_dir,
                                  "predictions.txt", err);
    char *text = st == SNN_OK ? malloc(sr->n * 12 + 1) : NULL;
    if (st == SNN_OK && !text)
        st = snn_error_set(err, SNN_E_NOMEM, "cannot format %s", path);
    size_t len = 0;
    for (size_t i = 0; text && i < sr->n; i++)
        len += (size_t)sprintf(text + len, "%d\n", sr->predictions[i]);
    if (text)
        st = snn_write_atomic(path, text, len, err);
    free(text);
    return st;
}

static snn_status simulate(run_ctx *c, size_t n, snn_results *res,
                           snn_error *err)
{
    snn_status st;
    snn_sim_opts so = sim_opts(c);
    snn_sim_result sr;
    if (snn_dataset_src_stepped(c->data)) {
        so.step_input = sim_step_input;
        so.step_user = c;
    }
    if (c->report &&
        (st = snn_report_record(c->report, &c->net, n, &so, err)) != SNN_OK)
        return st;
    char why[SNN_NAME_MAX + 128];
    const char *slow = snn_sim_reference_reason(&c->net, why, sizeof why);
    if (slow && so.engine == SNN_ENGINE_AUTO)
        snn_info(c->log, "%s: simulated by the reference engine (the event "
                 "engine does not run it)", slow);
    progress(c, "SNN", 0, n, 0);
    double t0 = snn_now_seconds();
    st = snn_simulate_fetch(&c->net, sim_fetch, c, &c->y, n, &so, &sr, err);
    if (st != SNN_OK)
        return st;
    if (c->report &&
        (st = snn_report_take_sim(c->report, &sr, &c->y, err)) != SNN_OK) {
        snn_sim_result_free(&sr);
        return st;
    }
    res->sim_seconds = snn_now_seconds() - t0;
    res->simulated = 1;
    res->snn_top1 = (double)sr.top1 / (double)sr.n;
    res->snn_topk = (double)sr.topk / (double)sr.n;
    res->silent = sr.silent;
    res->mean_rate = sr.neuron_steps > 0 ? sr.spikes / sr.neuron_steps : 0;
    res->synops_per_sample = sr.synops / (double)sr.n;
    snn_results_take_sim(res, &c->net, &sr, &c->y, so.steps);
    snn_info(c->log, "synaptic operations: %.4g per sample, %.4g per second",
             res->synops_per_sample,
             res->sim_seconds > 0 ? sr.synops / res->sim_seconds : 0);
    st = write_predictions(c->s.log_dir, &sr, err);
    snn_sim_result_free(&sr);
    return st;
}

/* Exports describe the plain IF neuron: an option only the built-in
 * simulator runs would be dropped silently. */
static snn_status check_exportable(const snn_net *net, const char *target,
                                   snn_error *err)
{
    const char *opt = snn_net_sim_only_option(net);
    if (opt)
        return snn_error_set(err, SNN_E_UNSUPPORTED,
                             "config %s is simulated by the built-in "
                             "simulator INI only; exporting to %s would "
                             "drop it", opt, target);
    return SNN_OK;
}

/* The exported samples are all in one file: read them all. */
static snn_status export_for_simulator(run_ctx *c, snn_error *err)
{
    snn_tensor x = {0};
    snn_status st = read_tested(c, 0, c->n, &x, NULL, err);
    if (st == SNN_OK)
        st = snn_export_for_simulator(&c->net, c->s.simulator,
                                      &c->s.export_opts, c->s.log_dir, &x,
                                      &c->y, c->n, c->log, err);
    snn_tensor_free(&x);
    return st;
}

/* The report needs the samples it recorded in detail: the first ones. */
static snn_status write_report(run_ctx *c, const snn_results *res,
                               snn_error *err)
{
    size_t k = c->n < SNN_REPORT_MAX_SAMPLES ? c->n : SNN_REPORT_MAX_SAMPLES;
    snn_tensor x = {0};
    snn_status st = c->data && k ? read_tested(c, 0, k, &x, NULL, err)
                                 : SNN_OK;
    if (st == SNN_OK)
        st = snn_report_write(c->report, c->cfg, &c->graph, &c->net, &x, res,
                              c->s.log_dir, err);
    snn_tensor_free(&x);
    return st;
}

static void run_ctx_free(run_ctx *c)
{
    snn_report_free(c->report);
    snn_net_free(&c->net);
    snn_dataset_close(c->data);
    free(c->order);
    snn_tensor_free(&c->xb);
    snn_tensor_free(&c->xnorm);
    snn_tensor_free(&c->y);
    snn_graph_free(&c->graph);
    free(c);
}

static snn_status run_stages(run_ctx *c, snn_results *res, snn_error *err)
{
    const run_settings *s = &c->s;
    snn_status st = snn_model_load(s->path_wd, s->filename_ann, s->model_lib,
                                   &c->graph, err);
    if (st != SNN_OK)
        return st;
    st = open_dataset(c, err);
    if (st == SNN_OK)
        st = choose_samples(c, err);
    if (st != SNN_OK)
        return st;
    size_t n = c->n;
    res->num_samples = n;
    if ((st = check_stop(c, "the ANN test", err)) != SNN_OK)
        return st;
    if (s->evaluate_ann && (st = evaluate_ann(c, n, res, err)) != SNN_OK)
        return st;
    if (!s->simulate)
        return SNN_OK;
    if ((st = check_stop(c, "the conversion", err)) != SNN_OK)
        return st;
    if ((s->plots || s->logs) &&
        (st = snn_report_new(&c->report, s->plots, err)) != SNN_OK)
        return st;
    if ((st = convert_net(c, err)) != SNN_OK ||
        (st = check_stop(c, "the simulation", err)) != SNN_OK)
        return st;
    if (strcmp(s->simulator, "INI") != 0 &&
        (st = check_exportable(&c->net, s->simulator, err)) != SNN_OK)
        return st;
    if (strcmp(s->simulator, "INI") != 0)
        return export_for_simulator(c, err);
    return simulate(c, n, res, err);
}

snn_status snn_run_convert(const snn_config *cfg, const snn_log *log,
                           snn_net *net, snn_error *err)
{
    memset(net, 0, sizeof *net);
    run_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return snn_error_set(err, SNN_E_NOMEM, "cannot allocate a run");
    c->cfg = cfg;
    c->log = log;
    snn_graph_init(&c->graph);
    snn_status st = read_settings(cfg, log, &c->s, err);
    /* The log folder holds the cached scale factors. */
    if (st == SNN_OK)
        st = snn_mkdirs(c->s.log_dir, err);
    if (st == SNN_OK)
        st = snn_model_load(c->s.path_wd, c->s.filename_ann, c->s.model_lib,
                            &c->graph, err);
    if (st == SNN_OK)
        st = open_dataset(c, err);
    if (st == SNN_OK)
        st = convert_net(c, err);
    if (st == SNN_OK)
        st = check_exportable(&c->net, "another simulator", err);
    if (st == SNN_OK) {
        *net = c->net;
        memset(&c->net, 0, sizeof c->net);
    }
    run_ctx_free(c);
    return st;
}

snn_status snn_run(const snn_config *cfg, const snn_log *log,
                   const snn_run_hooks *hooks, snn_results *res,
                   char *log_dir, size_t n, snn_error *err)
{
    double t0 = snn_now_seconds();
    memset(res, 0, sizeof *res);
    run_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return snn_error_set(err, SNN_E_NOMEM, "cannot allocate a run");
    c->cfg = cfg;
    c->log = log;
    c->hooks = hooks;
    snn_graph_init(&c->graph);
    int sweep = 0;
    snn_status st = read_settings(cfg, log, &c->s, err);
    if (st == SNN_OK)
        st = snn_sweep_wanted(cfg, &sweep, err);
    if (st == SNN_OK)
        st = snn_mkdirs(c->s.log_dir, err);
    if (st == SNN_OK)
        snprintf(log_dir, n, "%s", c->s.log_dir);
    if (st == SNN_OK && sweep) {
        st = snn_sweep(cfg, log, hooks, c->s.log_dir, res, err);
    } else if (st == SNN_OK) {
        res->top_k = c->s.top_k;
        res->duration = c->s.duration;
        res->dt = c->s.dt;
        st = run_stages(c, res, err);
    }
    res->wall_seconds = snn_now_seconds() - t0;
    if (st == SNN_OK && !sweep)
        st = snn_results_write(c->s.log_dir, res, err);
    if (st == SNN_OK && c->report)
        st = write_report(c, res, err);
    run_ctx_free(c);
    return st;
}
