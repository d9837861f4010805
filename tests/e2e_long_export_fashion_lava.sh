#!/usr/bin/env bash
# Long (500 samples read back, 100 run in Lava: a few minutes): release
# pass only.  The Lava (Loihi) export of a good classifier: the
# average-pooling Fashion-MNIST CNN (tests/fixtures/snn_accuracy/
# avgpool.h5), reset to zero as Loihi's neurons, 100 steps.
# - What quantization costs, measured natively on the first 500 test
#   images (`snntb export --test`): the quantized net within 2 points of
#   the float net.
# - The file read with netx's rules and run with Loihi's integer neurons
#   (scripts/check_lava_netx.py, h5py against the documented layout)
#   predicts what the native quantized net predicts on all 500.
# - Where lava-dl is installed (.venv/lava, docs/deps.md), lava-dl's
#   netx.hdf5.Network loads the file and Lava's bit-accurate Loihi 2
#   simulation runs the first 100 images (scripts/run_lava_netx.py): its
#   output spike counts must equal check_lava_netx.py --lava-timing's (one
#   step of delay per connection, as on Lava) on every sample; its
#   accuracy and class agreement with the native quantized net are printed.
# Needs a Python with h5py and torch (.venv); skipped without one.
set -euo pipefail
cli=$1
. "$(dirname "$0")/e2e_lib.sh"
n=500 m=100 steps=100
fashion_avgpool
python_with "h5py, torch" "no .venv with h5py and torch" .venv
scratch_wd
fashion_config "$n" "$steps" 'reset = Reset to zero'
"$cli" --quiet "$wd/config.ini" > /dev/null
echo "ANN accuracy $(result ann_top1), snntb SNN $(result snn_top1) on $n samples"
"$cli" export -q --format lava --test "$n" --predictions "$wd/q_lava.txt" \
  "$wd/config.ini" "$wd/avgpool.net5" > "$wd/lava.txt"
cat "$wd/lava.txt"
# field K of the "native accuracy" line: 7 float, 12 quantized.
field() { awk -v k="$1" '/^native accuracy/ { gsub(/[,;]/, ""); print $k }' "$wd/lava.txt"; }
f=$(field 7) q=$(field 12)
check "quantized $q more than 2 points below float $f" "$q >= $f - 0.02"
fashion_npz "$n"
# predict COUNTS.npz OUT.txt: one class per sample, -1 without spikes.
predict() {
  "$py" -c "import numpy as np, sys
c = np.load(sys.argv[1])['counts']
np.savetxt(sys.argv[2], np.where(c.max(axis=1) > 0, np.argmax(c, axis=1), -1), fmt='%d')" "$1" "$2"
}
"$py" "$root/scripts/check_lava_netx.py" "$wd/avgpool.net5" "$wd/x_test.npz" "$steps" "$wd/reader.npz"
predict "$wd/reader.npz" "$wd/reader.txt"
if ! cmp -s "$wd/q_lava.txt" "$wd/reader.txt"; then
  echo "FAIL: the netx reader's predictions differ from the native quantized net's:"
  diff "$wd/q_lava.txt" "$wd/reader.txt" | head
  exit 1
fi
echo "netx reader + Loihi neurons: $n/$n predictions equal to the native quantized net's"
lava=$root/.venv/lava/bin/python
if ! [ -x "$lava" ] || ! "$lava" -c 'import lava.lib.dl.netx.hdf5' >/dev/null 2>&1; then
  echo "no .venv/lava with lava-dl (docs/deps.md): the file was not run in Lava"
  exit 0
fi
"$lava" "$root/scripts/run_lava_netx.py" "$wd/avgpool.net5" "$wd/x_test.npz" \
  "$steps" "$wd/lava.npz" -n "$m" > "$wd/lava.log" 2>&1 || {
  echo "FAIL: run_lava_netx.py:"; tail -20 "$wd/lava.log"; exit 1; }
# lava-dl's import warns of optional packages (Prophesee, CUDA).
grep -v -i -e prophesee -e "only prophesee" -e "cuda" "$wd/lava.log" || true
"$py" "$root/scripts/check_lava_netx.py" "$wd/avgpool.net5" "$wd/x_test.npz" \
  "$steps" "$wd/timed.npz" --lava-timing
"$py" -c "import numpy as np, sys
lava, timed = np.load(sys.argv[1])['counts'], np.load(sys.argv[2])['counts']
m = len(lava)
equal = int((lava == timed[:m]).all(axis=1).sum())
pred = np.where(lava.max(axis=1) > 0, np.argmax(lava, axis=1), -1)
native = np.loadtxt(sys.argv[3], dtype=int)[:m]
y = np.argmax(np.load(sys.argv[4])['arr_0'][:m], axis=1)
print(f'Lava: output spike counts equal to check_lava_netx.py --lava-timing on '
      f'{equal}/{m} samples; accuracy {np.mean(pred == y):.4f}, native quantized '
      f'{np.mean(native == y):.4f}, same class on {np.mean(pred == native):.4f}')
sys.exit(0 if equal == m else 1)" "$wd/lava.npz" "$wd/timed.npz" "$wd/q_lava.txt" "$wd/y_test.npz"
