/*
 * rows.c - see rows.h: the row bookkeeping shared by the .npz and IDX
 * streams (where the stream is, skipping, restarting).
 */
#include "io/rows.h"

#include <stdlib.h>
#include <string.h>

struct snn_rows {
    rows_stream s;
    int ndim;
    size_t dims[SNN_MAX_DIMS];
    size_t row_bytes;
    size_t next; /* the row the stream is positioned at */
};

snn_status rows_new(snn_rows **out, const rows_stream *s, int ndim,
                    const size_t *dims, snn_error *err)
{
    *out = NULL;
    snn_rows *r = calloc(1, sizeof *r);
    size_t bytes = s->type.size;
    for (int i = 1; i < ndim; i++)
        if (!snn_size_mul(bytes, dims[i], &bytes))
            bytes = 0;
    if (!r || ndim < 1 || bytes == 0) {
        free(r);
        s->close(s->h);
        return r ? snn_error_set(err, SNN_E_SHAPE,
                                 "%s: expected a non-empty array (N, ...)",
                                 s->name)
                 : snn_error_set(err, SNN_E_NOMEM, "%s: no memory", s->name);
    }
    r->s = *s;
    r->ndim = ndim;
    memcpy(r->dims, dims, (size_t)ndim * sizeof *dims);
    r->row_bytes = bytes;
    *out = r;
    return SNN_OK;
}

int snn_rows_shape(const snn_rows *r, size_t *dims)
{
    memcpy(dims, r->dims, (size_t)r->ndim * sizeof *dims);
    return r->ndim;
}

/* Reads and drops the bytes up to row `row` (>= r->next). */
static snn_status skip_to(snn_rows *r, size_t row, snn_error *err)
{
    unsigned char buf[RAW_CHUNK];
    uint64_t left = (uint64_t)(row - r->next) * r->row_bytes;
    while (left > 0) {
        size_t k = left < sizeof buf ? (size_t)left : sizeof buf;
        snn_status st = r->s.read(r->s.h, buf, k, err);
        if (st != SNN_OK)
            return st;
        left -= k;
    }
    r->next = row;
    return SNN_OK;
}

static snn_status position(snn_rows *r, size_t row, snn_error *err)
{
    if (row == r->next)
        return SNN_OK;
    if (r->s.seek && r->s.seek(r->s.h, (uint64_t)row * r->row_bytes)) {
        r->next = row;
        return SNN_OK;
    }
    if (row < r->next) {
        snn_status st = r->s.restart(r->s.h, err);
        if (st != SNN_OK)
            return st;
        r->next = 0;
    }
    return skip_to(r, row, err);
}

snn_status snn_rows_read(snn_rows *r, size_t first, size_t n, float *dst,
                         snn_error *err)
{
    if (first > r->dims[0] || n > r->dims[0] - first)
        return snn_error_set(err, SNN_E_INVALID,
                             "%s: rows %zu..%zu asked, the array has %zu",
                             r->s.name, first, first + n, r->dims[0]);
    snn_status st = position(r, first, err);
    if (st == SNN_OK)
        st = raw_read_floats(r->s.read, r->s.h, &r->s.type, dst,
                             n * (r->row_bytes / r->s.type.size), err);
    /* After a failed read the position is unknown: start again next time. */
    r->next = st == SNN_OK ? first + n : (size_t)-1;
    if (st != SNN_OK && r->s.restart(r->s.h, NULL) == SNN_OK)
        r->next = 0;
    return st;
}

void snn_rows_close(snn_rows *r)
{
    if (!r)
        return;
    r->s.close(r->s.h);
    free(r);
}
