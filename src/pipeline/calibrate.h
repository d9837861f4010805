/*
 * calibrate.h - light bias calibration of a converted net (Li et al. 2021,
 * "A free lunch from ANN"): after conversion, each layer's spike rates
 * fall short of (or overshoot) the ANN's activations by an amount that
 * depends on the simulation length; shifting each channel's bias by the
 * mean shortfall, measured on a few hundred samples, removes most of it.
 */
#ifndef SNNTB_PIPELINE_CALIBRATE_H
#define SNNTB_PIPELINE_CALIBRATE_H

#include "snntb/graph.h"
#include "snntb/sim.h"
#include "snntb/status.h"
#include "snntb/tensor.h"

/* For every integrate-and-fire Dense, Conv2D, Conv2DTranspose or Add
 * layer of net, in order
 * (each measured with the layers before it already calibrated): simulate
 * the first n samples of x for o->steps steps and add to the bias of each
 * output channel c
 *     mean over samples and positions of
 *         min(max(a, 0), v_thresh) - count * v_thresh / steps
 * where a is the activation of g's layer of the same name (g: the
 * normalized graph the net was converted from) and count the neuron's
 * spikes.  The bias is a per-step current, so that is the current the
 * shortfall stands for.  A layer without bias gets one.  Softmax output
 * layers are left alone.  Only o's steps, batch size, seed and engine are
 * used. */
snn_status snn_calibrate_biases(snn_net *net, const snn_graph *g,
                                const snn_tensor *x, size_t n,
                                const snn_sim_opts *o, snn_error *err);

#endif
