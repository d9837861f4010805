/*
 * dvsframe.c - see dvsframe.h.
 */
#include "io/dvsframe.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int dvs_method_parse(const char *name)
{
    static const char *const names[] = {
        "signed_sum", "rectified_sum", "rectified_polarity_channels",
        "signed_polarity_channels"};
    for (int i = 0; i < 4; i++)
        if (strcmp(name, names[i]) == 0)
            return i;
    return -1;
}

int dvs_channels(dvs_method m)
{
    return m == DVS_RECTIFIED_CHANNELS || m == DVS_SIGNED_CHANNELS ? 2 : 1;
}

size_t dvs_drop_outliers(const dvs_opts *o, dvs_event *ev, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (ev[i].x >= 0 && ev[i].y >= 0 && (size_t)ev[i].x < o->chip[0] &&
            (size_t)ev[i].y < o->chip[1])
            ev[k++] = ev[i];
    return k;
}

/* numpy's true_divide of the sizes, as float64. */
static double axis_scale(size_t frame, size_t chip)
{
    return chip > 1 ? (double)(frame - 1) / (double)(chip - 1) : 0.0;
}

static uint64_t event_hash(const dvs_event *e)
{
    uint64_t h = (uint64_t)e->t * 0x9E3779B97F4A7C15ull;
    h ^= ((uint64_t)(uint32_t)e->x << 32 | (uint32_t)e->y) +
         0xBF58476D1CE4E5B9ull + (h << 6) + (h >> 2);
    h ^= (uint64_t)e->p + (h >> 31);
    return h * 0x94D049BB133111EBull;
}

static int same_event(const dvs_event *a, const dvs_event *b)
{
    return a->x == b->x && a->y == b->y && a->t == b->t && a->p == b->p;
}

/* Open addressing over indices into out (SIZE_MAX: empty); falls back to
 * keeping every event when the table cannot be allocated. */
static size_t unique_everseen(dvs_event *ev, size_t n)
{
    size_t cap = 16;
    while (cap < 2 * n)
        cap *= 2;
    size_t *slot = malloc(cap * sizeof *slot);
    if (!slot)
        return n;
    memset(slot, 0xFF, cap * sizeof *slot);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        size_t h = (size_t)event_hash(&ev[i]) & (cap - 1);
        while (slot[h] != SIZE_MAX && !same_event(&ev[slot[h]], &ev[i]))
            h = (h + 1) & (cap - 1);
        if (slot[h] != SIZE_MAX)
            continue;
        ev[k] = ev[i];
        slot[h] = k++;
    }
    free(slot);
    return k;
}

size_t dvs_prepare(const dvs_opts *o, const dvs_event *in, size_t n,
                   dvs_event *out)
{
    double sx = axis_scale(o->frame[0], o->chip[0]);
    double sy = axis_scale(o->frame[1], o->chip[1]);
    int keep_p = o->method != DVS_RECTIFIED_SUM;
    for (size_t i = 0; i < n; i++) {
        out[i] = in[i];
        out[i].x = (int32_t)((double)in[i].x * sx);
        out[i].y = (int32_t)((double)in[i].y * sy);
        out[i].p = keep_p ? in[i].p : 1;
    }
    return o->maxpool_subsampling ? unique_everseen(out, n) : n;
}

/* rect > 0: a rectified channel, clipped to [0, 3 sigma] of its non-zero
 * pixels (the original's rectified_sum); rect < 0: its mirror for the OFF
 * channel of signed_polarity_channels; rect == 0: a signed channel,
 * clipped to mean +- 1.5 sigma of all pixels. */
static void clip_channel(float *f, size_t n, int rect)
{
    double s = 0, q = 0;
    size_t nz = 0;
    for (size_t i = 0; i < n; i++) {
        nz += f[i] != 0;
        s += f[i];
    }
    if (nz == 0)
        return;
    size_t count = rect ? nz : n;
    double m = s / (double)count;
    for (size_t i = 0; i < n; i++)
        if (!rect || f[i] != 0)
            q += (f[i] - m) * (f[i] - m);
    double sigma = sqrt(q / (double)count);
    double lo = rect > 0 ? 0 : rect < 0 ? -3 * sigma : m - 1.5 * sigma;
    double hi = rect > 0 ? 3 * sigma : rect < 0 ? 0 : m + 1.5 * sigma;
    for (size_t i = 0; i < n; i++) {
        double v = f[i] < lo ? lo : f[i] > hi ? hi : f[i];
        f[i] = (float)(int32_t)v;
    }
}

/* How each channel of a method is clipped (clip_channel's rect). */
static int channel_rect(dvs_method m, int c)
{
    switch (m) {
    case DVS_SIGNED_SUM: return 0;
    case DVS_RECTIFIED_SUM: return 1;
    case DVS_RECTIFIED_CHANNELS: return 1;
    default: return c == 0 ? 1 : -1;
    }
}

