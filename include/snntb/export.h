/*
 * export.h - writes a converted spiking net where users deploy it: NIR
 * (the HDF5 exchange format that snnTorch, Norse, Sinabs, Lava and others
 * read), self-contained Brian2 and PyNN scripts, a dependency-free C
 * program (float or fixed point), lava-dl's netx HDF5 for Loihi, and
 * MegaSim's netlist and module files.  Each writer reads the spiking IR
 * only, and refuses (naming the layer) what its target cannot express,
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

#include <stdint.h>

#include "snntb/config.h"
#include "snntb/log.h"
#include "snntb/net.h"
#include "snntb/status.h"
#include "snntb/tensor.h"

typedef enum snn_export_format {
    SNN_EXPORT_NIR,    /* one .nir (HDF5) file */
    SNN_EXPORT_BRIAN2, /* a folder: run_brian2.py + connections.npz */
    SNN_EXPORT_PYNN,   /* a folder: run_pynn.py + FromFileConnector files */
    SNN_EXPORT_C,      /* one C99 source file with a main() */
    SNN_EXPORT_LAVA,   /* one lava-dl netx HDF5 file (Loihi) */
    SNN_EXPORT_MEGASIM /* a folder: MegaSim netlist, .prm, .stt, .stim */
} snn_export_format;

/* The [cell] parameters of PyNN's IF_curr_exp (units: nF, ms, nA). */
typedef struct snn_export_cell {
    double cm, tau_m, tau_syn_e, tau_syn_i, tau_refrac, delay;
} snn_export_cell;

typedef struct snn_export_opts {
    int force;       /* replace an existing output */
    double duration; /* ms simulated per sample by the generated scripts */
    snn_export_cell cell;
    int precision;   /* C export: 0 float, 16 or 8 (fixed point) */
    int scaling_factor; /* MegaSim: integer parameters = value x this */
} snn_export_opts;

/* The options a config implies: [simulation] duration and the [cell]
 * parameters (force is 0). */
void snn_export_opts_from_config(const snn_config *cfg, snn_export_opts *o);

/* "nir", "brian2", "pynn", "c", "lava" or "megasim"; SNN_E_INVALID
 * naming the known ones otherwise. */
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
 * nest, neuron, spiNNaker, MegaSim, loihi). */
int snn_export_simulator_known(const char *simulator);

/* Those simulators as a list for messages ("brian2, ... and loihi"). */
const char *snn_export_simulators(void);

/* What a run does for such a simulator instead of simulating: exports
 * net into <log_dir>/<simulator>/ (replacing an earlier one; loihi: the
 * file net.h5 there) with the first n samples of x and labels y as
 * x_test.npz / y_test.npz, and logs (as a warning: the run did not
 * simulate) the command that runs it.  MegaSim also gets the input events
 * of the first sample; loihi the native accuracy of the float and the
 * quantized net on the n samples. */
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
snn_status snn_export_lava(const snn_net *net, const char *path,
                           const snn_log *log, snn_error *err);
snn_status snn_export_megasim(const snn_net *net, const char *dir,
                              const snn_export_opts *opts,
                              const snn_log *log, snn_error *err);

/* MegaSim's input for one sample (C = 1 or a vector, values in [0, 1]),
 * as the original writes it: <dir>/InputLayer.stim, per time step t (ms,
 * truncated) a line "t -1 -1 X Y 1" for each pixel that spikes (with
 * probability its value; draws from seed), and <dir>/bias_clk.stim, the
 * per-step clock "t -1 -1 0 0 1" that applies the biases. */
snn_status snn_export_megasim_stim(const snn_net *net, const char *dir,
                                   const float *sample, double duration,
                                   uint64_t seed, snn_error *err);

/* Fixed point (Loihi through Lava, the int16 / int8 C export).  Per neuron
 * layer, weights and biases become integers in units of 2^-k of the
 * threshold (k as large as the weight bits allow, at most max_shift):
 * the threshold is 2^shift, shift = k, plus SNN_QUANT_INPUT_SHIFT for a
 * layer fed by the sample, whose values become integers x * 2^8 (x
 * clipped to [-1, 1]).  Average pooling becomes a depthwise convolution
 * of weights 1 / cells; max-pooling stays a gate when keep_maxgate, else
 * falls back to average pooling (warning); a softmax output becomes IF
 * neurons (warning).  `net` is the same net in
 * the native simulator's units (every value dyadic), so snn_simulate of
 * it on snn_quant_input'ed samples runs what the integer target runs. */
#define SNN_QUANT_INPUT_SHIFT 8

typedef struct snn_quant_opts {
    int weight_bits; /* signed: |w| <= 2^(bits-1) - 1 */
    int max_shift;   /* largest threshold exponent */
    long bias_max;   /* largest |bias| integer (clipped, with a warning) */
    int reset_zero;  /* the target resets to zero (Loihi) */
    int keep_maxgate; /* the target gates max-pooling by spike counts (C);
                         else max-pooling becomes average pooling */
} snn_quant_opts;

typedef struct snn_quant {
    snn_net net;  /* the quantized net in native units */
    snn_net ints; /* the same layers holding the integers (as floats) */
    int *shift;   /* per layer: the threshold is 2^shift (0 for flattens) */
} snn_quant;

snn_status snn_quantize(const snn_net *net, const snn_quant_opts *o,
                        const snn_log *log, snn_quant *q, snn_error *err);
void snn_quant_free(snn_quant *q);

/* Rounds the first n samples of x in place to the values the quantized
 * targets see: round(clip(x, -1, 1) * 2^8) / 2^8.  Returns how many
 * values were clipped. */
size_t snn_quant_input(snn_tensor *x, size_t n);

/* What the quantization costs, measured natively on n samples: the net
 * as converted, the same net with the target's neurons (reset to zero for
 * Loihi, else the net's own; IF neurons for a softmax output; average
 * pooling for max-pooling unless keep_maxgate), and the quantized net on
 * quantized samples. */
typedef struct snn_quant_eval {
    size_t n;
    double float_top1, float_reset_top1, quant_top1;
    size_t agree; /* samples the quantized net classifies as the float one */
} snn_quant_eval;

/* quant_pred (NULL, or n entries) receives the quantized net's
 * predictions (-1: no output spike). */
snn_status snn_quant_evaluate(const snn_net *net, const snn_quant_opts *o,
                              const snn_tensor *x, const snn_tensor *y,
                              size_t n, int steps, const snn_log *log,
                              snn_quant_eval *ev, int *quant_pred,
                              snn_error *err);

/* The quantization a format implies: lava (8-bit, threshold below 2^17,
 * reset to zero) or the C export at opts->precision 16 or 8. */
void snn_quant_opts_for(snn_export_format f, int precision,
                        snn_quant_opts *o);

#endif
