// The AVX-512 BF16 kernels of activation-quantised FP8/FP4 linears
// (Bf16QuantKernels): the widening of every code at every scale is exact, an
// out-of-range scale is reported, gemv is bitwise tile on the widened rows for
// every tile shape, and both equal an fp64 dot within fp32 rounding.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "model/kernels/kernels.h"
#include "model/numerics.h"

namespace v4rt::model::kernels {
namespace {

float bf16(uint16_t b) { return bf16_bits_to_f32(b); }

const Bf16QuantKernels* kernels_or_skip() { return avx512_bf16_quant_kernels(); }

struct Mat {
  std::vector<uint8_t> data, scale;
  QMatrix q;
};

Mat make(WKind kind, int64_t rows, int64_t cols, std::mt19937& rng, int e_lo, int e_span) {
  Mat w;
  if (kind == WKind::kFP8) {
    const int64_t sc = cols / 128;
    w.data.resize(static_cast<size_t>(rows * cols));
    for (auto& b : w.data) {
      b = static_cast<uint8_t>(rng());
      if ((b & 0x7f) == 0x7f) b &= 0xfe;  // no NaN codes
    }
    w.scale.resize(static_cast<size_t>((rows + 127) / 128 * sc));
    for (auto& b : w.scale) b = static_cast<uint8_t>(e_lo + static_cast<int>(rng() % e_span));
    w.q = {kind, rows, cols, w.data.data(), w.scale.data(), sc};
  } else {
    w.data.resize(static_cast<size_t>(rows * cols / 2));
    for (auto& b : w.data) b = static_cast<uint8_t>(rng());
    w.scale.resize(static_cast<size_t>(rows * cols / 32));
    for (auto& b : w.scale) b = static_cast<uint8_t>(e_lo + static_cast<int>(rng() % e_span));
    w.q = {kind, rows, cols, w.data.data(), w.scale.data(), cols / 32};
  }
  return w;
}

float exact_value(const QMatrix& q, int64_t n, int64_t k) {
  if (q.kind == WKind::kFP8) return e4m3_to_f32(q.fp8_codes(n)[k]) * e8m0_to_f32(q.fp8_scales(n)[k / 128]);
  const uint8_t byte = q.fp4_codes(n)[k / 2];
  return e2m1_to_f32(k % 2 ? byte >> 4 : byte & 0xf) * e8m0_to_f32(q.fp4_scales(n)[k / 32]);
}

TEST(Bf16QuantKernels, WideningIsExactForEveryCodeAndScale) {
  const Bf16QuantKernels* qk = kernels_or_skip();
  if (qk == nullptr) GTEST_SKIP() << "this CPU has no AVX-512 BF16 (the fp32 path is used instead)";
  // FP8: every code (bar NaN) in one row of 256, at every exact scale.
  for (int E = 10; E <= 246; ++E) {
    std::vector<uint8_t> codes(256), sc(2, static_cast<uint8_t>(E));
    for (int c = 0; c < 256; ++c) codes[static_cast<size_t>(c)] = static_cast<uint8_t>((c & 0x7f) == 0x7f ? 0 : c);
    const QMatrix q{WKind::kFP8, 1, 256, codes.data(), sc.data(), 2};
    std::vector<uint16_t> out(256);
    ASSERT_TRUE(qk->weights_bf16(q, 0, 1, out.data())) << E;
    for (int c = 0; c < 256; ++c)
      ASSERT_EQ(bf16(out[static_cast<size_t>(c)]), std::fabs(exact_value(q, 0, c)) * (c & 0x80 ? -1.0f : 1.0f))
          << "E=" << E << " code=" << c;
  }
  // FP4: every code pair at every exact scale.
  for (int E = 2; E <= 252; ++E) {
    std::vector<uint8_t> packed(128), sc(8, static_cast<uint8_t>(E));
    for (int i = 0; i < 128; ++i) packed[static_cast<size_t>(i)] = static_cast<uint8_t>(i * 2 + (i >> 3));
    const QMatrix q{WKind::kFP4, 1, 256, packed.data(), sc.data(), 8};
    std::vector<uint16_t> out(256);
    ASSERT_TRUE(qk->weights_bf16(q, 0, 1, out.data())) << E;
    for (int k = 0; k < 256; ++k) {
      const float want = exact_value(q, 0, k);
      ASSERT_EQ(bf16(out[static_cast<size_t>(k)]), want == 0.0f ? 0.0f : want) << "E=" << E << " k=" << k;
    }
  }
}

TEST(Bf16QuantKernels, ScalesOutsideTheExactRangeAreReported) {
  const Bf16QuantKernels* qk = kernels_or_skip();
  if (qk == nullptr) GTEST_SKIP() << "this CPU has no AVX-512 BF16";
  std::mt19937 rng(1);
  const std::vector<uint16_t> x(256, 0x3f80);
  float y[4];
  for (WKind kind : {WKind::kFP8, WKind::kFP4}) {
    for (int bad : {0, 1, kind == WKind::kFP8 ? 9 : 1, 253, 255}) {
      Mat w = make(kind, 4, 256, rng, 120, 4);
      w.scale[w.scale.size() - 1] = static_cast<uint8_t>(bad);
      std::vector<uint16_t> out(4 * 256);
      EXPECT_FALSE(qk->weights_bf16(w.q, 0, 4, out.data())) << bad;
      EXPECT_FALSE(qk->gemv(w.q, 0, 4, x.data(), 256, 1, y, 4)) << bad;
    }
  }
}

TEST(Bf16QuantKernels, GemvIsBitwiseTileForEveryShape) {
  const Bf16QuantKernels* qk = kernels_or_skip();
  if (qk == nullptr) GTEST_SKIP() << "this CPU has no AVX-512 BF16";
  std::mt19937 rng(5);
  std::normal_distribution<float> nd;
  for (WKind kind : {WKind::kFP8, WKind::kFP4}) {
    for (int64_t K : {int64_t{128}, int64_t{384}, int64_t{2048}}) {
      const int64_t N = 9;
      Mat w = make(kind, N, K, rng, 116, 10);
      std::vector<uint16_t> wb(static_cast<size_t>(N * K));
      ASSERT_TRUE(qk->weights_bf16(w.q, 0, static_cast<int>(N), wb.data()));
      // Activation rows: e4m3 values times a power-of-two scale, as gemm_bf16 packs them.
      std::vector<uint16_t> x(static_cast<size_t>(kBf16Mr * K));
      for (size_t i = 0; i < x.size(); ++i)
        x[i] = f32_to_bf16_bits(e4m3_round(std::clamp(nd(rng) * 60.0f, -448.0f, 448.0f)) * 0.0078125f);
      for (int mr = 1; mr <= kBf16Mr; ++mr) {
        for (int nr = 1; nr <= kBf16Nr; ++nr) {
          for (int64_t n0 : {int64_t{0}, N - nr}) {
            std::vector<float> a(static_cast<size_t>(mr * nr)), b(a.size());
            ASSERT_TRUE(qk->gemv(w.q, n0, nr, x.data(), K, mr, a.data(), nr));
            qk->tile(x.data(), K, wb.data() + n0 * K, K, K, mr, nr, b.data(), nr);
            for (int m = 0; m < mr; ++m) {
              for (int j = 0; j < nr; ++j) {
                const size_t i = static_cast<size_t>(m * nr + j);
                ASSERT_EQ(a[i], b[i]) << "kind " << int(kind) << " K=" << K << " mr=" << mr << " nr=" << nr;
                double exact = 0, mag = 0;
                for (int64_t k = 0; k < K; ++k) {
                  const double p = double(bf16(x[static_cast<size_t>(m * K + k)])) * exact_value(w.q, n0 + j, k);
                  exact += p;
                  mag += std::fabs(p);
                }
                ASSERT_LE(std::fabs(a[i] - exact), 2e-6 * mag + 1e-30) << "K=" << K << " m=" << m << " j=" << j;
              }
            }
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace v4rt::model::kernels
