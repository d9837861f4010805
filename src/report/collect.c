/*
 * collect.c - the run's side of the report: which plots and logs the
 * config asks for, the buffers the simulator records into, and gathering
 * everything (ANN activations of the same samples, the model summary,
 * the settings) before log_vars and the report are written.
 */
#include "report/rdata.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fsutil.h"
#include "snntb/ann.h"

static const struct {
    const char *name;
    unsigned bit;
} plot_names[] = {
    {"input_image", SNN_PLOT_INPUT_IMAGE}, {"spiketrains", SNN_PLOT_SPIKETRAINS},
    {"spikerates", SNN_PLOT_SPIKERATES},   {"activations", SNN_PLOT_ACTIVATIONS},
    {"correlation", SNN_PLOT_CORRELATION}, {"error_t", SNN_PLOT_ERROR_T},
    {"confusion_matrix", SNN_PLOT_CONFUSION}, {"operations", SNN_PLOT_OPERATIONS},
    {"spikecounts", SNN_PLOT_SPIKECOUNTS},
    {"hist_spikerates_activations", SNN_PLOT_HIST},
    {"v_mem", SNN_PLOT_V_MEM},
    {"normalization_activations", SNN_PLOT_NORMALIZATION},
    {"all", SNN_PLOT_ALL},
};

snn_status snn_report_wanted(const snn_config *cfg, unsigned *plots,
                             int *logs, snn_error *err)
{
    char **items = NULL;
    *plots = 0;
    *logs = 0;
    snn_status st = snn_config_get_list(cfg, "output", "plot_vars", &items, err);
    for (size_t i = 0; st == SNN_OK && items[i]; i++)
        for (size_t k = 0; k < sizeof plot_names / sizeof plot_names[0]; k++)
            if (!strcmp(items[i], plot_names[k].name))
                *plots |= plot_names[k].bit;
    snn_strlist_free(items);
    items = NULL;
    if (st == SNN_OK)
        st = snn_config_get_list(cfg, "output", "log_vars", &items, err);
    if (st == SNN_OK)
        *logs = items[0] != NULL;
    snn_strlist_free(items);
    return st;
}

/* The buffers the simulator fills, one entry per net layer. */
typedef struct rp_rec {
    snn_sim_record rec;
    int n_layers, steps;
} rp_rec;

static void rec_free(rp_rec *q)
{
    if (!q)
        return;
    for (int i = 0; i < q->n_layers; i++) {
        free(q->rec.spike_counts ? q->rec.spike_counts[i] : NULL);
        free(q->rec.raster0 ? q->rec.raster0[i] : NULL);
        free(q->rec.vmem0 ? q->rec.vmem0[i] : NULL);
    }
    free(q->rec.spike_counts);
    free(q->rec.raster0);
    free(q->rec.vmem0);
    free(q->rec.top1_at_step);
    free(q->rec.topk_at_step);
    free(q->rec.synops_at_step);
    free(q);
}

static void layer_free(rp_layer *l)
{
    free(l->act);
    free(l->counts);
    free(l->raster0);
    free(l->vmem0);
    free(l->weights);
}

void rp_report_clear(struct snn_report *r)
{
    for (int i = 0; i < r->n_layers; i++)
        layer_free(&r->layers[i]);
    free(r->layers);
    free(r->input);
    free(r->truth);
    free(r->guess);
    free(r->top1_t);
    free(r->topk_t);
    free(r->synops_t);
    free(r->neurops_t);
    free(r->graph_lambda);
    rec_free(r->rec);
    unsigned plots = r->plots;
    memset(r, 0, sizeof *r);
    r->plots = plots;
}

snn_status snn_report_new(snn_report **out, unsigned plots, snn_error *err)
{
    *out = calloc(1, sizeof **out);
    if (!*out)
        return snn_error_set(err, SNN_E_NOMEM, "cannot allocate the report");
    (*out)->plots = plots;
    return SNN_OK;
}

void snn_report_free(snn_report *r)
{
    if (!r)
        return;
    rp_report_clear(r);
    free(r);
}

snn_status snn_report_set_scales(snn_report *r, const double *lambda, int n,
                                 snn_error *err)
{
    free(r->graph_lambda);
    r->graph_lambda = malloc((size_t)(n > 0 ? n : 1) * sizeof *lambda);
    if (!r->graph_lambda)
        return snn_error_set(err, SNN_E_NOMEM, "cannot keep the scale factors");
    memcpy(r->graph_lambda, lambda, (size_t)n * sizeof *lambda);
    r->n_graph_lambda = n;
    return SNN_OK;
}

/* calloc of a*b elements of size s, refusing overflow. */
static void *calloc3(size_t a, size_t b, size_t s)
{
    size_t n;
    if (!snn_size_mul(a, b, &n) || !snn_size_mul(n, s, &n))
        return NULL;
    return calloc(n ? n : 1, 1);
}

