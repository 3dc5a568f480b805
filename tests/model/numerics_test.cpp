#include "model/numerics.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>

namespace v4rt::model {
namespace {

TEST(Numerics, Bf16RoundsToNearestEven) {
  EXPECT_EQ(round_bf16(1.0f), 1.0f);
  // 1 + 2^-8 is halfway between 1 and 1+2^-7: ties to even -> 1.
  EXPECT_EQ(round_bf16(1.0f + std::ldexp(1.0f, -8)), 1.0f);
  EXPECT_EQ(round_bf16(1.0f + 3 * std::ldexp(1.0f, -8)), 1.0f + std::ldexp(1.0f, -6));
  EXPECT_TRUE(std::isnan(round_bf16(NAN)));
}

TEST(Numerics, E4m3DecodeEncodeRoundTripsEveryCode) {
  for (int b = 0; b < 256; ++b) {
    float v = e4m3_to_f32(static_cast<uint8_t>(b));
    if (std::isnan(v)) continue;
    uint8_t back = f32_to_e4m3(v);
    if (v == 0.0f) {
      EXPECT_EQ(e4m3_to_f32(back), 0.0f);
      continue;
    }
    EXPECT_EQ(back, b) << "code " << b << " value " << v;
  }
  EXPECT_EQ(e4m3_to_f32(0x7e), 448.0f);
  EXPECT_EQ(e4m3_to_f32(0x01), std::ldexp(1.0f, -9));
  EXPECT_EQ(e4m3_to_f32(0x38), 1.0f);
}

TEST(Numerics, E4m3RoundsMidpointsToEven) {
  // Between 1.0 (man 0) and 1.125 (man 1): midpoint goes to 1.0 (even).
  EXPECT_EQ(e4m3_to_f32(f32_to_e4m3(1.0625f)), 1.0f);
  // Between 1.125 (man 1) and 1.25 (man 2): midpoint goes to 1.25.
  EXPECT_EQ(e4m3_to_f32(f32_to_e4m3(1.1875f)), 1.25f);
  EXPECT_EQ(e4m3_to_f32(f32_to_e4m3(-300.0f)), -288.0f);
  EXPECT_EQ(e4m3_to_f32(f32_to_e4m3(1000.0f)), 448.0f);
  // Subnormal midpoint 1.5 * 2^-9 -> 2 * 2^-9 (even).
  EXPECT_EQ(e4m3_to_f32(f32_to_e4m3(1.5f * std::ldexp(1.0f, -9))), 2 * std::ldexp(1.0f, -9));
}

// The libm-free rounding and encoding agree with the oracle on every float
// whose bits are a multiple of 37 in [0, 448] (about 29 million, both signs),
// which visits every binade, every rounding boundary region and ties.
TEST(Numerics, FastE4m3RoundAndEncodeMatchOracle) {
  const uint32_t top = std::bit_cast<uint32_t>(448.0f);
  int64_t checked = 0;
  for (uint32_t u = 0; u <= top; u += 37) {
    for (float v : {std::bit_cast<float>(u), -std::bit_cast<float>(u)}) {
      const uint8_t code = f32_to_e4m3(v);
      const float want = e4m3_to_f32(code);
      const float got = e4m3_round(v);
      ASSERT_EQ(std::bit_cast<uint32_t>(got), std::bit_cast<uint32_t>(want)) << "v=" << v;
      if (want != 0.0f) {
        ASSERT_EQ(e4m3_encode_exact(got), code) << "v=" << v;
      }
      ++checked;
    }
  }
  // Every midpoint between neighbouring codes (ties to even) and the codes themselves.
  for (int b = 0; b < 0x7e; ++b) {
    const float lo = e4m3_to_f32(static_cast<uint8_t>(b)), hi = e4m3_to_f32(static_cast<uint8_t>(b + 1));
    const float mid = (lo + hi) / 2;
    EXPECT_EQ(e4m3_round(mid), e4m3_to_f32(f32_to_e4m3(mid))) << "mid of code " << b;
    EXPECT_EQ(e4m3_round(lo), lo);
    if (b > 0) {
      EXPECT_EQ(e4m3_encode_exact(lo), b);
    }
    EXPECT_EQ(e4m3_table()[b], lo);
  }
  EXPECT_TRUE(std::isnan(e4m3_round(NAN)));
  EXPECT_GT(checked, 20'000'000);
}

TEST(Numerics, E2m1Table) {
  const float mags[8] = {0, 0.5f, 1, 1.5f, 2, 3, 4, 6};
  for (int c = 0; c < 16; ++c) EXPECT_EQ(e2m1_to_f32(static_cast<uint8_t>(c)), (c & 8 ? -1 : 1) * mags[c & 7]);
  EXPECT_EQ(e2m1_to_f32(f32_to_e2m1(0.25f)), 0.0f);
  EXPECT_EQ(e2m1_to_f32(f32_to_e2m1(0.75f)), 1.0f);
  EXPECT_EQ(e2m1_to_f32(f32_to_e2m1(1.25f)), 1.0f);
  EXPECT_EQ(e2m1_to_f32(f32_to_e2m1(1.75f)), 2.0f);
  EXPECT_EQ(e2m1_to_f32(f32_to_e2m1(2.5f)), 2.0f);
  EXPECT_EQ(e2m1_to_f32(f32_to_e2m1(3.5f)), 4.0f);
  EXPECT_EQ(e2m1_to_f32(f32_to_e2m1(5.0f)), 4.0f);
  EXPECT_EQ(e2m1_to_f32(f32_to_e2m1(-5.1f)), -6.0f);
}

TEST(Numerics, E8m0AndScales) {
  EXPECT_EQ(e8m0_to_f32(127), 1.0f);
  EXPECT_EQ(e8m0_to_f32(130), 8.0f);
  EXPECT_TRUE(std::isnan(e8m0_to_f32(255)));
  EXPECT_EQ(pow2_ceil(1.0f), 1.0f);
  EXPECT_EQ(pow2_ceil(1.0001f), 2.0f);
  EXPECT_EQ(fp8_block_scale(448.0f), 1.0f);
  EXPECT_EQ(fp8_block_scale(449.0f), 2.0f);
  EXPECT_EQ(fp8_block_scale(0.0f), pow2_ceil(1e-4f * (1.0f / 448.0f)));
  EXPECT_EQ(fp4_block_scale(6.0f), 1.0f);
  EXPECT_EQ(fp4_block_scale(12.5f), 4.0f);
  EXPECT_EQ(pow2_to_e8m0(1.0f), 127);
}

}  // namespace
}  // namespace v4rt::model
