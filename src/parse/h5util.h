/*
 * h5util.h - the few HDF5 reads the model readers need, made safe for
 * hostile files: string attributes in every encoding Keras and h5py write,
 * and float datasets with their sizes checked before allocation.  Internal
 * to the library.
 *
 * None of these silence HDF5's error printing: callers wrap their whole
 * read in H5E_BEGIN_TRY / H5E_END_TRY.
 */
#ifndef SNNTB_PARSE_H5UTIL_H
#define SNNTB_PARSE_H5UTIL_H

#include <stddef.h>
#include <hdf5.h>

#include "snntb/status.h"
#include "snntb/tensor.h"

/* A list of NUL-terminated strings, each separately allocated. */
typedef struct snn_h5_strings {
    char **s;
    size_t n;
} snn_h5_strings;

void snn_h5_strings_free(snn_h5_strings *l);

/* Opens an HDF5 file read-only: SNN_E_IO when the file cannot be read,
 * SNN_E_FORMAT when it is not (or no longer, being truncated) HDF5. */
snn_status snn_h5_open(const char *path, hid_t *file, snn_error *err);

/* Whether obj has a link (group or dataset) called name. */
int snn_h5_has(hid_t obj, const char *name);

/* Reads string attribute `name` of obj as a list of strings, whatever its
 * encoding (variable-length or fixed-length null-padded, scalar or array).
 * When `name` is absent it reads the chunks name0, name1, ... Keras writes
 * for long lists; with neither, SNN_E_FORMAT.  An empty non-string
 * attribute (h5py writes `[]` as an empty float64 array) is an empty list.
 * `where` names the file in messages. */
snn_status snn_h5_attr_strings(hid_t obj, const char *name, const char *where,
                               snn_h5_strings *out, snn_error *err);

/* One string attribute; *out is malloc'ed.  SNN_E_FORMAT unless it holds
 * exactly one string. */
snn_status snn_h5_attr_string(hid_t obj, const char *name, const char *where,
                              char **out, snn_error *err);

/* Reads the floating-point dataset at `path` (relative to loc) into a
 * float32 tensor of the dataset's shape. */
snn_status snn_h5_read_floats(hid_t loc, const char *path, const char *where,
                              snn_tensor *out, snn_error *err);

#endif
