/*
 * image.c - see image.h.  JPEG through libjpeg(-turbo)'s classic API with
 * its default (accurate integer) IDCT and fancy upsampling, as PIL and
 * OpenCV decode; PNG through libpng's classic API, so that transparency
 * is dropped rather than composited, as PIL's convert('RGB') does.
 */
#include "io/image.h"

#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <png.h>

/* Larger images are refused: bounds what a hostile header can allocate. */
#define IMG_MAX_PIXELS ((size_t)1 << 28)

static snn_status alloc_pixels(img8 *im, const char *path, snn_error *err)
{
    if (im->w == 0 || im->h == 0 || im->w > IMG_MAX_PIXELS / im->h)
        return snn_error_set(err, SNN_E_FORMAT, "%s: image size %zu x %zu is "
                             "empty or too large", path, im->w, im->h);
    im->px = malloc(im->w * im->h * (size_t)im->c);
    if (!im->px)
        return snn_error_set(err, SNN_E_NOMEM, "%s: no memory for %zu x %zu "
                             "pixels", path, im->w, im->h);
    return SNN_OK;
}

/* ---- JPEG ---- */

typedef struct jpeg_fail {
    struct jpeg_error_mgr mgr;
    jmp_buf jump;
    char msg[JMSG_LENGTH_MAX];
} jpeg_fail;

static void jpeg_exit(j_common_ptr cinfo)
{
    jpeg_fail *f = (jpeg_fail *)cinfo->err;
    f->mgr.format_message(cinfo, f->msg);
    longjmp(f->jump, 1);
}

/* A warning (e.g. a file cut short, which libjpeg would pad with gray)
 * fails the decode: the pixels would not be the image's. */
static void jpeg_warn(j_common_ptr cinfo, int level)
{
    if (level < 0)
        jpeg_exit(cinfo);
}

static snn_status decode_jpeg(FILE *f, const char *path, img8 *im,
                              snn_error *err)
{
    struct jpeg_decompress_struct cinfo;
    jpeg_fail fail;
    /* volatile: read after a longjmp */
    snn_status volatile st = SNN_OK;
    cinfo.err = jpeg_std_error(&fail.mgr);
    fail.mgr.error_exit = jpeg_exit;
    fail.mgr.emit_message = jpeg_warn;
    if (setjmp(fail.jump)) {
        jpeg_destroy_decompress(&cinfo);
        if (st == SNN_OK)
            st = snn_error_set(err, SNN_E_FORMAT, "%s: bad JPEG: %s", path,
                               fail.msg);
        return st;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_stdio_src(&cinfo, f);
    jpeg_read_header(&cinfo, TRUE);
    if (cinfo.jpeg_color_space == JCS_CMYK ||
        cinfo.jpeg_color_space == JCS_YCCK) {
        st = snn_error_set(err, SNN_E_UNSUPPORTED,
                           "%s: CMYK JPEG is not supported", path);
        jpeg_exit((j_common_ptr)&cinfo);
    }
    int gray = cinfo.jpeg_color_space == JCS_GRAYSCALE;
    cinfo.out_color_space = gray ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_start_decompress(&cinfo);
    im->w = cinfo.output_width;
    im->h = cinfo.output_height;
    im->c = gray ? 1 : 3;
    if ((st = alloc_pixels(im, path, err)) != SNN_OK)
        jpeg_exit((j_common_ptr)&cinfo);
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = im->px + (size_t)cinfo.output_scanline * im->w *
                                    (size_t)im->c;
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    return SNN_OK;
}

/* ---- PNG ---- */

typedef struct png_fail {
    jmp_buf jump;
    char msg[256];
} png_fail;

static void png_fail_fn(png_structp png, png_const_charp msg)
{
    png_fail *f = png_get_error_ptr(png);
    snprintf(f->msg, sizeof f->msg, "%s", msg);
    longjmp(f->jump, 1);
}

static void png_warn_fn(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

/* Channels after the transforms set in png_setup. */
static int png_setup(png_structp png, png_infop info)
{
    int type = png_get_color_type(png, info);
    if (type == PNG_COLOR_TYPE_PALETTE)
        png_set_palette_to_rgb(png);
    if (type == PNG_COLOR_TYPE_GRAY && png_get_bit_depth(png, info) < 8)
        png_set_expand_gray_1_2_4_to_8(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    return png_get_channels(png, info);
}

static snn_status decode_png(FILE *f, const char *path, img8 *im,
                             snn_error *err)
{
    png_fail fail;
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &fail,
                                             png_fail_fn, png_warn_fn);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    png_bytep *volatile rows = NULL;
    snn_status volatile st = SNN_OK;
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        return snn_error_set(err, SNN_E_NOMEM, "%s: no memory", path);
    }
    if (setjmp(fail.jump)) {
        free(rows);
        png_destroy_read_struct(&png, &info, NULL);
        if (st == SNN_OK)
            st = snn_error_set(err, SNN_E_FORMAT, "%s: bad PNG: %s", path,
                               fail.msg);
        return st;
    }
    png_init_io(png, f);
    png_read_info(png, info);
    if (png_get_bit_depth(png, info) == 16) {
        st = snn_error_set(err, SNN_E_UNSUPPORTED,
                           "%s: 16-bit PNG is not supported (8-bit only)",
                           path);
        png_error(png, "16-bit");
    }
    im->c = png_setup(png, info);
    im->w = png_get_image_width(png, info);
    im->h = png_get_image_height(png, info);
    if ((st = alloc_pixels(im, path, err)) != SNN_OK)
        png_error(png, "size");
    rows = malloc(im->h * sizeof *rows);
    if (!rows) {
        st = snn_error_set(err, SNN_E_NOMEM, "%s: no memory", path);
        png_error(png, "memory");
    }
    for (size_t y = 0; y < im->h; y++)
        rows[y] = im->px + y * im->w * (size_t)im->c;
    png_read_image(png, rows);
    png_read_end(png, NULL);
    free(rows);
    png_destroy_read_struct(&png, &info, NULL);
    return SNN_OK;
}

snn_status img_decode(const char *path, img8 *out, snn_error *err)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f)
        return snn_error_set(err, SNN_E_IO, "%s: cannot open: %s", path,
                             strerror(errno));
    unsigned char sig[8] = {0};
    size_t got = fread(sig, 1, sizeof sig, f);
    rewind(f);
    snn_status st;
    if (got >= 3 && sig[0] == 0xFF && sig[1] == 0xD8 && sig[2] == 0xFF)
        st = decode_jpeg(f, path, out, err);
    else if (got == 8 && png_sig_cmp(sig, 0, 8) == 0)
        st = decode_png(f, path, out, err);
    else
        st = snn_error_set(err, SNN_E_FORMAT,
                           "%s: neither a JPEG nor a PNG file", path);
    fclose(f);
    if (st != SNN_OK)
        img_free(out);
    return st;
}

