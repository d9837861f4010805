# Sourced by the e2e_*.sh tests: run snntb on a config in a scratch working
# directory and read figures back from results.json.  Exit status 77 means
# "skipped" to ctest.

skip() { echo "skipping: $*"; exit 77; }

# scratch_wd: a temporary path_wd, removed when the test exits.
scratch_wd() {
  wd=$(mktemp -d)
  trap 'rm -rf "$wd"' EXIT
}

# result KEY [RUNLABEL]: a number from <wd>/log/gui/<label>/results.json.
result() {
  sed -n "s/^ *\"$1\": *\([0-9.eE+-]*\),*$/\1/p" "$wd/log/gui/${2:-test}/results.json"
}

# check DESCRIPTION AWK-CONDITION: fails the test when the condition is false.
check() {
  awk "BEGIN { exit !($2) }" || { echo "FAIL: $1"; exit 1; }
}

# shared_lenet: root, and the shared Keras LeNet (model) and MNIST (data)
# under $shared; skips when they are absent.
shared_lenet() {
  root=$(cd "$(dirname "$0")/.." && pwd)
  model=$shared/models/lenet5/keras/99.14.h5
  data=$shared/data/mnist
  [ -f "$model" ] && [ -f "$data/x_test.npz" ] || skip "$model or $data absent"
}

# python_with MODULES WHY VENV...: py, the Python of the first of the
# git-ignored environments (relative to root) that imports MODULES; skips
# with WHY when none does.
python_with() {
  local modules=$1 why=$2 cand
  shift 2
  for cand in "$@"; do
    cand=$root/$cand/bin/python
    if [ -x "$cand" ] && "$cand" -c "import $modules" 2>/dev/null; then
      py=$cand
      return
    fi
  done
  skip "$why"
}
