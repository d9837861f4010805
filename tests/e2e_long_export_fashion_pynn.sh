#!/usr/bin/env bash
# Long (about 3 minutes of PyNN per backend): release pass only.
# The PyNN export of a good classifier run with PyNN on each backend
# installed here: Brian2 (pyNN.brian2, .venv/export-sims) and NEURON
# (pyNN.neuron on Debian's python3-neuron, .venv/pynn-neuron; docs/deps.md).
# The average-pooling Fashion-MNIST CNN (tests/fixtures/snn_accuracy/
# avgpool.h5) runs the first 20 test images, 100 steps of 1 ms; on each
# backend its accuracy must be within 2 % of `snntb run`'s at the same
# duration and dt (scripts/compare_native.py, which also prints the
# per-sample class agreement); the ANN's accuracy is printed beside them.
# PyNN's IF_curr_exp resets to v_reset, so the native run is the same net:
# reset to zero, tau_m = 1e9 ms (no leak to speak of); both feed the sample
# as a constant current.  Skipped when no backend is installed.
set -euo pipefail
cli=$1
. "$(dirname "$0")/e2e_lib.sh"
n=20
fashion_avgpool
pynn_backends brian2 neuron
scratch_wd
fashion_config "$n" 100 'reset = Reset to zero\ntau_m = 1e9'
"$cli" --quiet "$wd/config.ini"
echo "ANN accuracy $(result ann_top1), snntb SNN $(result snn_top1) on $n samples"
"$cli" export -q --format pynn "$wd/config.ini" "$wd/pynn"
fashion_npz "$n"
run_pynn_backends "$wd/pynn" "$wd/x_test.npz" "$wd/y_test.npz" "$n"
