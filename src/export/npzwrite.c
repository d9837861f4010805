/*
 * npzwrite.c - .npz output: each array is a version 1.0 .npy member
 * (magic, header dict padded to 64 bytes, little-endian data), stored
 * uncompressed as numpy.savez does.  See npzwrite.h.
 */
#include "export/npzwrite.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snntb/tensor.h"

snn_status snn_npz_create(snn_npz_out *o, const char *path, snn_error *err)
{
    int code = 0;
    o->path = path;
    o->zip = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &code);
    if (!o->zip)
        return snn_error_set(err, SNN_E_IO, "cannot create %s (libzip error "
                             "%d)", path, code);
    return SNN_OK;
}

/* The .npy header for a C-order array, padded so data starts 64-aligned;
 * 0 when it does not fit cap. */
static size_t npy_header(char *buf, size_t cap, snn_npz_dtype t, int ndim,
                         const size_t *dims)
{
    char shape[160] = "", dict[256];
    size_t used = 0;
    for (int d = 0; d < ndim; d++) {
        int k = snprintf(shape + used, sizeof shape - used, "%zu,%s",
                         dims[d], d + 1 < ndim ? " " : "");
        if (k < 0 || (size_t)k >= sizeof shape - used)
            return 0;
        used += (size_t)k;
    }
    int len = snprintf(dict, sizeof dict,
                       "{'descr': '%s', 'fortran_order': False, "
                       "'shape': (%s), }", t == SNN_NPZ_F32 ? "<f4" : "<i8",
                       shape);
    if (len < 0 || (size_t)len >= sizeof dict)
        return 0;
    size_t total = 10 + (size_t)len + 1;
    total = (total + 63) / 64 * 64;
    if (total > cap)
        return 0;
    size_t hlen = total - 10;
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    buf[8] = (char)(hlen & 0xff);
    buf[9] = (char)(hlen >> 8);
    memcpy(buf + 10, dict, (size_t)len);
    memset(buf + 10 + len, ' ', hlen - (size_t)len - 1);
    buf[total - 1] = '\n';
    return total;
}

snn_status snn_npz_add(snn_npz_out *o, const char *name, snn_npz_dtype t,
                       size_t n, const void *data, snn_error *err)
{
    return snn_npz_add_shaped(o, name, t, 1, &n, data, err);
}

snn_status snn_npz_add_shaped(snn_npz_out *o, const char *name,
                              snn_npz_dtype t, int ndim, const size_t *dims,
                              const void *data, snn_error *err)
{
    size_t elem = t == SNN_NPZ_F32 ? 4 : 8, n = 1;
    char head[320], member[256];
    size_t hlen = npy_header(head, sizeof head, t, ndim, dims);
    int fits = 1;
    for (int d = 0; d < ndim; d++)
        fits = fits && snn_size_mul(n, dims[d], &n);
    if (!hlen || !fits || n > (SIZE_MAX - hlen) / elem ||
        snprintf(member, sizeof member, "%s.npy", name) >= (int)sizeof member)
        return snn_error_set(err, SNN_E_INVALID, "%s: array '%s' is too "
                             "large", o->path, name);
    /* The library targets little-endian hosts, as the .npy data is. */
    size_t size = hlen + n * elem;
    char *buf = malloc(size);
    if (!buf)
        return snn_error_set(err, SNN_E_NOMEM, "%s: cannot allocate array "
                             "'%s'", o->path, name);
    memcpy(buf, head, hlen);
    if (n)
        memcpy(buf + hlen, data, n * elem);
    zip_source_t *src = zip_source_buffer(o->zip, buf, size, 1);
    if (!src) {
        free(buf);
        return snn_error_set(err, SNN_E_NOMEM, "%s: cannot add '%s'",
                             o->path, name);
    }
    zip_int64_t idx = zip_file_add(o->zip, member, src, ZIP_FL_OVERWRITE);
    if (idx < 0) {
        zip_source_free(src);
        return snn_error_set(err, SNN_E_IO, "%s: cannot add '%s': %s",
                             o->path, name, zip_strerror(o->zip));
    }
    zip_set_file_compression(o->zip, (zip_uint64_t)idx, ZIP_CM_STORE, 0);
    return SNN_OK;
}

snn_status snn_npz_close(snn_npz_out *o, snn_error *err)
{
    if (zip_close(o->zip) != 0) {
        snn_status st = snn_error_set(err, SNN_E_IO, "cannot write %s: %s",
                                      o->path, zip_strerror(o->zip));
        zip_discard(o->zip);
        o->zip = NULL;
        return st;
    }
    o->zip = NULL;
    return SNN_OK;
}

void snn_npz_discard(snn_npz_out *o)
{
    if (o->zip)
        zip_discard(o->zip);
    o->zip = NULL;
}
