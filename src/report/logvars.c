/*
 * logvars.c - the recorded activity on disk, as the original's log_vars:
 * <log>/log_vars/<batch>.npz per batch of recorded samples with the
 * original's variable names (one member per layer, "name/<label>", where
 * the original pickled a list), run.npz with the run-wide series, and
 * summary.json with what is not an array (layers, settings, results).
 * `snntb report` reads them back, so the loader treats them as hostile.
 * The .npy members are written here (N-D arrays, deflated), with libzip.
 */
#include "report/rdata.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

#include "core/fsutil.h"
#include "snntb/dataset.h"

#define PATH_LEN 4096

/* ---- writing ---- */

typedef struct npz_w {
    zip_t *zip;
    char path[PATH_LEN];
} npz_w;

/* numpy's format 1.0: magic, header length, a dict padded so that the
 * data starts at a multiple of 64. */
static size_t npy_header(char *h, size_t cap, const char *descr, int ndim,
                         const size_t *dims)
{
    char shape[256] = "";
    for (int d = 0; d < ndim; d++) {
        size_t len = strlen(shape);
        snprintf(shape + len, sizeof shape - len, "%zu%s", dims[d],
                 ndim == 1 || d + 1 < ndim ? ", " : "");
    }
    int n = snprintf(h + 10, cap - 10, "{'descr': '%s', 'fortran_order': "
                     "False, 'shape': (%s), }", descr, shape);
    size_t total = 10 + (size_t)n + 1;
    size_t padded = (total + 63) / 64 * 64;
    memset(h + 10 + n, ' ', padded - total);
    h[padded - 1] = '\n';
    memcpy(h, "\x93NUMPY\x01\x00", 8);
    h[8] = (char)((padded - 10) & 0xff);
    h[9] = (char)((padded - 10) >> 8);
    return padded;
}

static snn_status npz_add(npz_w *o, const char *name, const char *descr,
                          size_t elsize, int ndim, const size_t *dims,
                          const void *data, snn_error *err)
{
    char header[512], member[SNN_NAME_MAX + 96];
    size_t hlen = npy_header(header, sizeof header, descr, ndim, dims);
    size_t n = elsize;
    for (int d = 0; d < ndim; d++)
        n *= dims[d];
    unsigned char *buf = malloc(hlen + n + 1);
    if (!buf)
        return snn_error_set(err, SNN_E_NOMEM, "%s: cannot store %s", o->path, name);
    memcpy(buf, header, hlen);
    if (n)
        memcpy(buf + hlen, data, n);
    snprintf(member, sizeof member, "%s.npy", name);
    zip_source_t *src = zip_source_buffer(o->zip, buf, hlen + n, 1);
    if (!src) {
        free(buf);
        return snn_error_set(err, SNN_E_NOMEM, "%s: cannot store %s", o->path, name);
    }
    zip_int64_t idx = zip_file_add(o->zip, member, src, ZIP_FL_ENC_UTF_8);
    if (idx < 0) {
        zip_source_free(src);
        return snn_error_set(err, SNN_E_IO, "%s: cannot add %s: %s", o->path,
                             member, zip_strerror(o->zip));
    }
    zip_set_file_compression(o->zip, (zip_uint64_t)idx, ZIP_CM_DEFLATE, 1);
    return SNN_OK;
}

static snn_status npz_open(npz_w *o, const char *dir, const char *name,
                           snn_error *err)
{
    int code = 0;
    snn_status st = snn_path_join(o->path, sizeof o->path, dir, name, err);
    if (st != SNN_OK)
        return st;
    o->zip = zip_open(o->path, ZIP_CREATE | ZIP_TRUNCATE, &code);
    if (!o->zip)
        return snn_error_set(err, SNN_E_IO, "%s: cannot create (libzip error %d)",
                             o->path, code);
    return SNN_OK;
}

/* libzip writes a temporary file and renames it: complete or absent. */
static snn_status npz_close(npz_w *o, snn_status st, snn_error *err)
{
    if (st != SNN_OK) {
        zip_discard(o->zip);
        return st;
    }
    if (zip_close(o->zip) != 0) {
        st = snn_error_set(err, SNN_E_IO, "%s: cannot write: %s", o->path,
                           zip_strerror(o->zip));
        zip_discard(o->zip);
    }
    return st;
}

