// Restore + continue with the real model::State: the logits after restoring a
// saved point and feeding the remaining chunks are bitwise identical to an
// uninterrupted run with the same chunk boundaries. Points inside and outside
// compression blocks (CSA r=4, HCA r=128, window-only layers: the tiny model
// has all three), both checkpoint formats. The adapters are the engine's own
// (runtime/state_adapters.h).
#include "runtime/state_adapters.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "model/model.h"
#include "model/state.h"
#include "base/thread_pool.h"
#include "sessions/session_store.h"
#include "test_util.h"

namespace v4rt::runtime {

using sessions::SessionStore;
using sessions::StoreOptions;
namespace {

struct Param {
  const char* format;  // bf16 | fp8
};

class StateRestoreTest : public ::testing::TestWithParam<Param> {};

std::vector<int32_t> prompt(size_t n) {
  std::vector<int32_t> t(n);
  uint32_t h = 12345;
  for (auto& x : t) {
    h = h * 1664525u + 1013904223u;
    x = static_cast<int32_t>(2 + (h >> 8) % 1000);
  }
  return t;
}

TEST_P(StateRestoreTest, RestoreAndContinueIsBitwiseIdentical) {
  auto golden = v4rt::testing::golden_dir();
  if (golden.empty()) GTEST_SKIP() << "golden data absent (V4RT_GOLDEN_DIR); skipping the real-model test";
  auto dir = golden / "v4-tiny" / "tiny" / GetParam().format;
  if (!std::filesystem::exists(dir / "config.json")) GTEST_SKIP() << "tiny checkpoint absent at " << dir.string();
  ThreadPool pool(2);
  auto model = model::Model::load(dir, {}, &pool);
  ASSERT_TRUE(model.ok()) << "the tiny checkpoint is present but does not load: " << model.status().to_string();
  const model::Model& m = **model;
  const size_t vocab = static_cast<size_t>(m.config().vocab_size);

  // Chunk boundaries: inside a CSA block (130, 301), on an HCA/block boundary (256),
  // inside an HCA block past a block boundary (515), and decode steps after.
  const std::vector<int64_t> cuts = {130, 256, 301, 515, 640, 641, 642, 643, 644};
  const auto toks = prompt(static_cast<size_t>(cuts.back()));

  // Uninterrupted reference.
  std::vector<std::vector<float>> ref;
  {
    auto st = m.new_state();
    int64_t at = 0;
    for (int64_t c : cuts) {
      std::vector<float> logits(vocab);
      ASSERT_TRUE(m.forward(std::span(toks).subspan(static_cast<size_t>(at), static_cast<size_t>(c - at)), *st, logits).ok());
      ref.push_back(std::move(logits));
      at = c;
    }
  }

  v4rt::testing::TempDir store_dir;
  StoreOptions so;
  so.block_tokens = 256;  // several blocks within the tiny model's 2048 positions
  auto store = SessionStore::open(store_dir.path(), so);
  ASSERT_TRUE(store.ok()) << store.status().to_string();
  const std::string fp = m.fingerprint();

  for (size_t save_at = 0; save_at + 1 < cuts.size(); ++save_at) {
    // Run to the save point, save, and throw the state away.
    {
      auto st = m.new_state();
      int64_t at = 0;
      std::vector<float> logits(vocab);
      for (size_t i = 0; i <= save_at; ++i) {
        ASSERT_TRUE(m.forward(std::span(toks).subspan(static_cast<size_t>(at), static_cast<size_t>(cuts[i] - at)), *st, logits).ok());
        at = cuts[i];
      }
      StateSnapshot snap(*st);
      auto r = (*store)->save(fp, std::span(toks).first(static_cast<size_t>(at)), logits, snap, {});
      ASSERT_TRUE(r.ok()) << r.status().to_string();
    }
    // Restore into a fresh state and continue with the same chunks.
    auto st = m.new_state();
    StateRestorer sink(*st);
    auto restored = (*store)->restore_longest(fp, std::span(toks).first(static_cast<size_t>(cuts[save_at])), sink);
    ASSERT_TRUE(restored.ok()) << restored.status().to_string();
    ASSERT_EQ(restored->n_tokens, cuts[save_at]);
    ASSERT_EQ(st->position(), cuts[save_at]);
    ASSERT_EQ(restored->logits.size(), vocab);
    EXPECT_EQ(std::memcmp(restored->logits.data(), ref[save_at].data(), vocab * 4), 0);
    int64_t at = cuts[save_at];
    for (size_t i = save_at + 1; i < cuts.size(); ++i) {
      std::vector<float> logits(vocab);
      ASSERT_TRUE(m.forward(std::span(toks).subspan(static_cast<size_t>(at), static_cast<size_t>(cuts[i] - at)), *st, logits).ok());
      at = cuts[i];
      ASSERT_EQ(std::memcmp(logits.data(), ref[i].data(), vocab * 4), 0)
          << GetParam().format << ": saved at " << cuts[save_at] << ", logits differ after " << cuts[i];
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Formats, StateRestoreTest, ::testing::Values(Param{"bf16"}, Param{"fp8"}),
                         [](const auto& info) { return std::string(info.param.format); });

}  // namespace
}  // namespace v4rt::runtime
