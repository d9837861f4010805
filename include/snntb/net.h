/*
 * net.h - the spiking network intermediate representation, and the
 * conversion that builds it from a (normalized) graph.
 *
 * A spiking layer keeps the ANN layer's synaptic op unchanged (same
 * weights, same window) and replaces the activation by integrate-and-fire
 * neurons; for a transposed convolution (syn.op CONV2D_T) that op is the
 * scatter of each input spike at (y, x, c) through the kernel slice
 * W[c, :, ky, kx] onto output (y * stride + ky - pad, x * stride + kx -
 * pad).  Layers that only move values keep their op too, with no neurons
 * (SNN_UNIT_RESHAPE).  A layer made from an Add or a Concatenate has
 * several incoming projections instead (snn_net_proj).  Simulators and
 * exporters read this IR only.
 */
#ifndef SNNTB_NET_H
#define SNNTB_NET_H

#include "snntb/graph.h"
#include "snntb/status.h"

typedef enum snn_reset {
    SNN_RESET_SUBTRACT, /* V -= V_th: keeps the residual (default) */
    SNN_RESET_ZERO,     /* V = 0 */
    SNN_RESET_MODULO    /* V = V mod V_th */
} snn_reset;

typedef enum snn_unit {
    SNN_UNIT_IF,      /* integrate-and-fire neurons fed by the synaptic op */
    SNN_UNIT_SOFTMAX, /* output neurons firing with probability softmax(V) */
    SNN_UNIT_MAXGATE, /* max-pooling: passes the spikes of the input that
                         has fired most so far in each window */
    SNN_UNIT_RESHAPE  /* spikes re-indexed by syn.op, no neurons: FLATTEN
                         (also a Keras Reshape to a vector), RESHAPE, PAD,
                         CROP, UPSAMPLE (nearest: a spike is repeated), or
                         a concatenation (CONCAT) of its projections'
                         sources along the channel axis */
} snn_unit;

/* Which running estimate of its inputs' rates a max-pool gate compares
 * (the original's [conversion] maxpool_type). */
typedef enum snn_maxpool {
    SNN_MAXPOOL_FIR, /* spike counts so far (the default) */
    SNN_MAXPOOL_AVG, /* mean rate, count / steps: the same choice as counts */
    SNN_MAXPOOL_EXP  /* r <- 1.005 r + 0.995 s every step (s: 0 or 1) */
} snn_maxpool;

/* The neuron model beyond threshold and reset: the original's [cell] and
 * [normalization] options.  All zero is the plain integrate-and-fire
 * neuron; docs/config.md gives each option's exact semantics. */
typedef struct snn_cell {
    float tau_refrac;   /* ms: input ignored while (t - t_spike) < tau_refrac */
    float v_reset;      /* where "Reset to zero" sets V */
    int leak;           /* V > 0 loses 0.1 * dt every step */
    int v_clip;         /* V + input clipped to [v_min, v_max] */
    float v_min, v_max;
    int payloads;       /* a spike carries v_thresh plus its residual */
    int bias_relaxation; /* biases ramp up to their value by duration / 2 */
    float duration;     /* ms; bias relaxation's time scale */
    int online_normalization; /* per-layer threshold follows its top rate */
    snn_maxpool maxpool;
} snn_cell;

/* One incoming projection of a layer with several inputs.  syn.op is
 * DENSE or CONV2D (a linear weighted layer folded into the Add, its
 * weights scaled; its bias is summed into the receiving layer's), or
 * ACTIVATION: the identity, channel c of the source times weight[c]
 * (weight (C); empty in a concatenation, which copies the spikes). */
typedef struct snn_net_proj {
    snn_layer syn;
    int input;          /* the source net layer; -1: the input */
    snn_shape in_shape; /* the source's output shape */
} snn_net_proj;

typedef struct snn_net_layer {
    snn_layer syn;      /* the synaptic op; syn.act matters only when it
                           is binary (the neurons' firing rule) */
    snn_unit unit;
    int input;          /* the net layer feeding this one; -1: the input */
    snn_shape in_shape;
    float clamp_until;  /* ms: V is held (input ignored) while t < this */
    /* Several inputs (n_proj > 0): an Add (syn.op ADD, IF or softmax
     * neurons whose current is the sum of the projections' plus syn.bias)
     * or a concatenation (unit RESHAPE, syn.op CONCAT).  input and
     * in_shape are then those of proj[0]. */
    snn_net_proj *proj;
    int n_proj;
} snn_net_layer;

