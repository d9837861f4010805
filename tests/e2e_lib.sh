# Sourced by the e2e_*.sh tests: run snntb on a config in a scratch working
# directory and read figures back from results.json.  Exit status 77 means
# "skipped" to ctest.

skip() { echo "skipping: $*"; exit 77; }

# scratch_wd: a temporary path_wd, removed when the test exits.
scratch_wd() {
  wd=$(mktemp -d)
  trap 'rm -rf "$wd"' EXIT
}

# result KEY [RUNLABEL]: a number from <wd>/log/gui/<label>/results.json.
result() {
  sed -n "s/^ *\"$1\": *\([0-9.eE+-]*\),*$/\1/p" "$wd/log/gui/${2:-test}/results.json"
}

# check DESCRIPTION AWK-CONDITION: fails the test when the condition is false.
check() {
  awk "BEGIN { exit !($2) }" || { echo "FAIL: $1"; exit 1; }
}

# shared_lenet: root, and the shared Keras LeNet (model) and MNIST (data)
# under $shared; skips when they are absent.
shared_lenet() {
  root=$(cd "$(dirname "$0")/.." && pwd)
  model=$shared/models/lenet5/keras/99.14.h5
  data=$shared/data/mnist
  [ -f "$model" ] && [ -f "$data/x_test.npz" ] || skip "$model or $data absent"
}

# python_with MODULES WHY VENV...: py, the Python of the first of the
# git-ignored environments (relative to root) that imports MODULES; skips
# with WHY when none does.
python_with() {
  local modules=$1 why=$2 cand
  shift 2
  for cand in "$@"; do
    cand=$root/$cand/bin/python
    if [ -x "$cand" ] && "$cand" -c "import $modules" 2>/dev/null; then
      py=$cand
      return
    fi
  done
  skip "$why"
}

# fashion_avgpool: root, model (tests/fixtures/snn_accuracy/avgpool.h5, a
# Fashion-MNIST CNN trained with average pooling: a good classifier every
# export target can express) and data (Fashion-MNIST); skips when the data
# are absent.
fashion_avgpool() {
  root=$(cd "$(dirname "$0")/.." && pwd)
  model=$root/tests/fixtures/snn_accuracy/avgpool.h5
  data=/usr/share/datasets/fashion-mnist
  [ -f "$data/t10k-images-idx3-ubyte.gz" ] ||
    skip "$data absent (apt install dataset-fashion-mnist)"
}

# fashion_config N DURATION [CELL-LINES]: $wd/config.ini, the model on the
# first N test images for DURATION steps of 1 ms, its ANN evaluated too
# (ann_top1), the softmax output converted as IF neurons as the targets
# have them; CELL-LINES (printf escapes) go under [cell].
fashion_config() {
  ln -sf "$model" "$wd/avgpool.h5"
  printf '[paths]\ndataset_path = %s\nfilename_ann = avgpool\n[input]\nmodel_lib = keras\ndataset_format = idx\n[tools]\nevaluate_ann = True\n[simulation]\nduration = %d\nnum_to_test = %d\nbatch_size = %d\n[conversion]\nsoftmax_to_relu = True\n[cell]\n%b\n' \
    "$data" "$2" "$1" "$1" "${3:-}" > "$wd/config.ini"
}

# fashion_npz N: the first N test images as the export scripts read them,
# $wd/x_test.npz (N, 1, 28, 28) in [0, 1] and $wd/y_test.npz (one-hot),
# through scripts/fashion_data.py; needs $py with numpy.
fashion_npz() {
  "$py" - "$root/scripts" "$1" "$wd" <<'PY'
import sys
import numpy as np
sys.path.insert(0, sys.argv[1])
from fashion_data import load
x, y = load("t10k")
n, wd = int(sys.argv[2]), sys.argv[3]
np.savez(wd + "/x_test.npz", x[:n].transpose(0, 3, 1, 2))
np.savez(wd + "/y_test.npz", np.eye(10, dtype=np.float32)[y[:n]])
PY
}

# pynn_backends BACKEND...: runs, those of the PyNN backends (brian2 in
# .venv/export-sims, neuron in .venv/pynn-neuron, docs/deps.md) installed
# here as backend:environment pairs, and py, the first one's Python;
# skips when there is none.
pynn_backends() {
  local b p
  declare -A env=([brian2]=.venv/export-sims [neuron]=.venv/pynn-neuron)
  runs=()
  for b in "$@"; do
    p=$root/${env[$b]}/bin/python
    [ -x "$p" ] && "$p" -c "import pyNN.$b" >/dev/null 2>&1 && runs+=("$b:${env[$b]}")
  done
  [ ${#runs[@]} -gt 0 ] ||
    skip "no Python with pyNN.${*// / or pyNN.} (see docs/deps.md: .venv/export-sims, .venv/pynn-neuron)"
  py=$root/${runs[0]#*:}/bin/python
}

# run_pynn_backends DIR SAMPLES LABELS N: the PyNN export in DIR run on
# the first N SAMPLES by every backend of pynn_backends; each one's
# accuracy must be within 2 % of snntb's predictions.txt in $wd
# (scripts/compare_native.py, which also prints the class agreement).
run_pynn_backends() {
  local dir=$1 x=$2 y=$3 n=$4 pair backend p
  for pair in "${runs[@]}"; do
    backend=${pair%%:*} p=$root/${pair#*:}/bin/python
    "$p" "$dir/run_pynn.py" "$x" -n "$n" --simulator "$backend" \
      --out "$wd/$backend.npz" > "$wd/$backend.log" 2>&1 || {
      echo "FAIL: run_pynn.py on pyNN.$backend:"; tail -20 "$wd/$backend.log"; exit 1; }
    "$p" "$root/scripts/compare_native.py" "$wd/$backend.npz" \
      "$wd/log/gui/test/predictions.txt" "$y" --name "PyNN ($backend)" --tol 0.02
  done
}
