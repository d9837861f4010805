/*
 * status.h - how fallible library calls report failure.
 *
 * Library code never prints and never exits: a function that can fail
 * returns an snn_status and, when given an snn_error, fills it with one
 * human-readable line naming the file, layer or option and what was
 * expected.  The caller (the CLI) decides how to show it.
 */
#ifndef SNNTB_STATUS_H
#define SNNTB_STATUS_H

#include <stddef.h>

typedef enum snn_status {
    SNN_OK = 0,
    SNN_E_IO,          /* a file could not be opened, read or written */
    SNN_E_FORMAT,      /* a file's content is malformed or truncated */
    SNN_E_UNSUPPORTED, /* well-formed, but a feature we do not handle */
    SNN_E_INVALID,     /* an argument or option value is not allowed */
    SNN_E_SHAPE,       /* shapes of tensors or layers do not fit */
    SNN_E_NOMEM        /* an allocation failed or a size overflowed */
} snn_status;

#define SNN_ERROR_MAX 1024

typedef struct snn_error {
    snn_status status;
    char msg[SNN_ERROR_MAX];
} snn_error;

/* Fills err (which may be NULL) and returns st, so that callers can write
 * `return snn_error_set(err, SNN_E_FORMAT, "%s: ...", path);`. */
snn_status snn_error_set(snn_error *err, snn_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefixes an existing message with more context ("layer conv1: " ...). */
snn_status snn_error_prefix(snn_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

const char *snn_status_name(snn_status st);

#endif
