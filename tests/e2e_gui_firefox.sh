#!/usr/bin/env bash
# `snntb gui` in headless Firefox (tests/e2e_gui_firefox.py, WebDriver
# BiDi without geckodriver): the settings form and as-you-type validation
# in a second browser engine.  Skips when Firefox or Python's
# websocket-client is absent.
set -euo pipefail
cli=$1
. "$(dirname "$0")/e2e_lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
python=
for p in "$here/../.venv/bin/python" "$(command -v python3 || true)"; do
  [ -x "$p" ] && "$p" -c "import websocket" 2> /dev/null && { python=$p; break; }
done
[ -n "$python" ] ||
  skip "Python websocket-client absent (apt-get install python3-websocket, or pip install websocket-client in .venv)"
browser=$(command -v firefox-esr || command -v firefox || true)
[ -n "$browser" ] || skip "firefox absent (apt-get install firefox-esr)"
scratch_wd
"$python" "$here/e2e_gui_firefox.py" --cli "$cli" --browser "$browser" \
  --wd "$wd" --shots "$PWD/gui_screenshots"
