/*
 * h5util.c - defensive HDF5 reads shared by the model readers.
 *
 * Keras and h5py store the same logical string list in several physical
 * ways (variable-length or fixed-length null-padded strings, scalar or
 * array, split into numbered chunks), and a model file may be truncated or
 * hostile, so every size here is checked before memory is allocated.
 * (libhdf5 1.10 itself can still crash on deliberately corrupted metadata,
 * e.g. HDFGroup/hdf5#4351, #5871; that is beyond what a caller can check.)
 */
#include "h5util.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bounds on what a model file may ask us to allocate for metadata: far
 * above any real model, far below what would exhaust memory. */
#define STR_MAX_COUNT (1u << 20)
#define STR_MAX_BYTES ((size_t)256 << 20)

void snn_h5_strings_free(snn_h5_strings *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->s[i]);
    free(l->s);
    l->s = NULL;
    l->n = 0;
}

static snn_status strlist_push(snn_h5_strings *l, const char *s, size_t len,
                               snn_error *err)
{
    char **grown = realloc(l->s, (l->n + 1) * sizeof *grown);
    if (!grown)
        return snn_error_set(err, SNN_E_NOMEM, "cannot grow a string list");
    l->s = grown;
    char *copy = malloc(len + 1);
    if (!copy)
        return snn_error_set(err, SNN_E_NOMEM, "cannot copy a string");
    memcpy(copy, s, len);
    copy[len] = '\0';
    l->s[l->n++] = copy;
    return SNN_OK;
}

snn_status snn_h5_open(const char *path, hid_t *file, snn_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return snn_error_set(err, SNN_E_IO, "%s: cannot open: %s", path,
                             strerror(errno));
    fclose(f);
    /* Strong close: closing the file also closes anything an error path
     * forgot, so a failed parse cannot keep the file open. */
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0 || H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) < 0) {
        H5Pclose(fapl);
        return snn_error_set(err, SNN_E_NOMEM,
                             "%s: cannot set up HDF5 file access", path);
    }
    *file = H5Fopen(path, H5F_ACC_RDONLY, fapl);
    H5Pclose(fapl);
    if (*file < 0)
        return snn_error_set(err, SNN_E_FORMAT,
                             "%s: not a readable HDF5 file (truncated or "
                             "corrupt?)", path);
    return SNN_OK;
}

int snn_h5_has(hid_t obj, const char *name)
{
    return name[0] != '\0' && H5Lexists(obj, name, H5P_DEFAULT) > 0;
}

/* The HDF5 path of obj, for messages ("/model_weights/dense"). */
static const char *obj_path(hid_t obj, char *buf, size_t n)
{
    if (H5Iget_name(obj, buf, n) <= 0)
        snprintf(buf, n, "?");
    return buf;
}

/* HDF5 1.12 renamed the call that frees variable-length read buffers. */
static void reclaim_vlen(hid_t mtype, hid_t space, void *buf)
{
#if H5_VERSION_GE(1, 12, 0)
    H5Treclaim(mtype, space, H5P_DEFAULT, buf);
#else
    H5Dvlen_reclaim(mtype, space, H5P_DEFAULT, buf);
#endif
}

/* Which attribute is being read, for messages. */
typedef struct attr_ref {
    hid_t obj;
    const char *name;
    const char *where;
} attr_ref;

static snn_status attr_corrupt(const attr_ref *a, const char *why,
                               snn_error *err)
{
    char path[256];
    return snn_error_set(err, SNN_E_FORMAT, "%s: attribute '%s' of %s %s",
                         a->where, a->name, obj_path(a->obj, path, sizeof path),
                         why);
}

