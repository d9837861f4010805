#!/usr/bin/env bash
# Converted SNNs keep their ANN's accuracy (issue 3's last proof item).
# The trained Fashion-MNIST models of tests/fixtures/snn_accuracy (written
# by scripts/train_snn_fixtures.py, which recorded each framework's own
# accuracy in accuracy.tsv) run through snntb on the first 500 test images
# at duration 200.  For every model snntb's ANN accuracy must equal the
# framework's within 0.2 points (one image); the SNN's must be within 1
# point of the ANN's for a model without max-pooling; with max-pooling the
# figure is printed and only held above a loose floor (ANN - 10 points).
set -euo pipefail
cli=$1
. "$(dirname "$0")/e2e_lib.sh"
data=/usr/share/datasets/fashion-mnist
[ -f "$data/t10k-images-idx3-ubyte.gz" ] ||
  skip "$data absent (apt install dataset-fashion-mnist)"
fixtures=$(cd "$(dirname "$0")/fixtures/snn_accuracy" && pwd)
table=$fixtures/accuracy.tsv

# The models simulated: every fixture of accuracy.tsv.
models="dense conv2d separable conv1d padding avgpool torch_newest torch_dynamo maxpool2d maxpool1d torch_opset11 residual concat resample"

# field NAME COLUMN: a column of the model's row in accuracy.tsv.
field() {
  awk -F'\t' -v n="$1" -v c="$2" '$1 == n { print $c }' "$table"
}

# config NAME: a config for the model's run, labelled with its name.
config() {
  local file=$(field "$1" 2) lib=$(field "$1" 3)
  ln -sf "$fixtures/$file" "$wd/$file"
  printf '[paths]\ndataset_path = %s\nfilename_ann = %s\nrunlabel = %s\n[input]\nmodel_lib = %s\ndataset_format = idx\n[tools]\nevaluate_ann = True\nnormalize = True\n[simulation]\nduration = 200\nnum_to_test = 500\nbatch_size = 100\n[output]\nlog_vars = {}\n' \
    "$data" "$file" "$1" "$lib" > "$wd/$1.ini"
}

# same_as_framework NAME ANN: whether snntb's ANN top-1 is the framework's.
same_as_framework() {
  local ref=$(field "$1" 5)
  awk -v r="$ref" -v a="$2" 'BEGIN { exit !(a * 100 - r <= 0.2 && r - a * 100 <= 0.2) }' ||
    { echo "FAIL: $1: snntb's ANN top-1 $2 differs from the framework's $ref %"; return 1; }
}

# OpenMP's spinning threads cost more than they save on shared cores.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
scratch_wd
fail=0
printf '%-14s %-8s %9s %9s %9s %8s\n' model maxpool framework ann snn snn-ann
for m in $models; do
  [ -n "$(field "$m" 2)" ] || { echo "FAIL: $m has no row in $table"; exit 1; }
  config "$m"
  "$cli" --quiet "$wd/$m.ini" > "$wd/$m.out" 2>&1 || { cat "$wd/$m.out"; exit 1; }
  ref=$(field "$m" 5) pool=$(field "$m" 4)
  ann=$(result ann_top1 "$m") snn=$(result snn_top1 "$m")
  awk -v m="$m" -v p="$pool" -v r="$ref" -v a="$ann" -v s="$snn" 'BEGIN {
    printf "%-14s %-8s %8.2f%% %8.2f%% %8.2f%% %+7.2f\n", m, p, r, a * 100,
           s * 100, (s - a) * 100 }'
  same_as_framework "$m" "$ann" || fail=1
  if [ "$pool" = no ]; then
    awk -v a="$ann" -v s="$snn" 'BEGIN { exit !(s - a <= 0.01 + 1e-9 && a - s <= 0.01 + 1e-9) }' ||
      { echo "FAIL: $m: SNN top-1 $snn is more than 1 point from ANN $ann"; fail=1; }
  else
    awk -v a="$ann" -v s="$snn" 'BEGIN { exit !(s >= a - 0.10) }' ||
      { echo "FAIL: $m: SNN top-1 $snn more than 10 points below ANN $ann"; fail=1; }
  fi
done
exit $fail
