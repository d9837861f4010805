#!/usr/bin/env bash
# The shared Lasagne LeNet (a build_network() script + param_NN .h5) on 300
# MNIST samples through the whole pipeline, short enough for the sanitizer
# pass: model_lib = lasagne as in its config.orig, BatchNorms after ReLUs
# folded, SNN within 2 points of the ANN.
set -euo pipefail
cli=$1 shared=$2
. "$(dirname "$0")/e2e_lib.sh"
dir=$shared/models/lenet5/lasagne
data=$shared/data/mnist
[ -f "$dir/99.02.py" ] && [ -f "$data/x_test.npz" ] || skip "$dir or $data absent"
scratch_wd
ln -s "$dir/99.02.py" "$wd/99.02.py"
ln -s "$dir/99.02.h5" "$wd/99.02.h5"
printf '[paths]\ndataset_path = %s\nfilename_ann = 99.02\n[input]\nmodel_lib = lasagne\n[simulation]\nduration = 60\nnum_to_test = 300\nbatch_size = 50\n' \
  "$data" > "$wd/config.ini"
"$cli" --quiet "$wd/config.ini"
ann=$(result ann_top1) snn=$(result snn_top1)
echo "ANN top-1 $ann  SNN top-1 $snn"
check "ANN top-1 $ann < 0.97" "$ann >= 0.97"
check "SNN top-1 $snn more than 2 points below ANN $ann" "$snn >= $ann - 0.02"
