#!/usr/bin/env bash
# bench/lowlat.sh [SNNTB [SHARED [N_LENET [N_FASHION]]]] - the low-latency
# conversion table: SNN top-1 of the shared Keras LeNet (MNIST) and of the
# Fashion-MNIST demo CNN at durations 8 to 256 steps, for the plain
# conversion and each low-latency option, written to docs/lowlatency.md.
# SNNTB defaults to build/snntb, SHARED to ../shared, N_* to 10000 samples.
# With LOWLAT_WORK=DIR, every run's log folder is kept in DIR and a run
# whose results.json is there is not repeated (an interrupted bench
# resumes); by default a temporary folder is used and removed.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cli=$(realpath "${1:-$root/build/snntb}")
shared=$(realpath "${2:-$root/../shared}")
n_lenet=${3:-10000}
n_fashion=${4:-10000}
durations=${DURATIONS:-8 16 32 64 128 256}
out=$root/docs/lowlatency.md
lenet=$shared/models/lenet5/keras/99.14.h5
fashion_dir=$root/examples/fashion_mnist
fashion_data=/usr/share/datasets/fashion-mnist

[ -x "$cli" ] || { echo "no snntb at $cli: build first" >&2; exit 1; }
[ -f "$lenet" ] || { echo "$lenet is absent" >&2; exit 1; }
[ -d "$fashion_data" ] || { echo "$fashion_data is absent" >&2; exit 1; }
if [ -n "${LOWLAT_WORK:-}" ]; then
    mkdir -p "$LOWLAT_WORK"
    wd=$(realpath "$LOWLAT_WORK")
else
    wd=$(mktemp -d)
    trap 'rm -rf "$wd"' EXIT
fi
ln -sf "$lenet" "$wd/lenet.h5"
ln -sf "$fashion_dir/fashion_cnn.h5" "$wd/fashion.h5"
ln -sf "$fashion_dir/fashion_cnn_qcfs.h5" "$wd/fashion_qcfs.h5"

# The options of each method, as config lines ('|' separates lines).
declare -A options=(
    [plain]=""
    [v_init]="[conversion]|v_init = 0.5"
    [channelwise]="[normalization]|channelwise = True"
    [calibration]="[conversion]|bias_calibration_samples = 256"
    [combined]="[conversion]|v_init = 0.5|bias_calibration_samples = 256|[normalization]|channelwise = True"
    [qcfs]="[conversion]|v_init = 0.5"
)
methods="plain v_init channelwise calibration combined qcfs"

# config MODEL DATA FORMAT N DURATION METHOD LOGDIR EVAL: a config on stdout.
config() {
    cat <<CFG
[paths]
path_wd = $wd
dataset_path = $2
filename_ann = $1
log_dir_of_current_run = $7

[input]
dataset_format = $3

[tools]
evaluate_ann = $8

[simulation]
duration = $5
num_to_test = $4
batch_size = 100
CFG
    tr '|' '\n' <<<"${options[$6]}"
}

value() { # value KEY LOGDIR
    python3 -c "import json,sys; print(json.load(open(sys.argv[2]))[sys.argv[1]])" \
        "$1" "$2/results.json"
}

# row LABEL MODEL DATA FORMAT N METHOD: one table row; the ANN's top-1
# goes to $wd/ann_MODEL.  Each duration has its own log folder; the last
# normalization factors of the same model and kind (layer- or channel-
# wise) are offered to it: snntb reuses them only if its cache key
# matches, and normalizing 10000 samples costs more than simulating them.
row() {
    local label=$1 model=$2 data=$3 format=$4 n=$5 method=$6
    local line="| $label |" eval=True log kind=layer
    [[ "${options[$method]}" == *channelwise* ]] && kind=channel
    local scales="$wd/scales_${model}_$kind.json"
    for d in $durations; do
        log="$wd/log_${model}_${method}_n${n}_d$d"
        if [ -f "$scales" ]; then
            mkdir -p "$log/normalization"
            cp -n "$scales" "$log/normalization/scale_factors.json"
        fi
        if [ ! -f "$log/results.json" ]; then
            config "$model" "$data" "$format" "$n" "$d" "$method" "$log" \
                "$eval" > "$wd/config.ini"
            "$cli" --quiet "$wd/config.ini" > "$wd/run.log" 2>&1 ||
                { cat "$wd/run.log" >&2; exit 1; }
        fi
        if [ "$eval" = True ]; then
            value ann_top1 "$log" > "$wd/ann_$model"
            eval=False
        fi
        line+=$(awk -v a="$(value snn_top1 "$log")" 'BEGIN { printf " %.2f |", 100 * a }')
        echo "$label ($model), duration $d: done" >&2
        cp "$log/normalization/scale_factors.json" "$scales"
    done
    echo "$line"
}

