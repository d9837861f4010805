/*
 * run.c - the pipeline a config describes, stage after stage:
 * parse -> (ANN score) -> fold batch norms -> normalize -> convert ->
 * simulate -> results.  Each stage is one call into its module; this file
 * only reads the config, moves data between stages and times them.
 */
#include "snntb/run.h"

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
    /* Low-latency conversion (docs/lowlatency.md). */
    double v_init;      /* fraction of v_thresh */
    int channelwise;
    size_t calibration_samples;
    snn_sim_engine engine;
    char simulator[64];
    snn_export_opts export_opts; /* simulators other than INI */
    unsigned plots;     /* [output] plot_vars as SNN_PLOT_* bits */
    int logs;           /* [output] log_vars names something */
} run_settings;

typedef struct run_ctx {
    const snn_log *log;
    const snn_run_hooks *hooks;
    run_settings s;
    snn_graph graph;
    snn_dataset data;
    snn_net net;
    snn_report *report; /* NULL unless plot_vars or log_vars ask */
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
                             "built-in simulator INI runs here, and brian2, "
                             "nest, neuron and spiNNaker are exported; %s is "
                             "not available yet", sim, sim);
    return st;
}

/* Options of the original that this build does not implement yet: a run
 * that silently ignored them would report results the user did not ask
 * for, so each one is an error until it is implemented. */
static const struct {
    const char *section, *key;
} unimplemented_flags[] = {
    {"input", "poisson_input"},         {"normalization", "normalization_schedule"},
    {"normalization", "online_normalization"}, {"conversion", "max2avg_pool"},
    {"cell", "binarize_weights"},       {"cell", "quantize_weights"},
    {"cell", "payloads"},               {"cell", "leak"},
    {"cell", "bias_relaxation"},
};

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

