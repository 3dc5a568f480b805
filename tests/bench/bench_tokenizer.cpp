// Tokenizer throughput on source code: the concatenated C++ sources of this
// checkout (each file once, about 1 MB today), DeepSeek V3 tokenizer.json (+V4 tokens).
//   ./build/tests/bench_tokenizer [--benchmark_filter=Encode]
// Reports bytes/s (target: >= 20 MB/s per core for BM_Encode) and tokens/s.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "runtime/tokenizer/tokenizer.h"

namespace {

namespace fs = std::filesystem;

const fs::path kSource = V4RT_SOURCE_DIR;

std::string source_corpus() {
  std::string all;
  for (const char* dir : {"runtime", "model", "sessions", "parsers", "tools", "agents", "tests"}) {
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(kSource / dir, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      const std::string ext = it->path().extension().string();
      if (!it->is_regular_file() || (ext != ".cpp" && ext != ".h")) continue;
      std::ifstream in(it->path(), std::ios::binary);
      all.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
  }
  return all;  // not repeated: repeats would flatter the per-call piece cache
}

struct Fixture {
  std::unique_ptr<v4rt::runtime::Tokenizer> tok;
  std::string text;
  std::string error;
  Fixture() {
    auto t = v4rt::runtime::Tokenizer::load(kSource / "data/tokenizer/deepseek-v3/tokenizer.json", true);
    if (!t.ok()) { error = t.status().to_string() + " (run scripts/setup.sh)"; return; }
    tok = std::move(*t);
    text = source_corpus();
    if (text.empty()) error = "no sources found under " + kSource.string();
  }
};

const Fixture& fixture() {
  static const Fixture f;
  return f;
}

void BM_Encode(benchmark::State& state) {
  const Fixture& f = fixture();
  if (!f.error.empty()) { state.SkipWithError(f.error.c_str()); return; }
  size_t tokens = 0;
  for (auto _ : state) {
    std::vector<int32_t> ids = f.tok->encode(f.text);
    tokens = ids.size();
    benchmark::DoNotOptimize(ids.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * f.text.size()));
  state.counters["tokens"] = static_cast<double>(tokens);
  state.counters["tok/s"] = benchmark::Counter(static_cast<double>(tokens * state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Encode)->Unit(benchmark::kMillisecond)->UseRealTime();

// The same text with the ASCII fast path off: every piece through Oniguruma.
void BM_EncodeRegexOnly(benchmark::State& state) {
  const Fixture& f = fixture();
  if (!f.error.empty()) { state.SkipWithError(f.error.c_str()); return; }
  for (auto _ : state) benchmark::DoNotOptimize(f.tok->encode_without_fast_path(f.text).data());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * f.text.size()));
}
BENCHMARK(BM_EncodeRegexOnly)->Unit(benchmark::kMillisecond)->UseRealTime();

// Encode line by line (many small calls: no per-call cache benefit).
void BM_EncodeLines(benchmark::State& state) {
  const Fixture& f = fixture();
  if (!f.error.empty()) { state.SkipWithError(f.error.c_str()); return; }
  std::vector<int32_t> ids;
  for (auto _ : state) {
    size_t start = 0;
    while (start < f.text.size()) {
      size_t nl = f.text.find('\n', start);
      size_t end = nl == std::string::npos ? f.text.size() : nl + 1;
      ids.clear();
      f.tok->encode(std::string_view(f.text).substr(start, end - start), ids);
      benchmark::DoNotOptimize(ids.data());
      start = end;
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * f.text.size()));
}
BENCHMARK(BM_EncodeLines)->Unit(benchmark::kMillisecond)->UseRealTime();

// Non-ASCII text: the prose lines of tests/data/tokenizer/corpus.jsonl (many
// scripts, emoji), repeated to 1 MiB; this takes the Oniguruma path.
void BM_EncodeMultilingual(benchmark::State& state) {
  const Fixture& f = fixture();
  if (!f.error.empty()) { state.SkipWithError(f.error.c_str()); return; }
  std::ifstream in(kSource / "tests/data/tokenizer/corpus.jsonl", std::ios::binary);
  std::string corpus((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (corpus.empty()) { state.SkipWithError("tests/data/tokenizer/corpus.jsonl is missing"); return; }
  std::string text;
  while (text.size() < (1u << 20)) text += corpus;
  for (auto _ : state) benchmark::DoNotOptimize(f.tok->encode(text).data());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_EncodeMultilingual)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Decode(benchmark::State& state) {
  const Fixture& f = fixture();
  if (!f.error.empty()) { state.SkipWithError(f.error.c_str()); return; }
  const std::vector<int32_t> ids = f.tok->encode(f.text);
  for (auto _ : state) benchmark::DoNotOptimize(f.tok->decode(ids).data());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * f.text.size()));
}
BENCHMARK(BM_Decode)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
