#!/usr/bin/env bash
# The shared Keras LeNet on 100 MNIST samples at duration 100: rate coding
# with constant input, with Poisson input, and time-to-first-spike coding
# (first output spike read out).  Poisson input must stay within 3 points
# of the constant input; ttfs must classify (>= 85 %) with under a tenth
# of rate coding's synaptic operations.  The three runs share the log
# folder, so normalization runs once.
set -euo pipefail
cli=$1 shared=$2
. "$(dirname "$0")/e2e_lib.sh"
model=$shared/models/lenet5/keras/99.14.h5
data=$shared/data/mnist
[ -f "$model" ] && [ -f "$data/x_test.npz" ] || skip "$model or $data absent"
scratch_wd
ln -s "$model" "$wd/99.14.h5"
printf '[paths]\ndataset_path = %s\nfilename_ann = 99.14\n[tools]\nevaluate_ann = False\n[simulation]\nduration = 100\nnum_to_test = 100\nbatch_size = 50\n' \
  "$data" > "$wd/config.ini"
run() { "$cli" --quiet "$@" "$wd/config.ini" >/dev/null; }
run
rate=$(result snn_top1) rate_ops=$(result synaptic_operations_per_sample)
run -s input.poisson_input=True
poisson=$(result snn_top1) poisson_ops=$(result synaptic_operations_per_sample)
run -s conversion.spike_code=ttfs -s conversion.softmax_to_relu=True
ttfs=$(result snn_top1) ttfs_ops=$(result synaptic_operations_per_sample)
echo "top-1 / synaptic ops per sample: rate $rate / $rate_ops," \
     "Poisson $poisson / $poisson_ops, ttfs $ttfs / $ttfs_ops"
check "Poisson top-1 $poisson more than 3 points below rate $rate" \
  "$poisson >= $rate - 0.03"
check "Poisson input's spikes not counted ($poisson_ops <= $rate_ops)" \
  "$poisson_ops > $rate_ops"
check "ttfs top-1 $ttfs < 0.85" "$ttfs >= 0.85"
check "ttfs ops $ttfs_ops not under a tenth of $rate_ops" \
  "$ttfs_ops < 0.1 * $rate_ops"
