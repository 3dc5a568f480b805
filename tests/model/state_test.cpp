// State: fork, reset, serialization round trips (restore + continue == never
// stopped, bitwise), growth with the used length, rejection of damaged bytes.
#include <gtest/gtest.h>

#include "golden_run.h"
#include "model/config.h"
#include "model/model.h"
#include "model/state.h"
#include "base/thread_pool.h"
#include "test_util.h"

namespace v4rt::testing {
namespace {

struct Tiny {
  std::unique_ptr<ThreadPool> pool = std::make_unique<ThreadPool>(2);
  std::unique_ptr<model::Model> m;
  GoldenCase c;
  std::string error;
  // Called only when the golden data is present: a failure here fails the test.
  bool load() {
    if (!load_case(golden_dir(), "bf16", 300, c, error)) return false;
    auto r = model::Model::load(c.weights, {}, pool.get());
    if (!r.ok()) {
      error = r.status().to_string();
      return false;
    }
    m = std::move(*r);
    return true;
  }
  std::vector<float> step(model::State& st, int32_t id) {
    std::vector<float> l(static_cast<size_t>(m->config().vocab_size));
    EXPECT_TRUE(m->forward(std::span<const int32_t>(&id, 1), st, l).ok());
    return l;
  }
};

TEST(State, CloneContinuesIdentically) {
  Tiny t;
  if (golden_dir().empty()) GTEST_SKIP() << "golden data absent (../shared/golden)";
  ASSERT_TRUE(t.load()) << t.error;
  auto st = t.m->new_state();
  std::vector<float> l(static_cast<size_t>(t.m->config().vocab_size));
  ASSERT_TRUE(t.m->forward(t.c.prompt, *st, l).ok());
  auto fork = st->clone();
  for (int j = 0; j < 10; ++j) EXPECT_EQ(t.step(*st, t.c.decode[j]), t.step(*fork, t.c.decode[j]));
}

TEST(State, RememberRollbackUndoesASpeculativePair) {
  Tiny t;
  if (golden_dir().empty()) GTEST_SKIP() << "golden data absent (../shared/golden)";
  ASSERT_TRUE(t.load()) << t.error;
  auto st = t.m->new_state();
  std::vector<float> l(static_cast<size_t>(t.m->config().vocab_size));
  ASSERT_TRUE(t.m->forward(t.c.prompt, *st, l).ok());
  EXPECT_FALSE(t.m->new_state()->rollback());
  auto never = st->clone();
  for (int j = 0; j < 90; ++j) {  // crosses ratio-4 emissions and the ratio-128 one at 383
    const std::string before = st->export_tail(0);
    st->remember();
    const int32_t pair[2] = {t.c.decode[j], 5};
    ASSERT_TRUE(t.m->forward(pair, *st, l).ok());
    ASSERT_TRUE(st->rollback());
    ASSERT_EQ(st->export_tail(0), before) << "step " << j;
    EXPECT_EQ(t.step(*st, t.c.decode[j]), t.step(*never, t.c.decode[j])) << "step " << j;
  }
}

TEST(State, ResetEqualsFresh) {
  Tiny t;
  if (golden_dir().empty()) GTEST_SKIP() << "golden data absent (../shared/golden)";
  ASSERT_TRUE(t.load()) << t.error;
  auto st = t.m->new_state();
  const int64_t V = t.m->config().vocab_size;
  std::vector<float> a(static_cast<size_t>(V)), b(static_cast<size_t>(V));
  ASSERT_TRUE(t.m->forward(t.c.prompt, *st, a).ok());
  st->reset();
  EXPECT_EQ(st->position(), 0);
  std::vector<int32_t> short_prompt(t.c.prompt.begin(), t.c.prompt.begin() + 3);  // < 4: trap 28
  ASSERT_TRUE(t.m->forward(short_prompt, *st, a).ok());
  auto fresh = t.m->new_state();
  ASSERT_TRUE(t.m->forward(short_prompt, *fresh, b).ok());
  EXPECT_EQ(a, b);
  for (int j = 0; j < 6; ++j) EXPECT_EQ(t.step(*st, t.c.decode[j]), t.step(*fresh, t.c.decode[j]));
}

TEST(State, ExportImportRoundTripIsBitwise) {
  Tiny t;
  if (golden_dir().empty()) GTEST_SKIP() << "golden data absent (../shared/golden)";
  ASSERT_TRUE(t.load()) << t.error;
  auto st = t.m->new_state();
  std::vector<float> l(static_cast<size_t>(t.m->config().vocab_size));
  ASSERT_TRUE(t.m->forward(t.c.prompt, *st, l).ok());  // position 300
  std::vector<float> d(static_cast<size_t>(t.m->config().vocab_size));
  ASSERT_TRUE(t.m->forward_mtp(t.c.decode[0], *st, d).ok());
  const std::string r0 = st->export_rows(0, 128), r1 = st->export_rows(128, 256), tail = st->export_tail(256);
  auto restored = t.m->new_state();
  ASSERT_TRUE(restored->import_rows(0, 128, r0).ok());
  ASSERT_TRUE(restored->import_rows(128, 256, r1).ok());
  ASSERT_TRUE(restored->import_tail(256, tail).ok());
  EXPECT_EQ(restored->position(), 300);
  EXPECT_EQ(restored->export_tail(0), st->export_tail(0));
  for (int j = 0; j < 100; ++j) {  // crosses ratio-4 and the ratio-128 boundary at 383
    EXPECT_EQ(t.step(*st, t.c.decode[j % 96]), t.step(*restored, t.c.decode[j % 96])) << "step " << j;
  }
  std::vector<float> m1(d.size()), m2(d.size());
  ASSERT_TRUE(t.m->forward_mtp(7, *st, m1).ok());
  ASSERT_TRUE(t.m->forward_mtp(7, *restored, m2).ok());
  EXPECT_EQ(m1, m2);
}

TEST(State, RejectsDamagedBytesAndWrongOrder) {
  Tiny t;
  if (golden_dir().empty()) GTEST_SKIP() << "golden data absent (../shared/golden)";
  ASSERT_TRUE(t.load()) << t.error;
  auto st = t.m->new_state();
  std::vector<float> l(static_cast<size_t>(t.m->config().vocab_size));
  ASSERT_TRUE(t.m->forward(t.c.prompt, *st, l).ok());
  std::string rows = st->export_rows(0, 256), tail = st->export_tail(256);
  auto fresh = t.m->new_state();
  EXPECT_FALSE(fresh->import_tail(256, tail).ok());  // rows missing
  EXPECT_FALSE(fresh->import_rows(128, 256, st->export_rows(128, 256)).ok());  // out of order
  std::string bad = rows;
  bad[5] ^= 1;
  EXPECT_TRUE(fresh->import_rows(0, 256, bad).is_corruption());
  EXPECT_TRUE(fresh->import_rows(0, 256, rows.substr(0, rows.size() - 3)).is_corruption());
  for (size_t cut = 0; cut < tail.size(); cut += 97) {
    auto s2 = t.m->new_state();
    ASSERT_TRUE(s2->import_rows(0, 256, rows).ok());
    EXPECT_FALSE(s2->import_tail(256, tail.substr(0, cut)).ok());
    EXPECT_EQ(s2->position(), 0);
  }
}

TEST(State, MemoryGrowsWithPositionAndStoresQuantized) {
  Tiny t;
  if (golden_dir().empty()) GTEST_SKIP() << "golden data absent (../shared/golden)";
  ASSERT_TRUE(t.load()) << t.error;
  auto st = t.m->new_state();
  const uint64_t empty = st->memory_bytes();
  std::vector<float> l(static_cast<size_t>(t.m->config().vocab_size));
  ASSERT_TRUE(t.m->forward(t.c.prompt, *st, l).ok());
  const uint64_t at300 = st->memory_bytes();
  EXPECT_GT(at300, empty);
  const std::string rows = st->export_rows(0, 256);
  // Per token of rows: CSA layers 2 x (96-dim entry every 4 tokens: 64 fp8 + 1 scale + 32 fp32 rope; 64-dim key: 32 + 2)
  // + HCA layers 2 x (one entry per 128 tokens). Far below the reference's bf16 cache + fp32 rope.
  EXPECT_LT(rows.size(), 256u / 4 * 2 * (193 + 34) + 2 * 2 * 193 + 256);
}

TEST(Model, RejectsBadInput) {
  Tiny t;
  if (golden_dir().empty()) GTEST_SKIP() << "golden data absent (../shared/golden)";
  ASSERT_TRUE(t.load()) << t.error;
  auto st = t.m->new_state();
  std::vector<float> l(static_cast<size_t>(t.m->config().vocab_size));
  std::vector<int32_t> bad = {1, 2, 5000};
  Status s = t.m->forward(bad, *st, l);
  EXPECT_TRUE(s.is_invalid_argument());
  EXPECT_NE(s.message().find("5000"), std::string::npos);
  EXPECT_EQ(st->position(), 0);
  EXPECT_TRUE(t.m->forward(std::span<const int32_t>(), *st, l).is_invalid_argument());
  std::vector<float> small(3);
  EXPECT_TRUE(t.m->forward(std::vector<int32_t>{1}, *st, small).is_invalid_argument());
  EXPECT_TRUE(t.m->forward_mtp(1, *st, l).is_invalid_argument());  // nothing fed yet
  EXPECT_FALSE(model::Model::load("/nonexistent/dir", {}, nullptr).ok());
}

}  // namespace
}  // namespace v4rt::testing
