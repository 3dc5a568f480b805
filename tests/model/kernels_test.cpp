// Every kernel table entry against the scalar oracle on random and edge inputs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "model/kernels/kernels.h"
#include "model/numerics.h"

namespace v4rt::model::kernels {
namespace {

std::vector<const Kernels*> tables() {
  std::vector<const Kernels*> t = {&best_kernels()};
  if (const Kernels* k = avx2_kernels()) t.push_back(k);
  if (const Kernels* k = avx512_kernels()) t.push_back(k);
  return t;
}

TEST(Kernels, DotMatchesOracle) {
  std::mt19937 rng(7);
  std::normal_distribution<float> nd;
  for (int64_t n : {0, 1, 7, 8, 15, 16, 31, 32, 33, 64, 100, 128, 257, 4096}) {
    std::vector<float> a(static_cast<size_t>(n)), b(static_cast<size_t>(n));
    for (auto& v : a) v = nd(rng);
    for (auto& v : b) v = nd(rng);
    double exact = 0, mag = 0;
    for (int64_t i = 0; i < n; ++i) {
      exact += double(a[i]) * b[i];
      mag += std::fabs(double(a[i]) * b[i]);
    }
    const float oracle = scalar_kernels().dot(a.data(), b.data(), n);
    EXPECT_LE(std::fabs(oracle - exact), 1e-6 * (mag + 1)) << n;
    for (const Kernels* k : tables()) {
      float got = k->dot(a.data(), b.data(), n);
      EXPECT_LE(std::fabs(got - exact), 1e-6 * (mag + 1)) << k->name << " n=" << n;
    }
  }
}

TEST(Kernels, DotBf16MatchesOracle) {
  std::mt19937 rng(9);
  std::normal_distribution<float> nd;
  for (int64_t n : {0, 1, 15, 16, 17, 32, 33, 100, 256, 4096}) {
    std::vector<float> a(static_cast<size_t>(n)), wf(static_cast<size_t>(n));
    std::vector<uint16_t> w(static_cast<size_t>(n));
    for (auto& v : a) v = nd(rng);
    for (int64_t i = 0; i < n; ++i) {
      w[i] = f32_to_bf16_bits(nd(rng));
      wf[i] = bf16_bits_to_f32(w[i]);
    }
    double exact = 0, mag = 0;
    for (int64_t i = 0; i < n; ++i) {
      exact += double(a[i]) * wf[i];
      mag += std::fabs(double(a[i]) * wf[i]);
    }
    EXPECT_EQ(scalar_kernels().dot_bf16(a.data(), w.data(), n), scalar_kernels().dot(a.data(), wf.data(), n));
    for (const Kernels* k : tables()) {
      EXPECT_LE(std::fabs(k->dot_bf16(a.data(), w.data(), n) - exact), 1e-6 * (mag + 1)) << k->name << " n=" << n;
      // Bitwise equal to decode + dot of the same table (chunked == token by token).
      EXPECT_EQ(k->dot_bf16(a.data(), w.data(), n), k->dot(a.data(), wf.data(), n)) << k->name << " n=" << n;
    }
  }
}

TEST(Kernels, DecodeRowMatchesOracleForEveryFormat) {
  std::mt19937 rng(11);
  const int64_t rows = 130, cols = 256;
  std::vector<uint8_t> fp8(static_cast<size_t>(rows * cols)), fp4(static_cast<size_t>(rows * cols / 2));
  std::vector<uint8_t> s8(static_cast<size_t>(2 * 2)), s4(static_cast<size_t>(rows * cols / 32));
  std::vector<uint16_t> bf(static_cast<size_t>(rows * cols));
  for (auto& v : fp8) v = static_cast<uint8_t>(rng() & 0xff);
  for (auto& v : fp8) if ((v & 0x7f) == 0x7f) v = 0;  // no NaN codes
  for (auto& v : fp4) v = static_cast<uint8_t>(rng() & 0xff);
  for (auto& v : s8) v = static_cast<uint8_t>(120 + rng() % 10);
  for (auto& v : s4) v = static_cast<uint8_t>(110 + rng() % 30);
  for (auto& v : bf) v = f32_to_bf16_bits(std::ldexp(float(int(rng() % 2001) - 1000), -7));
  const QMatrix m8{WKind::kFP8, rows, cols, fp8.data(), s8.data(), 2};
  const QMatrix m4{WKind::kFP4, rows, cols, fp4.data(), s4.data(), cols / 32};
  const QMatrix mb{WKind::kBF16, rows, cols, reinterpret_cast<const uint8_t*>(bf.data()), nullptr, 0};
  std::vector<float> v(static_cast<size_t>(cols)), sc(16);
  for (int64_t n : {int64_t{0}, int64_t{127}, int64_t{128}, rows - 1}) {
    scalar_kernels().decode_row(m8, n, v.data(), sc.data());
    for (int64_t k = 0; k < cols; ++k) EXPECT_EQ(v[k], e4m3_to_f32(fp8[n * cols + k]));
    EXPECT_EQ(sc[1], e8m0_to_f32(s8[(n / 128) * 2 + 1]));
    scalar_kernels().decode_row(m4, n, v.data(), sc.data());
    for (int64_t k = 0; k < cols; ++k) {
      uint8_t byte = fp4[(n * cols + k) / 2];
      EXPECT_EQ(v[k], e2m1_to_f32(k % 2 ? byte >> 4 : byte & 0xf));  // low nibble = even element
    }
    EXPECT_EQ(sc[3], e8m0_to_f32(s4[n * (cols / 32) + 3]));
    scalar_kernels().decode_row(mb, n, v.data(), sc.data());
    for (int64_t k = 0; k < cols; ++k) EXPECT_EQ(v[k], bf16_bits_to_f32(bf[n * cols + k]));
    for (const Kernels* t : tables()) {
      std::vector<float> w(static_cast<size_t>(cols)), ws(16);
      for (const QMatrix* m : {&m8, &m4, &mb}) {
        scalar_kernels().decode_row(*m, n, v.data(), sc.data());
        t->decode_row(*m, n, w.data(), ws.data());
        EXPECT_EQ(v, w) << t->name;
      }
    }
  }
}

// gemm_tile of every table against the scalar oracle: every tile shape, with
// and without activation scales, overwrite and accumulate.
TEST(Kernels, GemmTileMatchesOracle) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (int64_t kc : {int64_t{128}, int64_t{384}}) {
    std::vector<float> x(static_cast<size_t>(kc * kGemmMr)), xs(static_cast<size_t>(kc / 128 * kGemmMr));
    std::vector<float> w(static_cast<size_t>(kGemmNr * (kc + 8)));
    for (float& v : w) v = u(rng);
    for (float& v : xs) v = std::ldexp(1.0f, static_cast<int>(rng() % 9) - 4);
    for (int mr : {1, 7, 16, 17, 32}) {
      std::fill(x.begin(), x.end(), 0.0f);
      for (int64_t k = 0; k < kc; ++k)
        for (int m = 0; m < mr; ++m) x[static_cast<size_t>(k * kGemmMr + m)] = u(rng);
      for (int nr = 1; nr <= kGemmNr; ++nr) {
        for (const float* scales : {static_cast<const float*>(nullptr), static_cast<const float*>(xs.data())}) {
          for (bool accumulate : {false, true}) {
            const int64_t ldy = 20;
            std::vector<float> want(static_cast<size_t>(kGemmMr * ldy), 0.5f);
            scalar_kernels().gemm_tile(x.data(), scales, w.data(), kc + 8, kc, mr, nr, accumulate, want.data(), ldy);
            for (const Kernels* t : tables()) {
              std::vector<float> got(static_cast<size_t>(kGemmMr * ldy), 0.5f);
              t->gemm_tile(x.data(), scales, w.data(), kc + 8, kc, mr, nr, accumulate, got.data(), ldy);
              for (int m = 0; m < kGemmMr; ++m) {
                for (int j = 0; j < ldy; ++j) {
                  const size_t i = static_cast<size_t>(m * ldy + j);
                  if (m >= mr || j >= nr) {
                    ASSERT_EQ(got[i], 0.5f) << t->name << ": wrote outside the tile";
                    continue;
                  }
                  ASSERT_NEAR(got[i], want[i], 2e-4f * (1.0f + std::fabs(want[i])))
                      << t->name << " kc=" << kc << " mr=" << mr << " nr=" << nr << " m=" << m << " j=" << j;
                }
              }
            }
          }
        }
      }
    }
  }
}

// gemv_tile (one activation row, weight rows in lanes) is bitwise gemm_tile
// on a panel holding that row: decode and prefill give the same bits.
TEST(Kernels, GemvTileIsBitwiseGemmTile) {
  std::mt19937 rng(9);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (const Kernels* t : tables()) {
    if (t->gemv_tile == nullptr) continue;
    for (int64_t kc : {int64_t{128}, int64_t{200}, int64_t{512}}) {
      const int64_t ldw = kc + 3;
      std::vector<float> x(static_cast<size_t>(kc)), panel(static_cast<size_t>(kc * kGemmMr), 0.0f);
      std::vector<float> xs(static_cast<size_t>(kc / 128)), xs_panel(static_cast<size_t>(kc / 128 * kGemmMr), 0.0f);
      std::vector<float> w(static_cast<size_t>(kGemvNr * ldw));
      for (float& v : w) v = u(rng);
      for (int64_t k = 0; k < kc; ++k) panel[static_cast<size_t>(k * kGemmMr)] = x[static_cast<size_t>(k)] = u(rng);
      for (size_t b = 0; b < xs.size(); ++b) xs_panel[b * kGemmMr] = xs[b] = std::ldexp(1.0f, static_cast<int>(b % 5) - 2);
      const bool scaled_ok = kc % 128 == 0;
      for (int nr = 1; nr <= kGemvNr; ++nr) {
        for (bool scaled : {false, true}) {
          if (scaled && !scaled_ok) continue;
          for (bool accumulate : {false, true}) {
            std::vector<float> a(static_cast<size_t>(kGemvNr), 0.25f), b(a);
            t->gemv_tile(x.data(), scaled ? xs.data() : nullptr, w.data(), ldw, kc, nr, accumulate, a.data());
            for (int j0 = 0; j0 < nr; j0 += kGemmNr)
              t->gemm_tile(panel.data(), scaled ? xs_panel.data() : nullptr, w.data() + j0 * ldw, ldw, kc, 1,
                           std::min(kGemmNr, nr - j0), accumulate, b.data() + j0, 1);
            for (int j = 0; j < kGemvNr; ++j)
              ASSERT_EQ(a[static_cast<size_t>(j)], b[static_cast<size_t>(j)])
                  << t->name << " kc=" << kc << " nr=" << nr << " j=" << j << " scaled=" << scaled;
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace v4rt::model::kernels
