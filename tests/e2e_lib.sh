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
