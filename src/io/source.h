/*
 * source.h - what every dataset format provides to snn_dataset_src
 * (dataset.h): its samples' labels and shape, and a reader of a run of
 * consecutive samples.  One backend per format: npz and idx (dataset.c),
 * image folders (imagefolder.c), AEDAT recordings (dvssource.c).
 */
#ifndef SNNTB_IO_SOURCE_H
#define SNNTB_IO_SOURCE_H

#include "snntb/dataset.h"

#define DS_NAME_MAX 4200

struct snn_dataset_src {
    char name[DS_NAME_MAX];
    size_t n, classes;
    int *labels; /* n classes, malloc'd */
    int ndim;    /* one sample's shape */
    size_t dims[SNN_MAX_DIMS];
    void *impl;
    /* Samples [first, first + n) into x (n * sample size floats). */
    snn_status (*read)(void *impl, size_t first, size_t n, float *x,
                       snn_error *err);
    void (*close)(void *impl);
    /* Optional (NULL): told before each snn_dataset_src_read. */
    void (*begin_read)(void *impl);
    /* Non-NULL when samples come as a fresh frame every time step: the
     * k-th sample of the last read, its frame of step t. */
    snn_status (*step_frame)(void *impl, size_t k, int t, float *frame,
                             snn_error *err);
};

/* Each fills s (zeroed by the caller) or fails; on failure
 * snn_dataset_close(s) frees what was filled. */
snn_status ds_open_npz(snn_dataset_src *s, const char *dir, snn_error *err);
snn_status ds_open_idx(snn_dataset_src *s, const char *dir, snn_error *err);
snn_status ds_open_images(snn_dataset_src *s, const snn_config *cfg,
                          const char *dir, int in_ndim, const size_t *in_dims,
                          snn_error *err);
snn_status ds_open_aedat(snn_dataset_src *s, const snn_config *cfg,
                         const char *dir, int in_ndim, const size_t *in_dims,
                         snn_error *err);

#endif