/* dims of (rows, <shape>) or (<shape>, steps) for a layer. */
static int layer_dims(size_t *dims, size_t lead, const snn_shape *s,
                      size_t trail)
{
    int n = 0;
    if (lead)
        dims[n++] = lead;
    for (int d = 0; d < s->ndim; d++)
        dims[n++] = s->dims[d];
    if (trail)
        dims[n++] = trail;
    return n;
}

static snn_status add_per_layer(npz_w *o, const char *var, const rp_layer *l,
                                const float *rows, size_t nb, snn_error *err)
{
    char name[SNN_NAME_MAX + 80];
    size_t dims[6];
    snprintf(name, sizeof name, "%s/%s", var, l->label);
    return npz_add(o, name, "<f4", 4, layer_dims(dims, nb, &l->shape, 0),
                   dims, rows, err);
}

/* Sample 0 in the original's layout, time last: (1, <shape>, steps). */
static snn_status add_sample0(npz_w *o, const snn_report *r, const rp_layer *l,
                              snn_error *err)
{
    size_t steps = (size_t)r->steps, dims[6];
    int nd = layer_dims(dims, 1, &l->shape, steps);
    unsigned char *spikes = malloc(l->size * steps + 1);
    float *mem = l->vmem0 ? malloc(l->size * steps * sizeof(float) + 1) : NULL;
    snn_status st = SNN_OK;
    if (!spikes || (l->vmem0 && !mem))
        st = snn_error_set(err, SNN_E_NOMEM, "%s: cannot store layer %s",
                           o->path, l->label);
    for (size_t t = 0; st == SNN_OK && t < steps; t++)
        for (size_t i = 0; i < l->size; i++) {
            spikes[i * steps + t] = l->raster0[t * l->size + i];
            if (mem)
                mem[i * steps + t] = l->vmem0[t * l->size + i];
        }
    char name[SNN_NAME_MAX + 80];
    snprintf(name, sizeof name, "spiketrains_n_b_l_t/%s", l->label);
    if (st == SNN_OK)
        st = npz_add(o, name, "|u1", 1, nd, dims, spikes, err);
    snprintf(name, sizeof name, "mem_n_b_l_t/%s", l->label);
    if (st == SNN_OK && mem)
        st = npz_add(o, name, "<f4", 4, nd, dims, mem, err);
    free(spikes);
    free(mem);
    return st;
}

static snn_status add_classes(npz_w *o, const char *name, const int *v,
                              size_t n, snn_error *err)
{
    long long *w = malloc((n ? n : 1) * sizeof *w);
    if (!w)
        return snn_error_set(err, SNN_E_NOMEM, "%s: cannot store %s", o->path, name);
    for (size_t i = 0; i < n; i++)
        w[i] = v[i];
    snn_status st = npz_add(o, name, "<i8", 8, 1, &n, w, err);
    free(w);
    return st;
}

static snn_status save_batch(const snn_report *r, const char *dir, size_t b,
                             size_t s0, size_t s1, snn_error *err)
{
    char name[64];
    npz_w o;
    snprintf(name, sizeof name, "%zu.npz", b);
    snn_status st = npz_open(&o, dir, name, err);
    if (st != SNN_OK)
        return st;
    size_t nb = s1 - s0, in_size = snn_shape_numel(&r->input_shape), dims[6];
    int nd = layer_dims(dims, nb, &r->input_shape, 0);
    st = npz_add(&o, "input_image_b_l", "<f4", 4, nd, dims,
                 r->input + s0 * in_size, err);
    if (st == SNN_OK)
        st = add_classes(&o, "true_classes_b", r->truth + s0, nb, err);
    if (st == SNN_OK)
        st = add_classes(&o, "guessed_classes_b", r->guess + s0, nb, err);
    for (int i = 0; st == SNN_OK && i < r->n_layers; i++) {
        const rp_layer *l = &r->layers[i];
        st = add_per_layer(&o, "activations_n_b_l", l, l->act + s0 * l->size, nb, err);
        if (st == SNN_OK)
            st = add_per_layer(&o, "spikecounts_n_b_l", l,
                               l->counts + s0 * l->size, nb, err);
        if (st == SNN_OK && b == 0)
            st = add_sample0(&o, r, l, err);
    }
    return npz_close(&o, st, err);
}

