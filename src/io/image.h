/*
 * image.h - decoding one JPEG or PNG file into 8-bit pixels, and the two
 * pixel operations an image-folder dataset needs on the way to the model:
 * the colour conversion and the nearest-neighbour resize that Keras's
 * load_img does through PIL.  Internal to src/io.
 */
#ifndef SNNTB_IO_IMAGE_H
#define SNNTB_IO_IMAGE_H

#include <stddef.h>
#include "snntb/status.h"

typedef struct img8 {
    size_t w, h;
    int c;             /* 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA */
    unsigned char *px; /* h * w * c, row-major, channels interleaved */
} img8;

/* Decodes path, recognized by its signature: JPEG (libjpeg-turbo; gray
 * or RGB out; CMYK refused) or PNG (libpng; palettes expanded to RGB,
 * 16-bit refused).  A damaged or cut file is an error naming it. */
snn_status img_decode(const char *path, img8 *out, snn_error *err);

/* Converts to c channels (1, 3 or 4) as PIL's convert('L'/'RGB'/'RGBA'):
 * alpha dropped, gray replicated, RGB to gray by ITU-R 601-2 luma in
 * PIL's fixed point. */
snn_status img_convert(img8 *im, int c, snn_error *err);

/* Resizes to w x h by PIL's nearest-neighbour rule (source pixel
 * floor((x + 0.5) * src / dst)); unchanged when the size matches. */
snn_status img_resize_nearest(img8 *im, size_t w, size_t h, snn_error *err);

void img_free(img8 *im);

#endif
