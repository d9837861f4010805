/*
 * sweep.h - the original's [parameter_sweep]: the same run once per value
 * of one numeric option, and a table and plot comparing them.  snn_run
 * hands a config that asks for a sweep to snn_sweep.
 */
#ifndef SNNTB_PIPELINE_SWEEP_H
#define SNNTB_PIPELINE_SWEEP_H

#include "snntb/run.h"

/* Whether cfg's [parameter_sweep] param_values lists any value. */
snn_status snn_sweep_wanted(const snn_config *cfg, int *wanted,
                            snn_error *err);

/* One snn_run per value of [parameter_sweep] param_name (an option of
 * [cell], [conversion], [normalization], [simulation] or [input] holding
 * a number, looked up in that order), each on a copy of cfg with its log
 * folder <log_dir>/sweep/<name>_<value>; then sweep.json, sweep.txt and
 * report/index.html in log_dir (snn_report_sweep).  *last gets the last
 * run's results.  An unknown name, a value the option does not accept, or
 * a value <= 0 on a log scale is an error before anything runs. */
snn_status snn_sweep(const snn_config *cfg, const snn_log *log,
                         const snn_run_hooks *hooks, const char *log_dir,
                         snn_results *last, snn_error *err);

#endif
