/*
 * log.c - formats a message and hands it to the caller's sink.
 */
#include "snntb/log.h"

#include <stdarg.h>
#include <stdio.h>

void snn_log_msg(const snn_log *log, snn_log_level level, const char *fmt, ...)
{
    if (!log || !log->sink || (int)level > log->verbosity)
        return;
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    log->sink(log->user, level, buf);
}
