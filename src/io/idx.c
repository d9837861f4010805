/*
 * idx.c - reading IDX files, the format MNIST and Fashion-MNIST ship in
 * (t10k-images-idx3-ubyte.gz, ...), into float32 tensors.
 *
 * An IDX file is two zero bytes, a type code, a rank, the dimensions as
 * big-endian uint32, then the big-endian elements.  zlib's gzread reads
 * gzip-compressed and plain files alike, so one path serves both.
 */
#include "snntb/dataset.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "io/rawnum.h"
#include "io/rows.h"


typedef struct idx_stream {
    gzFile gz;
    const char *path;
} idx_stream;

static int idx_type(unsigned code, raw_type *t)
{
    static const struct {
        unsigned code;
        raw_type type;
    } types[] = {
        {0x08, {RAW_UINT, 1, 1}},  {0x09, {RAW_SINT, 1, 1}},
        {0x0B, {RAW_SINT, 2, 1}},  {0x0C, {RAW_SINT, 4, 1}},
        {0x0D, {RAW_FLOAT, 4, 1}}, {0x0E, {RAW_FLOAT, 8, 1}},
    };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (types[i].code == code) {
            *t = types[i].type;
            return 1;
        }
    return 0;
}

/* zlib's messages already start with "<path>: "; drop that to name the
 * file once. */
static const char *gz_message(gzFile gz, const char *path, int *code)
{
    const char *msg = gzerror(gz, code);
    size_t len = strlen(path);
    if (*code == Z_ERRNO)
        return strerror(errno);
    if (strncmp(msg, path, len) == 0 && strncmp(msg + len, ": ", 2) == 0)
        return msg + len + 2;
    return msg;
}

static snn_status gz_read(gzFile gz, const char *path, void *buf, size_t n,
                          const char *what, snn_error *err)
{
    int r = gzread(gz, buf, (unsigned)n);
    if (r < 0) {
        int code;
        const char *msg = gz_message(gz, path, &code);
        return snn_error_set(err, code == Z_ERRNO ? SNN_E_IO : SNN_E_FORMAT,
                             "%s: cannot read %s: %s", path, what, msg);
    }
    if ((size_t)r < n)
        return snn_error_set(err, SNN_E_FORMAT,
                             "%s: truncated: file ends inside the %s", path,
                             what);
    return SNN_OK;
}

static snn_status read_header(gzFile gz, const char *path, raw_type *t,
                              int *ndim, size_t *dims, snn_error *err)
{
    unsigned char magic[4], d[4 * SNN_MAX_DIMS];
    snn_status st = gz_read(gz, path, magic, 4, "header", err);
    if (st != SNN_OK)
        return st;
    if (magic[0] != 0 || magic[1] != 0)
        return snn_error_set(err, SNN_E_FORMAT,
                             "%s: not an IDX file (bad magic)", path);
    if (!idx_type(magic[2], t))
        return snn_error_set(err, SNN_E_FORMAT,
                             "%s: unknown IDX element type 0x%02X", path,
                             magic[2]);
    if (magic[3] < 1 || magic[3] > SNN_MAX_DIMS)
        return snn_error_set(err, SNN_E_UNSUPPORTED,
                             "%s: IDX rank %u is outside 1..%d", path,
                             magic[3], SNN_MAX_DIMS);
    *ndim = magic[3];
    st = gz_read(gz, path, d, 4 * (size_t)*ndim, "header", err);
    for (int i = 0; st == SNN_OK && i < *ndim; i++)
        dims[i] = (size_t)d[4 * i] << 24 | (size_t)d[4 * i + 1] << 16 |
                  (size_t)d[4 * i + 2] << 8 | d[4 * i + 3];
    return st;
}

/* The most data bytes the file can hold: exact for a plain file, the
 * deflate bound for a gzip one. */
static uint64_t payload_bound(gzFile gz, uint64_t file_size, int ndim)
{
    uint64_t header = 4 + 4 * (uint64_t)ndim;
    if (gzdirect(gz))
        return file_size > header ? file_size - header : 0;
    return file_size > UINT64_MAX / RAW_DEFLATE_MAX_RATIO
               ? UINT64_MAX
               : file_size * RAW_DEFLATE_MAX_RATIO;
}

