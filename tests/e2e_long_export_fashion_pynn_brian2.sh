#!/usr/bin/env bash
# Long (about 5 minutes of PyNN): release pass only.
# The PyNN export of a good classifier run with PyNN on Brian2
# (pyNN.brian2): the average-pooling Fashion-MNIST CNN
# (tests/fixtures/snn_accuracy/avgpool.h5) on the first 20 test images,
# 100 steps of 1 ms; its accuracy must be within 2 % of `snntb run`'s at
# the same duration and dt (scripts/compare_native.py, which also prints
# the per-sample class agreement); the ANN's accuracy is printed beside
# them.  PyNN's IF_curr_exp resets to v_reset, so the native run is the
# same net: reset to zero, tau_m = 1e9 ms (no leak to speak of); both
# feed the sample as a constant current.  Needs a Python with pyNN.brian2
# (.venv/export-sims, docs/deps.md); skipped when there is none.
set -euo pipefail
cli=$1
. "$(dirname "$0")/e2e_lib.sh"
n=20
fashion_avgpool
python_with "pyNN.brian2" "no Python with pyNN and brian2 (see docs/deps.md: .venv/export-sims)" .venv/export-sims .venv
scratch_wd
fashion_config "$n" 100 'reset = Reset to zero\ntau_m = 1e9'
"$cli" --quiet "$wd/config.ini"
echo "ANN accuracy $(result ann_top1), snntb SNN $(result snn_top1) on $n samples"
"$cli" export -q --format pynn "$wd/config.ini" "$wd/pynn"
fashion_npz "$n"
"$py" "$wd/pynn/run_pynn.py" "$wd/x_test.npz" -n "$n" --simulator brian2 \
  --out "$wd/pynn.npz" > "$wd/pynn.log" 2>&1 || {
  echo "FAIL: run_pynn.py on pyNN.brian2:"; tail -20 "$wd/pynn.log"; exit 1; }
"$py" "$root/scripts/compare_native.py" "$wd/pynn.npz" \
  "$wd/log/gui/test/predictions.txt" "$wd/y_test.npz" --name "PyNN (brian2)" \
  --tol 0.02
