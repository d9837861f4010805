/*
 * log.h - messages from library code to whoever is listening.
 *
 * There is no global logger: a caller that wants warnings and progress
 * notes passes an snn_log naming a sink.  A NULL snn_log (or one without a
 * sink) is silent, which keeps the library quiet and thread-safe.
 */
#ifndef SNNTB_LOG_H
#define SNNTB_LOG_H

typedef enum snn_log_level {
    SNN_LOG_ERROR = 0,
    SNN_LOG_WARN = 1,
    SNN_LOG_INFO = 2,
    SNN_LOG_DEBUG = 3
} snn_log_level;

typedef void (*snn_log_sink)(void *user, snn_log_level level, const char *msg);

typedef struct snn_log {
    snn_log_sink sink;
    void *user;
    int verbosity; /* messages with level > verbosity are dropped */
} snn_log;

void snn_log_msg(const snn_log *log, snn_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define snn_warn(log, ...) snn_log_msg((log), SNN_LOG_WARN, __VA_ARGS__)
#define snn_info(log, ...) snn_log_msg((log), SNN_LOG_INFO, __VA_ARGS__)
#define snn_debug(log, ...) snn_log_msg((log), SNN_LOG_DEBUG, __VA_ARGS__)

#endif