static snn_status check_size(gzFile gz, const char *path, uint64_t file_size,
                             const raw_type *t, int ndim, const size_t *dims,
                             snn_error *err)
{
    size_t bytes = t->size;
    for (int i = 0; i < ndim; i++)
        if (!snn_size_mul(bytes, dims[i], &bytes))
            bytes = SIZE_MAX;
    if (bytes <= payload_bound(gz, file_size, ndim))
        return SNN_OK;
    char shape[256];
    return snn_error_set(err, SNN_E_FORMAT,
                         "%s: truncated: shape %s needs %zu bytes of data, "
                         "more than the %llu-byte file can hold",
                         path, snn_shape_str(ndim, dims, shape, sizeof shape),
                         bytes, (unsigned long long)file_size);
}

static snn_status read_data(void *ctx, void *buf, size_t n, snn_error *err)
{
    const idx_stream *s = ctx;
    return gz_read(s->gz, s->path, buf, n, "data", err);
}

static snn_status idx_read(gzFile gz, const char *path, uint64_t file_size,
                           snn_tensor *out, snn_error *err)
{
    raw_type t;
    int ndim = 0;
    size_t dims[SNN_MAX_DIMS];
    snn_status st = read_header(gz, path, &t, &ndim, dims, err);
    if (st == SNN_OK)
        st = check_size(gz, path, file_size, &t, ndim, dims, err);
    if (st == SNN_OK)
        st = snn_tensor_init(out, ndim, dims, err);
    if (st != SNN_OK)
        return st;
    idx_stream s = {gz, path};
    st = raw_read_floats(read_data, &s, &t, out->data, snn_tensor_numel(out),
                         err);
    if (st != SNN_OK)
        snn_tensor_free(out);
    return st;
}

snn_status snn_idx_load(const char *path, snn_tensor *out, snn_error *err)
{
    memset(out, 0, sizeof *out);
    struct stat sb;
    if (stat(path, &sb) != 0)
        return snn_error_set(err, SNN_E_IO, "%s: cannot open: %s", path,
                             strerror(errno));
    gzFile gz = gzopen(path, "rb");
    if (!gz)
        return snn_error_set(err, SNN_E_IO, "%s: cannot open: %s", path,
                             strerror(errno));
    snn_status st = idx_read(gz, path, (uint64_t)sb.st_size, out, err);
    gzclose(gz);
    return st;
}

/* An IDX file read as rows (rows.h); gzseek positions plain and
 * compressed files alike. */
typedef struct idx_rows {
    gzFile gz;
    long header;
    char path[4096];
} idx_rows;

static snn_status idx_rows_read(void *h, void *buf, size_t n, snn_error *err)
{
    idx_rows *r = h;
    return gz_read(r->gz, r->path, buf, n, "data", err);
}

static int idx_rows_seek(void *h, uint64_t offset)
{
    idx_rows *r = h;
    z_off_t to = (z_off_t)(r->header + (long)offset);
    return gzseek(r->gz, to, SEEK_SET) == to;
}

static snn_status idx_rows_restart(void *h, snn_error *err)
{
    idx_rows *r = h;
    if (idx_rows_seek(r, 0))
        return SNN_OK;
    return snn_error_set(err, SNN_E_IO, "%s: cannot seek", r->path);
}

static void idx_rows_close(void *h)
{
    idx_rows *r = h;
    if (r->gz)
        gzclose(r->gz);
    free(r);
}

snn_status snn_rows_open_idx(snn_rows **out, const char *path, snn_error *err)
{
    *out = NULL;
    struct stat sb;
    if (stat(path, &sb) != 0)
        return snn_error_set(err, SNN_E_IO, "%s: cannot open: %s", path,
                             strerror(errno));
    idx_rows *r = calloc(1, sizeof *r);
    if (!r)
        return snn_error_set(err, SNN_E_NOMEM, "%s: no memory", path);
    snprintf(r->path, sizeof r->path, "%s", path);
    r->gz = gzopen(path, "rb");
    raw_type t;
    int ndim = 0;
    size_t dims[SNN_MAX_DIMS];
    snn_status st = r->gz ? read_header(r->gz, path, &t, &ndim, dims, err)
                          : snn_error_set(err, SNN_E_IO, "%s: cannot open: %s",
                                          path, strerror(errno));
    if (st == SNN_OK)
        st = check_size(r->gz, path, (uint64_t)sb.st_size, &t, ndim, dims,
                        err);
    if (st != SNN_OK) {
        idx_rows_close(r);
        return st;
    }
    r->header = 4 + 4L * ndim;
    rows_stream s = {r, r->path, t, idx_rows_read, idx_rows_seek,
                     idx_rows_restart, idx_rows_close};
    return rows_new(out, &s, ndim, dims, err);
}