/* A prepared event's pixel in one channel (a0 * frame[1] + a1) after
 * flips and axis order; SIZE_MAX outside the frame, only when is_x_first
 * is off and the frame is not square (refused when the dataset is
 * opened). */
static size_t event_pixel(const dvs_opts *o, const dvs_event *e)
{
    size_t h = o->frame[0], w = o->frame[1];
    size_t x = (size_t)e->x, y = (size_t)e->y;
    x = o->x_flipped ? h - 1 - x : x;
    y = o->y_flipped ? w - 1 - y : y;
    size_t a0 = o->x_first ? x : y, a1 = o->x_first ? y : x;
    return a0 < h && a1 < w ? a0 * w + a1 : SIZE_MAX;
}

void dvs_frame(const dvs_opts *o, const dvs_event *ev, size_t n, float *frame)
{
    size_t hw = o->frame[0] * o->frame[1];
    int channels = dvs_channels(o->method);
    memset(frame, 0, (size_t)channels * hw * sizeof *frame);
    for (size_t i = 0; i < n; i++) {
        size_t px = event_pixel(o, &ev[i]);
        if (px == SIZE_MAX)
            continue;
        int on = ev[i].p != 0;
        size_t ch = channels == 2 && !on ? 1 : 0;
        int signed_m = o->method == DVS_SIGNED_SUM ||
                       o->method == DVS_SIGNED_CHANNELS;
        frame[ch * hw + px] += signed_m && !on ? -1.0f : 1.0f;
    }
    for (int c = 0; o->clip_three_sigma && c < channels; c++)
        clip_channel(frame + (size_t)c * hw, hw, channel_rect(o->method, c));
}

void dvs_scale_frames(float *frames, size_t n)
{
    if (n == 0)
        return;
    float lo = frames[0], hi = frames[0];
    for (size_t i = 1; i < n; i++) {
        lo = frames[i] < lo ? frames[i] : lo;
        hi = frames[i] > hi ? frames[i] : hi;
    }
    float div = hi == 0 ? 1.0f : hi;
    for (size_t i = 0; i < n; i++)
        frames[i] = (frames[i] - lo) / div;
}

/* With clip_three_sigma, the original keeps at each pixel only as many
 * events (the first ones) as the clipped sum there counts: step -1 marks
 * the others.  sums: room for one frame. */
static void clip_events(const dvs_opts *o, const dvs_event *ev, size_t n,
                        const size_t *pix, int32_t *step, float *sums)
{
    dvs_frame(o, ev, n, sums);
    for (size_t i = 0; i < n; i++) {
        float *s = pix[i] == SIZE_MAX ? NULL : &sums[pix[i]];
        step[i] = s && *s != 0 ? 0 : -1;
        if (s && *s != 0)
            *s -= *s > 0 ? 1.0f : -1.0f;
    }
}

/* The original's get_binary_frame, called once per step until no event
 * is left: the remaining events, in order, each take their pixel unless
 * this frame already has it (then they wait for a later frame); the frame
 * ends after the first event more than width after the frame's first
 * remaining event.  idx: the remaining events; stamp: per pixel, the last
 * frame that took it. */
static void assign_steps(const dvs_event *ev, size_t *idx, size_t r,
                         int64_t width, const size_t *pix, int32_t *step,
                         int32_t *stamp)
{
    for (int32_t f = 0; r > 0; f++) {
        int64_t t0 = ev[idx[0]].t;
        size_t w = 0;
        int ended = 0;
        for (size_t q = 0; q < r; q++) {
            size_t i = idx[q];
            if (!ended && stamp[pix[i]] != f) {
                stamp[pix[i]] = f;
                step[i] = f;
            } else {
                idx[w++] = i;
            }
            ended = ended || ev[i].t - t0 > width;
        }
        r = w;
    }
}

int dvs_event_steps(const dvs_opts *o, const dvs_event *ev, size_t n,
                    int64_t width, size_t *pix, int32_t *step)
{
    size_t hw = o->frame[0] * o->frame[1];
    size_t *idx = malloc((n ? n : 1) * sizeof *idx);
    int32_t *stamp = malloc((hw ? hw : 1) * sizeof *stamp);
    float *sums = o->clip_three_sigma
                      ? malloc((hw ? hw : 1) * sizeof *sums) : NULL;
    int ok = idx && stamp && (sums || !o->clip_three_sigma);
    for (size_t i = 0; ok && i < n; i++) {
        pix[i] = event_pixel(o, &ev[i]);
        step[i] = pix[i] == SIZE_MAX ? -1 : 0;
    }
    if (ok && sums)
        clip_events(o, ev, n, pix, step, sums);
    size_t r = 0;
    for (size_t i = 0; ok && i < n; i++)
        if (step[i] == 0)
            idx[r++] = i;
    for (size_t k = 0; ok && k < hw; k++)
        stamp[k] = -1;
    if (ok)
        assign_steps(ev, idx, r, width, pix, step, stamp);
    free(idx);
    free(stamp);
    free(sums);
    return ok;
}
