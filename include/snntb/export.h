/*
 * export.h - writes a converted spiking net where users deploy it: NIR
 * (the HDF5 exchange format that snnTorch, Norse, Sinabs, Lava and others
 * read) and self-contained Brian2 scripts.  Each writer reads the spiking
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

#include "snntb/log.h"
#include "snntb/net.h"
#include "snntb/status.h"

typedef enum snn_export_format {
    SNN_EXPORT_NIR,   /* one .nir (HDF5) file */
    SNN_EXPORT_BRIAN2 /* a folder: run_brian2.py + connections.npz */
} snn_export_format;

typedef struct snn_export_opts {
    int force;       /* replace an existing output */
    double duration; /* ms simulated per sample by the generated scripts */
} snn_export_opts;

/* "nir" or "brian2"; SNN_E_INVALID naming the known ones otherwise. */
snn_status snn_export_format_parse(const char *name, snn_export_format *f,
                                   snn_error *err);

/* Writes net to out (a file for NIR, a folder for script targets).  An
 * existing out is an error unless opts->force.  Files are written to a
 * temporary name and renamed when complete.  Fallbacks are reported to
 * log as warnings. */
snn_status snn_export(const snn_net *net, snn_export_format f,
                      const char *out, const snn_export_opts *opts,
                      const snn_log *log, snn_error *err);

/* The individual writers behind snn_export (out is not checked for
 * existence here). */
snn_status snn_export_nir(const snn_net *net, const char *path,
                          const snn_log *log, snn_error *err);
snn_status snn_export_brian2(const snn_net *net, const char *dir,
                             const snn_export_opts *opts, const snn_log *log,
                             snn_error *err);

#endif
