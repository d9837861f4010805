/*
 * rows.h - reading a stored array one block of rows at a time, so that a
 * dataset of any size is read in batches instead of all at once.
 *
 * An array (N, ...) in a .npz member or an IDX file is seen as N rows of
 * prod(...) values.  Rows are read in any order: forward reads skip what
 * lies between, a backward read starts the stream again (a stored .npz
 * member or a plain IDX file seeks directly).
 */
#ifndef SNNTB_IO_ROWS_H
#define SNNTB_IO_ROWS_H

#include <stddef.h>
#include <stdint.h>
#include "snntb/status.h"
#include "snntb/tensor.h"
#include "io/rawnum.h"

typedef struct snn_rows snn_rows;

/* Member `key` of the .npz at path (".npy" appended). */
snn_status snn_rows_open_npz(snn_rows **out, const char *path, const char *key,
                             snn_error *err);
/* An IDX file, gzip-compressed or not. */
snn_status snn_rows_open_idx(snn_rows **out, const char *path, snn_error *err);

/* The stored array's shape (dims[0] is the number of rows). */
int snn_rows_shape(const snn_rows *r, size_t *dims);
/* Reads rows [first, first + n) into dst as float32. */
snn_status snn_rows_read(snn_rows *r, size_t first, size_t n, float *dst,
                         snn_error *err);
void snn_rows_close(snn_rows *r);

/* For the readers behind the constructors: a stream of the array's data
 * bytes.  seek goes to a byte offset in the data (0 when it cannot, and
 * then the stream is read forward or restarted); close frees h. */
typedef struct rows_stream {
    void *h;
    const char *name; /* names the array in messages */
    raw_type type;
    snn_status (*read)(void *h, void *buf, size_t n, snn_error *err);
    int (*seek)(void *h, uint64_t offset);
    snn_status (*restart)(void *h, snn_error *err);
    void (*close)(void *h);
} rows_stream;

/* Takes the stream (closing it on failure). */
snn_status rows_new(snn_rows **out, const rows_stream *s, int ndim,
                    const size_t *dims, snn_error *err);

#endif
