#!/usr/bin/env bash
# bench/run.sh BUILD_DIR - the figures `make bench` prints: our ANN and SNN
# throughput on real models, and Keras's own inference speed measured in
# the same run as the reference our ANN figure is divided by.
set -euo pipefail

build=${1:?usage: bench/run.sh BUILD_DIR}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bench="$build/bench_sim"
python=.venv/bin/python
n=1000

# All cores, whatever the caller's shell had set.
unset OMP_NUM_THREADS OPENBLAS_NUM_THREADS

have_keras() {
    [ -x "$python" ] && "$python" -c "import tensorflow" 2>/dev/null
}

# Prints the figures for one model; $4 names it in the summary.
bench_one() {
    local model=$1 data=$2 format=$3 label=$4 ours snn keras="-" ratio="-"
    echo "== $label: $model on $data (N = $n)"
    local out
    out=$("$bench" "$model" "$data" "$format" "$n")
    echo "$out"
    ours=$(awk '$1 == "ANN" { print $4 }' <<<"$out")
    snn=$(awk '$1 == "SNN" { print $4 }' <<<"$out")
    if have_keras; then
        local ref
        if ref=$("$python" bench/keras_reference.py "$model" "$data" "$format" "$n" 2>/dev/null); then
            keras=$(awk '/^keras samples\/s:/ { print $3 }' <<<"$ref")
            ratio=$(awk -v a="$ours" -v b="$keras" 'BEGIN { printf "%.2f", a / b }')
        fi
        echo "${ref:-reference failed: run bench/keras_reference.py by hand to see why}"
    else
        echo "reference skipped: no .venv with tensorflow (scripts/ use one: python3 -m venv .venv && .venv/bin/pip install tensorflow-cpu h5py)"
    fi
    summary+=$(printf '\n%-14s %14s %14s %12s %14s' "$label" "$ours" "$keras" "$ratio" "$snn")
    echo
}

[ -x "$bench" ] || { echo "bench/run.sh: $bench not built (run make all)" >&2; exit 1; }
echo "snntb benchmarks, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores used (OMP_NUM_THREADS unset)"
# Other work on the machine skews every figure (OpenMP most of all).
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
summary=""
bench_one examples/fashion_mnist/fashion_cnn.h5 /usr/share/datasets/fashion-mnist idx fashion_cnn
lenet=../shared/models/lenet5/keras/99.14.h5
mnist=../shared/data/mnist
if [ -f "$lenet" ] && [ -d "$mnist" ]; then
    bench_one "$lenet" "$mnist" npz lenet5
else
    echo "lenet5 skipped: $lenet or $mnist not present"
fi
echo "samples/s        ANN (snntb)    ANN (Keras)  snntb/Keras   SNN (snntb)"
echo "${summary#$'\n'}"

# The simulator's headline figure: all 10000 LeNet samples at duration 100
# with the default (auto) engine, then the event-only engine, and the time
# per duration.  SNNTB_BENCH_REFERENCE=1 adds the slow reference engine.
if [ -f "$lenet" ] && [ -d "$mnist" ]; then
    echo
    echo "== lenet5 simulation: 10000 samples"
    engines="auto event"
    [ "${SNNTB_BENCH_REFERENCE:-0}" = 1 ] && engines="$engines reference"
    for engine in $engines; do
        SNNTB_ENGINE=$engine "$bench" "$lenet" "$mnist" npz 10000 | grep '^SNN'
    done
    for steps in 25 50 200; do
        SNNTB_STEPS=$steps "$bench" "$lenet" "$mnist" npz 10000 | grep '^SNN'
    done
fi
