#!/usr/bin/env bash
# Long (normalizes the LeNet on 10000 samples): release pass only.
# Exports the shared Keras LeNet as a standalone C program, compiles it
# with the system's cc and runs it on the first 100 MNIST samples: its
# predictions must equal those of `snntb run` (predictions.txt) sample by
# sample.  Also checks that `simulator = brian2` exports instead of
# failing, and names the command that runs the export.
set -euo pipefail
cli=$1 shared=$2
. "$(dirname "$0")/e2e_lib.sh"
n=100
shared_lenet
command -v cc >/dev/null || skip "no C compiler (cc)"
python_with numpy "no .venv with numpy" .venv
scratch_wd
ln -s "$model" "$wd/99.14.h5"
printf '[paths]\ndataset_path = %s\nfilename_ann = 99.14\n[tools]\nevaluate_ann = False\n[simulation]\nduration = 40\nnum_to_test = %d\nbatch_size = 50\n[conversion]\nsoftmax_to_relu = True\n' \
  "$data" "$n" > "$wd/config.ini"
"$cli" --quiet "$wd/config.ini"
"$cli" export -q --format c "$wd/config.ini" "$wd/net.c"
cc -std=c99 -O2 -Wall -Wextra -Werror -o "$wd/net" "$wd/net.c" -lm
"$py" -c "import numpy as np, sys
np.load(sys.argv[1])['arr_0'][:$n].astype('<f4').tofile(sys.argv[2])" \
  "$data/x_test.npz" "$wd/samples.f32"
"$wd/net" "$wd/samples.f32" | cut -d' ' -f2 > "$wd/c_predictions.txt"
if ! cmp -s "$wd/log/gui/test/predictions.txt" "$wd/c_predictions.txt"; then
  echo "FAIL: the C program's predictions differ from snntb's:"
  diff "$wd/log/gui/test/predictions.txt" "$wd/c_predictions.txt" | head
  exit 1
fi
echo "C program: $n/$n predictions equal to snntb run's"
# simulator = brian2: exported into the log folder with its samples.
"$cli" -s simulation.simulator=brian2 "$wd/config.ini" > "$wd/out.txt" 2>&1 || {
  echo "FAIL: simulator = brian2 did not export"; cat "$wd/out.txt"; exit 1; }
grep -q "python3 .*/brian2/run_brian2.py .*/x_test.npz" "$wd/out.txt" || {
  echo "FAIL: no command named for simulator = brian2"; cat "$wd/out.txt"; exit 1; }
for f in run_brian2.py connections.npz x_test.npz y_test.npz; do
  [ -f "$wd/log/gui/test/brian2/$f" ] || { echo "FAIL: brian2/$f missing"; exit 1; }
done
echo "simulator = brian2: exported with the command to run it"
