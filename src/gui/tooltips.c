/*
 * tooltips.c - one line of help per config key for the settings page,
 * condensed from the original toolbox's documentation (its
 * guide/configuration.rst) plus what snntb does differently.  Kept apart
 * from the schema in src/io/config.c, which only validates; test_gui_http
 * checks that every schema key has a tooltip here, and that no tooltip
 * names a key the schema lacks.
 */
#include "gui/gui.h"

#include <string.h>

static const char *const tooltips[][3] = {
    {"paths", "path_wd", "Working directory where the model to convert is found and the run's logs go (log/gui/<runlabel>). Empty: the config file's folder."},
    {"paths", "dataset_path", "Folder with the test samples: x_test.npz and y_test.npz (and x_norm.npz for normalization), or MNIST-style IDX files; see dataset_format."},
    {"paths", "log_dir_of_current_run", "Folder for the results, logs and plots of this run. Empty: <path_wd>/log/gui/<runlabel>."},
    {"paths", "runlabel", "Label of this experiment; names its log folder <path_wd>/log/gui/<runlabel>."},
    {"paths", "filename_ann", "Name of the ANN model to convert, without extension, in path_wd (e.g. 99.14 for 99.14.h5)."},
    {"paths", "filename_parsed_model", "Name given to the parsed model. Default: <filename_ann>_parsed."},
    {"paths", "filename_snn", "Name given to the converted spiking model when it is exported for another simulator. Default: snn_<filename_ann>_<simulator>."},
    {"paths", "filename_clamp_indices", "File with a dict {layer index: time steps} during which those layers' membrane potentials are clamped to zero. Empty: no clamping."},
    {"paths", "filepath_custom_objects", "File with custom Keras objects (layers, functions) the model needs to load."},
    {"paths", "class_idx_path", "With dataset_format = jpg: a file with a dict mapping class folder names to output neuron indices."},

    {"input", "model_lib", "Library the ANN was built with: keras, lasagne, caffe (snntb also reads ONNX through the model file's extension)."},
    {"input", "dataset_format", "npz: x_test.npz / y_test.npz (x_norm.npz for normalization); idx: MNIST IDX files; jpg: images in one folder per class; aedat: DVS event recordings."},
    {"input", "datagen_kwargs", "Python dict of keyword arguments for the image data generator that loads jpg samples."},
    {"input", "dataflow_kwargs", "Python dict of keyword arguments for the data flow that reads jpg samples from their folders."},
    {"input", "poisson_input", "Present the input as Poisson spike trains with rates proportional to pixel values (limited by input_rate) instead of a constant current."},
    {"input", "input_rate", "Poisson rate in Hz of a fully-on input pixel; at most 1000 / dt Hz."},
    {"input", "num_poisson_events_per_sample", "Limit on the Poisson spikes generated from one frame. -1: unlimited."},
    {"input", "num_dvs_events_per_sample", "DVS events used for one classification (about one frame)."},
    {"input", "eventframe_width", "When set, each time step gets a fresh binary DVS frame of the next events spanning at most this many microseconds of event timestamps (the original's INIsim); unset: one frame per sample as constant input."},
    {"input", "label_dict", "Dict of class labels; needed only with aedat input."},
    {"input", "chip_size", "With aedat input: the DVS chip's size, e.g. (240, 180), from which addresses are subsampled to the input layer."},
    {"input", "frame_gen_method", "How DVS events add up into frames: signed_sum (ON and OFF cancel) or rectified_sum (all events count as ON), or the polarity-channel variants."},
    {"input", "is_x_first", "Whether a DVS event's x address is the first dimension of the frame."},
    {"input", "is_x_flipped", "Mirror DVS frames through the vertical axis."},
    {"input", "is_y_flipped", "Mirror DVS frames through the horizontal axis."},
    {"input", "maxpool_subsampling", "With DVS input: subsample addresses by max-pooling to the input size."},
    {"input", "do_clip_three_sigma", "With DVS input: clip frame values at three standard deviations."},
    {"input", "keras_dataset", "Name of a dataset built into Keras to test on instead of dataset_path."},

    {"tools", "evaluate_ann", "Test the ANN on the same samples before converting, so that the SNN's accuracy can be compared."},
    {"tools", "parse", "Parse the input model into the toolbox's internal representation."},
    {"tools", "normalize", "Scale each layer's parameters by the percentile of its activations (see percentile) so that spike rates do not saturate."},
    {"tools", "convert", "Convert the parsed ANN to a spiking network."},
    {"tools", "simulate", "Simulate the spiking network on the chosen simulator and report its accuracy."},
    {"tools", "serialise_only", "Only convert and save the spiking network, without simulating it."},

    {"normalization", "percentile", "Activations at this percentile set the scale factor of each layer: 50 is the median, 100 the maximum; typical values 99, 99.9, 100."},
    {"normalization", "channelwise", "snntb: one scale factor per output channel instead of per layer (low-latency conversion, docs/lowlatency.md)."},
    {"normalization", "normalization_schedule", "Reduce the normalization factor layer by layer."},
    {"normalization", "online_normalization", "Adjust thresholds during the simulation when a layer's rates fall far below the maximum rate (see diff_to_max_rate)."},
    {"normalization", "diff_to_max_rate", "Online normalization: when a layer's highest rate falls below the maximum rate by more than this (Hz), its threshold is lowered to that rate."},
    {"normalization", "diff_to_min_rate", "Online normalization: layers firing below this rate (Hz) are left unchanged."},
    {"normalization", "timestep_fraction", "Online normalization runs every this many time steps."},

    {"conversion", "softmax_to_relu", "Replace a softmax output by ReLU. The spiking softmax tends to lose accuracy (top-5 especially); safe unless the output layer's inputs are all negative."},
    {"conversion", "v_init", "snntb: membranes start each sample at this fraction of the threshold; 0.5 (Deng & Gu 2021, Bu et al. 2022) reaches the ANN's accuracy in far fewer steps."},
    {"conversion", "bias_calibration_samples", "snntb: shift each layer's biases by the mean gap between ANN activation and SNN rate measured on this many normalization samples (Li et al. 2021); 0: off."},
    {"conversion", "max2avg_pool", "Replace max-pooling layers by average pooling."},
    {"conversion", "maxpool_type", "Spiking max-pooling variant: fir_max (accumulated spike counts, the default), exp_max (exponential filter), avg_max (moving average)."},
    {"conversion", "spike_code", "How activations become spikes: temporal_mean_rate (spike counts over duration), temporal_pattern (binary), ttfs and its variants (time to first spike)."},
    {"conversion", "num_bits", "Bits a binary spike train can encode with spike_code = temporal_pattern."},

    {"simulation", "simulator", "Simulator for the spiking network: INI is snntb's built-in one; brian2, nest, Neuron, spiNNaker, MegaSim and loihi get an export to run there."},
    {"simulation", "duration", "Simulated time per sample in milliseconds; longer runs approximate the ANN better."},
    {"simulation", "dt", "Time step in milliseconds: duration / dt steps are simulated per sample."},
    {"simulation", "batch_size", "Samples simulated together by the built-in simulator."},
    {"simulation", "num_to_test", "How many test samples to run (the first ones of the dataset)."},
    {"simulation", "sample_idxs_to_test", "A list of sample indices to test instead of the first num_to_test."},
    {"simulation", "reset_between_nth_sample", "For video sequences: reset the network only every n-th sample (1: after every sample)."},
    {"simulation", "top_k", "Also report the top-k accuracy for this k."},
    {"simulation", "keras_backend", "The Keras backend the original INI simulator used; snntb's simulator is native C and ignores it."},
    {"simulation", "early_stopping", "Stop simulating a sample once its output is decided."},
    {"simulation", "engine", "snntb's simulator engine: auto (event-driven, BLAS for busy layers), event, dense or reference. All give the same spikes."},

    {"spinnaker", "number_of_neurons_per_core", "Neurons placed on one SpiNNaker core."},

    {"cell", "v_thresh", "Firing threshold of the neurons (mV)."},
    {"cell", "tau_refrac", "Refractory period after a spike (ms)."},
    {"cell", "v_reset", "Membrane potential after a spike (mV), for simulators that reset to a value."},
    {"cell", "v_rest", "Resting membrane potential (mV)."},
    {"cell", "e_rev_e", "Reversal potential of excitatory input (mV), for conductance-based neurons."},
    {"cell", "e_rev_i", "Reversal potential of inhibitory input (mV), for conductance-based neurons."},
    {"cell", "i_offset", "Constant offset current (nA)."},
    {"cell", "cm", "Membrane capacitance (nF)."},
    {"cell", "tau_m", "Membrane time constant (ms)."},
    {"cell", "tau_syn_e", "Decay time of the excitatory synaptic conductance (ms)."},
    {"cell", "tau_syn_i", "Decay time of the inhibitory synaptic conductance (ms)."},
    {"cell", "delay", "Synaptic delay (ms); at least dt."},
    {"cell", "binarize_weights", "Binarize the weights."},
    {"cell", "quantize_weights", "Quantize the weights."},
    {"cell", "scaling_factor", "Integer scale of neuron parameters and weights for the MegaSim simulator."},
    {"cell", "payloads", "Send a float value with each spike."},
    {"cell", "reset", "After a spike: Reset by subtraction (lower the potential by the threshold), Reset to zero, or Reset by modulo (below threshold by the smallest multiple of it)."},
    {"cell", "leak", "Experimental: leaky neurons."},
    {"cell", "bias_relaxation", "Relax biases during the simulation."},
    {"cell", "v_clip", "snntb: clip membrane potentials to [v_clip_min, v_clip_max] every step (the original's hard-wired clip)."},
    {"cell", "v_clip_min", "snntb: lower bound of the membrane clip when v_clip is on."},
    {"cell", "v_clip_max", "snntb: upper bound of the membrane clip when v_clip is on."},
    {"cell", "quantize_format", "snntb: the Qm.f fixed-point format quantize_weights rounds weights to, e.g. Q2.6."},
    {"cell", "quantize_bias", "snntb: with quantize_weights, quantize the biases too."},

    {"parameter_sweep", "param_values", "Values of param_name for which the simulation is repeated."},
    {"parameter_sweep", "param_name", "The parameter a sweep varies, e.g. v_thresh."},
    {"parameter_sweep", "param_logscale", "Plot accuracy against the swept values on a log scale."},

    {"output", "log_vars", "Variables to record and save in log_vars/, e.g. {'activations_n_b_l', 'spiketrains_n_b_l_t'} or {'all'}."},
    {"output", "plot_vars", "Plots for the run's HTML report, e.g. {'activations', 'spikerates', 'correlation'} or {'all'}; the results view shows them."},
    {"output", "verbose", "How much to print during the run."},
    {"output", "overwrite", "Overwrite files of earlier runs without asking."},
    {"output", "use_simple_labels", "Label layers in plots by index and type instead of their full names."},
    {"output", "plotproperties", "Dict of matplotlib properties for the original's plots (font sizes, figure size)."},
};

#define N_TOOLTIPS (sizeof tooltips / sizeof tooltips[0])

const char *snn_gui_tooltip(const char *section, const char *key)
{
    for (size_t i = 0; i < N_TOOLTIPS; i++)
        if (!strcmp(tooltips[i][0], section) && !strcmp(tooltips[i][1], key))
            return tooltips[i][2];
    return NULL;
}

size_t snn_gui_tooltip_count(void)
{
    return N_TOOLTIPS;
}

const char *snn_gui_tooltip_at(size_t i, const char **section,
                               const char **key)
{
    *section = tooltips[i][0];
    *key = tooltips[i][1];
    return tooltips[i][2];
}
