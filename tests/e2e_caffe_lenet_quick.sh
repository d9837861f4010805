#!/usr/bin/env bash
# The shared Caffe LeNet (96.13.prototxt + .caffemodel, model_lib = caffe
# as in its config.orig) on 300 MNIST samples: the whole pipeline on a
# real Caffe file, short enough for the sanitizer pass.  The SNN must stay
# within 3 points of the ANN.
set -euo pipefail
cli=$1 shared=$2
. "$(dirname "$0")/e2e_lib.sh"
models=$shared/models/lenet5/caffe
data=$shared/data/mnist
[ -f "$models/96.13.caffemodel" ] && [ -f "$data/x_test.npz" ] ||
  skip "$models or $data absent"
scratch_wd
ln -s "$models/96.13.prototxt" "$models/96.13.caffemodel" "$wd/"
printf '[paths]\ndataset_path = %s\nfilename_ann = 96.13\n[input]\nmodel_lib = caffe\n[simulation]\nduration = 60\nnum_to_test = 300\nbatch_size = 50\n' \
  "$data" > "$wd/config.ini"
"$cli" --quiet "$wd/config.ini"
ann=$(result ann_top1) snn=$(result snn_top1)
echo "ANN top-1 $ann  SNN top-1 $snn"
check "ANN top-1 $ann < 0.93" "$ann >= 0.93"
check "SNN top-1 $snn more than 3 points below ANN $ann" "$snn >= $ann - 0.03"