static snn_status check_implemented(const snn_config *cfg, const snn_log *log,
                                    snn_error *err)
{
    size_t n = sizeof unimplemented_flags / sizeof unimplemented_flags[0];
    for (size_t i = 0; i < n; i++)
        if (snn_config_get_bool(cfg, unimplemented_flags[i].section,
                                unimplemented_flags[i].key))
            return snn_error_set(err, SNN_E_UNSUPPORTED,
                                 "config [%s] %s = True is not implemented "
                                 "yet in snntb", unimplemented_flags[i].section,
                                 unimplemented_flags[i].key);
    char code[64];
    if (snn_config_get_str(cfg, "conversion", "spike_code", code, sizeof code) &&
        strcmp(code, "temporal_mean_rate") != 0)
        return snn_error_set(err, SNN_E_UNSUPPORTED,
                             "config [conversion] spike_code = %s is not "
                             "implemented yet (temporal_mean_rate is)", code);
    if (snn_config_get_float(cfg, "cell", "tau_refrac") != 0)
        return snn_error_set(err, SNN_E_UNSUPPORTED,
                             "config [cell] tau_refrac: refractory periods are "
                             "not implemented yet (use 0)");
    int nonempty = 0;
    snn_status st = check_nonempty_list(cfg, "simulation",
                                        "sample_idxs_to_test", &nonempty, err);
    if (st == SNN_OK && nonempty)
        return snn_error_set(err, SNN_E_UNSUPPORTED,
                             "config [simulation] sample_idxs_to_test is not "
                             "implemented yet: use num_to_test");
    const char *outputs[] = {"log_vars", "plot_vars"};
    for (int i = 0; st == SNN_OK && i < 2; i++) {
        st = check_nonempty_list(cfg, "output", outputs[i], &nonempty, err);
        if (st == SNN_OK && nonempty && !records_activity(cfg))
            snn_warn(log, "config [output] %s: logs and plots are recorded "
                     "only when the built-in simulator INI runs", outputs[i]);
    }
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

static snn_status read_settings(const snn_config *cfg, const snn_log *log,
                                run_settings *s, snn_error *err)
{
    memset(s, 0, sizeof *s);
    char reset[64];
    snn_status st = check_simulator(cfg, s, err);
    if (st == SNN_OK)
        st = check_implemented(cfg, log, err);
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
    /* The schema allows only the names snn_sim_engine_parse knows. */
    s->engine = (snn_sim_engine)snn_sim_engine_parse(
        snn_config_get(cfg, "simulation", "engine"));
    return snn_report_wanted(cfg, &s->plots, &s->logs, err);
}

static void progress(const run_ctx *c, const char *label, size_t done,
                     size_t total, size_t correct)
{
    if (c->hooks && c->hooks->progress)
        c->hooks->progress(c->hooks->user, label, done, total, correct);
}

static snn_status load_dataset(run_ctx *c, snn_error *err)
{
    const run_settings *s = &c->s;
    snn_status st;
    if (!s->dataset_path[0])
        return snn_error_set(err, SNN_E_INVALID,
                             "config [paths] dataset_path is not set");
    if (strcmp(s->dataset_format, "npz") == 0)
        st = snn_dataset_load_npz(&c->data, s->dataset_path, err);
    else if (strcmp(s->dataset_format, "idx") == 0)
        st = snn_dataset_load_idx(&c->data, s->dataset_path, err);
    else
        return snn_error_set(err, SNN_E_UNSUPPORTED,
                             "config [input] dataset_format = %s is not "
                             "supported yet (use npz or idx)",
                             s->dataset_format);
    if (st != SNN_OK)
        return st;
    char what[PATH_MAX_LEN + 32];
    snprintf(what, sizeof what, "%s/%s", s->dataset_path,
             strcmp(s->dataset_format, "npz") == 0 ? "x_test.npz"
                                                   : "t10k-images-idx3-ubyte");
    return snn_dataset_fit(&c->data.x, &c->graph.layers[0].shape, what, err);
}

/* num_to_test larger than the dataset runs the whole dataset, with a
 * warning, as a user asking for "all of it" would expect. */
static size_t samples_to_test(const run_ctx *c)
{
    size_t have = snn_dataset_size(&c->data);
    if (c->s.num_to_test <= have)
        return c->s.num_to_test;
    snn_warn(c->log, "num_to_test = %zu but the dataset has %zu samples: "
             "testing all %zu", c->s.num_to_test, have, have);
    return have;
}

static snn_status evaluate_ann(run_ctx *c, size_t n, snn_results *res,
                               snn_error *err)
{
    snn_score score;
    progress(c, "ANN", 0, n, 0);
    snn_status st = snn_ann_score(&c->graph, &c->data.x, &c->data.y, n,
                                  c->s.batch_size, c->s.top_k, &score, err);
    if (st != SNN_OK)
        return st;
    progress(c, "ANN", score.n, n, score.top1);
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
    size_t take = snn_dataset_size(&c->data);
    if (take > NORMSET_MAX)
        take = NORMSET_MAX;
    snn_warn(c->log, "%s not found: normalizing on the first %zu test samples",
             path, take);
    /* The cache key names what the factors came from. */
    int w = snprintf(path, n, "%s#test[:%zu]", dir, take);
    if (w < 0 || (size_t)w >= n)
        return snn_error_set(err, SNN_E_INVALID, "path too long: %s", dir);
    st = snn_tensor_copy(xnorm, &c->data.x, err);
    if (st == SNN_OK)
        keep_first(xnorm, take);
    return st;
}

static snn_status normalize(run_ctx *c, snn_error *err)
{
    char norm_path[PATH_MAX_LEN], cache_dir[PATH_MAX_LEN], cache[PATH_MAX_LEN];
    snn_tensor xnorm = {0};
    snn_scales scales = {0};
    snn_status st = load_normset(c, &xnorm, norm_path, sizeof norm_path, err);
    snn_scale_key key = {&c->graph, &xnorm, norm_path, c->s.percentile,
                         c->s.channelwise};
    if (st == SNN_OK)
        st = snn_path_join(cache_dir, sizeof cache_dir, c->s.log_dir,
                           "normalization", err);
    if (st == SNN_OK)
        st = snn_path_join(cache, sizeof cache, cache_dir,
                           "scale_factors.json", err);
    if (st == SNN_OK && snn_scalecache_load(cache, &key, &scales)) {
        snn_info(c->log, "reusing scale factors from %s", cache);
    } else if (st == SNN_OK) {
        snn_info(c->log, "normalizing on %zu samples (percentile %g%s)",
                 xnorm.dims[0], c->s.percentile,
                 c->s.channelwise ? ", channel-wise" : "");
        st = (c->s.channelwise ? snn_compute_channel_scales
                               : snn_compute_scales)(
            &c->graph, &xnorm, c->s.percentile, c->s.batch_size, &scales,
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
    snn_tensor_free(&xnorm);
    return st;
}

static void sim_progress(void *user, size_t done, size_t total,
                         size_t correct)
{
    progress(user, "SNN", done, total, correct);
}

static snn_sim_opts sim_opts(run_ctx *c)
{
    int steps = (int)(c->s.duration / c->s.dt + 0.5);
    snn_sim_opts so = {steps, c->s.batch_size, c->s.top_k, 0x5eed,
                       sim_progress, c, c->s.engine, NULL};
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
    char path[PATH_MAX_LEN];
    snn_tensor xcal = {0};
    snn_status st = load_normset(c, &xcal, path, sizeof path, err);
    size_t n = c->s.calibration_samples;
    if (st == SNN_OK && n > xcal.dims[0]) {
        snn_warn(c->log, "bias_calibration_samples = %zu but %s has %zu "
                 "samples: calibrating on all of them", n, path,
                 xcal.dims[0]);
        n = xcal.dims[0];
    }
    snn_sim_opts so = sim_opts(c);
    if (st == SNN_OK) {
        snn_info(c->log, "calibrating biases on %zu samples of %s (%d steps)",
                 n, path, so.steps);
        st = snn_calibrate_biases(&c->net, &c->graph, &xcal, n, &so, err);
    }
    snn_tensor_free(&xcal);
    return st;
}

/* Fold, normalize and convert: the graph becomes c->net. */
static snn_status convert_net(run_ctx *c, snn_error *err)
{
    snn_status st = snn_convert_check(&c->graph, err);
    if (st == SNN_OK)
        st = snn_fold_batchnorm(&c->graph, err);
    if (c->s.softmax_to_relu)
        snn_graph_softmax_to_relu(&c->graph);
    if (st == SNN_OK && c->s.normalize)
        st = normalize(c, err);
    else if (st == SNN_OK && snn_graph_has_clip(&c->graph))
        st = scale_clipped(c, err);
    snn_convert_opts co = {(float)c->s.v_thresh, c->s.reset, (float)c->s.dt};
    if (st == SNN_OK)
        st = snn_convert(&c->graph, &co, &c->net, err);
    c->net.v_init = (float)c->s.v_init;
    if (st == SNN_OK && c->s.calibration_samples > 0)
        st = calibrate(c, err);
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
    if (c->report &&
        (st = snn_report_record(c->report, &c->net, n, &so, err)) != SNN_OK)
        return st;
    progress(c, "SNN", 0, n, 0);
    double t0 = snn_now_seconds();
    st = snn_simulate(&c->net, &c->data.x, &c->data.y, n, &so, &sr, err);
    if (st != SNN_OK)
        return st;
    if (c->report &&
        (st = snn_report_take_sim(c->report, &sr, &c->data.y, err)) != SNN_OK) {
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
    snn_results_take_sim(res, &c->net, &sr, &c->data.y, so.steps);
    snn_info(c->log, "synaptic operations: %.4g per sample, %.4g per second",
             res->synops_per_sample,
             res->sim_seconds > 0 ? sr.synops / res->sim_seconds : 0);
    st = write_predictions(c->s.log_dir, &sr, err);
    snn_sim_result_free(&sr);
    return st;
}

static snn_status run_stages(run_ctx *c, snn_results *res, snn_error *err)
{
    const run_settings *s = &c->s;
    snn_status st = snn_model_load(s->path_wd, s->filename_ann, s->model_lib,
                                   &c->graph, err);
    if (st != SNN_OK)
        return st;
    st = load_dataset(c, err);
    if (st != SNN_OK)
        return st;
    size_t n = samples_to_test(c);
    res->num_samples = n;
    if (s->evaluate_ann && (st = evaluate_ann(c, n, res, err)) != SNN_OK)
        return st;
    if (!s->simulate)
        return SNN_OK;
    if ((s->plots || s->logs) &&
        (st = snn_report_new(&c->report, s->plots, err)) != SNN_OK)
        return st;
    if ((st = convert_net(c, err)) != SNN_OK)
        return st;
    if (strcmp(s->simulator, "INI") != 0)
        return snn_export_for_simulator(&c->net, s->simulator,
                                        &s->export_opts, s->log_dir,
                                        &c->data.x, &c->data.y, n, c->log,
                                        err);
    return simulate(c, n, res, err);
}

snn_status snn_run_convert(const snn_config *cfg, const snn_log *log,
                           snn_net *net, snn_error *err)
{
    memset(net, 0, sizeof *net);
    run_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return snn_error_set(err, SNN_E_NOMEM, "cannot allocate a run");
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
        st = load_dataset(c, err);
    if (st == SNN_OK)
        st = convert_net(c, err);
    if (st == SNN_OK) {
        *net = c->net;
        memset(&c->net, 0, sizeof c->net);
    }
    snn_net_free(&c->net);
    snn_dataset_free(&c->data);
    snn_graph_free(&c->graph);
    free(c);
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
        st = snn_report_write(c->report, cfg, &c->graph, &c->net, &c->data.x,
                              res, c->s.log_dir, err);
    snn_report_free(c->report);
    snn_net_free(&c->net);
    snn_dataset_free(&c->data);
    snn_graph_free(&c->graph);
    free(c);
    return st;
}
