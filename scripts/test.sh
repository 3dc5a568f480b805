#!/usr/bin/env bash
# Installs the test dependencies, builds, and runs every test suite (CTest),
# then lists every skipped test with its reason, so that a skip is never silent.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --tests
cd build
rc=0
ctest --output-on-failure -j"$(nproc 2>/dev/null || echo 2)" "$@" || rc=$?
bash ../scripts/skipped_tests.sh Testing/Temporary/LastTest.log
exit "$rc"