static snn_status read_vlen(const attr_ref *a, hid_t attr, hid_t ftype,
                            size_t n, snn_h5_strings *out, snn_error *err)
{
    char **bufs = calloc(n ? n : 1, sizeof *bufs);
    hid_t mtype = H5Tcopy(H5T_C_S1);
    hid_t space = H5Aget_space(attr);
    snn_status st = SNN_OK;
    if (!bufs) {
        st = snn_error_set(err, SNN_E_NOMEM, "cannot allocate %zu strings",
                           n);
    } else if (mtype < 0 || space < 0 ||
               H5Tset_size(mtype, H5T_VARIABLE) < 0 ||
               H5Tset_cset(mtype, H5Tget_cset(ftype)) < 0 ||
               H5Aread(attr, mtype, bufs) < 0) {
        st = attr_corrupt(a, "cannot be read (corrupt file?)", err);
    } else {
        for (size_t i = 0; i < n && st == SNN_OK; i++)
            st = strlist_push(out, bufs[i] ? bufs[i] : "",
                              bufs[i] ? strlen(bufs[i]) : 0, err);
        reclaim_vlen(mtype, space, bufs);
    }
    free(bufs);
    H5Sclose(space);
    H5Tclose(mtype);
    return st;
}

/* Fixed-length strings are padded with NULs (or spaces) but not
 * necessarily NUL-terminated: a 15-byte name fills its 15-byte slot. */
static snn_status read_fixed(const attr_ref *a, hid_t attr, hid_t ftype,
                             size_t n, snn_h5_strings *out, snn_error *err)
{
    size_t size = H5Tget_size(ftype), total;
    if (size == 0 || !snn_size_mul(size, n, &total) || total > STR_MAX_BYTES)
        return attr_corrupt(a, "has an implausible size", err);
    char *buf = malloc(total ? total : 1);
    hid_t mtype = H5Tcopy(ftype);
    snn_status st = SNN_OK;
    if (!buf) {
        st = snn_error_set(err, SNN_E_NOMEM, "cannot allocate %zu bytes",
                           total);
    } else if (mtype < 0 || H5Aread(attr, mtype, buf) < 0) {
        st = attr_corrupt(a, "cannot be read (corrupt file?)", err);
    } else {
        int spacepad = H5Tget_strpad(ftype) == H5T_STR_SPACEPAD;
        for (size_t i = 0; i < n && st == SNN_OK; i++) {
            const char *s = buf + i * size;
            size_t len = strnlen(s, size);
            while (spacepad && len > 0 && s[len - 1] == ' ')
                len--;
            st = strlist_push(out, s, len, err);
        }
    }
    free(buf);
    H5Tclose(mtype);
    return st;
}

static snn_status read_attr(const attr_ref *a, snn_h5_strings *out,
                            snn_error *err)
{
    hid_t attr = H5Aopen(a->obj, a->name, H5P_DEFAULT);
    hid_t space = attr >= 0 ? H5Aget_space(attr) : -1;
    hid_t ftype = attr >= 0 ? H5Aget_type(attr) : -1;
    hssize_t npoints = space >= 0 ? H5Sget_simple_extent_npoints(space) : -1;
    snn_status st = SNN_OK;
    if (npoints < 0 || ftype < 0)
        st = attr_corrupt(a, "cannot be read (corrupt file?)", err);
    else if ((size_t)npoints > STR_MAX_COUNT)
        st = attr_corrupt(a, "has an implausible size", err);
    else if (H5Tget_class(ftype) != H5T_STRING)
        st = npoints ? attr_corrupt(a, "is not a string", err) : SNN_OK;
    else if (H5Tis_variable_str(ftype) > 0)
        st = read_vlen(a, attr, ftype, (size_t)npoints, out, err);
    else
        st = read_fixed(a, attr, ftype, (size_t)npoints, out, err);
    H5Tclose(ftype);
    H5Sclose(space);
    H5Aclose(attr);
    return st;
}

snn_status snn_h5_attr_strings(hid_t obj, const char *name, const char *where,
                               snn_h5_strings *out, snn_error *err)
{
    out->s = NULL;
    out->n = 0;
    if (H5Aexists(obj, name) > 0) {
        attr_ref whole = {obj, name, where};
        snn_status st = read_attr(&whole, out, err);
        if (st != SNN_OK)
            snn_h5_strings_free(out);
        return st;
    }
    for (int chunk = 0;; chunk++) {
        char chunk_name[128];
        snprintf(chunk_name, sizeof chunk_name, "%s%d", name, chunk);
        if (H5Aexists(obj, chunk_name) <= 0) {
            if (chunk > 0)
                return SNN_OK;
            char path[256];
            return snn_error_set(err, SNN_E_FORMAT,
                                 "%s: attribute '%s' of %s is missing", where,
                                 name, obj_path(obj, path, sizeof path));
        }
        attr_ref part = {obj, chunk_name, where};
        snn_status st = read_attr(&part, out, err);
        if (st != SNN_OK) {
            snn_h5_strings_free(out);
            return st;
        }
    }
}

