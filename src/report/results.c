/*
 * results.c - records a run's results in its log folder.
 *
 * results.json carries every figure under a stable name for scripts and
 * later reports; accuracy.txt is what the original toolbox writes (the
 * top-1 accuracy as a fraction, numpy.savetxt's format), so users' scripts
 * that read it keep working.
 */
#include "snntb/report.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fsutil.h"

void snn_results_take_sim(snn_results *r, const snn_net *net,
                          const snn_sim_result *sr, const snn_tensor *y,
                          int steps)
{
    size_t k = y->dims[1], classes = 0;
    size_t *count = calloc(k ? k : 1, sizeof *count);
    size_t *hit = calloc(k ? k : 1, sizeof *hit);
    double sum = 0;
    for (size_t i = 0; count && hit && i < sr->n; i++) {
        const float *row = y->data + i * k;
        size_t label = 0;
        for (size_t c = 1; c < k; c++)
            label = row[c] > row[label] ? c : label;
        count[label]++;
        hit[label] += sr->predictions[i] == (int)label;
    }
    for (size_t c = 0; count && hit && c < k; c++)
        if (count[c]) {
            sum += (double)hit[c] / (double)count[c];
            classes++;
        }
    r->snn_class_avg = classes ? sum / (double)classes : 0;
    free(count);
    free(hit);
    r->n_layer_rates = 0;
    for (int i = 0; i < net->n_layers; i++) {
        const snn_net_layer *l = &net->layers[i];
        if ((l->unit != SNN_UNIT_IF && l->unit != SNN_UNIT_SOFTMAX) ||
            r->n_layer_rates == SNN_RESULTS_MAX_LAYERS)
            continue;
        snn_layer_rate *lr = &r->layer_rates[r->n_layer_rates++];
        double steps_all = (double)sr->n * steps * snn_net_layer_size(net, i);
        snprintf(lr->name, sizeof lr->name, "%s", l->syn.name);
        lr->rate = steps_all > 0 ? sr->layer_spikes[i] / steps_all : 0;
    }
}

static json_t *layer_rates_json(const snn_results *r)
{
    json_t *a = json_array();
    for (int i = 0; i < r->n_layer_rates; i++) {
        const snn_layer_rate *lr = &r->layer_rates[i];
        json_t *o = json_object();
        json_object_set_new(o, "layer", json_string(lr->name));
        json_object_set_new(o, "spikes_per_neuron_step", json_real(lr->rate));
        json_object_set_new(o, "rate_hz",
                            json_real(r->dt > 0 ? lr->rate * 1000.0 / r->dt : 0));
        json_array_append_new(a, o);
    }
    return a;
}

static json_t *results_json(const snn_results *r)
{
    json_t *o = json_object();
    json_object_set_new(o, "num_samples", json_integer((json_int_t)r->num_samples));
    json_object_set_new(o, "top_k", json_integer(r->top_k));
    json_object_set_new(o, "ann_top1", r->ann_evaluated ? json_real(r->ann_top1) : json_null());
    json_object_set_new(o, "ann_topk", r->ann_evaluated ? json_real(r->ann_topk) : json_null());
    json_object_set_new(o, "snn_top1", r->simulated ? json_real(r->snn_top1) : json_null());
    json_object_set_new(o, "snn_topk", r->simulated ? json_real(r->snn_topk) : json_null());
    json_object_set_new(o, "snn_class_averaged_top1",
                        r->simulated ? json_real(r->snn_class_avg) : json_null());
    json_object_set_new(o, "samples_without_output_spike", json_integer((json_int_t)r->silent));
    json_object_set_new(o, "duration", json_real(r->duration));
    json_object_set_new(o, "dt", json_real(r->dt));
    json_object_set_new(o, "mean_spikes_per_neuron_step", json_real(r->mean_rate));
    json_object_set_new(o, "mean_rate_hz", json_real(r->dt > 0 ? r->mean_rate * 1000.0 / r->dt : 0));
    json_object_set_new(o, "synaptic_operations_per_sample", json_real(r->synops_per_sample));
    json_object_set_new(o, "layer_rates", layer_rates_json(r));
    json_object_set_new(o, "sim_seconds", json_real(r->sim_seconds));
    json_object_set_new(o, "wall_seconds", json_real(r->wall_seconds));
    return o;
}

static snn_status write_json(const char *log_dir, const snn_results *r,
                             snn_error *err)
{
    char path[4096];
    snn_status st = snn_path_join(path, sizeof path, log_dir, "results.json", err);
    if (st != SNN_OK)
        return st;
    json_t *o = results_json(r);
    char *text = json_dumps(o, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
    json_decref(o);
    if (!text)
        return snn_error_set(err, SNN_E_NOMEM, "cannot format %s", path);
    size_t len = strlen(text);
    char *with_nl = realloc(text, len + 2);
    if (!with_nl) {
        free(text);
        return snn_error_set(err, SNN_E_NOMEM, "cannot format %s", path);
    }
    with_nl[len] = '\n';
    st = snn_write_atomic(path, with_nl, len + 1, err);
    free(with_nl);
    return st;
}

static snn_status write_accuracy(const char *log_dir, const snn_results *r,
                                 snn_error *err)
{
    char path[4096], text[64];
    snn_status st = snn_path_join(path, sizeof path, log_dir, "accuracy.txt", err);
    if (st != SNN_OK)
        return st;
    double acc = r->simulated ? r->snn_top1 : r->ann_top1;
    int len = snprintf(text, sizeof text, "%.18e\n", acc);
    return snn_write_atomic(path, text, (size_t)len, err);
}

snn_status snn_results_write(const char *log_dir, const snn_results *r,
                             snn_error *err)
{
    snn_status st = write_json(log_dir, r, err);
    if (st == SNN_OK && (r->simulated || r->ann_evaluated))
        st = write_accuracy(log_dir, r, err);
    return st;
}
