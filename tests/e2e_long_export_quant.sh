#!/usr/bin/env bash
# Long (normalizes the LeNet on 10000 samples, four times): release pass
# only.  The fixed-point exports of the shared Keras LeNet (the settings of
# e2e_long_lenet_keras.sh, with softmax_to_relu: integer targets have IF
# output neurons): what quantization costs, measured natively on 1000
# samples (`snntb export --test`), and the targets' own runs against it:
# the compiled int16 C program and the Lava netx file run by
# scripts/check_lava_netx.py (netx's reading, Loihi's integer neurons) must
# score exactly the quantized net's native accuracy on the same samples.
set -euo pipefail
cli=$1 shared=$2
. "$(dirname "$0")/e2e_lib.sh"
root=$(cd "$(dirname "$0")/.." && pwd)
model=$shared/models/lenet5/keras/99.14.h5
data=$shared/data/mnist
[ -f "$model" ] && [ -f "$data/x_test.npz" ] || skip "$model or $data absent"
command -v cc >/dev/null || skip "no C compiler (cc)"
py=$root/.venv/bin/python
[ -x "$py" ] && "$py" -c 'import numpy' 2>/dev/null || skip "no .venv with numpy"
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
  "$cli" export -q --format c --precision $p --test $n "$wd/config.ini" "$wd/net_$p.c" > "$wd/$p.txt"
  cat "$wd/$p.txt"
done
f16=$(field "$wd/int16.txt" 7) q16=$(field "$wd/int16.txt" 12) q8=$(field "$wd/int8.txt" 12)
check "int16 quantized $q16 more than 0.5 % below float $f16" "$q16 >= $f16 - 0.005"
check "int8 quantized $q8 more than 2 % below float $f16" "$q8 >= $f16 - 0.02"
"$cli" export -q --format lava --test $n "$wd/config.ini" "$wd/lenet.net5" > "$wd/lava.txt"
cat "$wd/lava.txt"
# The targets themselves on the first m samples.
m=200
"$py" -c "import numpy as np, sys
x = np.load(sys.argv[1])['arr_0'][:$m].astype('<f4')
x.tofile(sys.argv[2])
np.savez(sys.argv[3], x)
np.save(sys.argv[4], np.argmax(np.load(sys.argv[5])['arr_0'][:$m], axis=1))" \
  "$data/x_test.npz" "$wd/x.f32" "$wd/x.npz" "$wd/labels.npy" "$data/y_test.npz"
"$cli" export -q --format c --precision int16 --force --test $m "$wd/config.ini" "$wd/net_int16.c" > "$wd/int16_m.txt"
cc -std=c99 -O2 -Wall -Wextra -Werror -o "$wd/net16" "$wd/net_int16.c" -lm
"$wd/net16" "$wd/x.f32" | cut -d' ' -f2 > "$wd/c_pred.txt"
c_acc=$("$py" -c "import numpy as np, sys
p = np.loadtxt(sys.argv[1], dtype=int); print(f'{np.mean(p == np.load(sys.argv[2])):.4f}')" "$wd/c_pred.txt" "$wd/labels.npy")
q16m=$(field "$wd/int16_m.txt" 12)
echo "int16 C program on $m samples: $c_acc (native quantized $q16m)"
check "int16 C program $c_acc != native quantized $q16m" "$c_acc == $q16m"
if "$py" -c 'import h5py, torch' 2>/dev/null; then
  "$cli" export -q --format lava --force --test $m "$wd/config.ini" "$wd/lenet.net5" > "$wd/lava_m.txt"
  "$py" "$root/scripts/check_lava_netx.py" "$wd/lenet.net5" "$wd/x.npz" 100 "$wd/lava_counts.npz"
  l_acc=$("$py" -c "import numpy as np, sys
c = np.load(sys.argv[1])['counts']
p = np.where(c.max(axis=1) > 0, np.argmax(c, axis=1), -1)
print(f'{np.mean(p == np.load(sys.argv[2])):.4f}')" "$wd/lava_counts.npz" "$wd/labels.npy")
  lq=$(field "$wd/lava_m.txt" 12)
  echo "netx reader + Loihi neurons on $m samples: $l_acc (native quantized $lq)"
  check "Lava file run $l_acc != native quantized $lq" "$l_acc == $lq"
else
  echo "no h5py/torch in .venv: the Lava file's run is not checked"
fi