static snn_status add_scalar(npz_w *o, const char *name, double v,
                             snn_error *err)
{
    size_t one = 1;
    return npz_add(o, name, "<f8", 8, 1, &one, &v, err);
}

static snn_status save_run(const snn_report *r, const char *dir, snn_error *err)
{
    npz_w o;
    snn_status st = npz_open(&o, dir, "run.npz", err);
    if (st != SNN_OK)
        return st;
    size_t steps = (size_t)r->steps;
    const snn_results *res = &r->results;
    st = npz_add(&o, "top1err_t", "<f8", 8, 1, &steps, r->top1_t, err);
    if (st == SNN_OK)
        st = npz_add(&o, "top5err_t", "<f8", 8, 1, &steps, r->topk_t, err);
    if (st == SNN_OK)
        st = npz_add(&o, "synaptic_operations_t", "<f8", 8, 1, &steps,
                     r->synops_t, err);
    if (st == SNN_OK && r->neurops_t)
        st = npz_add(&o, "neuron_operations_t", "<f8", 8, 1, &steps,
                     r->neurops_t, err);
    if (st == SNN_OK)
        st = add_classes(&o, "true_classes", r->truth, r->n_tested, err);
    if (st == SNN_OK)
        st = add_classes(&o, "guessed_classes", r->guess, r->n_tested, err);
    if (st == SNN_OK)
        st = add_scalar(&o, "top1err_ann", res->ann_evaluated ? 1 - res->ann_top1 : -1, err);
    if (st == SNN_OK)
        st = add_scalar(&o, "top5err_ann", res->ann_evaluated ? 1 - res->ann_topk : -1, err);
    if (st == SNN_OK)
        st = add_scalar(&o, "operations_ann", r->ann_macs / 1e6, err);
    if (st == SNN_OK)
        st = add_scalar(&o, "avg_rate", res->mean_rate, err);
    char name[SNN_NAME_MAX + 80];
    for (int i = 0; st == SNN_OK && i < r->n_layers; i++) {
        const rp_layer *l = &r->layers[i];
        snprintf(name, sizeof name, "weights/%s", l->label);
        if (l->n_weights)
            st = npz_add(&o, name, "<f4", 4, 1, &l->n_weights, l->weights, err);
    }
    return npz_close(&o, st, err);
}

static json_t *shape_json(const snn_shape *s)
{
    json_t *a = json_array();
    for (int d = 0; d < s->ndim; d++)
        json_array_append_new(a, json_integer((json_int_t)s->dims[d]));
    return a;
}

static json_t *layer_json(const rp_layer *l)
{
    return json_pack("{s:s, s:s, s:s, s:o, s:I, s:f, s:b, s:f, s:f}",
                     "label", l->label, "name", l->name, "kind", l->kind,
                     "shape", shape_json(&l->shape), "params",
                     (json_int_t)l->params, "macs", l->macs, "neurons",
                     l->neurons, "lambda", l->lambda, "lambda_prev",
                     l->lambda_prev);
}

static json_t *results_json(const snn_results *r)
{
    return json_pack("{s:I, s:i, s:b, s:f, s:f, s:b, s:f, s:f, s:I, s:f, s:f, "
                     "s:f, s:f, s:f, s:f, s:f}",
                     "num_samples", (json_int_t)r->num_samples, "top_k", r->top_k,
                     "ann_evaluated", r->ann_evaluated, "ann_top1", r->ann_top1,
                     "ann_topk", r->ann_topk, "simulated", r->simulated,
                     "snn_top1", r->snn_top1, "snn_topk", r->snn_topk,
                     "silent", (json_int_t)r->silent, "duration", r->duration,
                     "dt", r->dt, "mean_rate", r->mean_rate,
                     "synops_per_sample", r->synops_per_sample,
                     "sim_seconds", r->sim_seconds, "wall_seconds",
                     r->wall_seconds, "snn_class_avg", r->snn_class_avg);
}

