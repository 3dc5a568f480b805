#include "runtime/sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <vector>

namespace v4rt::runtime {
namespace {

std::vector<float> logits_of(std::vector<double> probs) {
  std::vector<float> l;
  for (double p : probs) l.push_back(p > 0 ? static_cast<float>(std::log(p)) : -INFINITY);
  return l;
}

std::map<int32_t, int> histogram(const SamplingParams& p, const std::vector<float>& logits, int draws,
                                 std::vector<int32_t> history = {}) {
  Sampler s(p, static_cast<int>(logits.size()));
  std::map<int32_t, int> h;
  for (int i = 0; i < draws; ++i) ++h[s.sample(logits, history)];
  return h;
}

TEST(SamplerTest, GreedyPicksArgmaxLowestIdOnTies) {
  SamplingParams p;
  p.temperature = 0;
  Sampler s(p, 5);
  std::vector<float> l = {0.1f, 3.0f, -1.0f, 3.0f, 2.0f};
  EXPECT_EQ(s.sample(l, {}), 1);
  EXPECT_TRUE(s.greedy());
}

TEST(SamplerTest, SameSeedSameSequenceDifferentSeedDiffers) {
  std::vector<float> l = logits_of({0.1, 0.2, 0.3, 0.15, 0.25});
  SamplingParams p;
  p.seed = 42;
  Sampler a(p, 5), b(p, 5);
  std::vector<int32_t> sa, sb;
  for (int i = 0; i < 200; ++i) {
    sa.push_back(a.sample(l, {}));
    sb.push_back(b.sample(l, {}));
  }
  EXPECT_EQ(sa, sb);
  p.seed = 43;
  Sampler c(p, 5);
  std::vector<int32_t> sc;
  for (int i = 0; i < 200; ++i) sc.push_back(c.sample(l, {}));
  EXPECT_NE(sa, sc);
}

TEST(SamplerTest, FrequenciesFollowTheDistribution) {
  auto h = histogram({}, logits_of({0.5, 0.3, 0.2}), 20000);
  EXPECT_NEAR(h[0] / 20000.0, 0.5, 0.02);
  EXPECT_NEAR(h[1] / 20000.0, 0.3, 0.02);
  EXPECT_NEAR(h[2] / 20000.0, 0.2, 0.02);
}

TEST(SamplerTest, TopKKeepsOnlyKMostLikely) {
  SamplingParams p;
  p.top_k = 2;
  auto h = histogram(p, logits_of({0.1, 0.4, 0.15, 0.35}), 5000);
  EXPECT_EQ(h.count(0), 0u);
  EXPECT_EQ(h.count(2), 0u);
  EXPECT_NEAR(h[1] / 5000.0, 0.4 / 0.75, 0.03);
}

TEST(SamplerTest, TopPKeepsSmallestNucleus) {
  SamplingParams p;
  p.top_p = 0.7;  // 0.5 + 0.3 reaches 0.7 -> {0, 1}
  auto h = histogram(p, logits_of({0.5, 0.3, 0.15, 0.05}), 5000);
  EXPECT_EQ(h.count(2), 0u);
  EXPECT_EQ(h.count(3), 0u);
  EXPECT_GT(h[1], 0);
}

TEST(SamplerTest, MinPDropsTokensBelowFractionOfMax) {
  SamplingParams p;
  p.min_p = 0.5;  // p_max 0.4 -> keep p >= 0.2
  auto h = histogram(p, logits_of({0.4, 0.25, 0.19, 0.16}), 5000);
  EXPECT_EQ(h.count(2), 0u);
  EXPECT_EQ(h.count(3), 0u);
  EXPECT_GT(h[0], 0);
  EXPECT_GT(h[1], 0);
}

TEST(SamplerTest, RepetitionPenaltyDividesPositiveMultipliesNegative) {
  SamplingParams p;
  p.temperature = 0;
  p.repetition_penalty = 2.0;
  Sampler s(p, 3);
  // Token 0 (logit 3) is in the history -> 1.5 < 2 (token 1).
  std::vector<float> l = {3.0f, 2.0f, -1.0f};
  std::vector<int32_t> hist = {0};
  EXPECT_EQ(s.sample(l, hist), 1);
  // Negative logits get more negative: -1 -> -2 still loses; all negative case:
  std::vector<float> neg = {-1.0f, -1.5f};
  Sampler s2(p, 2);
  std::vector<int32_t> h0 = {0};
  EXPECT_EQ(s2.sample(neg, h0), 1);  // -2 < -1.5
  // Window: only the last token counts.
  p.repetition_window = 1;
  Sampler s3(p, 3);
  std::vector<int32_t> h2 = {0, 2};
  EXPECT_EQ(s3.sample(l, h2), 0);
}

TEST(SamplerTest, ValidateNamesTheField) {
  SamplingParams p;
  p.top_p = 1.5;
  Status s = validate(p);
  EXPECT_TRUE(s.is_invalid_argument());
  EXPECT_NE(s.message().find("top_p"), std::string::npos);
  p = {};
  p.temperature = -1;
  EXPECT_NE(validate(p).message().find("temperature"), std::string::npos);
  p = {};
  p.repetition_penalty = 0;
  EXPECT_FALSE(validate(p).ok());
  EXPECT_TRUE(validate(SamplingParams{}).ok());
}

TEST(SamplerTest, LowTemperatureConcentratesOnArgmax) {
  SamplingParams p;
  p.temperature = 0.02;
  auto h = histogram(p, logits_of({0.3, 0.4, 0.3}), 2000);
  EXPECT_GT(h[1], 1990);
}

}  // namespace
}  // namespace v4rt::runtime
