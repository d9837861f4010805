/*
 * strbuf.c - see strbuf.h.
 */
#include "core/strbuf.h"

#include <stdlib.h>
#include <string.h>

int snn_strbuf_put(snn_strbuf *b, const char *s, size_t n, size_t max)
{
    if (n > max || b->len + n > max)
        return 0;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *grown = realloc(b->p, cap);
        if (!grown)
            return 0;
        b->p = grown;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 1;
}
