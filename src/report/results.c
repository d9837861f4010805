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

static json_t *results_json(const snn_results *r)
{
    json_t *o = json_object();
    json_object_set_new(o, "num_samples", json_integer((json_int_t)r->num_samples));
    json_object_set_new(o, "top_k", json_integer(r->top_k));
    json_object_set_new(o, "ann_top1", r->ann_evaluated ? json_real(r->ann_top1) : json_null());
    json_object_set_new(o, "ann_topk", r->ann_evaluated ? json_real(r->ann_topk) : json_null());
    json_object_set_new(o, "snn_top1", r->simulated ? json_real(r->snn_top1) : json_null());
    json_object_set_new(o, "snn_topk", r->simulated ? json_real(r->snn_topk) : json_null());
    json_object_set_new(o, "samples_without_output_spike", json_integer((json_int_t)r->silent));
    json_object_set_new(o, "duration", json_real(r->duration));
    json_object_set_new(o, "dt", json_real(r->dt));
    json_object_set_new(o, "mean_spikes_per_neuron_step", json_real(r->mean_rate));
    json_object_set_new(o, "mean_rate_hz", json_real(r->dt > 0 ? r->mean_rate * 1000.0 / r->dt : 0));
    json_object_set_new(o, "synaptic_operations_per_sample", json_real(r->synops_per_sample));
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
