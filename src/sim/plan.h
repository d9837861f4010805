/*
 * plan.h - the simulator's re-laid-out copy of a spiking net, built once
 * per simulation: weights ordered so that one input neuron's fan-out is a
 * contiguous vector, the window geometry enumerated as "taps", and the
 * exact fan-out of every input neuron for counting synaptic operations.
 * Internal to src/sim.
 *
 * Inside the event engine every spatial layer's neurons are channels-last
 * (index p * C + c for position p = y * W + x), so that a spike's
 * contribution to one output position is a run of contiguous channels.
 * Vectors keep their canonical index.
 */
#ifndef SNNTB_SIM_PLAN_H
#define SNNTB_SIM_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "snntb/net.h"
#include "snntb/status.h"

typedef enum plan_kind {
    PLAN_CONV,    /* CONV2D neurons */
    PLAN_DENSE,   /* DENSE neurons */
    PLAN_AVG,     /* AVGPOOL2D neurons: sum of input spikes / window size */
    PLAN_MAXGATE, /* MAXPOOL2D gating */
    PLAN_RESHAPE, /* FLATTEN: re-indexing */
    PLAN_MERGE,   /* what only the reference engine runs, with its fan-out
                     alone: a lone identity op (ACTIVATION) */
    PLAN_ADD,     /* Add: neurons fed by the projections in proj */
    PLAN_SCALE,   /* an Add's identity projection: spike i adds w[i] */
    PLAN_REMAP,   /* spikes re-indexed through map (PAD, CROP, UPSAMPLE,
                     RESHAPE); CONCAT: one map per projection in proj */
    PLAN_CONVT    /* CONV2D_T neurons: a spike's taps, as a conv's */
} plan_kind;

/* One (output position, kernel offset) pair that reads input position q;
 * stored as offsets ready to add to the current and weight pointers.  A
 * convolution's taps that touch neighbouring output positions with
 * neighbouring weights are merged into one run: with groups = 1 and unit
 * stride and dilation along x, a spike's whole kernel row is one run. */
typedef struct plan_tap {
    int32_t dst; /* p * out_channels */
    int32_t src; /* conv: offset in the input channel's weight block;
                    pools: kernel offset */
    int32_t len; /* conv: floats in the run (synapses); pools: 1 */
} plan_tap;

/* An input neuron (internal index) decoded once, when the plan is built,
 * so that a spike costs no division. */
typedef struct plan_in {
    uint32_t q;  /* input position */
    uint32_t w;  /* conv: its channel's weight block; pools: its channel */
    uint32_t d;  /* conv: its group's first output channel; pools: channel */
} plan_in;

typedef struct plan_layer {
    plan_kind kind;
    int spatial_out;       /* output is (C, H, W): stored channels-last */
    size_t in_n, out_n;
    size_t in_c, in_p;     /* input channels and positions (1 for vectors) */
    size_t out_c, out_p;
    size_t groups, cin_grp, out_grp, k; /* conv; k = kh * kw (pools too) */
    size_t kw;             /* kernel width */
    plan_in *in_ev;        /* spatial input: each input neuron decoded */
    /* Taps of input position q: taps[q_start[q] .. q_start[q + 1]). */
    uint32_t *q_start;
    plan_tap *taps;
    int32_t *pk2q;         /* (out_p, k): input position or -1 (padding) */
    uint32_t *win_n;       /* avg pool: in-bounds cells per output position */
    /* conv: (in channels, kh, kw reversed, out_grp) times v_thresh (kernel
     * columns reversed, so that a row of taps reads contiguous weights);
     * dense: (in, out) times v_thresh, rows in the input's internal order. */
    float *w;
    float *bias;           /* out_n, internal order (0 where none) */
    uint32_t *reshape;     /* reshape: internal input -> output index */
    uint32_t *fanout;      /* synapses of each input neuron, canonical index */
    /* Remap: input neuron i's outputs map[map_start[i] .. map_start[i + 1])
     * (internal indices; none where cropped, several when upsampled). */
    uint32_t *map_start, *map;
    /* Max gate whose windows do not overlap (every input neuron in at most
     * one window), else NULL: each input neuron's window (out_n: none) and
     * its rank for ties, k - 1 - kernel offset (the first cell wins). */
    uint32_t *gate_o;
    uint32_t *gate_tie;
    struct plan_layer *proj; /* ADD, CONCAT: one per projection of the layer */
    int n_proj;
} plan_layer;

typedef struct sim_plan {
    plan_layer *layers;
    int n_layers;
} sim_plan;

/* Zeroed arrays on cache-line boundaries: a 512-bit run of a layer with
 * 16 channels per position then never splits a line.  Sets *ok to 0 on
 * failure; does nothing when *ok is already 0.  Freed with free(). */
#define PLAN_ALIGN 64
void *plan_alloc(size_t n, size_t size, int *ok);

snn_status sim_plan_build(const snn_net *net, sim_plan *plan, snn_error *err);
void sim_plan_free(sim_plan *plan);

/* Canonical (C, H, W) index of internal index i of a layer's output, and
 * back. */
size_t plan_to_canon(const plan_layer *pl, size_t i);
size_t plan_to_internal(size_t c_n, size_t p_n, int spatial, size_t canon);

/* The first layer the event engine does not cover, with why, or -1:
 * it needs every layer fed by spikes of earlier layers and the first
 * layer neurons fed by the input; other neurons (branches, an Add's
 * projections) may also read the input. */
int sim_plan_event_refused(const snn_net *net, const char **why);

/* A layer with several inputs or one that resamples, named for the
 * engines that do not run them (spike codes), or NULL. */
const char *sim_plan_structure_unsupported(const snn_net *net);

#endif
