/*
 * h5write.c - typed datasets and in-memory HDF5 files written atomically,
 * shared by the NIR and Lava netx writers (see h5write.h).
 */
#include "export/h5write.h"

#include <stdlib.h>

#include "core/fsutil.h"

herr_t snn_h5_write_array(hid_t loc, const char *name, hid_t ftype,
                          hid_t mtype, int ndim, const hsize_t *dims,
                          const void *data)
{
    hid_t space = ndim ? H5Screate_simple(ndim, dims, NULL)
                       : H5Screate(H5S_SCALAR);
    hid_t ds = H5Dcreate2(loc, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT,
                          H5P_DEFAULT);
    herr_t r = ds < 0 ? -1 : H5Dwrite(ds, mtype, H5S_ALL, H5S_ALL,
                                      H5P_DEFAULT, data);
    if (ds >= 0)
        H5Dclose(ds);
    H5Sclose(space);
    return r;
}

/* Copies the in-memory file's image and writes it atomically. */
static snn_status save_image(hid_t file, const char *path, snn_error *err)
{
    if (H5Fflush(file, H5F_SCOPE_GLOBAL) < 0)
        return snn_error_set(err, SNN_E_IO, "%s: cannot finish the HDF5 "
                             "image", path);
    ssize_t size = H5Fget_file_image(file, NULL, 0);
    void *img = size > 0 ? malloc((size_t)size) : NULL;
    if (!img)
        return snn_error_set(err, SNN_E_NOMEM, "%s: cannot allocate the "
                             "HDF5 image", path);
    snn_status st;
    if (H5Fget_file_image(file, img, (size_t)size) != size)
        st = snn_error_set(err, SNN_E_IO, "%s: cannot copy the HDF5 image",
                           path);
    else
        st = snn_write_atomic(path, img, (size_t)size, err);
    free(img);
    return st;
}

snn_status snn_h5_write_file(const char *path, snn_h5_fill fill, void *user,
                             snn_error *err)
{
    snn_status st = SNN_OK;
    hid_t fapl = -1, file = -1;
    H5E_BEGIN_TRY {
        fapl = H5Pcreate(H5P_FILE_ACCESS);
        /* backing_store = 0: the file exists only in memory. */
        if (fapl >= 0 && H5Pset_fapl_core(fapl, 1 << 20, 0) >= 0)
            file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
        if (file < 0)
            st = snn_error_set(err, SNN_E_IO, "%s: cannot create an HDF5 "
                               "image", path);
        if (st == SNN_OK)
            st = fill(file, user, err);
        if (st == SNN_OK)
            st = save_image(file, path, err);
        if (file >= 0)
            H5Fclose(file);
        if (fapl >= 0)
            H5Pclose(fapl);
    } H5E_END_TRY;
    return st;
}