static int rec_alloc_layer(rp_rec *q, const snn_net *net, int i, size_t n_rec)
{
    size_t size = snn_net_layer_size(net, i);
    snn_unit u = net->layers[i].unit;
    if (u == SNN_UNIT_RESHAPE)
        return 1;
    q->rec.spike_counts[i] = calloc3(n_rec, size, sizeof(float));
    q->rec.raster0[i] = calloc3((size_t)q->steps, size, 1);
    if (u == SNN_UNIT_IF || u == SNN_UNIT_SOFTMAX)
        q->rec.vmem0[i] = calloc3((size_t)q->steps, size, sizeof(float));
    return q->rec.spike_counts[i] && q->rec.raster0[i] &&
           (q->rec.vmem0[i] || !(u == SNN_UNIT_IF || u == SNN_UNIT_SOFTMAX));
}

snn_status snn_report_record(snn_report *r, const snn_net *net, size_t n,
                             snn_sim_opts *opts, snn_error *err)
{
    rec_free(r->rec);
    rp_rec *q = r->rec = calloc(1, sizeof *q);
    if (!q || opts->steps <= 0)
        return snn_error_set(err, q ? SNN_E_INVALID : SNN_E_NOMEM,
                             q ? "report: the simulation has no time steps"
                               : "cannot allocate the recording");
    size_t steps = (size_t)opts->steps, nl = (size_t)net->n_layers;
    q->n_layers = net->n_layers;
    q->steps = opts->steps;
    q->rec.record_samples = n < SNN_REPORT_MAX_SAMPLES ? n : SNN_REPORT_MAX_SAMPLES;
    q->rec.top1_at_step = calloc(steps, sizeof(size_t));
    q->rec.topk_at_step = calloc(steps, sizeof(size_t));
    q->rec.synops_at_step = calloc(steps, sizeof(double));
    q->rec.spike_counts = calloc(nl, sizeof(float *));
    q->rec.raster0 = calloc(nl, sizeof(unsigned char *));
    q->rec.vmem0 = calloc(nl, sizeof(float *));
    int ok = q->rec.top1_at_step && q->rec.topk_at_step &&
             q->rec.synops_at_step && q->rec.spike_counts && q->rec.raster0 &&
             q->rec.vmem0;
    for (int i = 0; ok && i < net->n_layers; i++)
        ok = rec_alloc_layer(q, net, i, q->rec.record_samples);
    if (!ok)
        return snn_error_set(err, SNN_E_NOMEM, "cannot allocate the recording "
                             "of %zu samples x %d steps for the report",
                             q->rec.record_samples, opts->steps);
    rp_neuron_ops(net, opts->input_rate <= 0 && !opts->step_input,
                  &r->neurops_first, &r->neurops_step);
    r->n_rec = q->rec.record_samples;
    r->steps = opts->steps;
    r->top_k = opts->top_k;
    opts->record = &q->rec;
    return SNN_OK;
}

static int argmax_row(const snn_tensor *y, size_t i)
{
    size_t c = y->dims[1];
    const float *row = y->data + i * c;
    size_t best = 0;
    for (size_t k = 1; k < c; k++)
        if (row[k] > row[best])
            best = k;
    return (int)best;
}

snn_status snn_report_take_sim(snn_report *r, const snn_sim_result *sr,
                               const snn_tensor *y, snn_error *err)
{
    if (y->ndim != 2 || y->dims[0] < sr->n)
        return snn_error_set(err, SNN_E_SHAPE, "report: labels do not cover "
                             "the %zu simulated samples", sr->n);
    free(r->truth);
    free(r->guess);
    r->truth = calloc(sr->n ? sr->n : 1, sizeof(int));
    r->guess = calloc(sr->n ? sr->n : 1, sizeof(int));
    if (!r->truth || !r->guess)
        return snn_error_set(err, SNN_E_NOMEM, "cannot keep the predictions");
    for (size_t i = 0; i < sr->n; i++) {
        r->truth[i] = argmax_row(y, i);
        r->guess[i] = sr->predictions[i];
    }
    r->n_tested = sr->n;
    r->n_classes = (int)y->dims[1];
    return SNN_OK;
}

/* The graph layer whose output a net layer's neurons stand for: the layer
 * of the same name, or the standalone activation that follows it (which
 * conversion absorbed). */
static int graph_source(const snn_graph *g, const char *name)
{
    int j = snn_graph_find(g, name);
    for (int k = j + 1; j >= 0 && k < g->n_layers; k++)
        if (g->layers[k].op == SNN_OP_ACTIVATION && g->layers[k].inputs[0] == j)
            j = k;
    return j;
}

