/*
 * imagefolder.c - dataset_format = jpg (or png): one folder of images per
 * class, as the original reads them through Keras's ImageDataGenerator
 * and flow_from_directory.  Each image is decoded, converted to the
 * colour mode, resized to the model's input (nearest neighbour, Keras's
 * default), and standardized by the datagen_kwargs snntb implements:
 * rescale, samplewise_center, samplewise_std_normalization,
 * featurewise_center and featurewise_std_normalization (fitted, as the
 * original does, on the first batch of the folder).  Samples come out
 * channels first (C, H, W).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "io/classdirs.h"
#include "io/image.h"
#include "io/kwargs.h"
#include "io/source.h"

#define KW_EPS 1e-6 /* Keras's std guard */

typedef struct imgfolder {
    ds_files files;
    int c;            /* 1, 3 or 4 channels */
    size_t h, w;
    double rescale;   /* 0: none */
    int sw_center, sw_std, fw_center, fw_std;
    double mean[4], std[4]; /* featurewise, per channel */
} imgfolder;

static const char *const image_exts[] = {"jpg", "jpeg", "png", NULL};
/* Keras reads these too; snntb has no decoder for them. */
static const char *const other_exts[] = {"bmp", "ppm", "tif", "tiff", NULL};

static const char *const datagen_known[] = {
    "rescale", "samplewise_center", "samplewise_std_normalization",
    "featurewise_center", "featurewise_std_normalization", NULL};
static const char *const dataflow_known[] = {
    "target_size", "color_mode", "classes", "class_mode", "batch_size",
    "shuffle", "seed", "interpolation", NULL};

/* Decoded, converted and resized, as float (C, H, W), before any
 * standardization but the rescale. */
static snn_status load_image(const imgfolder *f, size_t i, float *x,
                             snn_error *err)
{
    img8 im;
    snn_status st = img_decode(f->files.paths[i], &im, err);
    if (st == SNN_OK)
        st = img_convert(&im, f->c, err);
    if (st == SNN_OK)
        st = img_resize_nearest(&im, f->w, f->h, err);
    size_t hw = f->h * f->w;
    for (size_t p = 0; st == SNN_OK && p < hw; p++)
        for (int k = 0; k < f->c; k++) {
            float v = (float)im.px[p * (size_t)f->c + (size_t)k];
            x[(size_t)k * hw + p] = f->rescale ? v * (float)f->rescale : v;
        }
    img_free(&im);
    return st;
}

static void mean_std(const float *x, size_t n, size_t stride, double *mean,
                     double *std)
{
    double s = 0, q = 0;
    for (size_t i = 0; i < n; i++)
        s += x[i * stride];
    *mean = s / (double)n;
    for (size_t i = 0; i < n; i++) {
        double d = x[i * stride] - *mean;
        q += d * d;
    }
    *std = sqrt(q / (double)n);
}

static void standardize(const imgfolder *f, float *x)
{
    size_t hw = f->h * f->w, n = hw * (size_t)f->c;
    double m, s;
    mean_std(x, n, 1, &m, &s);
    for (size_t i = 0; f->sw_center && i < n; i++)
        x[i] -= (float)m;
    if (f->sw_center)
        mean_std(x, n, 1, &m, &s);
    for (size_t i = 0; f->sw_std && i < n; i++)
        x[i] /= (float)(s + KW_EPS);
    for (int k = 0; k < f->c; k++)
        for (size_t p = 0; p < hw; p++) {
            float *v = x + (size_t)k * hw + p;
            if (f->fw_center)
                *v -= (float)f->mean[k];
            if (f->fw_std)
                *v /= (float)(f->std[k] + KW_EPS);
        }
}

static snn_status imgfolder_read(void *impl, size_t first, size_t n, float *x,
                                 snn_error *err)
{
    imgfolder *f = impl;
    size_t per = f->h * f->w * (size_t)f->c;
    snn_status st = SNN_OK;
    for (size_t i = 0; st == SNN_OK && i < n; i++) {
        st = load_image(f, first + i, x + i * per, err);
        if (st == SNN_OK)
            standardize(f, x + i * per);
    }
    return st;
}

static void imgfolder_close(void *impl)
{
    imgfolder *f = impl;
    ds_files_free(&f->files);
    free(f);
}

/* Keras's fit() on the first batch: per-channel mean and std over all its
 * pixels. */
static snn_status fit_featurewise(imgfolder *f, size_t batch, snn_error *err)
{
    size_t hw = f->h * f->w, per = hw * (size_t)f->c;
    size_t b = batch < f->files.n ? batch : f->files.n;
    float *x = malloc(b * per * sizeof *x), *ch = malloc(b * hw * sizeof *ch);
    snn_status st = x && ch ? SNN_OK
                            : snn_error_set(err, SNN_E_NOMEM, "no memory "
                                            "to fit featurewise statistics");
    for (size_t i = 0; st == SNN_OK && i < b; i++)
        st = load_image(f, i, x + i * per, err);
    for (int k = 0; st == SNN_OK && k < f->c; k++) {
        for (size_t i = 0; i < b; i++)
            memcpy(ch + i * hw, x + i * per + (size_t)k * hw,
                   hw * sizeof *ch);
        mean_std(ch, b * hw, 1, &f->mean[k], &f->std[k]);
    }
    free(x);
    free(ch);
    return st;
}

