#include "model/dequant.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "model/numerics.h"
#include "model/weights.h"

namespace v4rt::model {
namespace {

uint32_t bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

// Same bits, or both NaN.
void expect_same(const std::vector<float>& want, const std::vector<float>& got, const char* what) {
  ASSERT_EQ(want.size(), got.size());
  for (size_t i = 0; i < want.size(); ++i) {
    if (std::isnan(want[i]) && std::isnan(got[i])) continue;
    ASSERT_EQ(bits(want[i]), bits(got[i])) << what << " element " << i << ": " << want[i] << " vs " << got[i];
  }
}

std::vector<const DequantKernels*> vector_tables() {
  std::vector<const DequantKernels*> t;
  if (avx2_dequant()) t.push_back(avx2_dequant());
  if (avx512_dequant()) t.push_back(avx512_dequant());
  return t;
}

TEST(DequantTest, ScalarMatchesHandValues) {
  const DequantKernels& k = scalar_dequant();
  // e4m3: 0x38 = 1.0, 0x40 = 2.0, 0xC0 = -2.0, 0x7E = 448, 0x01 = 2^-9 (smallest subnormal), 0x7F = NaN.
  const uint8_t q[6] = {0x38, 0x40, 0xC0, 0x7E, 0x01, 0x7F};
  const uint8_t s[1] = {128};  // 2^1
  float out[6];
  k.fp8_row(q, s, 6, out);
  EXPECT_EQ(out[0], 2.0f);
  EXPECT_EQ(out[1], 4.0f);
  EXPECT_EQ(out[2], -4.0f);
  EXPECT_EQ(out[3], 896.0f);
  EXPECT_EQ(out[4], std::ldexp(1.0f, -8));
  EXPECT_TRUE(std::isnan(out[5]));
  // e2m1: byte 0x92 = low 2 (1.0), high 9 (-0.5); byte 0x7F = low 15 (-6), high 7 (6); scale 2^-2.
  const uint8_t p[2] = {0x92, 0x7F};
  const uint8_t s4[1] = {125};
  float o4[4];
  k.fp4_row(p, s4, 4, o4);
  EXPECT_EQ(o4[0], 0.25f);
  EXPECT_EQ(o4[1], -0.125f);
  EXPECT_EQ(o4[2], -1.5f);
  EXPECT_EQ(o4[3], 1.5f);
  // bf16 0x3FC0 = 1.5; f16 0x3E00 = 1.5, 0x0001 = 2^-24, 0xFC00 = -inf.
  const uint16_t b[1] = {0x3FC0};
  const uint16_t h[3] = {0x3E00, 0x0001, 0xFC00};
  float ob[1], oh[3];
  k.bf16_row(b, 1, ob);
  k.f16_row(h, 3, oh);
  EXPECT_EQ(ob[0], 1.5f);
  EXPECT_EQ(oh[0], 1.5f);
  EXPECT_EQ(oh[1], std::ldexp(1.0f, -24));
  EXPECT_EQ(oh[2], -INFINITY);
}

TEST(DequantTest, Fp8BlockScaleChangesEvery128) {
  std::vector<uint8_t> q(300, 0x38);  // all 1.0
  const uint8_t s[3] = {127, 130, 0};  // 1, 8, 2^-127
  std::vector<float> out(300);
  scalar_dequant().fp8_row(q.data(), s, 300, out.data());
  EXPECT_EQ(out[127], 1.0f);
  EXPECT_EQ(out[128], 8.0f);
  EXPECT_EQ(out[256], std::ldexp(1.0f, -127));
}

TEST(DequantTest, VectorTablesEqualScalarOnAllCodes) {
  if (vector_tables().empty()) GTEST_SKIP() << "this CPU has neither AVX2 nor AVX-512";
  // Every byte code against every e8m0 scale (including 0 = 2^-127, 254, and 255 = NaN),
  // at lengths that exercise the vector body and the scalar tail.
  std::vector<uint8_t> q(256);
  for (int i = 0; i < 256; ++i) q[static_cast<size_t>(i)] = static_cast<uint8_t>(i);
  for (const DequantKernels* k : vector_tables()) {
    for (int e = 0; e < 256; ++e) {
      std::vector<uint8_t> s(8, static_cast<uint8_t>(e));
      for (size_t n : {size_t{256}, size_t{250}, size_t{7}, size_t{130}}) {
        std::vector<float> want(n), got(n);
        scalar_dequant().fp8_row(q.data(), s.data(), n, want.data());
        k->fp8_row(q.data(), s.data(), n, got.data());
        expect_same(want, got, k->name);
        if (n % 2 == 0) {  // packed FP4: n elements from n/2 bytes
          scalar_dequant().fp4_row(q.data(), s.data(), n, want.data());
          k->fp4_row(q.data(), s.data(), n, got.data());
          expect_same(want, got, k->name);
        }
      }
    }
    // bf16 and f16: all 65536 codes (NaN, inf, subnormals).
    std::vector<uint16_t> x(65536);
    for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<uint16_t>(i);
    for (size_t n : {size_t{65536}, size_t{65531}}) {
      std::vector<float> want(n), got(n);
      scalar_dequant().bf16_row(x.data(), n, want.data());
      k->bf16_row(x.data(), n, got.data());
      expect_same(want, got, k->name);
      scalar_dequant().f16_row(x.data(), n, want.data());
      k->f16_row(x.data(), n, got.data());
      expect_same(want, got, k->name);
    }
  }
}

TEST(DequantTest, VectorTablesEqualScalarOnRandomRows) {
  if (vector_tables().empty()) GTEST_SKIP() << "this CPU has neither AVX2 nor AVX-512";
  std::mt19937 rng(1234);
  std::uniform_int_distribution<int> byte(0, 255), len(1, 1000);
  for (const DequantKernels* k : vector_tables()) {
    for (int trial = 0; trial < 200; ++trial) {
      size_t n = static_cast<size_t>(len(rng)) * 2;
      std::vector<uint8_t> q(n), s(n / 32 + 2);
      for (auto& b : q) b = static_cast<uint8_t>(byte(rng));
      for (auto& b : s) b = static_cast<uint8_t>(byte(rng));
      std::vector<float> want(n), got(n);
      scalar_dequant().fp8_row(q.data(), s.data(), n, want.data());
      k->fp8_row(q.data(), s.data(), n, got.data());
      expect_same(want, got, k->name);
      scalar_dequant().fp4_row(q.data(), s.data(), n, want.data());
      k->fp4_row(q.data(), s.data(), n, got.data());
      expect_same(want, got, k->name);
    }
  }
}

TEST(DequantTest, BestIsOneOfTheTables) {
  const DequantKernels& best = best_dequant();
  EXPECT_TRUE(&best == &scalar_dequant() || &best == avx2_dequant() || &best == avx512_dequant());
  if (avx512_dequant()) {
    EXPECT_STREQ(best.name, "avx512");
  }
}

TEST(DequantTest, DequantizeRowsChecksScalesAndShapes) {
  // FP8 [130, 4] with scale [2, 1]: rows 0..127 use scale row 0, rows 128..129 row 1.
  std::vector<uint8_t> w(130 * 4, 0x38);
  uint8_t sc[2] = {127, 129};
  TensorView wv{"w", DType::kF8E4M3, {130, 4}, w.data(), w.size()};
  TensorView sv{"w.scale", DType::kF8E8M0, {2, 1}, sc, 2};
  std::vector<float> out(2 * 4);
  ASSERT_TRUE(dequantize_rows(wv, &sv, 127, 129, out).ok());
  EXPECT_EQ(out[0], 1.0f);
  EXPECT_EQ(out[4], 4.0f);
  Status no_scale = dequantize_rows(wv, nullptr, 0, 1, out);
  EXPECT_NE(no_scale.message().find("needs its .scale"), std::string::npos);
  TensorView bad_scale{"w.scale", DType::kF8E8M0, {1, 1}, sc, 1};
  EXPECT_NE(dequantize_rows(wv, &bad_scale, 0, 1, out).message().find("expected F8_E8M0 [2, 1]"), std::string::npos);
  EXPECT_FALSE(dequantize_rows(wv, &sv, 0, 131, out).ok());
  std::vector<float> small(3);
  EXPECT_FALSE(dequantize_rows(wv, &sv, 0, 1, small).ok());
  // FP4 stored as I8 [2, 16] = logical [2, 32], scale [2, 1].
  std::vector<uint8_t> p(32, 0x12);  // low nibble 2 (1.0) = even element, high 1 (0.5)
  uint8_t ps[2] = {127, 128};
  TensorView pv{"e", DType::kI8, {2, 16}, p.data(), p.size()};
  TensorView psv{"e.scale", DType::kF8E8M0, {2, 1}, ps, 2};
  std::vector<float> po(64);
  ASSERT_TRUE(dequantize_rows(pv, &psv, 0, 2, po).ok());
  EXPECT_EQ(po[0], 1.0f);
  EXPECT_EQ(po[1], 0.5f);
  EXPECT_EQ(po[32], 2.0f);
  EXPECT_EQ(po[33], 1.0f);
  uint8_t i64[8] = {};
  TensorView iv{"i", DType::kI64, {1, 1}, i64, 8};
  EXPECT_TRUE(dequantize_rows(iv, nullptr, 0, 1, po).is_unsupported());
}

}  // namespace
}  // namespace v4rt::model
