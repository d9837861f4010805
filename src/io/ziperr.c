/*
 * ziperr.c - libzip's open errors as snntb errors.  See ziperr.h.
 */
#include "io/ziperr.h"

#include <zip.h>

snn_status snn_zip_open_error(const char *path, int code, const char *what,
                              snn_error *err)
{
    zip_error_t ze;
    zip_error_init_with_code(&ze, code);
    snn_status st = (code == ZIP_ER_NOENT || code == ZIP_ER_OPEN ||
                     code == ZIP_ER_READ)
                        ? SNN_E_IO
                        : SNN_E_FORMAT;
    snn_error_set(err, st, "%s: cannot open as %s: %s", path, what,
                  zip_error_strerror(&ze));
    zip_error_fini(&ze);
    return st;
}