/* class_idx_path: {"0": ["folder", "name"], "1": ...}, class i's folder
 * first in entry str(i). */
static snn_status classes_from_json(const char *path, char ***out,
                                    snn_error *err)
{
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (!json_is_object(root)) {
        json_decref(root);
        return snn_error_set(err, SNN_E_FORMAT, "%s: not a JSON object (%s)",
                             path, je.text);
    }
    size_t n = json_object_size(root);
    char **names = calloc(n + 1, sizeof *names);
    snn_status st = names ? SNN_OK
                          : snn_error_set(err, SNN_E_NOMEM, "no memory");
    for (size_t i = 0; st == SNN_OK && i < n; i++) {
        char key[32];
        snprintf(key, sizeof key, "%zu", i);
        const char *name =
            json_string_value(json_array_get(json_object_get(root, key), 0));
        if (!name)
            st = snn_error_set(err, SNN_E_FORMAT,
                               "%s: entry \"%s\" is not a list starting with "
                               "the class folder", path, key);
        else if (!(names[i] = strdup(name)))
            st = snn_error_set(err, SNN_E_NOMEM, "no memory");
    }
    json_decref(root);
    if (st != SNN_OK)
        snn_strlist_free(names);
    else
        *out = names;
    return st;
}

static snn_status classes_from_list(const py_value *v, char ***out,
                                    snn_error *err)
{
    if (v->kind != PY_LIST && v->kind != PY_TUPLE)
        return snn_error_set(err, SNN_E_INVALID, "config [input] "
                             "dataflow_kwargs: 'classes' must be a list");
    char **names = calloc(v->n + 1, sizeof *names);
    if (!names)
        return snn_error_set(err, SNN_E_NOMEM, "no memory");
    for (size_t i = 0; i < v->n; i++)
        if (v->items[i]->kind != PY_STR || !(names[i] = strdup(v->items[i]->text))) {
            snn_strlist_free(names);
            return snn_error_set(err, SNN_E_INVALID, "config [input] "
                                 "dataflow_kwargs: 'classes' must list "
                                 "folder names");
        }
    *out = names;
    return SNN_OK;
}

/* Class folders in label order: class_idx_path, dataflow_kwargs classes,
 * or the sorted sub-folders. */
static snn_status class_folders(const snn_config *cfg, const py_value *flow,
                                const char *dir, char ***out, snn_error *err)
{
    char path[DS_NAME_MAX];
    snn_status st = snn_config_get_path(cfg, "paths", "class_idx_path", path,
                                        sizeof path, err);
    if (st != SNN_OK)
        return st;
    if (path[0])
        return classes_from_json(path, out, err);
    const py_value *classes = kw_get(flow, "classes");
    if (classes && classes->kind != PY_NONE)
        return classes_from_list(classes, out, err);
    return ds_subdirs(dir, out, err);
}

static snn_status color_mode(const py_value *flow, int *c, snn_error *err)
{
    const char *mode;
    snn_status st = kw_str(flow, "config [input] dataflow_kwargs",
                           "color_mode", "rgb", &mode, err);
    if (st != SNN_OK)
        return st;
    *c = strcmp(mode, "grayscale") == 0 ? 1
         : strcmp(mode, "rgb") == 0     ? 3
         : strcmp(mode, "rgba") == 0    ? 4
                                        : 0;
    if (!*c)
        return snn_error_set(err, SNN_E_INVALID, "config [input] "
                             "dataflow_kwargs: color_mode '%s' is not "
                             "grayscale, rgb or rgba", mode);
    return SNN_OK;
}

/* Keras resizes to target_size; snntb to the model's input, which
 * target_size, when given, must equal. */
static snn_status check_flow(const py_value *flow, const imgfolder *f,
                             snn_error *err)
{
    const char *what = "config [input] dataflow_kwargs", *mode, *interp;
    const py_value *ts = kw_get(flow, "target_size");
    if (ts && (ts->kind != PY_TUPLE && ts->kind != PY_LIST))
        return snn_error_set(err, SNN_E_INVALID, "%s: target_size must be "
                             "(height, width)", what);
    if (ts && (ts->n != 2 || ts->items[0]->kind != PY_INT ||
               ts->items[1]->kind != PY_INT ||
               (size_t)ts->items[0]->i != f->h ||
               (size_t)ts->items[1]->i != f->w))
        return snn_error_set(err, SNN_E_SHAPE, "%s: target_size must be the "
                             "model's input size (%zu, %zu)", what, f->h,
                             f->w);
    snn_status st = kw_str(flow, what, "class_mode", "categorical", &mode, err);
    if (st == SNN_OK && strcmp(mode, "categorical") != 0)
        st = snn_error_set(err, SNN_E_UNSUPPORTED, "%s: class_mode '%s' is "
                           "not supported (categorical)", what, mode);
    if (st == SNN_OK)
        st = kw_str(flow, what, "interpolation", "nearest", &interp, err);
    if (st == SNN_OK && strcmp(interp, "nearest") != 0)
        st = snn_error_set(err, SNN_E_UNSUPPORTED, "%s: interpolation '%s' "
                           "is not supported (nearest)", what, interp);
    return st;
}