static double layer_macs(const snn_layer *l)
{
    if ((l->op != SNN_OP_DENSE && l->op != SNN_OP_CONV2D) || !l->weight.data)
        return 0;
    double per_out = (double)snn_tensor_numel(&l->weight) / (double)l->weight.dims[0];
    return per_out * (double)snn_shape_numel(&l->shape);
}

void rp_neuron_ops(const snn_net *net, int constant_input, double *first,
                   double *per_step)
{
    *per_step = 0;
    for (int i = 0; i < net->n_layers; i++) {
        const snn_net_layer *l = &net->layers[i];
        if ((l->unit == SNN_UNIT_IF || l->unit == SNN_UNIT_SOFTMAX) &&
            l->syn.bias.data)
            *per_step += (double)snn_net_layer_size(net, i);
    }
    *first = *per_step;
    if (constant_input && net->n_layers > 0 && net->layers[0].input < 0)
        *first += 2 * layer_macs(&net->layers[0].syn);
}

static void layer_label(rp_layer *l, int index)
{
    char dims[64] = "";
    for (int d = 0; d < l->shape.ndim; d++) {
        size_t len = strlen(dims);
        snprintf(dims + len, sizeof dims - len, "%s%zu", d ? "x" : "",
                 l->shape.dims[d]);
    }
    snprintf(l->label, sizeof l->label, "%02d%s_%s", index, l->kind, dims);
}

static void set_lambdas(const snn_report *r, const snn_graph *g, int j,
                        rp_layer *l)
{
    if (!r->graph_lambda || j < 0 || j >= r->n_graph_lambda)
        return;
    l->lambda = r->graph_lambda[j];
    int in = g->layers[j].n_inputs ? g->layers[j].inputs[0] : -1;
    l->lambda_prev = in >= 0 && in < r->n_graph_lambda ? r->graph_lambda[in] : 1;
}

/* One report layer from net layer i: its summary, the recorded buffers
 * (moved out of the recording) and its ANN activations. */
static snn_status take_layer(snn_report *r, const snn_graph *g,
                             const snn_net *net, int i, const snn_tensor *acts,
                             rp_layer *l, snn_error *err)
{
    rp_rec *q = r->rec;
    const snn_layer *syn = &net->layers[i].syn;
    int src = graph_source(g, syn->name), w = snn_graph_find(g, syn->name);
    snprintf(l->name, sizeof l->name, "%s", syn->name);
    snprintf(l->kind, sizeof l->kind, "%s", snn_op_name(syn->op));
    l->shape = syn->shape;
    l->size = snn_net_layer_size(net, i);
    l->params = w >= 0 ? snn_layer_params(&g->layers[w]) : 0;
    l->macs = w >= 0 ? layer_macs(&g->layers[w]) : 0;
    l->neurons = q->rec.vmem0[i] != NULL;
    layer_label(l, i + 1);
    set_lambdas(r, g, w, l);
    l->counts = q->rec.spike_counts[i];
    l->raster0 = q->rec.raster0[i];
    l->vmem0 = q->rec.vmem0[i];
    q->rec.spike_counts[i] = NULL;
    q->rec.raster0[i] = NULL;
    q->rec.vmem0[i] = NULL;
    if (src < 0 || snn_tensor_numel(&acts[src]) != r->n_rec * l->size)
        return snn_error_set(err, SNN_E_SHAPE, "report: no ANN activations "
                             "match layer '%s'", syn->name);
    l->act = malloc(r->n_rec * l->size * sizeof(float) + 1);
    l->n_weights = snn_tensor_numel(&syn->weight);
    l->weights = l->n_weights ? malloc(l->n_weights * sizeof(float)) : NULL;
    if (!l->act || (l->n_weights && !l->weights))
        return snn_error_set(err, SNN_E_NOMEM, "report: cannot copy layer '%s'",
                             syn->name);
    memcpy(l->act, acts[src].data, r->n_rec * l->size * sizeof(float));
    if (l->n_weights)
        memcpy(l->weights, syn->weight.data, l->n_weights * sizeof(float));
    return SNN_OK;
}

static snn_status take_layers(snn_report *r, const snn_graph *g,
                              const snn_net *net, const snn_tensor *x,
                              snn_error *err)
{
    snn_tensor view = *x;
    view.dims[0] = r->n_rec;
    snn_tensor *acts = calloc((size_t)g->n_layers, sizeof *acts);
    r->layers = calloc((size_t)net->n_layers, sizeof *r->layers);
    if (!acts || !r->layers) {
        free(acts);
        return snn_error_set(err, SNN_E_NOMEM, "report: cannot allocate layers");
    }
    snn_status st = snn_ann_forward(g, &view, acts, err);
    for (int i = 0; st == SNN_OK && i < net->n_layers; i++) {
        if (net->layers[i].unit == SNN_UNIT_RESHAPE)
            continue;
        st = take_layer(r, g, net, i, acts, &r->layers[r->n_layers++], err);
    }
    snn_ann_acts_free(acts, g->n_layers);
    free(acts);
    return st;
}

