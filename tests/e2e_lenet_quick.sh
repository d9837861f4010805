#!/usr/bin/env bash
# The shared Keras LeNet on 300 MNIST samples: short enough for the
# sanitizer pass, so the whole pipeline on a real Keras 2.2.4 file runs
# under ASan and UBSan.  The SNN must stay within 2 points of the ANN.
set -euo pipefail
cli=$1 shared=$2
. "$(dirname "$0")/e2e_lib.sh"
model=$shared/models/lenet5/keras/99.14.h5
data=$shared/data/mnist
[ -f "$model" ] && [ -f "$data/x_test.npz" ] || skip "$model or $data absent"
scratch_wd
ln -s "$model" "$wd/99.14.h5"
printf '[paths]\ndataset_path = %s\nfilename_ann = 99.14\n[simulation]\nduration = 60\nnum_to_test = 300\nbatch_size = 50\ntop_k = 3\n' \
  "$data" > "$wd/config.ini"
"$cli" --quiet "$wd/config.ini"
ann=$(result ann_top1) snn=$(result snn_top1) snnk=$(result snn_topk)
echo "ANN top-1 $ann  SNN top-1 $snn  SNN top-3 $snnk"
check "ANN top-1 $ann < 0.97" "$ann >= 0.97"
check "SNN top-1 $snn more than 2 points below ANN $ann" "$snn >= $ann - 0.02"
check "SNN top-3 $snnk below top-1 $snn" "$snnk >= $snn"
