/*
 * dataset.c - the test set a run is scored on: samples x and one-hot labels
 * y, loaded from the .npz pair the original toolbox uses or from the IDX
 * files MNIST-like datasets ship as, and checked to belong together; and
 * the same two formats as dataset sources (source.h), read row by row.
 */
#include "snntb/dataset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/rows.h"
#include "io/source.h"

#define DS_PATH_MAX 4096
#define IDX_CLASSES 10

static snn_status join(char *buf, const char *dir, const char *name,
                       snn_error *err)
{
    if ((size_t)snprintf(buf, DS_PATH_MAX, "%s/%s", dir, name) >= DS_PATH_MAX)
        return snn_error_set(err, SNN_E_INVALID, "%s: path too long", dir);
    return SNN_OK;
}

static snn_status check_count(const char *xpath, const snn_tensor *x,
                              const char *ypath, const snn_tensor *y,
                              snn_error *err)
{
    if (x->ndim < 1)
        return snn_error_set(err, SNN_E_SHAPE,
                             "%s: samples are a scalar, expected (N, ...)",
                             xpath);
    if (x->dims[0] != y->dims[0])
        return snn_error_set(err, SNN_E_SHAPE,
                             "%s has %zu samples but %s has %zu labels", xpath,
                             x->dims[0], ypath, y->dims[0]);
    return SNN_OK;
}

/* Rows must hold exactly one 1 and zeros elsewhere, so that the label
 * (the argmax) is unambiguous. */
static snn_status check_one_hot(const char *ypath, const snn_tensor *y,
                                snn_error *err)
{
    char shape[256];
    if (y->ndim != 2 || y->dims[1] == 0)
        return snn_error_set(err, SNN_E_SHAPE,
                             "%s: labels have shape %s, expected (N, classes)"
                             " one-hot",
                             ypath, snn_shape_str(y->ndim, y->dims, shape,
                                                  sizeof shape));
    for (size_t i = 0; i < y->dims[0]; i++) {
        const float *row = y->data + i * y->dims[1];
        size_t ones = 0, zeros = 0;
        for (size_t j = 0; j < y->dims[1]; j++) {
            ones += row[j] == 1.0f;
            zeros += row[j] == 0.0f;
        }
        if (ones != 1 || ones + zeros != y->dims[1])
            return snn_error_set(err, SNN_E_FORMAT,
                                 "%s: label row %zu is not one-hot", ypath, i);
    }
    return SNN_OK;
}

snn_status snn_dataset_load_npz(snn_dataset *d, const char *dir,
                                snn_error *err)
{
    memset(d, 0, sizeof *d);
    char xpath[DS_PATH_MAX], ypath[DS_PATH_MAX];
    snn_status st = join(xpath, dir, "x_test.npz", err);
    if (st == SNN_OK)
        st = join(ypath, dir, "y_test.npz", err);
    if (st == SNN_OK)
        st = snn_npz_load(xpath, "arr_0", &d->x, err);
    if (st == SNN_OK)
        st = snn_npz_load(ypath, "arr_0", &d->y, err);
    if (st == SNN_OK)
        st = check_one_hot(ypath, &d->y, err);
    if (st == SNN_OK)
        st = check_count(xpath, &d->x, ypath, &d->y, err);
    if (st != SNN_OK)
        snn_dataset_free(d);
    return st;
}

/* MNIST mirrors differ in whether they keep the files gzipped. */
static snn_status find_idx(char *buf, const char *dir, const char *base,
                           snn_error *err)
{
    char gz[DS_PATH_MAX / 2];
    snprintf(gz, sizeof gz, "%s.gz", base);
    snn_status st = join(buf, dir, gz, err);
    if (st != SNN_OK || access(buf, R_OK) == 0)
        return st;
    st = join(buf, dir, base, err);
    if (st != SNN_OK || access(buf, R_OK) == 0)
        return st;
    return snn_error_set(err, SNN_E_IO, "%s: neither %s.gz nor %s is readable",
                         dir, base, base);
}

