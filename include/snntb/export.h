/*
 * export.h - writes a converted spiking net where users deploy it: NIR
 * (the HDF5 exchange format that snnTorch, Norse, Sinabs, Lava and others
 * read), self-contained Brian2 and PyNN scripts, and a dependency-free C
 * program.  Each writer reads the spiking
 * IR only, and refuses (naming the layer) what its target cannot express,
 * or applies the original toolbox's documented fallback with a warning.
 *
 * Semantics every target reproduces (those of the native simulator): per
 * time step a layer's membrane gains its synaptic current, where an input
 * spike carries v_thresh and the bias is already multiplied by dt; a
 * neuron fires when v >= v_thresh and is reset by the net's reset mode.
 * The first layer receives the analog sample as a constant current.
 */
#ifndef SNNTB_EXPORT_H
#define SNNTB_EXPORT_H

#include "snntb/config.h"
#include "snntb/log.h"
#include "snntb/net.h"
#include "snntb/status.h"
#include "snntb/tensor.h"

typedef enum snn_export_format {
    SNN_EXPORT_NIR,    /* one .nir (HDF5) file */
    SNN_EXPORT_BRIAN2, /* a folder: run_brian2.py + connections.npz */
    SNN_EXPORT_PYNN,   /* a folder: run_pynn.py + FromFileConnector files */
    SNN_EXPORT_C       /* one C99 source file with a main() */
} snn_export_format;

/* The [cell] parameters of PyNN's IF_curr_exp (units: nF, ms, nA). */
typedef struct snn_export_cell {
    double cm, tau_m, tau_syn_e, tau_syn_i, tau_refrac, delay;
} snn_export_cell;

typedef struct snn_export_opts {
    int force;       /* replace an existing output */
    double duration; /* ms simulated per sample by the generated scripts */
    snn_export_cell cell;
} snn_export_opts;

/* The options a config implies: [simulation] duration and the [cell]
 * parameters (force is 0). */
void snn_export_opts_from_config(const snn_config *cfg, snn_export_opts *o);

/* "nir", "brian2", "pynn" or "c"; SNN_E_INVALID naming the known ones
 * otherwise. */
snn_status snn_export_format_parse(const char *name, snn_export_format *f,
                                   snn_error *err);

/* Writes net to out (a file for NIR, a folder for script targets).  An
 * existing out is an error unless opts->force.  Files are written to a
 * temporary name and renamed when complete.  Fallbacks are reported to
 * log as warnings. */
snn_status snn_export(const snn_net *net, snn_export_format f,
                      const char *out, const snn_export_opts *opts,
                      const snn_log *log, snn_error *err);

/* Whether `simulator = NAME` in a config has an export here (brian2,
 * nest, neuron, spiNNaker). */
int snn_export_simulator_known(const char *simulator);

/* What a run does for such a simulator instead of simulating: exports
 * net into <log_dir>/<simulator>/ (replacing an earlier one) with the
 * first n samples of x and labels y as x_test.npz / y_test.npz, and logs
 * (as a warning: the run did not simulate) the command that runs it. */
snn_status snn_export_for_simulator(const snn_net *net, const char *simulator,
                                    const snn_export_opts *opts,
                                    const char *log_dir, const snn_tensor *x,
                                    const snn_tensor *y, size_t n,
                                    const snn_log *log, snn_error *err);

/* The individual writers behind snn_export (out is not checked for
 * existence here). */
snn_status snn_export_nir(const snn_net *net, const char *path,
                          const snn_log *log, snn_error *err);
snn_status snn_export_brian2(const snn_net *net, const char *dir,
                             const snn_export_opts *opts, const snn_log *log,
                             snn_error *err);
snn_status snn_export_pynn(const snn_net *net, const char *dir,
                           const snn_export_opts *opts, const snn_log *log,
                           snn_error *err);
snn_status snn_export_c(const snn_net *net, const char *path,
                        const snn_export_opts *opts, const snn_log *log,
                        snn_error *err);

#endif
