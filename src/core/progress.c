/*
 * progress.c - the progress bar.  See include/snntb/progress.h.
 */
#include "snntb/progress.h"

#include <string.h>
#include <time.h>

double snn_now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void snn_progress_start(snn_progress *p, FILE *out, const char *label)
{
    memset(p, 0, sizeof *p);
    p->out = out;
    p->label = label;
    p->start = snn_now_seconds();
}

static void format_eta(char *buf, size_t n, double seconds)
{
    long s = (long)(seconds + 0.5);
    if (s >= 3600)
        snprintf(buf, n, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
    else
        snprintf(buf, n, "%02ld:%02ld", s / 60, s % 60);
}

void snn_progress_format(char *buf, size_t n, const char *label, size_t done,
                         size_t total, size_t correct, double elapsed)
{
    enum { WIDTH = 24 };
    char bar[WIDTH + 1], eta[32];
    size_t filled = total ? done * WIDTH / total : WIDTH;
    for (size_t i = 0; i < WIDTH; i++)
        bar[i] = i < filled ? '#' : '.';
    bar[WIDTH] = '\0';
    double rate = elapsed > 0 ? (double)done / elapsed : 0;
    double left = rate > 0 ? (double)(total - done) / rate : 0;
    if (rate > 0)
        format_eta(eta, sizeof eta, left);
    else
        snprintf(eta, sizeof eta, "--:--");
    snprintf(buf, n, "%s [%s] %zu/%zu  %.1f samples/s  acc %.2f%%  ETA %s",
             label, bar, done, total, rate,
             done ? 100.0 * (double)correct / (double)done : 0.0, eta);
}

void snn_progress_update(snn_progress *p, size_t done, size_t total,
                         size_t correct)
{
    if (!p->out)
        return;
    double now = snn_now_seconds();
    if (done < total && now - p->last_draw < 0.1)
        return;
    char line[256];
    snn_progress_format(line, sizeof line, p->label, done, total, correct,
                        now - p->start);
    fprintf(p->out, "\r%s\033[K", line);
    fflush(p->out);
    p->last_draw = now;
    p->drawn = 1;
}

void snn_progress_finish(snn_progress *p)
{
    if (p->out && p->drawn)
        fputc('\n', p->out);
    p->drawn = 0;
}
