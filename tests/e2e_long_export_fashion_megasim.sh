#!/usr/bin/env bash
# Long (20 exports and re-simulations, a few minutes): release pass only.
# The MegaSim export of a good classifier: the average-pooling
# Fashion-MNIST CNN (tests/fixtures/snn_accuracy/avgpool.h5), reset by
# subtraction (MegaSim's Reset_to_reminder), exported sample by sample
# (`--sample k`: InputLayer.stim holds that image's events) and
# re-simulated from the files alone by scripts/megasim_resim.py, MegaSim
# not being installable.  Its predicted classes must equal `snntb run`'s
# on at least 85 % of the first 20 test images; both accuracies and the
# ANN's are printed.  Counts cannot be equal here (docs/export.md,
# MegaSim): a grey pixel's events are random where the native input is a
# constant current, MegaSim tests the threshold after every event, and
# pools cell by cell.  Needs numpy (.venv); skipped without it.
set -euo pipefail
cli=$1
. "$(dirname "$0")/e2e_lib.sh"
n=20
fashion_avgpool
python_with numpy "no .venv with numpy" .venv .venv/export-sims
scratch_wd
fashion_config "$n" 100
printf "[output]\nlog_vars = {'activations_n_b_l'}\n" >> "$wd/config.ini"
"$cli" --quiet "$wd/config.ini" > /dev/null
echo "ANN accuracy $(result ann_top1), snntb SNN $(result snn_top1) on $n samples"
fashion_npz "$n"
dirs=()
for k in $(seq 0 $((n - 1))); do
  "$cli" export -q --format megasim --sample "$k" "$wd/config.ini" "$wd/ms$k"
  dirs+=("$wd/ms$k")
done
"$py" "$root/scripts/megasim_resim.py" "${dirs[@]}" --agree 0.85 \
  --native "$wd/log/gui/test/log_vars" --labels "$wd/y_test.npz" | tail -3
