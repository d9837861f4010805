/*
 * progress.h - a one-line progress bar for long runs: samples done,
 * samples/s, running accuracy and ETA, redrawn in place on a terminal.
 *
 * The bar draws only when enabled (the CLI enables it when stderr is a
 * terminal and --quiet is not given); a disabled bar costs nothing.
 */
#ifndef SNNTB_PROGRESS_H
#define SNNTB_PROGRESS_H

#include <stddef.h>
#include <stdio.h>

typedef struct snn_progress {
    FILE *out;          /* NULL: disabled */
    const char *label;  /* e.g. "SNN" */
    double start;       /* monotonic seconds at snn_progress_start */
    double last_draw;
    int drawn;
} snn_progress;

double snn_now_seconds(void);
void snn_progress_start(snn_progress *p, FILE *out, const char *label);
/* Redraws (at most ten times a second, and always when done == total). */
void snn_progress_update(snn_progress *p, size_t done, size_t total,
                         size_t correct);
/* Ends the line so that later output starts on a fresh one. */
void snn_progress_finish(snn_progress *p);

/* Formats the bar into buf (what update draws); exposed for tests. */
void snn_progress_format(char *buf, size_t n, const char *label, size_t done,
                         size_t total, size_t correct, double elapsed);

#endif
