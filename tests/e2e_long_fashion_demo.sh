#!/usr/bin/env bash
# The demo model on the whole Fashion-MNIST test set from Debian's package:
# Keras scored it 88.94 % (examples/fashion_mnist/README.md, written by the
# training script); our ANN must agree exactly, and the SNN stay within 1
# point of it in 100 steps.
set -euo pipefail
cli=$1
. "$(dirname "$0")/e2e_lib.sh"
data=/usr/share/datasets/fashion-mnist
[ -f "$data/t10k-images-idx3-ubyte.gz" ] || skip "$data absent (apt install dataset-fashion-mnist)"
example=$(cd "$(dirname "$0")/../examples/fashion_mnist" && pwd)
scratch_wd
ln -s "$example/fashion_cnn.h5" "$wd/fashion_cnn.h5"
sed 's/^num_to_test = .*/num_to_test = 10000/' "$example/config.ini" > "$wd/config.ini"
"$cli" --quiet "$wd/config.ini"
ann=$(result ann_top1) snn=$(result snn_top1)
echo "ANN top-1 $ann  SNN top-1 $snn"
check "ANN top-1 $ann is not Keras's 0.8894" "$ann > 0.88935 && $ann < 0.88945"
check "SNN top-1 $snn more than 1 point below ANN" "$snn >= $ann - 0.01"
