/*
 * dvsframe.h - turning DVS events into the frames a model sees, as the
 * original's DVSIterator (snntoolbox/datasets/aedat/DVSIterator.py) does:
 * outliers outside chip_size dropped, coordinates subsampled from the
 * chip to the frame, duplicates dropped (maxpool_subsampling), events
 * summed per pixel by frame_gen_method, 3-sigma clipping, and the frames
 * of one recording scaled together; and, for eventframe_width, the
 * per-step binary event frames its simulators take.  Internal to src/io.
 */
#ifndef SNNTB_IO_DVSFRAME_H
#define SNNTB_IO_DVSFRAME_H

#include <stddef.h>
#include <stdint.h>
#include "io/aedat.h"

typedef enum dvs_method {
    DVS_SIGNED_SUM,        /* one channel: ON +1, OFF -1 */
    DVS_RECTIFIED_SUM,     /* one channel: every event +1 */
    DVS_RECTIFIED_CHANNELS,/* rectified_polarity_channels: ON events +1 in
                              channel 0, OFF events +1 in channel 1 */
    DVS_SIGNED_CHANNELS    /* signed_polarity_channels: ON +1 in channel
                              0, OFF -1 in channel 1 */
} dvs_method;

typedef struct dvs_opts {
    size_t chip[2];  /* sensor size along x and y (chip_size) */
    size_t frame[2]; /* frame size: axis 0 (height), axis 1 (width) */
    dvs_method method;
    int maxpool_subsampling, clip_three_sigma;
    int x_first, x_flipped, y_flipped;
} dvs_opts;

/* Parses a frame_gen_method name; -1 when unknown. */
int dvs_method_parse(const char *name);
/* 1, or 2 for the polarity-channel methods. */
int dvs_channels(dvs_method m);

/* Keeps, in place and in order, the events with x < chip[0] and
 * y < chip[1]; returns how many. */
size_t dvs_drop_outliers(const dvs_opts *o, dvs_event *ev, size_t n);

/* One sample's events made ready for its frame: x scaled by
 * (frame[0] - 1) / (chip[0] - 1) and y by (frame[1] - 1) / (chip[1] - 1),
 * rounded down; polarity kept for the signed and channel methods, 1
 * otherwise; with maxpool_subsampling, later copies of an identical
 * (x, y, t, p) dropped.  Writes to out (room for n); returns how many. */
size_t dvs_prepare(const dvs_opts *o, const dvs_event *in, size_t n,
                   dvs_event *out);

/* The frame (channels x frame[0] x frame[1]) of prepared events: flips,
 * axis order (is_x_first: x indexes axis 0), per-pixel sums, then, with
 * clip_three_sigma, per channel: rectified sums clipped to [0, 3 sigma of
 * the non-zero pixels] (the OFF channel of signed_polarity_channels to
 * [-3 sigma, 0]), signed sums to mean +- 1.5 sigma; values then cut
 * to integers (toward zero), as the original's astype('int32').  A
 * channel without events stays zero. */
void dvs_frame(const dvs_opts *o, const dvs_event *ev, size_t n, float *frame);

/* The original's per-step binary event frames (eventframe_width, one
 * channel): for each of n prepared events its pixel in the frame
 * (pix[i], a0 * frame[1] + a1 after flips and axis order) and the time
 * step whose frame holds it (step[i], from 0; -1: dropped, by 3-sigma
 * clipping or outside the frame).  A step's frame takes the remaining
 * events in order, at most one per pixel (the others wait), and ends
 * after the first event more than width (microseconds) after its first
 * remaining event.  Returns 0 when out of memory. */
int dvs_event_steps(const dvs_opts *o, const dvs_event *ev, size_t n,
                    int64_t width, size_t *pix, int32_t *step);

/* Scales the frames of one recording together: (f - min) / max, or
 * (f - min) when max is 0, as the original's scale_event_frames. */
void dvs_scale_frames(float *frames, size_t n);

#endif
