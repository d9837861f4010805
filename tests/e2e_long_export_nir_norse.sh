#!/usr/bin/env bash
# Long (normalizes the LeNet on 10000 samples): release pass only.
# The NIR export run by a real NIR importer: Norse's norse.torch.from_nir
# builds a PyTorch module from the exported file, which runs the first 100
# MNIST samples at snntb's duration and dt (scripts/check_nir_import.py);
# its classes must equal those of `snntb run` on at least 98 of them.
# Norse's IF resets to v_reset and NIR has no max pooling, so the native
# run is the same net: reset to zero and max2avg_pool (the LeNet's max
# pooling converted to average pooling, which the export writes as
# SumPool2d).  Needs a Python with nir and norse (docs/deps.md:
# .venv/nir-import); skipped when there is none.
set -euo pipefail
cli=$1 shared=$2
. "$(dirname "$0")/e2e_lib.sh"
n=100 duration=40
shared_lenet
python_with "nir, norse.torch" "no Python with nir and norse (see docs/deps.md: .venv/nir-import)" .venv/nir-import .venv
scratch_wd
ln -s "$model" "$wd/99.14.h5"
printf '[paths]\ndataset_path = %s\nfilename_ann = 99.14\n[tools]\nevaluate_ann = False\n[simulation]\nduration = %d\nnum_to_test = %d\nbatch_size = 50\n[conversion]\nsoftmax_to_relu = True\nmax2avg_pool = True\n[cell]\nreset = Reset to zero\n' \
  "$data" "$duration" "$n" > "$wd/config.ini"
"$cli" --quiet "$wd/config.ini"
"$cli" export -q --format nir "$wd/config.ini" "$wd/lenet.nir"
"$py" "$root/scripts/check_nir_import.py" "$wd/lenet.nir" "$data/x_test.npz" \
  "$wd/log/gui/test/predictions.txt" --duration "$duration" \
  --labels "$data/y_test.npz" -n "$n" --agree 0.98
