#!/usr/bin/env bash
# Installs the test dependencies, builds, and runs every test suite (CTest).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --tests
cd build
ctest --output-on-failure -j"$(nproc 2>/dev/null || echo 2)" "$@"
