/*
 * png.c - encodes an RGB image as PNG, base64, for <image> elements inside
 * the report's SVGs.  PNG is a few chunks around zlib data with CRC-32s,
 * and zlib is already linked for the dataset readers, so this needs no
 * image library (libpng would add a dependency for the same 40 lines).
 */
#include "report/svg.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static void put_u32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* Appends one chunk at *pos: length, type, data, CRC of type and data. */
static void put_chunk(unsigned char *png, size_t *pos, const char *type,
                      const unsigned char *data, size_t len)
{
    unsigned char *c = png + *pos;
    put_u32(c, (uint32_t)len);
    memcpy(c + 4, type, 4);
    if (len)
        memcpy(c + 8, data, len);
    uLong crc = crc32(0L, c + 4, (uInt)(len + 4));
    put_u32(c + 8 + len, (uint32_t)crc);
    *pos += len + 12;
}

static void base64(rp_buf *out, const unsigned char *d, size_t n)
{
    static const char tab[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char q[4];
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)d[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)d[i + 1] << 8;
        if (i + 2 < n)
            v |= d[i + 2];
        q[0] = tab[(v >> 18) & 63];
        q[1] = tab[(v >> 12) & 63];
        q[2] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
        q[3] = i + 2 < n ? tab[v & 63] : '=';
        if (!snn_strbuf_put(&out->s, q, 4, (size_t)1 << 30))
            out->failed = 1;
    }
}

/* Rows prefixed with filter type 0 (none), then deflated. */
static unsigned char *deflate_rows(const unsigned char *rgb, int w, int h,
                                   uLongf *zlen)
{
    size_t row = (size_t)w * 3 + 1, raw_len = row * (size_t)h;
    unsigned char *raw = malloc(raw_len);
    *zlen = compressBound((uLong)raw_len);
    unsigned char *z = malloc(*zlen);
    if (!raw || !z) {
        free(raw);
        free(z);
        return NULL;
    }
    for (int y = 0; y < h; y++) {
        raw[(size_t)y * row] = 0;
        memcpy(raw + (size_t)y * row + 1, rgb + (size_t)y * (row - 1), row - 1);
    }
    int ok = compress2(z, zlen, raw, (uLong)raw_len, 9) == Z_OK;
    free(raw);
    if (!ok) {
        free(z);
        return NULL;
    }
    return z;
}

void rp_png_base64(rp_buf *out, const unsigned char *rgb, int w, int h)
{
    static const unsigned char sig[8] = {137, 'P', 'N', 'G', 13, 10, 26, 10};
    uLongf zlen;
    unsigned char *z = w > 0 && h > 0 ? deflate_rows(rgb, w, h, &zlen) : NULL;
    unsigned char *png = z ? malloc(8 + 25 + 12 + zlen + 12) : NULL;
    if (!png) {
        free(z);
        out->failed = 1;
        return;
    }
    unsigned char ihdr[13] = {0};
    put_u32(ihdr, (uint32_t)w);
    put_u32(ihdr + 4, (uint32_t)h);
    ihdr[8] = 8; /* bits per channel */
    ihdr[9] = 2; /* truecolour RGB */
    size_t pos = 8;
    memcpy(png, sig, 8);
    put_chunk(png, &pos, "IHDR", ihdr, sizeof ihdr);
    put_chunk(png, &pos, "IDAT", z, zlen);
    put_chunk(png, &pos, "IEND", NULL, 0);
    base64(out, png, pos);
    free(z);
    free(png);
}
