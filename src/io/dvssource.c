/*
 * dvssource.c - dataset_format = aedat: one folder of AEDAT recordings
 * per class (labels by sorted folder name, or [input] label_dict), each
 * recording cut into samples of num_dvs_events_per_sample polarity events
 * (the last sample of a recording takes what is left), each sample one
 * frame (dvsframe.h) of the model's input size, channels first.  The
 * frames of the recording being read are kept; nothing else is.  Without
 * [input] eventframe_width the simulator gets that frame as a constant
 * input; with it, the source also keeps, for the samples of the last
 * read, which pixel each event sets in which time step's binary frame
 * (dvs_event_steps), and gives those frames one step at a time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/classdirs.h"
#include "io/dvsframe.h"
#include "io/kwargs.h"
#include "io/source.h"

/* One sample's events in its per-step frames: event j sets pixel pix[j]
 * at step step[j]. */
typedef struct step_list {
    size_t n;
    size_t *pix;
    int32_t *step;
} step_list;

typedef struct dvs_source {
    ds_files files;
    dvs_opts o;
    size_t per_sample;   /* events per sample */
    size_t *first;       /* files.n + 1: first sample of each recording */
    size_t cached;       /* recording whose frames are in frames, or -1 */
    float *frames;
    /* eventframe_width set (stepped): the cached recording's events
     * (outliers dropped), and per sample of the last read its events'
     * pixels and time steps. */
    int stepped;
    int64_t width;
    dvs_event *events;
    size_t n_events;
    step_list *lists;
    size_t n_lists, cap_lists;
} dvs_source;

static const char *const aedat_exts[] = {"aedat", NULL};
static const char *const no_exts[] = {NULL};

typedef struct counter {
    const dvs_opts *o;
    size_t n;
} counter;

static int count_event(void *user, const dvs_event *e)
{
    counter *c = user;
    dvs_event copy = *e;
    c->n += dvs_drop_outliers(c->o, &copy, 1);
    return 0;
}

static size_t frame_size(const dvs_source *d)
{
    return (size_t)dvs_channels(d->o.method) * d->o.frame[0] * d->o.frame[1];
}

/* Every frame of recording f, scaled together, into d->frames. */
static snn_status load_recording(dvs_source *d, size_t f, snn_error *err)
{
    dvs_event *ev = NULL, *prep = NULL;
    size_t n = 0, per = frame_size(d);
    size_t samples = d->first[f + 1] - d->first[f];
    aedat_info info;
    snn_status st = aedat_read(d->files.paths[f], &ev, &n, &info, err);
    if (st == SNN_OK)
        n = dvs_drop_outliers(&d->o, ev, n);
    if (st == SNN_OK && (n + d->per_sample - 1) / d->per_sample != samples)
        st = snn_error_set(err, SNN_E_IO, "%s: changed while being read",
                           d->files.paths[f]);
    free(d->frames);
    d->cached = (size_t)-1;
    d->frames = st == SNN_OK ? malloc((samples ? samples : 1) * per *
                                      sizeof *d->frames)
                             : NULL;
    prep = st == SNN_OK ? malloc(d->per_sample * sizeof *prep) : NULL;
    if (st == SNN_OK && (!d->frames || !prep))
        st = snn_error_set(err, SNN_E_NOMEM, "%s: no memory for %zu frames",
                           d->files.paths[f], samples);
    for (size_t k = 0; st == SNN_OK && k < samples; k++) {
        size_t at = k * d->per_sample;
        size_t m = n - at < d->per_sample ? n - at : d->per_sample;
        m = dvs_prepare(&d->o, ev + at, m, prep);
        dvs_frame(&d->o, prep, m, d->frames + k * per);
    }
    if (st == SNN_OK) {
        dvs_scale_frames(d->frames, samples * per);
        d->cached = f;
    }
    free(prep);
    free(d->events);
    d->events = st == SNN_OK && d->stepped ? ev : NULL;
    d->n_events = d->events ? n : 0;
    if (!d->events)
        free(ev);
    return st;
}