static json_t *summary_json(const snn_report *r, size_t batch)
{
    json_t *layers = json_array(), *settings = json_array();
    for (int i = 0; i < r->n_layers; i++)
        json_array_append_new(layers, layer_json(&r->layers[i]));
    for (int i = 0; i < r->n_settings; i++)
        json_array_append_new(settings, json_pack("[s, s]", r->settings[i][0],
                                                  r->settings[i][1]));
    return json_pack("{s:i, s:i, s:i, s:i, s:f, s:f, s:I, s:I, s:I, s:o, s:f, "
                     "s:s, s:o, s:o, s:o}",
                     "plots", (int)r->plots, "steps", r->steps, "top_k", r->top_k,
                     "n_classes", r->n_classes, "dt", r->dt, "v_thresh",
                     r->v_thresh, "n_tested", (json_int_t)r->n_tested, "n_rec",
                     (json_int_t)r->n_rec, "batch_size", (json_int_t)batch,
                     "input_shape", shape_json(&r->input_shape), "ann_macs",
                     r->ann_macs, "source", r->source, "results",
                     results_json(&r->results), "layers", layers, "settings",
                     settings);
}

static snn_status save_summary(const snn_report *r, const char *dir,
                               size_t batch, snn_error *err)
{
    char path[PATH_LEN];
    snn_status st = snn_path_join(path, sizeof path, dir, "summary.json", err);
    if (st != SNN_OK)
        return st;
    json_t *j = summary_json(r, batch);
    char *text = j ? json_dumps(j, JSON_INDENT(1) | JSON_REAL_PRECISION(12)) : NULL;
    json_decref(j);
    if (!text)
        return snn_error_set(err, SNN_E_NOMEM, "cannot format %s", path);
    st = snn_write_atomic(path, text, strlen(text), err);
    free(text);
    return st;
}

snn_status rp_logvars_save(const snn_report *r, const char *log_dir,
                           size_t batch_size, snn_error *err)
{
    char dir[PATH_LEN];
    snn_status st = snn_path_join(dir, sizeof dir, log_dir, "log_vars", err);
    if (st == SNN_OK)
        st = snn_mkdirs(dir, err);
    for (size_t s0 = 0, b = 0; st == SNN_OK && s0 < r->n_rec; s0 += batch_size, b++)
        st = save_batch(r, dir, b, s0,
                        s0 + batch_size < r->n_rec ? s0 + batch_size : r->n_rec, err);
    if (st == SNN_OK)
        st = save_run(r, dir, err);
    if (st == SNN_OK)
        st = save_summary(r, dir, batch_size, err);
    return st;
}

/* ---- reading back ---- */

/* Limits that keep a hostile summary from asking for absurd buffers. */
#define MAX_STEPS 10000000
#define MAX_LAYERS 4096
#define MAX_TESTED 100000000
#define MAX_NEURONS ((json_int_t)1 << 28)

static snn_status bad(snn_error *err, const char *path, const char *what)
{
    return snn_error_set(err, SNN_E_FORMAT, "%s: %s", path, what);
}

static int read_shape(json_t *a, snn_shape *s)
{
    if (!json_is_array(a) || json_array_size(a) < 1 || json_array_size(a) > 3)
        return 0;
    s->ndim = (int)json_array_size(a);
    json_int_t numel = 1;
    for (int d = 0; d < s->ndim; d++) {
        json_t *v = json_array_get(a, (size_t)d);
        if (!json_is_integer(v) || json_integer_value(v) <= 0 ||
            json_integer_value(v) > MAX_NEURONS)
            return 0;
        s->dims[d] = (size_t)json_integer_value(v);
        numel *= json_integer_value(v);
        if (numel > MAX_NEURONS)
            return 0;
    }
    return 1;
}

static double num(json_t *o, const char *key)
{
    return json_number_value(json_object_get(o, key));
}

static void copy_str(char *dst, size_t n, json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    snprintf(dst, n, "%s", v ? v : "");
}

static int load_layer(json_t *j, rp_layer *l)
{
    copy_str(l->label, sizeof l->label, j, "label");
    copy_str(l->name, sizeof l->name, j, "name");
    copy_str(l->kind, sizeof l->kind, j, "kind");
    l->params = (size_t)num(j, "params");
    l->macs = num(j, "macs");
    l->neurons = json_is_true(json_object_get(j, "neurons"));
    l->lambda = num(j, "lambda");
    l->lambda_prev = num(j, "lambda_prev");
    if (!read_shape(json_object_get(j, "shape"), &l->shape) || !l->label[0] ||
        strchr(l->label, '/') || strstr(l->label, ".."))
        return 0;
    l->size = snn_shape_numel(&l->shape);
    return 1;
}

