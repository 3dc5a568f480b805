// Engine rule (spec §4.5): a chunk of any size at any position gives the
// logits of feeding its tokens one at a time; a prefill split across calls
// equals one call. Uses the golden tiny bf16 checkpoint (skips only when the
// golden data is absent; a checkpoint that is there but does not load fails).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "golden_run.h"
#include "model/model.h"
#include "model/state.h"
#include "base/thread_pool.h"
#include "test_util.h"

namespace v4rt::testing {
namespace {

struct Fixture {
  std::unique_ptr<ThreadPool> pool = std::make_unique<ThreadPool>(2);
  std::unique_ptr<model::Model> m;
  std::vector<int32_t> tokens;
  bool ok = false;
  bool absent = false;  // no golden data: the test skips; any other failure fails it
  std::string error;
  explicit Fixture(int n, int chunk_tokens = 512) {
    auto root = golden_dir();
    absent = root.empty();
    if (absent) return;
    GoldenCase c;
    if (!load_case(root, "bf16", n, c, error)) return;
    tokens = c.prompt;
    tokens.insert(tokens.end(), c.decode.begin(), c.decode.end());
    model::ModelOptions o;
    o.prefill_chunk_tokens = chunk_tokens;
    auto r = model::Model::load(c.weights, o, pool.get());
    if (!r.ok()) {
      error = r.status().to_string();
      return;
    }
    m = std::move(*r);
    ok = true;
  }
};

// Logits after every position, feeding `tokens` in calls of the given sizes
// (the last size repeats).
std::vector<float> run_calls(const model::Model& m, const std::vector<int32_t>& tokens, std::vector<int64_t> sizes) {
  const int64_t V = m.config().vocab_size, n = static_cast<int64_t>(tokens.size());
  std::vector<float> all(static_cast<size_t>(n * V)), last(static_cast<size_t>(V));
  auto st = m.new_state();
  model::ForwardTrace tr;
  for (int64_t i = 0; i < n; ++i) tr.logit_positions.push_back(i);
  tr.on_logits = [&](int64_t pos, std::span<const float> l) { std::copy(l.begin(), l.end(), all.begin() + pos * V); };
  int64_t at = 0;
  size_t si = 0;
  while (at < n) {
    const int64_t c = std::min(n - at, sizes[std::min(si, sizes.size() - 1)]);
    ++si;
    Status s = m.forward(std::span<const int32_t>(tokens).subspan(static_cast<size_t>(at), static_cast<size_t>(c)), *st,
                         last, {}, &tr);
    EXPECT_TRUE(s.ok()) << s.to_string();
    // The returned logits are those of the call's last position.
    for (int64_t j = 0; j < V; ++j) EXPECT_EQ(last[static_cast<size_t>(j)], all[static_cast<size_t>((at + c - 1) * V + j)]);
    at += c;
  }
  EXPECT_EQ(st->position(), n);
  return all;
}

double max_row_rel(const std::vector<float>& a, const std::vector<float>& b, int64_t V) {
  double worst = 0;
  for (size_t r = 0; r < a.size() / static_cast<size_t>(V); ++r) {
    double num = 0, den = 0;
    for (int64_t j = 0; j < V; ++j) {
      double d = a[r * V + j] - b[r * V + j];
      num += d * d;
      den += double(b[r * V + j]) * b[r * V + j];
    }
    worst = std::max(worst, std::sqrt(num / std::max(den, 1e-30)));
  }
  return worst;
}

TEST(Chunking, AnyChunkSizeEqualsTokenByToken) {
  Fixture f(1100, 4096);
  if (f.absent) GTEST_SKIP() << "golden data absent (../shared/golden)";
  ASSERT_TRUE(f.ok) << f.error;
  const int64_t V = f.m->config().vocab_size;
  auto ref = run_calls(*f.m, f.tokens, {1});
  for (int64_t c : {3, 4, 127, 128, 129, 1000}) {
    auto got = run_calls(*f.m, f.tokens, {c});
    double rel = max_row_rel(got, ref, V);
    std::printf("[chunking] chunk %4lld: max row rel_l2 vs token-by-token %.3g\n", static_cast<long long>(c), rel);
    EXPECT_LE(rel, 1e-4) << "chunk " << c;
  }
  // Prefill split across two calls at positions that are not multiples of 4 or 128, then decode.
  auto got = run_calls(*f.m, f.tokens, {203, 898, 1});
  double rel = max_row_rel(got, ref, V);
  std::printf("[chunking] split 203+898 then 1-by-1: max row rel_l2 %.3g\n", rel);
  EXPECT_LE(rel, 1e-4);
}

TEST(Chunking, InternalChunksEqualOneCall) {
  Fixture big(300, 4096), small(300, 37);
  if (big.absent) GTEST_SKIP() << "golden data absent (../shared/golden)";
  ASSERT_TRUE(big.ok) << big.error;
  ASSERT_TRUE(small.ok) << small.error;
  const int64_t V = big.m->config().vocab_size;
  auto a = run_calls(*big.m, big.tokens, {397});
  auto b = run_calls(*small.m, small.tokens, {397});
  EXPECT_LE(max_row_rel(b, a, V), 1e-4);
  // Progress is reported per internal chunk and can cancel.
  auto st = small.m->new_state();
  std::vector<float> logits(static_cast<size_t>(V));
  int calls = 0;
  Status s = small.m->forward(small.tokens, *st, logits, [&](std::string_view, uint64_t done, uint64_t total) {
    ++calls;
    EXPECT_LE(done, total);
    return calls < 3;
  });
  EXPECT_TRUE(s.is_cancelled()) << s.to_string();
  EXPECT_EQ(st->position(), 3 * 37);
}

}  // namespace
}  // namespace v4rt::testing