snn_status snn_h5_attr_string(hid_t obj, const char *name, const char *where,
                              char **out, snn_error *err)
{
    snn_h5_strings l;
    *out = NULL;
    snn_status st = snn_h5_attr_strings(obj, name, where, &l, err);
    if (st != SNN_OK)
        return st;
    if (l.n != 1) {
        snn_h5_strings_free(&l);
        return snn_error_set(err, SNN_E_FORMAT,
                             "%s: attribute '%s' holds %zu strings, expected "
                             "one", where, name, l.n);
    }
    *out = l.s[0];
    free(l.s);
    return SNN_OK;
}

/* Reads the dataset's shape and checks that the file really stores that
 * many values: a hostile header must not make us allocate gigabytes. */
static snn_status dataset_shape(hid_t ds, const char *path, const char *where,
                                int *ndim, size_t *dims, snn_error *err)
{
    hid_t space = H5Dget_space(ds), type = H5Dget_type(ds);
    hid_t dcpl = H5Dget_create_plist(ds);
    int rank = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
    snn_status st = SNN_OK;
    hsize_t hd[SNN_MAX_DIMS];
    if (type < 0 || H5Tget_class(type) != H5T_FLOAT) {
        st = snn_error_set(err, SNN_E_FORMAT,
                           "%s: dataset '%s' does not hold floats", where,
                           path);
    } else if (rank < 0 || rank > SNN_MAX_DIMS ||
               H5Sget_simple_extent_dims(space, hd, NULL) != rank) {
        st = snn_error_set(err, SNN_E_FORMAT,
                           "%s: dataset '%s' has an unreadable shape", where,
                           path);
    } else {
        size_t bytes = H5Tget_size(type);
        for (int i = 0; i < rank; i++) {
            dims[i] = (size_t)hd[i];
            if ((hsize_t)dims[i] != hd[i] ||
                !snn_size_mul(bytes, dims[i], &bytes))
                bytes = SIZE_MAX;
        }
        *ndim = rank;
        int filtered = dcpl >= 0 && H5Pget_nfilters(dcpl) > 0;
        if (!filtered && (hsize_t)bytes > H5Dget_storage_size(ds))
            st = snn_error_set(err, SNN_E_FORMAT,
                               "%s: dataset '%s' claims more data than the "
                               "file stores (truncated or corrupt?)", where,
                               path);
    }
    H5Pclose(dcpl);
    H5Tclose(type);
    H5Sclose(space);
    return st;
}

snn_status snn_h5_read_floats(hid_t loc, const char *path, const char *where,
                              snn_tensor *out, snn_error *err)
{
    memset(out, 0, sizeof *out);
    if (!snn_h5_has(loc, path))
        return snn_error_set(err, SNN_E_FORMAT,
                             "%s: weight dataset '%s' is missing", where,
                             path);
    hid_t ds = H5Dopen2(loc, path, H5P_DEFAULT);
    if (ds < 0)
        return snn_error_set(err, SNN_E_FORMAT,
                             "%s: '%s' is not a readable dataset", where,
                             path);
    int ndim = 0;
    size_t dims[SNN_MAX_DIMS];
    snn_status st = dataset_shape(ds, path, where, &ndim, dims, err);
    if (st == SNN_OK)
        st = snn_tensor_init(out, ndim, dims, err);
    if (st == SNN_OK && H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL,
                                H5P_DEFAULT, out->data) < 0) {
        snn_tensor_free(out);
        st = snn_error_set(err, SNN_E_FORMAT,
                           "%s: cannot read dataset '%s' (corrupt file?)",
                           where, path);
    }
    H5Dclose(ds);
    return st;
}