static void load_results(json_t *j, snn_results *r)
{
    r->num_samples = (size_t)num(j, "num_samples");
    r->top_k = (int)num(j, "top_k");
    r->ann_evaluated = json_is_true(json_object_get(j, "ann_evaluated"));
    r->ann_top1 = num(j, "ann_top1");
    r->ann_topk = num(j, "ann_topk");
    r->simulated = json_is_true(json_object_get(j, "simulated"));
    r->snn_top1 = num(j, "snn_top1");
    r->snn_topk = num(j, "snn_topk");
    r->silent = (size_t)num(j, "silent");
    r->duration = num(j, "duration");
    r->dt = num(j, "dt");
    r->mean_rate = num(j, "mean_rate");
    r->synops_per_sample = num(j, "synops_per_sample");
    r->sim_seconds = num(j, "sim_seconds");
    r->wall_seconds = num(j, "wall_seconds");
    r->snn_class_avg = num(j, "snn_class_avg");
}

static void load_settings(json_t *a, snn_report *r)
{
    for (size_t i = 0; i < json_array_size(a) && r->n_settings < RP_MAX_SETTINGS; i++) {
        json_t *kv = json_array_get(a, i);
        const char *k = json_string_value(json_array_get(kv, 0));
        const char *v = json_string_value(json_array_get(kv, 1));
        if (!k || !v)
            continue;
        snprintf(r->settings[r->n_settings][0], sizeof r->settings[0][0], "%s", k);
        snprintf(r->settings[r->n_settings][1], sizeof r->settings[0][1], "%s", v);
        r->n_settings++;
    }
}

static snn_status load_summary(snn_report *r, const char *path, size_t *batch,
                               snn_error *err)
{
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    if (!j)
        return snn_error_set(err, SNN_E_FORMAT, "%s: %s (line %d)", path,
                             je.text, je.line);
    json_t *layers = json_object_get(j, "layers");
    double steps = num(j, "steps"), tested = num(j, "n_tested"), rec = num(j, "n_rec");
    double b = num(j, "batch_size"), classes = num(j, "n_classes");
    snn_status st = SNN_OK;
    if (!json_is_array(layers) || json_array_size(layers) > MAX_LAYERS ||
        !(steps >= 1 && steps <= MAX_STEPS) || !(tested >= 1 && tested <= MAX_TESTED) ||
        !(rec >= 1 && rec <= tested && rec <= SNN_REPORT_MAX_SAMPLES) ||
        !(b >= 1 && b <= MAX_TESTED) || !(classes >= 1 && classes <= 1e5) ||
        !read_shape(json_object_get(j, "input_shape"), &r->input_shape))
        st = bad(err, path, "summary fields missing or out of range");
    r->layers = st == SNN_OK ? calloc(json_array_size(layers) + 1, sizeof *r->layers) : NULL;
    if (st == SNN_OK && !r->layers)
        st = snn_error_set(err, SNN_E_NOMEM, "%s: cannot allocate layers", path);
    for (size_t i = 0; st == SNN_OK && i < json_array_size(layers); i++, r->n_layers++)
        if (!load_layer(json_array_get(layers, i), &r->layers[i]))
            st = bad(err, path, "a layer entry is malformed");
    if (st == SNN_OK) {
        r->plots = (unsigned)num(j, "plots") & SNN_PLOT_ALL;
        r->steps = (int)steps;
        r->top_k = (int)num(j, "top_k");
        r->n_classes = (int)classes;
        r->dt = num(j, "dt");
        r->v_thresh = num(j, "v_thresh");
        r->n_tested = (size_t)tested;
        r->n_rec = (size_t)rec;
        r->ann_macs = num(j, "ann_macs");
        *batch = (size_t)b;
        copy_str(r->source, sizeof r->source, j, "source");
        load_results(json_object_get(j, "results"), &r->results);
        load_settings(json_object_get(j, "settings"), r);
    }
    json_decref(j);
    return st;
}

