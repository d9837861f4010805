#!/usr/bin/env bash
# Long (normalizes the LeNet on 10000 samples): release pass only.
# Exports the shared Keras LeNet to NIR and Brian2 and checks both with the
# real packages (scripts/check_export.py): nir.read() loads the file with
# type checking, Brian2 running the exported script gives the same output
# spike counts as a simulation of the NIR graph, sample by sample, and its
# accuracy on the first 20 MNIST samples is within 2 % of `snntb run`'s at
# the same duration and dt.  Neither target has max pooling, so the native
# run converts the LeNet's max pooling to average pooling (max2avg_pool),
# the net both exports then describe.
# Needs a Python with nir and brian2: .venv/export-sims (numpy < 2.4, which
# Brian2 2.9 needs) or .venv; skipped when neither has them.
set -euo pipefail
cli=$1 shared=$2
. "$(dirname "$0")/e2e_lib.sh"
n=20
shared_lenet
python_with "nir, brian2" "no Python with nir and brian2 (pip install nir brian2)" .venv/export-sims .venv
scratch_wd
ln -s "$model" "$wd/99.14.h5"
printf '[paths]\ndataset_path = %s\nfilename_ann = 99.14\n[tools]\nevaluate_ann = False\n[simulation]\nduration = 40\nnum_to_test = %d\n[conversion]\nsoftmax_to_relu = True\nmax2avg_pool = True\n' \
  "$data" "$n" > "$wd/config.ini"
"$cli" --quiet "$wd/config.ini"
"$cli" export -q --format nir "$wd/config.ini" "$wd/lenet.nir"
"$cli" export -q --format brian2 "$wd/config.ini" "$wd/brian2"
# A second export must not replace the first without --force.
if "$cli" export -q --format nir "$wd/config.ini" "$wd/lenet.nir" 2>/dev/null; then
  echo "FAIL: an existing export was overwritten without --force"; exit 1
fi
"$py" "$root/scripts/check_export.py" --nir "$wd/lenet.nir" --brian2 "$wd/brian2" \
  --native "$wd/log/gui/test/predictions.txt" \
  "$data/x_test.npz" "$data/y_test.npz" -n "$n"
