#!/usr/bin/env bash
# Creates the git-ignored Python environments in which the export tests run
# the targets themselves (docs/deps.md); they skip when these are absent.
# Idempotent: an environment that already imports its packages is kept.
#   .venv/export-sims  nir, Brian2 and PyNN (pyNN.brian2), numpy < 2.4 as
#                      Brian2 2.9 wants (about 250 MB):
#                      e2e_long_export_lenet.sh, e2e_long_export_pynn_brian2.sh,
#                      e2e_long_export_fashion_{brian2,pynn}.sh
#   .venv/nir-import   Norse (a NIR importer) on the torch of .venv, which it
#                      reads through a .pth file instead of installing torch
#                      again: e2e_long_export_*nir_norse.sh.  Needs .venv
#                      with torch and nir; skipped with a message otherwise.
#   .venv/pynn-neuron  PyNN (pyNN.neuron) on Debian's NEURON 8.2.2 (apt install
#                      neuron neuron-dev python3-neuron), a venv of
#                      /usr/bin/python3 with its system packages; PyNN's
#                      NMODL mechanisms compiled as Debian's nrnivmodl cannot
#                      (below): e2e_long_export_fashion_pynn.sh.  Skipped
#                      with a message without those packages.
#   .venv/lava         lava-dl 0.6.0 (netx) on torch 2.3.1; lava-dl needs
#                      Python < 3.11, taken from $PYTHON310, python3.10 on
#                      the PATH or pyenv's 3.10; about 5 GB (torch's CUDA
#                      libraries): e2e_long_export_fashion_lava.sh.  Skipped
#                      with a message without a Python 3.10.
# --cheap: only .venv/export-sims, best-effort (what `make test` runs): when
# PyPI or python3-venv is missing it says so, removes what it began and
# exits 0, so that an offline build still tests.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv=$root/.venv
py=${PYTHON:-python3}

have() { [ -x "$1/bin/python" ] && "$1/bin/python" -c "$2" >/dev/null 2>&1; }

# make_venv PYTHON DIR PACKAGE...: DIR as a venv of PYTHON with PACKAGEs;
# on failure removes DIR and returns 1.
make_venv() {
  local python=$1 dir=$2
  shift 2
  if "$python" -m venv "$dir" &&
     "$dir/bin/pip" install -q --retries 1 --timeout 30 "$@"; then
    return 0
  fi
  rm -rf "$dir"
  return 1
}

export_sims() {
  if have "$venv/export-sims" 'import nir, brian2, pyNN.brian2'; then
    echo "export-sims: present"
  elif make_venv "$py" "$venv/export-sims" 'numpy<2.4' 'nir==1.0.8' brian2 PyNN; then
    echo "export-sims: installed"
  else
    echo "export-sims: not installed (no PyPI or no python3-venv here); the Brian2/PyNN export tests will skip"
    return 1
  fi
}

nir_import() {
  if have "$venv/nir-import" 'import nir, norse.torch'; then
    echo "nir-import: present"
  elif ! have "$venv" 'import torch, nir'; then
    echo "nir-import: skipped (.venv has no torch and nir to build on)"
  else
    local base site
    base=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    # The same Python as .venv, so that its packages load.
    "$venv/bin/python" -m venv "$venv/nir-import"
    site=$("$venv/nir-import/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    echo "$base" > "$site/zz_main_venv.pth"
    "$venv/nir-import/bin/pip" install -q norse
    echo "nir-import: installed"
  fi
}

# Debian's nrnivmodl 8.2.2 looks for nrnmech_makefile in /usr/bin and
# links -lnrniv from /usr/lib, where both are in /usr/lib/nrn: run a copy
# pointed there.  Only libnrnmech.so is needed (the `special` executable
# still fails to link, which PyNN does not use).
compile_pynn_mechanisms() {
  local dir=$1 fixed
  fixed=$(mktemp)
  sed 's|"${bindir}/nrnmech_makefile"|/usr/lib/nrn/nrnmech_makefile|' \
    "$(command -v nrnivmodl)" > "$fixed"
  (cd "$dir" && bash "$fixed" -loadflags "-L/usr/lib/nrn -Wl,-rpath,/usr/lib/nrn" \
     > nrnivmodl.log 2>&1) || true
  rm -f "$fixed"
  [ -f "$dir/x86_64/.libs/libnrnmech.so" ]
}

pynn_neuron() {
  local dir=$venv/pynn-neuron nmodl
  if have "$dir" 'import pyNN.neuron'; then
    echo "pynn-neuron: present"
  elif ! /usr/bin/python3 -c 'import neuron' >/dev/null 2>&1 ||
       ! command -v nrnivmodl >/dev/null || ! [ -f /usr/lib/nrn/nrnmech_makefile ]; then
    echo "pynn-neuron: skipped (apt install neuron neuron-dev python3-neuron)"
  else
    /usr/bin/python3 -m venv --system-site-packages "$dir"
    "$dir/bin/pip" install -q PyNN
    nmodl=$("$dir/bin/python" -c 'import os, pyNN; print(os.path.dirname(pyNN.__file__))')/neuron/nmodl
    if compile_pynn_mechanisms "$nmodl" && have "$dir" 'import pyNN.neuron'; then
      echo "pynn-neuron: installed"
    else
      echo "pynn-neuron: PyNN's NMODL mechanisms did not compile (see $nmodl/nrnivmodl.log)"
      return 1
    fi
  fi
}

python310() {
  local cand
  for cand in "${PYTHON310:-}" "$(command -v python3.10 || true)" \
              "$(pyenv prefix 3.10 2>/dev/null || true)/bin/python" \
              "$HOME"/.pyenv/versions/3.10*/bin/python; do
    if [ -n "$cand" ] && [ -x "$cand" ]; then
      echo "$cand"
      return
    fi
  done
}

lava() {
  local p310
  if have "$venv/lava" 'import lava.lib.dl.netx.hdf5'; then
    echo "lava: present"
  elif p310=$(python310) && [ -n "$p310" ]; then
    make_venv "$p310" "$venv/lava" torch==2.3.1 lava-dl==0.6.0
    echo "lava: installed"
  else
    echo "lava: skipped (lava-dl 0.6.0 needs Python < 3.11: set PYTHON310)"
  fi
}

if [ "${1:-}" = --cheap ]; then
  export_sims || true
  exit 0
fi
export_sims
nir_import
pynn_neuron
lava