/* Reads member `name` expecting exactly n values; *out is malloc'd. */
static snn_status load_floats(const char *path, const char *name, size_t n,
                              float **out, snn_error *err)
{
    snn_tensor t = {0};
    snn_status st = snn_npz_load(path, name, &t, err);
    if (st == SNN_OK && snn_tensor_numel(&t) != n)
        st = snn_error_set(err, SNN_E_SHAPE, "%s: %s holds %zu values, the "
                           "summary says %zu", path, name, snn_tensor_numel(&t), n);
    if (st == SNN_OK) {
        *out = t.data;
        t.data = NULL;
    }
    snn_tensor_free(&t);
    return st;
}

static snn_status load_doubles(const char *path, const char *name, size_t n,
                               double **out, snn_error *err)
{
    float *f = NULL;
    snn_status st = load_floats(path, name, n, &f, err);
    *out = st == SNN_OK ? malloc((n ? n : 1) * sizeof **out) : NULL;
    if (st == SNN_OK && !*out)
        st = snn_error_set(err, SNN_E_NOMEM, "%s: cannot read %s", path, name);
    for (size_t i = 0; st == SNN_OK && i < n; i++)
        (*out)[i] = f[i];
    free(f);
    return st;
}

static snn_status load_ints(const char *path, const char *name, size_t n,
                            int **out, snn_error *err)
{
    float *f = NULL;
    snn_status st = load_floats(path, name, n, &f, err);
    *out = st == SNN_OK ? malloc((n ? n : 1) * sizeof **out) : NULL;
    if (st == SNN_OK && !*out)
        st = snn_error_set(err, SNN_E_NOMEM, "%s: cannot read %s", path, name);
    for (size_t i = 0; st == SNN_OK && i < n; i++)
        (*out)[i] = f[i] >= -1 && f[i] < 1e6f ? (int)f[i] : -2;
    free(f);
    return st;
}

/* Appends rows of one batch member to the whole-run array at row s0. */
static snn_status load_rows(const char *path, const char *var, const char *label,
                            size_t nb, size_t size, float *dst, snn_error *err)
{
    char name[SNN_NAME_MAX + 96];
    float *rows = NULL;
    if (label)
        snprintf(name, sizeof name, "%s/%s", var, label);
    else
        snprintf(name, sizeof name, "%s", var);
    snn_status st = load_floats(path, name, nb * size, &rows, err);
    if (st == SNN_OK)
        memcpy(dst, rows, nb * size * sizeof(float));
    free(rows);
    return st;
}

static snn_status alloc_layer_rows(snn_report *r, rp_layer *l, snn_error *err)
{
    size_t n, steps = (size_t)r->steps;
    if (!snn_size_mul(l->size, steps, &n) || !snn_size_mul(n, sizeof(float), &n))
        return snn_error_set(err, SNN_E_NOMEM, "layer %s too large", l->label);
    l->act = calloc(r->n_rec * l->size + 1, sizeof(float));
    l->counts = calloc(r->n_rec * l->size + 1, sizeof(float));
    l->raster0 = calloc(l->size * steps + 1, 1);
    l->vmem0 = l->neurons ? calloc(l->size * steps + 1, sizeof(float)) : NULL;
    if (!l->act || !l->counts || !l->raster0 || (l->neurons && !l->vmem0))
        return snn_error_set(err, SNN_E_NOMEM, "cannot allocate layer %s", l->label);
    return SNN_OK;
}

/* Sample 0's (1, <shape>, steps) arrays back to steps x size. */
static snn_status load_sample0(const char *path, snn_report *r, rp_layer *l,
                               snn_error *err)
{
    char name[SNN_NAME_MAX + 96];
    size_t steps = (size_t)r->steps;
    float *v = NULL;
    snprintf(name, sizeof name, "spiketrains_n_b_l_t/%s", l->label);
    snn_status st = load_floats(path, name, l->size * steps, &v, err);
    for (size_t i = 0; st == SNN_OK && i < l->size; i++)
        for (size_t t = 0; t < steps; t++)
            l->raster0[t * l->size + i] = v[i * steps + t] != 0;
    free(v);
    v = NULL;
    snprintf(name, sizeof name, "mem_n_b_l_t/%s", l->label);
    if (st == SNN_OK && l->neurons)
        st = load_floats(path, name, l->size * steps, &v, err);
    for (size_t i = 0; st == SNN_OK && l->neurons && i < l->size; i++)
        for (size_t t = 0; t < steps; t++)
            l->vmem0[t * l->size + i] = v[i * steps + t];
    free(v);
    return st;
}

