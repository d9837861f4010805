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
        SNNTB_SKIP_ANN=1 SNNTB_STEPS=$steps "$bench" "$lenet" "$mnist" npz 10000 | grep '^SNN'
    done
    echo "== lenet5 peak memory (whole bench process, 10000 samples)"
    if [ -x /usr/bin/time ]; then
        /usr/bin/time -v "$bench" "$lenet" "$mnist" npz 10000 2>&1 >/dev/null |
            grep 'Maximum resident'
    fi
fi

# The deeper model (scripts/train_fashion_vgg.py): cost against duration
# and against batch size, on 1000 samples.
vgg=bench/models/fashion_vgg.h5
fmnist=/usr/share/datasets/fashion-mnist
if [ -f "$vgg" ] && [ -d "$fmnist" ]; then
    echo
    echo "== fashion_vgg simulation: 1000 samples, batch 100, per duration"
    for steps in 25 50 100 200; do
        SNNTB_SKIP_ANN=1 SNNTB_STEPS=$steps "$bench" "$vgg" "$fmnist" idx 1000 | grep '^SNN'
    done
    echo "== fashion_vgg simulation: 1000 samples, duration 100, per batch size"
    for batch in 1 10 100 1000; do
        SNNTB_SKIP_ANN=1 SNNTB_BATCH=$batch "$bench" "$vgg" "$fmnist" idx 1000 | grep '^SNN'
    done
fi

# The original Python toolbox on the same LeNet config, in its own
# git-ignored venv (about 1.3 GB; not installed by this script).
orig=bench/.venv-snntoolbox/bin/python
if [ -f "$lenet" ] && [ -d "$mnist" ] && [ -x "$orig" ]; then
    echo
    echo "== original snntoolbox (INIsim), lenet5, 1000 samples, duration 100, batch 100"
    "$orig" bench/snntoolbox_reference.py "$lenet" "$mnist" 1000 100 100 |
        grep -E 'Total accuracy|wall seconds'
else
    echo
    echo "original snntoolbox skipped: needs ../shared's LeNet and the venv" \
         "bench/.venv-snntoolbox (python3 -m venv bench/.venv-snntoolbox &&" \
         "bench/.venv-snntoolbox/bin/pip install tensorflow==2.15.1" \
         "numpy==1.23.5 snntoolbox==0.6.0)"
fi
