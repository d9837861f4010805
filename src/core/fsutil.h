/*
 * fsutil.h - the few file-system operations the stages share: creating a
 * log folder, and writing a file so that it is either complete or absent
 * (temporary name, then rename), which is how every output is written,
 * and reading a bounded text input (config, model script).
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

/* Reads a whole text file of at most max bytes into a NUL-terminated
 * malloc'd *text (its length in *len when len is not NULL); a larger file
 * or one holding a NUL byte is refused as "not <what>". */
snn_status snn_read_text(const char *path, size_t max, const char *what,
                         char **text, size_t *len, snn_error *err);

#endif
