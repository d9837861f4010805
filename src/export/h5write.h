/*
 * h5write.h - what the HDF5 writers (NIR, Lava netx) share: typed
 * datasets, and an HDF5 file built in memory and written atomically, so
 * that a failed export never leaves a half-written file.  Internal.
 */
#ifndef SNNTB_EXPORT_H5WRITE_H
#define SNNTB_EXPORT_H5WRITE_H

#include <hdf5.h>
#include "snntb/status.h"

/* A dataset of ndim dims (0: scalar) stored as ftype from mtype data. */
herr_t snn_h5_write_array(hid_t loc, const char *name, hid_t ftype,
                          hid_t mtype, int ndim, const hsize_t *dims,
                          const void *data);

/* Fills a new in-memory HDF5 file. */
typedef snn_status (*snn_h5_fill)(hid_t file, void *user, snn_error *err);

/* Creates the file in memory, lets fill write it, and writes its image to
 * path atomically when fill succeeded. */
snn_status snn_h5_write_file(const char *path, snn_h5_fill fill, void *user,
                             snn_error *err);

#endif