static snn_status load_images(const char *path, snn_tensor *x, snn_error *err)
{
    snn_status st = snn_idx_load(path, x, err);
    if (st != SNN_OK)
        return st;
    if (x->ndim != 3) {
        char shape[256];
        return snn_error_set(err, SNN_E_SHAPE,
                             "%s: images have shape %s, expected (N, H, W)",
                             path, snn_shape_str(x->ndim, x->dims, shape,
                                                 sizeof shape));
    }
    /* Insert the channel axis: (N, H, W) -> (N, 1, H, W), same layout. */
    x->dims[3] = x->dims[2];
    x->dims[2] = x->dims[1];
    x->dims[1] = 1;
    x->ndim = 4;
    size_t n = snn_tensor_numel(x);
    for (size_t i = 0; i < n; i++)
        x->data[i] /= 255.0f;
    return SNN_OK;
}

static snn_status labels_to_one_hot(const char *path, const snn_tensor *raw,
                                    snn_tensor *y, snn_error *err)
{
    if (raw->ndim != 1)
        return snn_error_set(err, SNN_E_SHAPE,
                             "%s: labels have rank %d, expected 1", path,
                             raw->ndim);
    size_t dims[2] = {raw->dims[0], IDX_CLASSES};
    snn_status st = snn_tensor_init(y, 2, dims, err);
    if (st != SNN_OK)
        return st;
    for (size_t i = 0; i < dims[0]; i++) {
        float v = raw->data[i];
        if (!(v >= 0.0f && v < IDX_CLASSES) || v != (float)(int)v)
            return snn_error_set(err, SNN_E_FORMAT,
                                 "%s: label %g of sample %zu is not a class "
                                 "in 0..%d",
                                 path, (double)v, i, IDX_CLASSES - 1);
        y->data[i * IDX_CLASSES + (size_t)v] = 1.0f;
    }
    return SNN_OK;
}

static snn_status load_labels(const char *path, snn_tensor *y, snn_error *err)
{
    snn_tensor raw;
    snn_status st = snn_idx_load(path, &raw, err);
    if (st == SNN_OK)
        st = labels_to_one_hot(path, &raw, y, err);
    snn_tensor_free(&raw);
    return st;
}

snn_status snn_dataset_load_idx(snn_dataset *d, const char *dir,
                                snn_error *err)
{
    memset(d, 0, sizeof *d);
    char xpath[DS_PATH_MAX], ypath[DS_PATH_MAX];
    snn_status st = find_idx(xpath, dir, "t10k-images-idx3-ubyte", err);
    if (st == SNN_OK)
        st = find_idx(ypath, dir, "t10k-labels-idx1-ubyte", err);
    if (st == SNN_OK)
        st = load_images(xpath, &d->x, err);
    if (st == SNN_OK)
        st = load_labels(ypath, &d->y, err);
    if (st == SNN_OK)
        st = check_count(xpath, &d->x, ypath, &d->y, err);
    if (st != SNN_OK)
        snn_dataset_free(d);
    return st;
}

snn_status snn_idx_load_images(const char *dir, const char *base,
                               snn_tensor *x, snn_error *err)
{
    char path[DS_PATH_MAX];
    snn_status st = find_idx(path, dir, base, err);
    if (st == SNN_OK)
        st = load_images(path, x, err);
    return st;
}

void snn_dataset_free(snn_dataset *d)
{
    if (!d)
        return;
    snn_tensor_free(&d->x);
    snn_tensor_free(&d->y);
}

size_t snn_dataset_size(const snn_dataset *d)
{
    return d->x.ndim > 0 ? d->x.dims[0] : 0;
}

int snn_dataset_label(const snn_dataset *d, size_t i)
{
    if (d->y.ndim != 2 || i >= d->y.dims[0] || d->y.dims[1] == 0)
        return -1;
    const float *row = d->y.data + i * d->y.dims[1];
    size_t best = 0;
    for (size_t j = 1; j < d->y.dims[1]; j++)
        if (row[j] > row[best])
            best = j;
    return (int)best;
}

/* ---- npz and idx as dataset sources (source.h) ---- */

static snn_status rows_read(void *impl, size_t first, size_t n, float *x,
                            snn_error *err)
{
    return snn_rows_read(impl, first, n, x, err);
}

static void rows_close(void *impl)
{
    snn_rows_close(impl);
}