static snn_status read_datagen(const snn_config *cfg, imgfolder *f,
                               snn_error *err)
{
    const char *what = "config [input] datagen_kwargs";
    py_value *gen = NULL;
    snn_status st = kw_parse(cfg, "input", "datagen_kwargs", &gen, err);
    if (st == SNN_OK)
        st = kw_check(gen, "input", "datagen_kwargs", datagen_known, err);
    if (st == SNN_OK)
        st = kw_number(gen, what, "rescale", 0, &f->rescale, err);
    if (st == SNN_OK)
        st = kw_bool(gen, what, "samplewise_center", 0, &f->sw_center, err);
    if (st == SNN_OK)
        st = kw_bool(gen, what, "samplewise_std_normalization", 0, &f->sw_std,
                     err);
    if (st == SNN_OK)
        st = kw_bool(gen, what, "featurewise_center", 0, &f->fw_center, err);
    if (st == SNN_OK)
        st = kw_bool(gen, what, "featurewise_std_normalization", 0,
                     &f->fw_std, err);
    py_value_free(gen);
    return st;
}

static snn_status open_flow(const snn_config *cfg, imgfolder *f,
                            const char *dir, double *batch, size_t *classes,
                            snn_error *err)
{
    py_value *flow = NULL;
    char **folders = NULL;
    snn_status st = kw_parse(cfg, "input", "dataflow_kwargs", &flow, err);
    if (st == SNN_OK)
        st = kw_check(flow, "input", "dataflow_kwargs", dataflow_known, err);
    if (st == SNN_OK)
        st = check_flow(flow, f, err);
    int c = 0;
    if (st == SNN_OK)
        st = color_mode(flow, &c, err);
    if (st == SNN_OK && c != f->c)
        st = snn_error_set(err, SNN_E_SHAPE, "%s: the model takes %d "
                           "channel(s) but dataflow_kwargs color_mode gives "
                           "%d (grayscale 1, rgb 3, rgba 4)", dir, f->c, c);
    if (st == SNN_OK)
        st = kw_number(flow, "config [input] dataflow_kwargs", "batch_size",
                       (double)snn_config_get_int(cfg, "simulation",
                                                  "batch_size"),
                       batch, err);
    if (st == SNN_OK)
        st = class_folders(cfg, flow, dir, &folders, err);
    if (st == SNN_OK)
        st = ds_files_list(&f->files, dir, folders, NULL, image_exts,
                           other_exts, err);
    for (*classes = 0; folders && folders[*classes];)
        ++*classes;
    snn_strlist_free(folders);
    py_value_free(flow);
    return st;
}

snn_status ds_open_images(snn_dataset_src *s, const snn_config *cfg,
                          const char *dir, int in_ndim, const size_t *in_dims,
                          snn_error *err)
{
    snprintf(s->name, sizeof s->name, "%s", dir);
    if (in_ndim != 3 || in_dims[0] < 1 || in_dims[0] > 4 || in_dims[0] == 2)
        return snn_error_set(err, SNN_E_SHAPE, "%s: images need a model "
                             "input (channels, height, width) with 1, 3 or 4 "
                             "channels", dir);
    imgfolder *f = calloc(1, sizeof *f);
    if (!f)
        return snn_error_set(err, SNN_E_NOMEM, "no memory");
    s->impl = f;
    s->read = imgfolder_read;
    s->close = imgfolder_close;
    f->c = (int)in_dims[0];
    f->h = in_dims[1];
    f->w = in_dims[2];
    double batch = 1;
    snn_status st = read_datagen(cfg, f, err);
    if (st == SNN_OK)
        st = open_flow(cfg, f, dir, &batch, &s->classes, err);
    if (st == SNN_OK && (f->fw_center || f->fw_std))
        st = fit_featurewise(f, batch >= 1 ? (size_t)batch : 1, err);
    if (st != SNN_OK)
        return st;
    s->n = f->files.n;
    s->labels = malloc((s->n ? s->n : 1) * sizeof *s->labels);
    if (!s->labels)
        return snn_error_set(err, SNN_E_NOMEM, "no memory");
    memcpy(s->labels, f->files.labels, s->n * sizeof *s->labels);
    s->ndim = 3;
    memcpy(s->dims, in_dims, 3 * sizeof *in_dims);
    return SNN_OK;
}
