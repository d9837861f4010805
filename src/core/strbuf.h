/*
 * strbuf.h - a growing NUL-terminated byte string, for readers that build
 * text of unknown length (decoded literals, interpolated config values).
 */
#ifndef SNNTB_CORE_STRBUF_H
#define SNNTB_CORE_STRBUF_H

#include <stddef.h>

typedef struct snn_strbuf {
    char *p;        /* NULL until the first append; caller frees */
    size_t len, cap;
} snn_strbuf;

/* Appends n bytes of s (s may be "" to just allocate the terminator).
 * Returns 0 when out of memory or when the result would exceed max
 * bytes. */
int snn_strbuf_put(snn_strbuf *b, const char *s, size_t n, size_t max);

#endif
