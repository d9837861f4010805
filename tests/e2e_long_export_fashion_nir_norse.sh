#!/usr/bin/env bash
# Long (100 samples in Norse, a minute or two): release pass only.
# The NIR export of a good classifier run by a real NIR importer: the
# average-pooling Fashion-MNIST CNN (tests/fixtures/snn_accuracy/avgpool.h5)
# is exported, Norse's norse.torch.from_nir builds a PyTorch module from the
# file as written and runs the first 100 test images at snntb's duration
# and dt (scripts/check_nir_import.py); its classes must equal those of
# `snntb run` on at least 98 of them.  Norse's IF resets to v_reset, so
# the native run resets to zero.  Prints both accuracies and the ANN's.
# Needs a Python with nir and norse (docs/deps.md: .venv/nir-import);
# skipped when there is none.
set -euo pipefail
cli=$1
. "$(dirname "$0")/e2e_lib.sh"
n=100 duration=100
fashion_avgpool
python_with "nir, norse.torch" "no Python with nir and norse (see docs/deps.md: .venv/nir-import)" .venv/nir-import .venv
scratch_wd
fashion_config "$n" "$duration" 'reset = Reset to zero'
"$cli" --quiet "$wd/config.ini"
echo "ANN accuracy $(result ann_top1), snntb SNN $(result snn_top1) on $n samples"
"$cli" export -q --format nir "$wd/config.ini" "$wd/avgpool.nir"
fashion_npz "$n"
"$py" "$root/scripts/check_nir_import.py" "$wd/avgpool.nir" "$wd/x_test.npz" \
  "$wd/log/gui/test/predictions.txt" --duration "$duration" \
  --labels "$wd/y_test.npz" -n "$n" --agree 0.98
