/*
 * run.h - one whole run as a config describes it: parse the model, score
 * the ANN, normalize, convert, simulate, and record the results.  This is
 * what `snntb config.ini` does; it is in the library so that other front
 * ends (a GUI, a parameter sweep) run exactly the same thing.
 */
#ifndef SNNTB_RUN_H
#define SNNTB_RUN_H

#include <stddef.h>
#include "snntb/config.h"
#include "snntb/log.h"
#include "snntb/report.h"
#include "snntb/sim.h"
#include "snntb/status.h"

typedef struct snn_run_hooks {
    /* Called after each ANN batch and each SNN batch; label says which. */
    void (*progress)(void *user, const char *label, size_t done,
                     size_t total, size_t correct);
    void *user;
    /* NULL, or asked between stages and after each SNN batch: non-zero
     * ends the run early with an error saying so. */
    int (*stop)(void *user);
} snn_run_hooks;

/* Runs what cfg asks.  log receives notes and warnings; hooks may be NULL.
 * log_dir (of size n) receives the folder where results were written. */
snn_status snn_run(const snn_config *cfg, const snn_log *log,
                   const snn_run_hooks *hooks, snn_results *res,
                   char *log_dir, size_t n, snn_error *err);

/* The first stages of snn_run only: parse, fold, normalize (on the
 * dataset the config names) and convert.  For exporters, which need the
 * spiking net but not its simulation.  net is freed by the caller. */
snn_status snn_run_convert(const snn_config *cfg, const snn_log *log,
                           snn_net *net, snn_error *err);

#endif
