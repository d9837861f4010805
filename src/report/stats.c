/*
 * stats.c - the numbers behind the plots (correlation coefficients,
 * histogram counts, the confusion matrix), apart from the drawing so that
 * tests can check them against direct computations.
 */
#include "report/rdata.h"

#include <math.h>

double rp_pearson(const float *a, const float *b, size_t n)
{
    if (n < 2)
        return NAN;
    double ma = 0, mb = 0;
    for (size_t i = 0; i < n; i++) {
        ma += a[i];
        mb += b[i];
    }
    ma /= (double)n;
    mb /= (double)n;
    double sab = 0, saa = 0, sbb = 0;
    for (size_t i = 0; i < n; i++) {
        double da = a[i] - ma, db = b[i] - mb;
        sab += da * db;
        saa += da * da;
        sbb += db * db;
    }
    if (saa <= 0 || sbb <= 0)
        return NAN;
    return sab / sqrt(saa * sbb);
}

/* Two passes over the kept points; no copy. */
double rp_pearson_filtered(const float *rates, const float *acts, size_t n,
                           double max_act, int keep_saturated)
{
    double m[2] = {0, 0}, s[3] = {0, 0, 0};
    size_t k = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < n; i++) {
            if (!keep_saturated &&
                ((rates[i] == 0 && acts[i] <= 0) || acts[i] >= max_act))
                continue;
            if (pass == 0) {
                m[0] += rates[i];
                m[1] += acts[i];
                k++;
            } else {
                double dr = rates[i] - m[0], da = acts[i] - m[1];
                s[0] += dr * da;
                s[1] += dr * dr;
                s[2] += da * da;
            }
        }
        if (pass == 0) {
            if (k < 2)
                return NAN;
            m[0] /= (double)k;
            m[1] /= (double)k;
        }
    }
    if (s[1] <= 0 || s[2] <= 0)
        return NAN;
    return s[0] / sqrt(s[1] * s[2]);
}

void rp_histogram(const float *v, size_t n, double lo, double hi,
                  size_t nbins, size_t *counts)
{
    for (size_t b = 0; b < nbins; b++)
        counts[b] = 0;
    double width = hi > lo ? (hi - lo) / (double)nbins : 1;
    for (size_t i = 0; i < n; i++) {
        if (isnan(v[i]))
            continue;
        double pos = (v[i] - lo) / width;
        size_t b = pos <= 0 ? 0 : pos >= (double)nbins ? nbins - 1 : (size_t)pos;
        counts[b]++;
    }
}

size_t rp_confusion(const int *truth, const int *guess, size_t n,
                    int classes, size_t *counts)
{
    size_t cols = (size_t)classes + 1, used = 0;
    for (size_t i = 0; i < (size_t)classes * cols; i++)
        counts[i] = 0;
    for (size_t i = 0; i < n; i++) {
        if (truth[i] < 0 || truth[i] >= classes || guess[i] < -1 ||
            guess[i] >= classes)
            continue;
        size_t col = guess[i] < 0 ? (size_t)classes : (size_t)guess[i];
        counts[(size_t)truth[i] * cols + col]++;
        used++;
    }
    return used;
}

void rp_minmax(const float *v, size_t n, double *lo, double *hi)
{
    *lo = n ? v[0] : 0;
    *hi = n ? v[0] : 0;
    for (size_t i = 1; i < n; i++) {
        if (v[i] < *lo)
            *lo = v[i];
        if (v[i] > *hi)
            *hi = v[i];
    }
}

double rp_rate_hz(double count, int steps, double dt)
{
    return steps > 0 && dt > 0 ? count * 1000.0 / ((double)steps * dt) : 0;
}

/* Rates in spikes per step are what a normalized activation predicts, so
 * saturation is an activation of 1 (one spike every step). */
size_t rp_layer_pearson(const struct snn_report *r, const rp_layer *l,
                        int is_output, double *mean, double *sd)
{
    double s1 = 0, s2 = 0;
    size_t used = 0;
    for (size_t k = 0; k < r->n_rec; k++) {
        const float *c = l->counts + k * l->size, *a = l->act + k * l->size;
        double p = rp_pearson_filtered(c, a, l->size, 1.0, is_output);
        if (isnan(p))
            continue;
        s1 += p;
        s2 += p * p;
        used++;
    }
    *mean = used ? s1 / (double)used : NAN;
    double var = used ? s2 / (double)used - *mean * *mean : NAN;
    *sd = used ? sqrt(var > 0 ? var : 0) : NAN;
    return used;
}