static snn_status take_series(snn_report *r, const snn_tensor *x,
                              snn_error *err)
{
    rp_rec *q = r->rec;
    size_t in_size = snn_shape_numel(&r->input_shape);
    r->top1_t = calloc((size_t)r->steps, sizeof(double));
    r->topk_t = calloc((size_t)r->steps, sizeof(double));
    r->synops_t = calloc((size_t)r->steps, sizeof(double));
    r->neurops_t = calloc((size_t)r->steps, sizeof(double));
    r->input = calloc3(r->n_rec, in_size, sizeof(float));
    if (!r->top1_t || !r->topk_t || !r->synops_t || !r->neurops_t ||
        !r->input ||
        snn_tensor_numel(x) < r->n_rec * in_size)
        return snn_error_set(err, SNN_E_NOMEM, "report: cannot keep the series");
    double n = r->n_tested ? (double)r->n_tested : 1, cum = 0;
    for (int t = 0; t < r->steps; t++) {
        r->top1_t[t] = 1 - (double)q->rec.top1_at_step[t] / n;
        r->topk_t[t] = 1 - (double)q->rec.topk_at_step[t] / n;
        cum += q->rec.synops_at_step[t];
        r->synops_t[t] = cum / n / 1e6;
        r->neurops_t[t] = (r->neurops_first + t * r->neurops_step) / 1e6;
    }
    memcpy(r->input, x->data, r->n_rec * in_size * sizeof(float));
    return SNN_OK;
}

/* The settings a reader of the report needs to interpret it. */
static void take_settings(snn_report *r, const snn_config *cfg)
{
    static const char *const keys[][2] = {
        {"paths", "filename_ann"},      {"paths", "dataset_path"},
        {"input", "model_lib"},         {"input", "dataset_format"},
        {"tools", "evaluate_ann"},      {"tools", "normalize"},
        {"normalization", "percentile"}, {"conversion", "softmax_to_relu"},
        {"conversion", "spike_code"},   {"simulation", "simulator"},
        {"simulation", "engine"},       {"simulation", "duration"},
        {"simulation", "dt"},           {"simulation", "num_to_test"},
        {"simulation", "batch_size"},   {"simulation", "top_k"},
        {"cell", "v_thresh"},           {"cell", "reset"},
        {"output", "plot_vars"},        {"output", "log_vars"},
    };
    r->n_settings = 0;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const char *v = snn_config_get(cfg, keys[i][0], keys[i][1]);
        if (!v || r->n_settings >= RP_MAX_SETTINGS)
            continue;
        snprintf(r->settings[r->n_settings][0], sizeof r->settings[0][0],
                 "[%s] %s", keys[i][0], keys[i][1]);
        snprintf(r->settings[r->n_settings][1], sizeof r->settings[0][1], "%s", v);
        r->n_settings++;
    }
}

static snn_status render(const snn_report *r, const char *log_dir,
                         snn_error *err)
{
    rp_figures figs = {0};
    snn_status st = rp_make_figures(r, &figs, err);
    if (st == SNN_OK)
        st = rp_write_html(r, &figs, log_dir, err);
    rp_figures_free(&figs);
    return st;
}

snn_status snn_report_write(snn_report *r, const snn_config *cfg,
                            const snn_graph *g, const snn_net *net,
                            const snn_tensor *x, const snn_results *res,
                            const char *log_dir, snn_error *err)
{
    if (!r->rec || !r->truth)
        return SNN_OK;
    r->results = *res;
    r->dt = res->dt;
    r->v_thresh = net->v_thresh;
    r->input_shape = net->input_shape;
    snprintf(r->source, sizeof r->source, "%s", g->source);
    for (int j = 0; j < g->n_layers; j++)
        r->ann_macs += layer_macs(&g->layers[j]);
    take_settings(r, cfg);
    snn_status st = take_series(r, x, err);
    if (st == SNN_OK)
        st = take_layers(r, g, net, x, err);
    long batch = snn_config_get_int(cfg, "simulation", "batch_size");
    if (st == SNN_OK)
        st = rp_logvars_save(r, log_dir, batch > 0 ? (size_t)batch : 1, err);
    if (st == SNN_OK && r->plots)
        st = render(r, log_dir, err);
    return st;
}

snn_status snn_report_rebuild(const char *log_dir, snn_error *err)
{
    snn_report r;
    memset(&r, 0, sizeof r);
    snn_status st = rp_logvars_load(&r, log_dir, err);
    if (st == SNN_OK)
        st = render(&r, log_dir, err);
    rp_report_clear(&r);
    return st;
}