/* The recording holding sample i. */
static size_t recording_of(const dvs_source *d, size_t i)
{
    size_t lo = 0, hi = d->files.n;
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (d->first[mid] <= i)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

static void dvs_begin_read(void *impl)
{
    ((dvs_source *)impl)->n_lists = 0;
}

/* Appends sample i's step list (its recording f is cached). */
static snn_status add_step_list(dvs_source *d, size_t f, size_t i,
                                snn_error *err)
{
    if (d->n_lists == d->cap_lists) {
        size_t cap = d->cap_lists ? 2 * d->cap_lists : 16;
        step_list *l = realloc(d->lists, cap * sizeof *l);
        if (!l)
            return snn_error_set(err, SNN_E_NOMEM, "no memory");
        memset(l + d->cap_lists, 0, (cap - d->cap_lists) * sizeof *l);
        d->lists = l;
        d->cap_lists = cap;
    }
    step_list *l = &d->lists[d->n_lists];
    size_t at = (i - d->first[f]) * d->per_sample;
    size_t n = d->n_events - at < d->per_sample ? d->n_events - at
                                                : d->per_sample;
    const dvs_event *ev = d->events + at;
    dvs_event *prep = malloc((n ? n : 1) * sizeof *prep);
    free(l->pix);
    free(l->step);
    l->pix = malloc((n ? n : 1) * sizeof *l->pix);
    l->step = malloc((n ? n : 1) * sizeof *l->step);
    int ok = prep && l->pix && l->step;
    if (ok) {
        n = dvs_prepare(&d->o, ev, n, prep);
        ok = dvs_event_steps(&d->o, prep, n, d->width, l->pix, l->step);
    }
    free(prep);
    if (!ok)
        return snn_error_set(err, SNN_E_NOMEM, "%s: no memory for the event "
                             "frames of sample %zu", d->files.paths[f], i);
    l->n = n;
    d->n_lists++;
    return SNN_OK;
}

static snn_status dvs_read(void *impl, size_t first, size_t n, float *x,
                           snn_error *err)
{
    dvs_source *d = impl;
    size_t per = frame_size(d);
    for (size_t i = first; i < first + n; i++) {
        size_t f = recording_of(d, i);
        snn_status st = d->cached == f ? SNN_OK : load_recording(d, f, err);
        if (st == SNN_OK && d->stepped)
            st = add_step_list(d, f, i, err);
        if (st != SNN_OK)
            return st;
        memcpy(x + (i - first) * per, d->frames + (i - d->first[f]) * per,
               per * sizeof *x);
    }
    return SNN_OK;
}

static snn_status dvs_step_frame(void *impl, size_t k, int t, float *frame,
                                 snn_error *err)
{
    const dvs_source *d = impl;
    if (k >= d->n_lists)
        return snn_error_set(err, SNN_E_INVALID, "event frame of sample %zu "
                             "of a read of %zu samples", k, d->n_lists);
    const step_list *l = &d->lists[k];
    memset(frame, 0, frame_size(d) * sizeof *frame);
    for (size_t j = 0; j < l->n; j++)
        if (l->step[j] == t)
            frame[l->pix[j]] = 1.0f;
    return SNN_OK;
}

static void dvs_close(void *impl)
{
    dvs_source *d = impl;
    ds_files_free(&d->files);
    free(d->first);
    free(d->frames);
    free(d->events);
    for (size_t k = 0; k < d->cap_lists; k++) {
        free(d->lists[k].pix);
        free(d->lists[k].step);
    }
    free(d->lists);
    free(d);
}

/* chip_size = (x, y), or None for the frame's own size (no scaling). */
static snn_status read_chip(const snn_config *cfg, dvs_opts *o,
                            snn_error *err)
{
    char **items = NULL;
    o->chip[0] = o->frame[0];
    o->chip[1] = o->frame[1];
    const char *v = snn_config_get(cfg, "input", "chip_size");
    if (!v || strcmp(v, "None") == 0)
        return SNN_OK;
    snn_status st = snn_config_get_list(cfg, "input", "chip_size", &items, err);
    long a = 0, b = 0;
    if (st == SNN_OK && (!items[0] || !items[1] || items[2] ||
                         sscanf(items[0], "%ld", &a) != 1 ||
                         sscanf(items[1], "%ld", &b) != 1 || a < 1 || b < 1))
        st = snn_error_set(err, SNN_E_INVALID, "config [input] chip_size = "
                           "%s: expected (x size, y size)", v);
    snn_strlist_free(items);
    o->chip[0] = (size_t)a;
    o->chip[1] = (size_t)b;
    return st;
}

static snn_status read_opts(const snn_config *cfg, dvs_source *d, int in_ndim,
                            const size_t *in_dims, snn_error *err)
{
    char method[64] = "";
    snn_config_get_str(cfg, "input", "frame_gen_method", method,
                       sizeof method);
    int m = dvs_method_parse(method);
    if (m < 0)
        return snn_error_set(err, SNN_E_INVALID, "config [input] "
                             "frame_gen_method must be set for aedat input "
                             "(signed_sum, rectified_sum, "
                             "rectified_polarity_channels, "
                             "signed_polarity_channels)");
    d->o.method = (dvs_method)m;
    if (in_ndim != 3 || in_dims[0] != (size_t)dvs_channels(d->o.method))
        return snn_error_set(err, SNN_E_SHAPE, "config [input] "
                             "frame_gen_method = %s makes %d-channel frames; "
                             "the model's input must be (%d, height, width)",
                             method, dvs_channels(d->o.method),
                             dvs_channels(d->o.method));
    d->o.frame[0] = in_dims[1];
    d->o.frame[1] = in_dims[2];
    d->o.maxpool_subsampling =
        snn_config_get_bool(cfg, "input", "maxpool_subsampling");
    d->o.clip_three_sigma =
        snn_config_get_bool(cfg, "input", "do_clip_three_sigma");
    d->o.x_first = snn_config_get_bool(cfg, "input", "is_x_first");
    d->o.x_flipped = snn_config_get_bool(cfg, "input", "is_x_flipped");
    d->o.y_flipped = snn_config_get_bool(cfg, "input", "is_y_flipped");
    if (!d->o.x_first && in_dims[1] != in_dims[2])
        return snn_error_set(err, SNN_E_UNSUPPORTED, "config [input] "
                             "is_x_first = False needs a square input (the "
                             "original scales x to the first axis)");
    long per = snn_config_get_int(cfg, "input", "num_dvs_events_per_sample");
    if (per < 1)
        return snn_error_set(err, SNN_E_INVALID, "config [input] "
                             "num_dvs_events_per_sample must be >= 1");
    d->per_sample = (size_t)per;
    d->stepped = snn_config_is_set(cfg, "input", "eventframe_width");
    d->width = snn_config_get_int(cfg, "input", "eventframe_width");
    if (d->stepped && dvs_channels(d->o.method) != 1)
        return snn_error_set(err, SNN_E_UNSUPPORTED, "config [input] "
                             "eventframe_width: the per-step binary event "
                             "frames have one channel, as the original's; "
                             "frame_gen_method = %s makes two", method);
    return read_chip(cfg, &d->o, err);
}

/* Folder labels: label_dict {'folder': class}, which must name every
 * sub-folder, or the sorted order. */
static snn_status folder_labels(const snn_config *cfg, char **folders,
                                int **labels, size_t *classes, snn_error *err)
{
    py_value *dict = NULL;
    size_t n = 0;
    while (folders[n])
        n++;
    *classes = n;
    *labels = NULL;
    snn_status st = kw_parse(cfg, "input", "label_dict", &dict, err);
    if (st != SNN_OK || dict->n == 0) {
        py_value_free(dict);
        return st;
    }
    if (dict->n / 2 != n)
        st = snn_error_set(err, SNN_E_INVALID, "config [input] label_dict "
                           "has %zu classes but dataset_path has %zu class "
                           "folders", dict->n / 2, n);
    *labels = st == SNN_OK ? malloc((n ? n : 1) * sizeof **labels) : NULL;
    if (st == SNN_OK && !*labels)
        st = snn_error_set(err, SNN_E_NOMEM, "no memory");
    for (size_t i = 0; st == SNN_OK && i < n; i++) {
        const py_value *v = kw_get(dict, folders[i]);
        if (!v || v->kind != PY_INT || v->i < 0 || (size_t)v->i >= n)
            st = snn_error_set(err, SNN_E_INVALID, "config [input] "
                               "label_dict: folder '%s' needs a class in "
                               "0..%zu", folders[i], n - 1);
        else
            (*labels)[i] = (int)v->i;
    }
    py_value_free(dict);
    return st;
}

/* Counts each recording's samples (a pass over its events). */
static snn_status count_samples(dvs_source *d, snn_dataset_src *s,
                                snn_error *err)
{
    d->first = calloc(d->files.n + 1, sizeof *d->first);
    if (!d->first)
        return snn_error_set(err, SNN_E_NOMEM, "no memory");
    for (size_t f = 0; f < d->files.n; f++) {
        counter c = {&d->o, 0};
        aedat_info info;
        snn_status st = aedat_scan(d->files.paths[f], count_event, &c, &info,
                                   err);
        if (st != SNN_OK)
            return st;
        d->first[f + 1] =
            d->first[f] + (c.n + d->per_sample - 1) / d->per_sample;
    }
    s->n = d->first[d->files.n];
    s->labels = malloc((s->n ? s->n : 1) * sizeof *s->labels);
    if (!s->labels)
        return snn_error_set(err, SNN_E_NOMEM, "no memory");
    for (size_t f = 0; f < d->files.n; f++)
        for (size_t i = d->first[f]; i < d->first[f + 1]; i++)
            s->labels[i] = d->files.labels[f];
    return SNN_OK;
}

snn_status ds_open_aedat(snn_dataset_src *s, const snn_config *cfg,
                         const char *dir, int in_ndim, const size_t *in_dims,
                         snn_error *err)
{
    snprintf(s->name, sizeof s->name, "%s", dir);
    dvs_source *d = calloc(1, sizeof *d);
    if (!d)
        return snn_error_set(err, SNN_E_NOMEM, "no memory");
    d->cached = (size_t)-1;
    s->impl = d;
    s->read = dvs_read;
    s->close = dvs_close;
    s->begin_read = dvs_begin_read;
    char **folders = NULL;
    int *labels = NULL;
    snn_status st = read_opts(cfg, d, in_ndim, in_dims, err);
    if (st == SNN_OK)
        st = ds_subdirs(dir, &folders, err);
    if (st == SNN_OK)
        st = folder_labels(cfg, folders, &labels, &s->classes, err);
    if (st == SNN_OK)
        st = ds_files_list(&d->files, dir, folders, labels, aedat_exts,
                           no_exts, err);
    if (st == SNN_OK)
        st = count_samples(d, s, err);
    s->step_frame = d->stepped ? dvs_step_frame : NULL;
    s->ndim = 3;
    memcpy(s->dims, in_dims, 3 * sizeof *in_dims);
    snn_strlist_free(folders);
    free(labels);
    return st;
}
