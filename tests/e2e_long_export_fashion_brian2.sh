#!/usr/bin/env bash
# Long (20 samples in Brian2, a few minutes): release pass only.
# The NIR and Brian2 exports of a good classifier, checked with the real
# packages (scripts/check_export.py): the average-pooling Fashion-MNIST CNN
# (tests/fixtures/snn_accuracy/avgpool.h5), reset by subtraction, 100
# steps.  nir.read() loads the NIR file with type checking; the exported
# Brian2 script runs the first 20 test images in Brian2, whose output spike
# counts must equal a simulation of the NIR graph on at least 90 % of them
# and whose accuracy must be within 2 % of `snntb run`'s at the same
# duration and dt.  Prints the ANN's accuracy beside them.
# Needs a Python with nir and brian2 (.venv/export-sims, docs/deps.md);
# skipped when there is none.
set -euo pipefail
cli=$1
. "$(dirname "$0")/e2e_lib.sh"
n=20
fashion_avgpool
python_with "nir, brian2" "no Python with nir and brian2 (see docs/deps.md: .venv/export-sims)" .venv/export-sims .venv
scratch_wd
fashion_config "$n" 100
"$cli" --quiet "$wd/config.ini"
echo "ANN accuracy $(result ann_top1), snntb SNN $(result snn_top1) on $n samples"
"$cli" export -q --format nir "$wd/config.ini" "$wd/avgpool.nir"
"$cli" export -q --format brian2 "$wd/config.ini" "$wd/brian2"
fashion_npz "$n"
"$py" "$root/scripts/check_export.py" --nir "$wd/avgpool.nir" --brian2 "$wd/brian2" \
  --native "$wd/log/gui/test/predictions.txt" \
  "$wd/x_test.npz" "$wd/y_test.npz" -n "$n"
