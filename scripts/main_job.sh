#!/usr/bin/env bash
# Installs, builds, and runs v4rt's main job: the coding agent (`v4rt code`) on
# the default model, over this repository, twice (the second run restores the
# cached repository prefix instead of prefilling it again).
#
# The default model is a random-weight DeepSeek-V4 checkpoint made by
# `v4rt model init` (real V4 weights are hundreds of GB and not downloadable
# here); point V4RT_MODEL at a real checkpoint directory to use one. Random
# weights emit noise: the agent loop must (and does) stop cleanly anyway.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

MODEL=${V4RT_MODEL:-data/models/v4-small-fp8}
if [ ! -f "$MODEL/config.json" ]; then
  ./build/v4rt model init --preset small --format fp8 --seed 1 --out "$MODEL"
fi
./build/v4rt model inspect "$MODEL" | head -20

STORE=data/store
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
git ls-files -z | xargs -0 -I{} cp --parents {} "$WORK"/ 2>/dev/null || true
(cd "$WORK" && git init -q && git add -A && git -c user.email=v4rt@localhost -c user.name=v4rt commit -qm snapshot)

# Exit codes (docs/agent.md): 0 the model answered, 1 it stopped on a budget or
# unparsable output (expected with random weights), 2 usage, 130 interrupted.
# The job fails on anything else and on a backend error.
for run in 1 2; do
  echo "== v4rt code, run $run ==" >&2
  rc=0
  ./build/v4rt code -p "List the top-level folders of this repository and say what each is for." \
    --model "$MODEL" --workspace "$WORK" --store "$STORE" --permission-mode read-only \
    --repo-context-tokens 4096 --max-steps 3 --max-turn-tokens 48 --output-format json \
    > "$WORK.result.json" || rc=$?
  cat "$WORK.result.json"; echo
  if [ "$rc" -gt 1 ] || grep -q '"stop_reason": *"backend_error"' "$WORK.result.json"; then
    echo "main job: v4rt code failed (exit $rc)" >&2
    rm -f "$WORK.result.json"
    exit 1
  fi
  rm -f "$WORK.result.json"
done
