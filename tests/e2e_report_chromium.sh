#!/usr/bin/env bash
# Renders the report of a short LeNet run in headless Chromium (Debian's
# chromium package) and keeps the screenshot as report_screenshot.png in
# the test's working folder, for a person to look at.  Checks that the
# page renders to a non-blank image of the expected size.
set -euo pipefail
cli=$1 shared=$2
. "$(dirname "$0")/e2e_lib.sh"
model=$shared/models/lenet5/keras/99.14.h5
data=$shared/data/mnist
[ -f "$model" ] && [ -f "$data/x_test.npz" ] || skip "$model or $data absent"
browser=$(command -v chromium || command -v chromium-browser || true)
[ -n "$browser" ] || skip "chromium absent (apt-get install chromium)"
scratch_wd
ln -s "$model" "$wd/99.14.h5"
printf "[paths]\ndataset_path = %s\nfilename_ann = 99.14\n[simulation]\nduration = 50\nnum_to_test = 20\nbatch_size = 10\n[output]\nplot_vars = {'all'}\n" \
  "$data" > "$wd/config.ini"
"$cli" --quiet "$wd/config.ini"
shot=$PWD/report_screenshot.png
rm -f "$shot"
# The profile goes to the scratch folder; the sandbox needs privileges CI lacks.
timeout 120 "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars \
  --user-data-dir="$wd/profile" --window-size=1400,3000 \
  --screenshot="$shot" "file://$wd/log/gui/test/report/index.html" > /dev/null 2>&1 || true
[ -s "$shot" ] || { echo "FAIL: chromium wrote no screenshot"; exit 1; }
# PNG header: width and height are bytes 17-24, big-endian.
w=$(od -An -tu1 -j16 -N4 "$shot" | awk '{ print $1 * 16777216 + $2 * 65536 + $3 * 256 + $4 }')
h=$(od -An -tu1 -j20 -N4 "$shot" | awk '{ print $1 * 16777216 + $2 * 65536 + $3 * 256 + $4 }')
size=$(stat -c %s "$shot")
echo "screenshot $shot: ${w}x${h}, $size bytes"
check "screenshot is ${w}x${h}, not 1400x3000" "$w == 1400 && $h == 3000"
# A blank page compresses to a few KB; the figures make it far larger.
check "screenshot of $size bytes looks blank" "$size > 100000"
