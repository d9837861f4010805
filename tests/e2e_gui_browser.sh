#!/usr/bin/env bash
# `snntb gui` in headless Chromium driven by Selenium (tests/e2e_gui_browser.py):
# settings kept across a reload, an invalid value refused, a LeNet run
# with live progress, and the results view with two layers side by side.
# Screenshots go to gui_screenshots/ in the test's working folder.
# Skips when Chromium, chromedriver or Python's selenium is absent.
set -euo pipefail
cli=$1 shared=$2
. "$(dirname "$0")/e2e_lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
# Selenium from the project's .venv (pip) or from Debian (python3-selenium).
python=
for p in "$here/../.venv/bin/python" "$(command -v python3 || true)"; do
  [ -x "$p" ] && "$p" -c "import selenium" 2> /dev/null && { python=$p; break; }
done
[ -n "$python" ] ||
  skip "Python selenium absent (apt-get install python3-selenium, or pip install selenium in .venv)"
browser=$(command -v chromium || command -v chromium-browser || true)
[ -n "$browser" ] || skip "chromium absent (apt-get install chromium)"
driver=$(command -v chromedriver || true)
[ -n "$driver" ] || skip "chromedriver absent (apt-get install chromium-driver)"
scratch_wd
"$python" "$here/e2e_gui_browser.py" --cli "$cli" --shared "$shared" \
  --browser "$browser" --driver "$driver" --wd "$wd" --shots "$PWD/gui_screenshots"