static snn_status load_batch(snn_report *r, const char *dir, size_t b,
                             size_t s0, size_t nb, snn_error *err)
{
    char path[PATH_LEN], name[64];
    snprintf(name, sizeof name, "%zu.npz", b);
    snn_status st = snn_path_join(path, sizeof path, dir, name, err);
    size_t in_size = snn_shape_numel(&r->input_shape);
    if (st == SNN_OK)
        st = load_rows(path, "input_image_b_l", NULL, nb, in_size,
                       r->input + s0 * in_size, err);
    for (int i = 0; st == SNN_OK && i < r->n_layers; i++) {
        rp_layer *l = &r->layers[i];
        st = load_rows(path, "activations_n_b_l", l->label, nb, l->size,
                       l->act + s0 * l->size, err);
        if (st == SNN_OK)
            st = load_rows(path, "spikecounts_n_b_l", l->label, nb, l->size,
                           l->counts + s0 * l->size, err);
        if (st == SNN_OK && b == 0)
            st = load_sample0(path, r, l, err);
    }
    return st;
}

/* Layers without weights have no member, so a missing one is no error. */
static void load_weights(snn_report *r, const char *path)
{
    char name[SNN_NAME_MAX + 96];
    for (int i = 0; i < r->n_layers; i++) {
        rp_layer *l = &r->layers[i];
        snn_tensor t = {0};
        snprintf(name, sizeof name, "weights/%s", l->label);
        if (snn_npz_load(path, name, &t, NULL) != SNN_OK)
            continue;
        l->n_weights = snn_tensor_numel(&t);
        l->weights = t.data;
    }
}

static snn_status load_run(snn_report *r, const char *dir, snn_error *err)
{
    char path[PATH_LEN];
    size_t steps = (size_t)r->steps;
    snn_status st = snn_path_join(path, sizeof path, dir, "run.npz", err);
    if (st == SNN_OK)
        st = load_doubles(path, "top1err_t", steps, &r->top1_t, err);
    if (st == SNN_OK)
        st = load_doubles(path, "top5err_t", steps, &r->topk_t, err);
    if (st == SNN_OK)
        st = load_doubles(path, "synaptic_operations_t", steps, &r->synops_t, err);
    if (st == SNN_OK)
        st = load_ints(path, "true_classes", r->n_tested, &r->truth, err);
    if (st == SNN_OK)
        st = load_ints(path, "guessed_classes", r->n_tested, &r->guess, err);
    if (st == SNN_OK)
        load_weights(r, path);
    return st;
}

snn_status rp_logvars_load(snn_report *r, const char *log_dir, snn_error *err)
{
    char dir[PATH_LEN], path[PATH_LEN];
    size_t batch = 1;
    snn_status st = snn_path_join(dir, sizeof dir, log_dir, "log_vars", err);
    if (st == SNN_OK)
        st = snn_path_join(path, sizeof path, dir, "summary.json", err);
    if (st == SNN_OK)
        st = load_summary(r, path, &batch, err);
    if (st == SNN_OK && !r->plots)
        r->plots = SNN_PLOT_ALL;
    size_t in_size = snn_shape_numel(&r->input_shape);
    r->input = st == SNN_OK ? calloc(r->n_rec * in_size + 1, sizeof(float)) : NULL;
    if (st == SNN_OK && !r->input)
        st = snn_error_set(err, SNN_E_NOMEM, "cannot allocate the inputs");
    for (int i = 0; st == SNN_OK && i < r->n_layers; i++)
        st = alloc_layer_rows(r, &r->layers[i], err);
    for (size_t s0 = 0, b = 0; st == SNN_OK && s0 < r->n_rec; s0 += batch, b++)
        st = load_batch(r, dir, b, s0, s0 + batch < r->n_rec ? batch : r->n_rec - s0, err);
    if (st == SNN_OK)
        st = load_run(r, dir, err);
    return st;
}
