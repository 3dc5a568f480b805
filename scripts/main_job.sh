#!/usr/bin/env bash
# Installs, builds, and runs v4rt's main job on the default model.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
./build/v4rt --help
