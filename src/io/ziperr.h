/*
 * ziperr.h - libzip's open errors as snntb errors, so that every reader of
 * zip containers (.npz, Keras 3 .keras) tells a missing file (SNN_E_IO)
 * from a file that is not the archive it should be (SNN_E_FORMAT) alike.
 */
#ifndef SNNTB_IO_ZIPERR_H
#define SNNTB_IO_ZIPERR_H

#include "snntb/status.h"

/* Fills err with "PATH: cannot open as WHAT: <libzip's reason>" for the
 * ZIP_ER_* code zip_open gave, and returns its status. */
snn_status snn_zip_open_error(const char *path, int code, const char *what,
                              snn_error *err);

#endif