/* The argmax of each one-hot row of y as s->labels. */
static snn_status take_labels(snn_dataset_src *s, const snn_tensor *y,
                              snn_error *err)
{
    snn_dataset d = {{0}, *y};
    s->labels = malloc((y->dims[0] ? y->dims[0] : 1) * sizeof *s->labels);
    if (!s->labels)
        return snn_error_set(err, SNN_E_NOMEM, "cannot keep %zu labels",
                             y->dims[0]);
    for (size_t i = 0; i < y->dims[0]; i++)
        s->labels[i] = snn_dataset_label(&d, i);
    s->classes = y->dims[1];
    return SNN_OK;
}

/* The rows source's shape as the samples' shape; the count must match
 * the labels'. */
static snn_status take_rows(snn_dataset_src *s, snn_rows *rows,
                            const char *ypath, const snn_tensor *y,
                            snn_error *err)
{
    size_t dims[SNN_MAX_DIMS];
    int ndim = snn_rows_shape(rows, dims);
    s->impl = rows;
    s->read = rows_read;
    s->close = rows_close;
    s->n = dims[0];
    s->ndim = ndim - 1;
    memcpy(s->dims, dims + 1, (size_t)s->ndim * sizeof *dims);
    if (dims[0] != y->dims[0])
        return snn_error_set(err, SNN_E_SHAPE,
                             "%s has %zu samples but %s has %zu labels",
                             s->name, dims[0], ypath, y->dims[0]);
    return SNN_OK;
}

snn_status ds_open_npz(snn_dataset_src *s, const char *dir, snn_error *err)
{
    char xpath[DS_PATH_MAX], ypath[DS_PATH_MAX];
    snn_tensor y = {0};
    snn_rows *rows = NULL;
    snn_status st = join(xpath, dir, "x_test.npz", err);
    if (st == SNN_OK)
        st = join(ypath, dir, "y_test.npz", err);
    snprintf(s->name, sizeof s->name, "%s", xpath);
    if (st == SNN_OK)
        st = snn_npz_load(ypath, "arr_0", &y, err);
    if (st == SNN_OK)
        st = check_one_hot(ypath, &y, err);
    if (st == SNN_OK)
        st = take_labels(s, &y, err);
    if (st == SNN_OK)
        st = snn_rows_open_npz(&rows, xpath, "arr_0", err);
    if (st == SNN_OK)
        st = take_rows(s, rows, ypath, &y, err);
    snn_tensor_free(&y);
    return st;
}

/* IDX images come as bytes: scaled to [0, 1] like load_images. */
static snn_status idx_images_read(void *impl, size_t first, size_t n,
                                  float *x, snn_error *err)
{
    size_t dims[SNN_MAX_DIMS];
    snn_rows_shape(impl, dims);
    snn_status st = snn_rows_read(impl, first, n, x, err);
    for (size_t i = 0; st == SNN_OK && i < n * dims[1] * dims[2]; i++)
        x[i] /= 255.0f;
    return st;
}

snn_status ds_open_idx(snn_dataset_src *s, const char *dir, snn_error *err)
{
    char xpath[DS_PATH_MAX], ypath[DS_PATH_MAX];
    snn_tensor y = {0};
    snn_rows *rows = NULL;
    snn_status st = find_idx(xpath, dir, "t10k-images-idx3-ubyte", err);
    if (st == SNN_OK)
        st = find_idx(ypath, dir, "t10k-labels-idx1-ubyte", err);
    snprintf(s->name, sizeof s->name, "%s", xpath);
    if (st == SNN_OK)
        st = load_labels(ypath, &y, err);
    if (st == SNN_OK)
        st = take_labels(s, &y, err);
    if (st == SNN_OK)
        st = snn_rows_open_idx(&rows, xpath, err);
    if (st == SNN_OK)
        st = take_rows(s, rows, ypath, &y, err);
    size_t dims[SNN_MAX_DIMS];
    if (st == SNN_OK && snn_rows_shape(rows, dims) != 3)
        st = snn_error_set(err, SNN_E_SHAPE,
                           "%s: images have rank %d, expected (N, H, W)",
                           xpath, snn_rows_shape(rows, dims));
    if (st == SNN_OK) {
        s->read = idx_images_read;
        s->ndim = 3;
        s->dims[0] = 1;
        s->dims[1] = dims[1];
        s->dims[2] = dims[2];
    }
    snn_tensor_free(&y);
    return st;
}
