#!/usr/bin/env bash
# Creates the git-ignored Python environments in which the export tests run
# the targets themselves (docs/deps.md); they skip when these are absent.
# Idempotent: an environment that already imports its packages is kept.
#   .venv/export-sims  nir, Brian2 and PyNN (pyNN.brian2), numpy < 2.4 as
#                      Brian2 2.9 wants: e2e_long_export_lenet.sh,
#                      e2e_long_export_pynn_brian2.sh
#   .venv/nir-import   Norse (a NIR importer) on the torch of .venv, which it
#                      reads through a .pth file instead of installing torch
#                      again: e2e_long_export_nir_norse.sh.  Needs .venv with
#                      torch and nir; skipped with a message otherwise.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv=$root/.venv
py=${PYTHON:-python3}

have() { [ -x "$1/bin/python" ] && "$1/bin/python" -c "$2" 2>/dev/null; }

if have "$venv/export-sims" 'import nir, brian2, pyNN.brian2'; then
  echo "export-sims: present"
else
  "$py" -m venv "$venv/export-sims"
  "$venv/export-sims/bin/pip" install -q 'numpy<2.4' 'nir==1.0.8' brian2 PyNN
  echo "export-sims: installed"
fi

if have "$venv/nir-import" 'import nir, norse.torch'; then
  echo "nir-import: present"
elif ! have "$venv" 'import torch, nir'; then
  echo "nir-import: skipped (.venv has no torch and nir to build on)"
else
  base=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  # The same Python as .venv, so that its packages load.
  "$venv/bin/python" -m venv "$venv/nir-import"
  site=$("$venv/nir-import/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  echo "$base" > "$site/zz_main_venv.pth"
  "$venv/nir-import/bin/pip" install -q norse
  echo "nir-import: installed"
fi
