#!/usr/bin/env bash
# Prints each skipped test of a CTest log (build/Testing/Temporary/LastTest.log)
# with the reason its GTEST_SKIP() gave.
set -euo pipefail
log=${1:-build/Testing/Temporary/LastTest.log}
[ -f "$log" ] || { echo "skipped_tests: no CTest log at $log" >&2; exit 0; }
awk '
  /^[0-9]+\/[0-9]+ Testing: / { name = $0; sub(/^[0-9]+\/[0-9]+ Testing: /, "", name); reason = ""; grab = 0; next }
  /: Skipped$/ { grab = 1; next }
  /^\[  SKIPPED \]/ { if (name != "" && !(name in seen)) { seen[name] = 1; n++; out[n] = name ": " (reason == "" ? "(no reason given)" : reason) } grab = 0; next }
  grab { line = $0; if (line != "") reason = (reason == "" ? line : reason " " line) }
  END {
    if (n == 0) { print "tests: none skipped"; exit }
    print "tests: " n " skipped:"
    for (i = 1; i <= n; i++) print "  " out[i]
  }' "$log"