# table TITLE MODEL QCFS_MODEL DATA FORMAT N
table() {
    local rows="" qrows="" qann="" m
    for m in $methods; do
        if [ "$m" = qcfs ]; then
            [ -n "$3" ] || continue
            qrows=$(row "QCFS-trained net, v_init 0.5" "$3" "$4" "$5" "$6" qcfs)
            qann=$(cat "$wd/ann_$3")
            continue
        fi
        rows+=$(row "$m" "$2" "$4" "$5" "$6" "$m")$'\n'
    done
    local head="| method |" rule="|---|" d
    for d in $durations; do head+=" $d |"; rule+="---:|"; done
    printf '### %s\n\n%s samples; the ANN scores %.2f %%' "$1" "$6" \
        "$(awk -v a="$(cat "$wd/ann_$2")" 'BEGIN { print 100 * a }')"
    [ -n "$qann" ] && printf ' (the QCFS-trained net with clipped ReLUs: %.2f %%)' \
        "$(awk -v a="$qann" 'BEGIN { print 100 * a }')"
    printf '.  SNN top-1 (%%) after duration (steps, dt = 1):\n\n%s\n%s\n%s' \
        "$head" "$rule" "$rows"
    [ -n "$qrows" ] && printf '%s\n' "$qrows"
    printf '\n'
}

lenet_table=$(table "LeNet (shared Keras 2.2.4 model, MNIST)" lenet "" \
    "$shared/data/mnist" npz "$n_lenet")
fashion_table=$(table "Fashion-MNIST demo CNN (examples/fashion_mnist)" \
    fashion fashion_qcfs "$fashion_data" idx "$n_fashion")

cat > "$out.tmp" <<DOC
# Low-latency conversion

Written by \`bench/lowlat.sh\` on $(date -u +%Y-%m-%d) (do not edit by hand;
rerun the script).  The plain conversion is the original toolbox's:
data-based layer-wise normalization at the 99.9th percentile, membranes
starting at 0, reset by subtraction, constant input current, softmax output
layer.  Each method adds config options (docs/config.md) to it:

| method | options | what it does |
|---|---|---|
| v_init | \`[conversion] v_init = 0.5\` | every membrane starts at half the threshold (Deng & Gu 2021; Bu et al. 2022): a neuron's spike count after T steps is its input times T rounded to nearest instead of rounded down |
| channelwise | \`[normalization] channelwise = True\` | one scale factor per output channel (the percentile of that channel's activations), so channels with small activations are not scaled down by their layer's largest |
| calibration | \`[conversion] bias_calibration_samples = 256\` | after conversion, layer by layer, each channel's bias is shifted by the mean difference between the ANN's activation (clipped to the threshold) and the SNN's rate x threshold, measured at the run's duration on 256 normalization samples (Li et al. 2021) |
| combined | all three | |
| QCFS-trained net | a net trained with clipped, quantized ReLUs (\`scripts/train_fashion_qcfs.py\`: QCFS, Bu et al. 2022, L = 8, trainable bound), saved with \`ReLU(max_value=bound)\`; \`v_init = 0.5\` | a clipped ReLU's scale factor is its bound, so the IF threshold is the trained clip |

The shared MNIST folder has no training images (no \`x_norm.npz\`), so
normalization and calibration use the first test samples there, as the
run warns; Fashion-MNIST normalizes and calibrates on its training images.
The LeNet row of QCFS is missing: a QCFS net needs training, and there is
no MNIST training set here.  The softmax output layer fires at random
(seeded draws), so figures a few samples apart (10000 samples: 0.01 % is
one sample) are not different.  The sample counts are the script's
arguments (\`bench/lowlat.sh SNNTB SHARED N_LENET N_FASHION\`); this
table was made with $n_lenet LeNet and $n_fashion Fashion-MNIST test samples.

$lenet_table

$fashion_table
DOC
mv "$out.tmp" "$out"
echo "wrote $out"
