/*
 * status.c - filling snn_error messages.  See include/snntb/status.h.
 */
#include "snntb/status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

snn_status snn_error_set(snn_error *err, snn_status st, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->status = st;
    }
    return st;
}

snn_status snn_error_prefix(snn_error *err, const char *fmt, ...)
{
    if (!err)
        return SNN_E_INVALID;
    char prefix[SNN_ERROR_MAX], old[SNN_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    size_t n = strlen(prefix);
    if (n >= sizeof err->msg)
        n = sizeof err->msg - 1;
    memcpy(err->msg, prefix, n);
    size_t rest = sizeof err->msg - 1 - n, m = strlen(old);
    memcpy(err->msg + n, old, m < rest ? m : rest);
    err->msg[n + (m < rest ? m : rest)] = '\0';
    return err->status;
}

const char *snn_status_name(snn_status st)
{
    switch (st) {
    case SNN_OK: return "ok";
    case SNN_E_IO: return "i/o error";
    case SNN_E_FORMAT: return "malformed input";
    case SNN_E_UNSUPPORTED: return "unsupported";
    case SNN_E_INVALID: return "invalid value";
    case SNN_E_SHAPE: return "shape mismatch";
    case SNN_E_NOMEM: return "out of memory";
    }
    return "unknown status";
}
