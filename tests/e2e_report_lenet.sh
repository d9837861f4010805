#!/usr/bin/env bash
# plot_vars = {'all'} on the shared Keras LeNet, 100 samples, as the
# original's example config asks: every plot the original draws exists and
# is well-formed SVG, the page stays small, and `snntb report` redraws the
# same page from log_vars alone.
set -euo pipefail
cli=$1 shared=$2
. "$(dirname "$0")/e2e_lib.sh"
model=$shared/models/lenet5/keras/99.14.h5
data=$shared/data/mnist
[ -f "$model" ] && [ -f "$data/x_test.npz" ] || skip "$model or $data absent"
scratch_wd
ln -s "$model" "$wd/99.14.h5"
printf "[paths]\ndataset_path = %s\nfilename_ann = 99.14\n[simulation]\nduration = 100\nnum_to_test = 100\nbatch_size = 10\n[output]\nplot_vars = {'all'}\nlog_vars = {'all'}\n" \
  "$data" > "$wd/config.ini"
start=$(date +%s.%N)
"$cli" --quiet "$wd/config.ini"
end=$(date +%s.%N)
log=$wd/log/gui/test
echo "run with every plot: $(awk "BEGIN { print $end - $start }") s"
plots=$log/report/plots
for name in input_image error_t confusion_matrix operations spikecounts pearson \
            hist_spikerates_activations; do
  [ -s "$plots/$name.svg" ] || { echo "FAIL: no $name.svg"; exit 1; }
done
for kind in spiketrains spikerates spikerates_hist activations \
            spikerates_minus_activations correlation v_mem norm_act_before \
            norm_act_after norm_w_before norm_w_after; do
  ls "$plots"/01Conv2D_*_"$kind".svg > /dev/null || { echo "FAIL: no layer $kind"; exit 1; }
done
n_batches=$(ls "$log"/log_vars/[0-9]*.npz | wc -l)
check "10 log_vars batches, found $n_batches" "$n_batches == 10"
size=$(stat -c %s "$log/report/index.html")
echo "index.html: $size bytes, $(ls "$plots" | wc -l) plots"
check "index.html of $size bytes is over 5 MB" "$size < 5000000"
if command -v xmllint > /dev/null; then
  xmllint --noout "$plots"/*.svg
else
  echo "xmllint absent (apt-get install libxml2-utils): SVGs not validated"
fi
cp "$log/report/index.html" "$wd/first.html"
"$cli" report "$log" > /dev/null
cmp "$wd/first.html" "$log/report/index.html" || { echo "FAIL: redrawn report differs"; exit 1; }
