#!/usr/bin/env bash
# Long (normalizes the LeNet on 10000 samples, three times): release pass
# only.  The fixed-point exports of the shared Keras LeNet (the settings of
# e2e_long_lenet_keras.sh, with softmax_to_relu: integer targets have IF
# output neurons): what quantization costs, measured natively on 1000
# samples (`snntb export --test`), and the targets' own runs against it:
# the compiled int16 C program (1000 samples) and the Lava netx file run by
# scripts/check_lava_netx.py (netx's reading, Loihi's integer neurons; 200
# samples) must predict what the native quantized net predicts, sample by
# sample.
set -euo pipefail
cli=$1 shared=$2
. "$(dirname "$0")/e2e_lib.sh"
shared_lenet
command -v cc >/dev/null || skip "no C compiler (cc)"
python_with numpy "no .venv with numpy" .venv
scratch_wd
ln -s "$model" "$wd/99.14.h5"
cat > "$wd/config.ini" <<CFG
[paths]
dataset_path = $data
filename_ann = 99.14

[tools]
evaluate_ann = False

[simulation]
duration = 100
num_to_test = 10000
batch_size = 100

[conversion]
softmax_to_relu = True
CFG
# field K of the "native accuracy" line: 7 float, 10 with the target's
# neurons, 12 quantized.
field() { awk -v k="$2" '/^native accuracy/ { gsub(/[,;]/, ""); print $k }' "$1"; }
n=1000
for p in int16 int8; do
  "$cli" export -q --format c --precision $p --test $n --predictions "$wd/q_$p.txt" \
    "$wd/config.ini" "$wd/net_$p.c" > "$wd/$p.txt"
  cat "$wd/$p.txt"
done
f16=$(field "$wd/int16.txt" 7) q16=$(field "$wd/int16.txt" 12) q8=$(field "$wd/int8.txt" 12)
check "int16 quantized $q16 more than 0.5 % below float $f16" "$q16 >= $f16 - 0.005"
check "int8 quantized $q8 more than 2 % below float $f16" "$q8 >= $f16 - 0.02"
"$cli" export -q --format lava --test $n --predictions "$wd/q_lava.txt" \
  "$wd/config.ini" "$wd/lenet.net5" > "$wd/lava.txt"
cat "$wd/lava.txt"
# The targets themselves, sample by sample against the native quantized
# net: the compiled int16 program on all n samples, the netx reader on m.
"$py" -c "import numpy as np, sys
x = np.load(sys.argv[1])['arr_0'][:$n].astype('<f4')
x.tofile(sys.argv[2])
np.savez(sys.argv[3], x[:200])" "$data/x_test.npz" "$wd/x.f32" "$wd/x.npz"
cc -std=c99 -O2 -Wall -Wextra -Werror -o "$wd/net16" "$wd/net_int16.c" -lm
"$wd/net16" "$wd/x.f32" | cut -d' ' -f2 > "$wd/c_pred.txt"
if ! cmp -s "$wd/q_int16.txt" "$wd/c_pred.txt"; then
  echo "FAIL: the int16 program's predictions differ from the native quantized net's:"
  diff "$wd/q_int16.txt" "$wd/c_pred.txt" | head
  exit 1
fi
echo "int16 C program: $n/$n predictions equal to the native quantized net's"
if "$py" -c 'import h5py, torch' 2>/dev/null; then
  "$py" "$root/scripts/check_lava_netx.py" "$wd/lenet.net5" "$wd/x.npz" 100 "$wd/lava_counts.npz"
  "$py" -c "import numpy as np, sys
c = np.load(sys.argv[1])['counts']
np.savetxt(sys.argv[2], np.where(c.max(axis=1) > 0, np.argmax(c, axis=1), -1), fmt='%d')" \
    "$wd/lava_counts.npz" "$wd/l_pred.txt"
  if ! head -200 "$wd/q_lava.txt" | cmp -s - "$wd/l_pred.txt"; then
    echo "FAIL: the netx reader's predictions differ from the native quantized net's:"
    head -200 "$wd/q_lava.txt" | diff - "$wd/l_pred.txt" | head
    exit 1
  fi
  echo "netx reader + Loihi neurons: 200/200 predictions equal to the native quantized net's"
else
  echo "no h5py/torch in .venv: the Lava file's run is not checked"
fi
