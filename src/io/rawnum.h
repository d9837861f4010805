/*
 * rawnum.h - turning numbers as files store them (any width, either byte
 * order, integer, float or bool) into float32.
 *
 * Shared by the .npy and IDX readers so that both decode bytes the same
 * way.  Bytes are assembled explicitly, so the result does not depend on
 * the host's byte order or on the alignment of the buffer.
 */
#ifndef SNNTB_IO_RAWNUM_H
#define SNNTB_IO_RAWNUM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "snntb/status.h"

#define RAW_CHUNK 16384
/* Deflate cannot expand data by more than about 1032:1, so compressed data
 * claiming to unpack to more than that is lying about its size; checking
 * this bounds what a hostile header can make us allocate. */
#define RAW_DEFLATE_MAX_RATIO 1032

typedef enum raw_kind { RAW_FLOAT, RAW_SINT, RAW_UINT, RAW_BOOL } raw_kind;

typedef struct raw_type {
    raw_kind kind;
    unsigned size; /* bytes per element: 1, 2, 4 or 8 */
    int big_endian;
} raw_type;

static inline uint64_t raw_bits(const raw_type *t, const unsigned char *p)
{
    uint64_t u = 0;
    for (unsigned i = 0; i < t->size; i++) {
        unsigned b = t->big_endian ? i : t->size - 1 - i;
        u = (u << 8) | p[b];
    }
    return u;
}

static inline float raw_float(const raw_type *t, uint64_t u)
{
    if (t->size == 4) {
        uint32_t w = (uint32_t)u;
        float f;
        memcpy(&f, &w, sizeof f);
        return f;
    }
    double d;
    memcpy(&d, &u, sizeof d);
    return (float)d;
}

/* Relies on GCC/Clang's modulo conversion to signed types (documented
 * implementation-defined behaviour) to reinterpret the two's complement. */
static inline float raw_sint(const raw_type *t, uint64_t u)
{
    switch (t->size) {
    case 1: return (float)(int8_t)u;
    case 2: return (float)(int16_t)u;
    case 4: return (float)(int32_t)u;
    default: return (float)(int64_t)u;
    }
}

/* Whether the stored elements are this host's own float32 (the usual
 * dataset): then their bytes are copied as they are. */
static inline int raw_native_float(const raw_type *t)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return t->kind == RAW_FLOAT && t->size == 4 && !t->big_endian;
#elif defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return t->kind == RAW_FLOAT && t->size == 4 && t->big_endian;
#else
    (void)t;
    return 0;
#endif
}

/* Converts n elements stored at src into dst. */
static inline void raw_to_float(const raw_type *t, const unsigned char *src,
                                float *dst, size_t n)
{
    if (raw_native_float(t)) {
        memcpy(dst, src, n * sizeof *dst);
        return;
    }
    for (size_t i = 0; i < n; i++, src += t->size) {
        uint64_t u = raw_bits(t, src);
        switch (t->kind) {
        case RAW_FLOAT: dst[i] = raw_float(t, u); break;
        case RAW_SINT: dst[i] = raw_sint(t, u); break;
        case RAW_UINT: dst[i] = (float)u; break;
        case RAW_BOOL: dst[i] = u != 0; break;
        }
    }
}

/* Reads exactly n bytes from a reader's stream or fails with a message. */
typedef snn_status (*raw_reader)(void *ctx, void *buf, size_t n,
                                 snn_error *err);

/* Reads n stored elements through a bounded buffer, so a large array never
 * needs its raw bytes and its floats in memory at once. */
static inline snn_status raw_read_floats(raw_reader read, void *ctx,
                                         const raw_type *t, float *dst,
                                         size_t n, snn_error *err)
{
    unsigned char buf[RAW_CHUNK];
    size_t per = sizeof buf / t->size;
    while (n > 0) {
        size_t k = n < per ? n : per;
        snn_status st = read(ctx, buf, k * t->size, err);
        if (st != SNN_OK)
            return st;
        raw_to_float(t, buf, dst, k);
        dst += k;
        n -= k;
    }
    return SNN_OK;
}

#endif