typedef struct snn_net {
    snn_net_layer *layers;
    int n_layers;
    snn_shape input_shape;
    snn_reset reset;
    float v_thresh;
    float dt;           /* ms per time step; biases are pre-scaled by it */
    snn_cell cell;      /* zeroed by snn_convert: the plain IF neuron */
    float v_init;       /* membrane potential of every neuron at the start
                           of a sample, as a fraction of v_thresh (0: the
                           original's rest; 0.5: Deng & Gu 2021, Bu et al.
                           2022); snn_convert sets 0 */
} snn_net;

typedef struct snn_convert_opts {
    float v_thresh;
    snn_reset reset;
    float dt;
} snn_convert_opts;

/* Whether every layer of g has a spiking counterpart (BatchNorm counts: it
 * is folded first).  Cheap: lets a run refuse a model before the slow
 * normalization pass.  snn_convert checks the same. */
snn_status snn_convert_check(const snn_graph *g, snn_error *err);

/* Builds the spiking net from g, whose batch norms must be folded.  g is
 * left unchanged; the net owns copies of the weights.  An Add becomes one
 * layer of neurons receiving a projection per input: a linear Dense or
 * Conv2D whose only consumers are Adds is no layer of its own but a
 * weighted projection from its input (so Conv -> Add(shortcut) -> ReLU
 * is one IF layer fed by the conv and by the shortcut's spikes); any
 * other input an identity projection of its spikes, scaled per channel
 * by the Add's factors (normalization's lambda_j / lambda_add).  A
 * Concatenate re-indexes its inputs' spikes, without neurons, as do
 * Flatten, Reshape, ZeroPadding2D (where compose.c has not merged it into
 * the convolution it feeds), Cropping2D and nearest UpSampling2D.  A
 * Conv2DTranspose is a layer of neurons like a Conv2D (a linear one feeding
 * only Adds folds into them).  A clipped ReLU
 * converts when its bound equals v_thresh (normalization scales a clipped
 * layer by its bound, so the bound becomes 1): the IF neuron saturates at
 * one spike per step, which is the clip. */
snn_status snn_convert(const snn_graph *g, const snn_convert_opts *opts,
                       snn_net *net, snn_error *err);
void snn_net_free(snn_net *net);

/* Sets the neuron model's options on a converted net; refuses values that
 * cannot describe a neuron (negative tau_refrac, v_clip bounds crossed,
 * bias relaxation without a duration), naming the config key. */
snn_status snn_net_set_cell(snn_net *net, const snn_cell *cell,
                            snn_error *err);

/* Number of neurons in layer i (its output size). */
size_t snn_net_layer_size(const snn_net *net, int i);

/* The first layer with several inputs (Add, Concatenate), or NULL: for
 * the exporters and spike codes, which refuse them. */
const snn_net_layer *snn_net_multi_input(const snn_net *net);

/* The first layer that resamples spikes: a transposed convolution, or a
 * re-indexing other than a flatten or a concatenation (zero padding not
 * merged into a convolution, cropping, nearest upsampling, a Reshape to
 * an image); NULL if none.  Both engines run them; the exporters
 * refuse them, naming the layer. */
const snn_net_layer *snn_net_resampling(const snn_net *net);

/* The name of the first [cell]/[normalization]/[conversion] option of
 * net->cell or a layer's clamp that only the built-in simulator runs (an
 * export would silently drop it), or NULL when there is none. */
const char *snn_net_sim_only_option(const snn_net *net);

/* Reads the original's filename_clamp_indices JSON, {"layer index": t},
 * onto the net: layer i's membrane is held until time t (ms).  A layer
 * index the net lacks, a layer without membrane (max-pool gate, flatten),
 * a value that is not a non-negative number or malformed JSON is an error
 * naming the file and key. */
snn_status snn_net_load_clamps(snn_net *net, const char *path,
                               snn_error *err);

/* Conversion-time changes of the graph, as the original's parser makes
 * them (before normalization):
 * binarize_weights: every Dense/Conv2D weight becomes +1 or -1 (the
 * original's binarize with h = 1: +1 where round((w + 1) / 2) clipped to
 * [0, 1] is 1 (round half to even), else -1); biases unchanged. */
void snn_graph_binarize_weights(snn_graph *g);

/* quantize_weights: Dense/Conv2D weights (and biases when `bias`) reduced
 * to the fixed-point format Qm.f: round(x * 2^f) / 2^f (half to even),
 * clipped to +-(2^m - 2^-f).  m and f must be >= 1 (the original's
 * reduce_precision). */
snn_status snn_graph_quantize_weights(snn_graph *g, int m, int f, int bias,
                                      snn_error *err);

/* max2avg_pool: every max pooling becomes an average pooling with the same
 * window (padding not counted in the average). */
void snn_graph_max2avg_pool(snn_graph *g);

#endif
