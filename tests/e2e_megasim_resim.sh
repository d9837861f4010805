#!/usr/bin/env bash
# MegaSim is not installable, so scripts/megasim_resim.py re-simulates the
# exported files alone (netlist, .prm/.stt checked key by key against the
# original's documented layout, .stim events) and is compared with snntb's
# native run of the same samples (tests/fixtures/megasim, written by
# scripts/gen_megasim_fixtures.py; binary pixels, so the input events equal
# the native constant input):
# - pos.h5 (valid convolutions, flatten, dense; every neuron receives at
#   most its threshold per step): equal output spike counts on all 20
#   samples, at duration 100;
# - pool.h5 (valid convolutions, average and max pooling; MegaSim pools per
#   cell and has no max gate): equal predicted classes on at least 85 % of
#   40 samples (90 % measured);
# - a .prm with two keys swapped is refused, naming the file and line.
# Needs numpy (.venv); skipped without it.
set -euo pipefail
cli=$1
. "$(dirname "$0")/e2e_lib.sh"
root=$(cd "$(dirname "$0")/.." && pwd)
fx=$root/tests/fixtures/megasim
py=$root/.venv/bin/python
[ -x "$py" ] && "$py" -c 'import numpy' 2>/dev/null || py=python3
"$py" -c 'import numpy' 2>/dev/null || skip "no Python with numpy"
scratch_wd

# run_and_export MODEL N EXTRA: native run of N samples, then one export
# per sample into $wd/MODEL/k; sets dirs.
run_and_export() {
  local model=$1 n=$2 extra=$3
  mkdir -p "$wd/$model"
  ln -s "$fx/$model.h5" "$wd/$model/$model.h5"
  printf "[paths]\ndataset_path = %s\nfilename_ann = %s\n%b[simulation]\nduration = 100\nnum_to_test = %d\nbatch_size = %d\n[conversion]\nsoftmax_to_relu = True\n[output]\nlog_vars = {'activations_n_b_l'}\n" \
    "$fx" "$model" "$extra" "$n" "$n" > "$wd/$model/config.ini"
  "$cli" --quiet "$wd/$model/config.ini" > /dev/null
  dirs=()
  for k in $(seq 0 $((n - 1))); do
    "$cli" export -q --format megasim --sample "$k" "$wd/$model/config.ini" \
      "$wd/$model/$k" 2> /dev/null
    dirs+=("$wd/$model/$k")
  done
}

run_and_export pos 20 '[tools]\nnormalize = False\n'
"$py" "$root/scripts/megasim_resim.py" "${dirs[@]}" --exact \
  --native "$wd/pos/log/gui/test/log_vars" --labels "$fx/y_test.npz" | tail -4
grep -q 'rectify 0' "$wd/pos/0/c1_0.prm"

run_and_export pool 40 ''
"$py" "$root/scripts/megasim_resim.py" "${dirs[@]}" --agree 0.85 \
  --native "$wd/pool/log/gui/test/log_vars" --labels "$fx/y_test.npz" | tail -3

cp -r "$wd/pos/0" "$wd/bad"
sed -i '13{h;d};14{G}' "$wd/bad/c1_0.prm"
if out=$("$py" "$root/scripts/megasim_resim.py" "$wd/bad" 2>&1); then
  echo "FAIL: a .prm with swapped keys was read"; exit 1
fi
echo "$out"
case $out in
  *"c1_0.prm: line 13: expected 'THplus <integer>'"*) ;;
  *) echo "FAIL: the error does not name the file and line"; exit 1 ;;
esac
