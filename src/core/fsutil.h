/*
 * fsutil.h - the few file-system operations the stages share: creating a
 * log folder, and writing a file so that it is either complete or absent
 * (temporary name, then rename), which is how every output is written.
 */
#ifndef SNNTB_CORE_FSUTIL_H
#define SNNTB_CORE_FSUTIL_H

#include <stddef.h>
#include "snntb/status.h"

/* mkdir -p. */
snn_status snn_mkdirs(const char *path, snn_error *err);

/* Writes len bytes to path via path.tmp-XXXXXX and rename(). */
snn_status snn_write_atomic(const char *path, const void *data, size_t len,
                            snn_error *err);

int snn_file_exists(const char *path);

/* Joins dir and name with one '/' into buf; error when it does not fit. */
snn_status snn_path_join(char *buf, size_t n, const char *dir,
                         const char *name, snn_error *err);

#endif
