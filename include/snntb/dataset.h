/*
 * dataset.h - the samples a run is scored on, and the readers that load
 * them: NumPy .npy/.npz as the original toolbox stores datasets, IDX
 * (*-ubyte.gz) as MNIST and Fashion-MNIST ship, image folders (JPEG, PNG)
 * and DVS event recordings (AEDAT).  A run reads its samples batch by
 * batch through a dataset source (snn_dataset_open), so its memory does
 * not grow with the number of samples tested.
 */
#ifndef SNNTB_DATASET_H
#define SNNTB_DATASET_H

#include "snntb/config.h"
#include "snntb/status.h"
#include "snntb/tensor.h"

/* Reads one .npy file into float32 (any of float32/64, int8..64, uint8..64,
 * bool; either byte order; C or Fortran order, converted to C order). */
snn_status snn_npy_load(const char *path, snn_tensor *out, snn_error *err);

/* Reads member `key` (e.g. "arr_0"; ".npy" is appended) of an .npz. */
snn_status snn_npz_load(const char *path, const char *key, snn_tensor *out,
                        snn_error *err);

/* Reads an IDX file, gzip-compressed or not, into float32 (values as
 * stored, no scaling). */
snn_status snn_idx_load(const char *path, snn_tensor *out, snn_error *err);

typedef struct snn_dataset {
    snn_tensor x; /* (N, ...) samples, as stored */
    snn_tensor y; /* (N, classes) one-hot */
} snn_dataset;

/* <dir>/x_test.npz and <dir>/y_test.npz, key arr_0, as the original reads. */
snn_status snn_dataset_load_npz(snn_dataset *d, const char *dir,
                                snn_error *err);

/* IDX test set in <dir>: t10k-images-idx3-ubyte(.gz) and
 * t10k-labels-idx1-ubyte(.gz).  Pixels are scaled to [0, 1], images become
 * (N, 1, H, W), labels one-hot over 10 classes. */
snn_status snn_dataset_load_idx(snn_dataset *d, const char *dir,
                                snn_error *err);

/* Images <dir>/<base>(.gz) (e.g. base "train-images-idx3-ubyte") scaled
 * to [0, 1] as (N, 1, H, W): the normalization set of an IDX dataset. */
snn_status snn_idx_load_images(const char *dir, const char *base,
                               snn_tensor *x, snn_error *err);

void snn_dataset_free(snn_dataset *d);
size_t snn_dataset_size(const snn_dataset *d);
/* Argmax of row i of y (the first on ties); -1 when i is out of range. */
int snn_dataset_label(const snn_dataset *d, size_t i);

/* A dataset read sample by sample: [input] dataset_format from
 * [paths] dataset_path, with the format's options from the config. */
typedef struct snn_dataset_src snn_dataset_src;

/* in_ndim/in_dims: the model's input (C, H, W) or flat (n), channels
 * first; image folders are resized to it and DVS frames are made at its
 * size (npz and idx samples come as stored). */
snn_status snn_dataset_open(snn_dataset_src **out, const snn_config *cfg,
                            int in_ndim, const size_t *in_dims,
                            snn_error *err);
void snn_dataset_close(snn_dataset_src *s);
size_t snn_dataset_src_size(const snn_dataset_src *s);
size_t snn_dataset_src_classes(const snn_dataset_src *s);
/* The class of sample i (i < size). */
int snn_dataset_src_label(const snn_dataset_src *s, size_t i);
/* One sample's shape as read (rank into *ndim, dims). */
void snn_dataset_src_shape(const snn_dataset_src *s, int *ndim, size_t *dims);
/* What the source reads, for messages ("<dataset_path>/x_test.npz"). */
const char *snn_dataset_src_name(const snn_dataset_src *s);
/* Reads samples idx[0..n) into x, (re)initialized as (n, sample shape),
 * and, when y is not NULL, their one-hot labels (n, classes). */
snn_status snn_dataset_src_read(snn_dataset_src *s, const size_t *idx,
                                size_t n, snn_tensor *x, snn_tensor *y,
                                snn_error *err);

/* Whether the source also gives each sample as a fresh input frame every
 * time step (aedat with [input] eventframe_width: the original's binary
 * event frames).  snn_dataset_src_read still gives one frame per sample,
 * the one the ANN is scored on. */
int snn_dataset_src_stepped(const snn_dataset_src *s);
/* The k-th sample of the last snn_dataset_src_read, its input frame of
 * time step t (from 0) into frame (one sample's size): 1 at the pixels of
 * that step's events, 0 elsewhere. */
snn_status snn_dataset_src_step_frame(snn_dataset_src *s, size_t k, int t,
                                      float *frame, snn_error *err);

#endif
