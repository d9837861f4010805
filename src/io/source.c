/*
 * source.c - snn_dataset_src (dataset.h): picks the backend the config's
 * dataset_format names and reads any list of sample indices through it,
 * one run of consecutive indices at a time.
 */
#include "io/source.h"

#include <stdlib.h>
#include <string.h>

static size_t sample_size(const snn_dataset_src *s)
{
    size_t n = 1;
    for (int i = 0; i < s->ndim; i++)
        n *= s->dims[i];
    return n;
}

snn_status snn_dataset_open(snn_dataset_src **out, const snn_config *cfg,
                            int in_ndim, const size_t *in_dims,
                            snn_error *err)
{
    *out = NULL;
    char dir[DS_NAME_MAX], format[64];
    snn_status st = snn_config_get_path(cfg, "paths", "dataset_path", dir,
                                        sizeof dir, err);
    if (st != SNN_OK)
        return st;
    if (!dir[0])
        return snn_error_set(err, SNN_E_INVALID,
                             "config [paths] dataset_path is not set");
    if (!snn_config_get_str(cfg, "input", "dataset_format", format,
                            sizeof format))
        return snn_error_set(err, SNN_E_INVALID,
                             "config [input] dataset_format is missing");
    snn_dataset_src *s = calloc(1, sizeof *s);
    if (!s)
        return snn_error_set(err, SNN_E_NOMEM, "cannot allocate a dataset");
    if (strcmp(format, "npz") == 0)
        st = ds_open_npz(s, dir, err);
    else if (strcmp(format, "idx") == 0)
        st = ds_open_idx(s, dir, err);
    else if (strcmp(format, "jpg") == 0 || strcmp(format, "png") == 0)
        st = ds_open_images(s, cfg, dir, in_ndim, in_dims, err);
    else if (strcmp(format, "aedat") == 0)
        st = ds_open_aedat(s, cfg, dir, in_ndim, in_dims, err);
    else
        st = snn_error_set(err, SNN_E_UNSUPPORTED,
                           "config [input] dataset_format = %s is not "
                           "supported (npz, idx, jpg, png, aedat)", format);
    if (st == SNN_OK && s->n == 0)
        st = snn_error_set(err, SNN_E_FORMAT, "%s: no samples", s->name);
    if (st != SNN_OK) {
        snn_dataset_close(s);
        return st;
    }
    *out = s;
    return SNN_OK;
}

void snn_dataset_close(snn_dataset_src *s)
{
    if (!s)
        return;
    if (s->close)
        s->close(s->impl);
    free(s->labels);
    free(s);
}

size_t snn_dataset_src_size(const snn_dataset_src *s)
{
    return s->n;
}

size_t snn_dataset_src_classes(const snn_dataset_src *s)
{
    return s->classes;
}

int snn_dataset_src_label(const snn_dataset_src *s, size_t i)
{
    return i < s->n ? s->labels[i] : -1;
}

void snn_dataset_src_shape(const snn_dataset_src *s, int *ndim, size_t *dims)
{
    *ndim = s->ndim;
    memcpy(dims, s->dims, (size_t)s->ndim * sizeof *dims);
}

const char *snn_dataset_src_name(const snn_dataset_src *s)
{
    return s->name;
}

/* Reuses t's buffer when its shape is already (n, dims). */
static snn_status shape_tensor(snn_tensor *t, size_t n, int ndim,
                               const size_t *dims, snn_error *err)
{
    size_t want[SNN_MAX_DIMS] = {n};
    memcpy(want + 1, dims, (size_t)ndim * sizeof *dims);
    int same = t->data && t->ndim == ndim + 1 &&
               memcmp(t->dims, want, (size_t)(ndim + 1) * sizeof *want) == 0;
    if (same)
        return SNN_OK;
    snn_tensor_free(t);
    return snn_tensor_init(t, ndim + 1, want, err);
}

static snn_status check_indices(const snn_dataset_src *s, const size_t *idx,
                                size_t n, snn_error *err)
{
    for (size_t i = 0; i < n; i++)
        if (idx[i] >= s->n)
            return snn_error_set(err, SNN_E_INVALID,
                                 "%s: sample index %zu is out of range (the "
                                 "dataset has %zu samples)",
                                 s->name, idx[i], s->n);
    return SNN_OK;
}

snn_status snn_dataset_src_read(snn_dataset_src *s, const size_t *idx,
                                size_t n, snn_tensor *x, snn_tensor *y,
                                snn_error *err)
{
    if (s->ndim + 1 > SNN_MAX_DIMS)
        return snn_error_set(err, SNN_E_SHAPE, "%s: samples have too many "
                             "dimensions", s->name);
    snn_status st = check_indices(s, idx, n, err);
    if (st == SNN_OK)
        st = shape_tensor(x, n, s->ndim, s->dims, err);
    size_t classes[1] = {s->classes};
    if (st == SNN_OK && y)
        st = shape_tensor(y, n, 1, classes, err);
    if (st != SNN_OK)
        return st;
    size_t per = sample_size(s);
    if (s->begin_read)
        s->begin_read(s->impl);
    for (size_t i = 0; i < n && st == SNN_OK;) {
        size_t run = 1;
        while (i + run < n && idx[i + run] == idx[i] + run)
            run++;
        st = s->read(s->impl, idx[i], run, x->data + i * per, err);
        i += run;
    }
    for (size_t i = 0; y && st == SNN_OK && i < n; i++) {
        memset(y->data + i * s->classes, 0, s->classes * sizeof(float));
        y->data[i * s->classes + (size_t)s->labels[idx[i]]] = 1.0f;
    }
    return st;
}

int snn_dataset_src_stepped(const snn_dataset_src *s)
{
    return s->step_frame != NULL;
}

snn_status snn_dataset_src_step_frame(snn_dataset_src *s, size_t k, int t,
                                      float *frame, snn_error *err)
{
    if (!s->step_frame)
        return snn_error_set(err, SNN_E_INVALID, "%s: gives no per-step "
                             "frames", s->name);
    return s->step_frame(s->impl, k, t, frame, err);
}
