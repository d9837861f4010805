/*
 * dataset.h - the samples a run is scored on, and the readers that load
 * them: NumPy .npy/.npz as the original toolbox stores datasets, and IDX
 * (*-ubyte.gz) as MNIST and Fashion-MNIST ship.
 */
#ifndef SNNTB_DATASET_H
#define SNNTB_DATASET_H

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

#endif