/* PIL's L24: luma 299/587/114 in 16-bit fixed point, rounded. */
static unsigned char luma(const unsigned char *p)
{
    return (unsigned char)((p[0] * 19595u + p[1] * 38470u + p[2] * 7471u +
                            0x8000u) >> 16);
}

static void convert_pixel(const unsigned char *s, int sc, unsigned char *d,
                          int dc)
{
    int color = sc >= 3;
    unsigned char alpha = sc == 2 || sc == 4 ? s[sc - 1] : 255;
    if (dc == 1) {
        d[0] = color ? luma(s) : s[0];
        return;
    }
    for (int k = 0; k < 3; k++)
        d[k] = color ? s[k] : s[0];
    if (dc == 4)
        d[3] = alpha;
}

snn_status img_convert(img8 *im, int c, snn_error *err)
{
    if (im->c == c)
        return SNN_OK;
    size_t n = im->w * im->h;
    unsigned char *px = malloc(n * (size_t)c);
    if (!px)
        return snn_error_set(err, SNN_E_NOMEM, "no memory for pixels");
    for (size_t i = 0; i < n; i++)
        convert_pixel(im->px + i * (size_t)im->c, im->c, px + i * (size_t)c, c);
    free(im->px);
    im->px = px;
    im->c = c;
    return SNN_OK;
}

snn_status img_resize_nearest(img8 *im, size_t w, size_t h, snn_error *err)
{
    if (im->w == w && im->h == h)
        return SNN_OK;
    size_t c = (size_t)im->c;
    unsigned char *px = malloc(w * h * c);
    if (!px)
        return snn_error_set(err, SNN_E_NOMEM, "no memory for pixels");
    double xs = (double)im->w / (double)w, ys = (double)im->h / (double)h;
    /* As PIL's ImagingScaleAffine: coordinates advance by adding the
     * scale, starting half a pixel in. */
    double yin = ys * 0.5;
    for (size_t y = 0; y < h; y++, yin += ys) {
        size_t sy = (size_t)yin < im->h ? (size_t)yin : im->h - 1;
        double xin = xs * 0.5;
        for (size_t x = 0; x < w; x++, xin += xs) {
            size_t sx = (size_t)xin < im->w ? (size_t)xin : im->w - 1;
            memcpy(px + (y * w + x) * c, im->px + (sy * im->w + sx) * c, c);
        }
    }
    free(im->px);
    im->px = px;
    im->w = w;
    im->h = h;
    return SNN_OK;
}

void img_free(img8 *im)
{
    free(im->px);
    im->px = NULL;
}
