/*
 * npzwrite.h - writes .npz archives (a zip of .npy arrays, as numpy.savez
 * makes them) for the script exports: numpy is the one package every
 * Python simulator has.  Internal to the library.
 */
#ifndef SNNTB_EXPORT_NPZWRITE_H
#define SNNTB_EXPORT_NPZWRITE_H

#include <stddef.h>
#include <zip.h>
#include "snntb/status.h"

typedef struct snn_npz_out {
    zip_t *zip;
    const char *path;
} snn_npz_out;

typedef enum snn_npz_dtype { SNN_NPZ_F32, SNN_NPZ_I64 } snn_npz_dtype;

/* libzip writes to a temporary file and renames it on close, so the
 * archive appears complete or not at all. */
snn_status snn_npz_create(snn_npz_out *o, const char *path, snn_error *err);

/* Adds array `name` (1-D, n elements); data is copied. */
snn_status snn_npz_add(snn_npz_out *o, const char *name, snn_npz_dtype t,
                       size_t n, const void *data, snn_error *err);

/* Adds array `name` of ndim dimensions (C order; up to 8). */
snn_status snn_npz_add_shaped(snn_npz_out *o, const char *name,
                              snn_npz_dtype t, int ndim, const size_t *dims,
                              const void *data, snn_error *err);

snn_status snn_npz_close(snn_npz_out *o, snn_error *err);

/* Abandons the archive; nothing is written. */
void snn_npz_discard(snn_npz_out *o);

#endif
