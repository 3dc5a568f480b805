// The GEMM behind linear() (model/gemm.cpp) against linear_gemv (rows decoded
// and dotted one output at a time, the older independent path): every weight
// format, activation quantisation on and off, one and two threads, ragged M
// and N; and a row's result is bitwise independent of the rows beside it.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "model/config.h"
#include "model/layers.h"
#include "model/numerics.h"
#include "base/thread_pool.h"

namespace v4rt::model {
namespace {

using kernels::QMatrix;
using kernels::WKind;

struct Weights {
  std::vector<uint8_t> data, scale;
  QMatrix q;
};

Weights make(WKind kind, int64_t rows, int64_t cols, std::mt19937& rng) {
  Weights w;
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  switch (kind) {
    case WKind::kF32: {
      w.data.resize(static_cast<size_t>(rows * cols * 4));
      auto* p = reinterpret_cast<float*>(w.data.data());
      for (int64_t i = 0; i < rows * cols; ++i) p[i] = u(rng);
      w.q = {kind, rows, cols, w.data.data(), nullptr, 0};
      break;
    }
    case WKind::kBF16: {
      w.data.resize(static_cast<size_t>(rows * cols * 2));
      auto* p = reinterpret_cast<uint16_t*>(w.data.data());
      for (int64_t i = 0; i < rows * cols; ++i) p[i] = f32_to_bf16_bits(u(rng));
      w.q = {kind, rows, cols, w.data.data(), nullptr, 0};
      break;
    }
    case WKind::kFP8: {
      const int64_t sc = (cols + 127) / 128;
      w.data.resize(static_cast<size_t>(rows * cols));
      for (auto& b : w.data) b = static_cast<uint8_t>(rng() % 0x7f) | static_cast<uint8_t>(rng() & 0x80);
      w.scale.resize(static_cast<size_t>(((rows + 127) / 128) * sc));
      for (auto& b : w.scale) b = static_cast<uint8_t>(118 + rng() % 6);
      w.q = {kind, rows, cols, w.data.data(), w.scale.data(), sc};
      break;
    }
    case WKind::kFP4: {
      w.data.resize(static_cast<size_t>(rows * cols / 2));
      for (auto& b : w.data) b = static_cast<uint8_t>(rng());
      w.scale.resize(static_cast<size_t>(rows * cols / 32));
      for (auto& b : w.scale) b = static_cast<uint8_t>(122 + rng() % 6);
      w.q = {kind, rows, cols, w.data.data(), w.scale.data(), cols / 32};
      break;
    }
  }
  return w;
}

// The same matrix with every sign bit cleared.
Weights abs_of(const Weights& w, WKind kind) {
  Weights a = w;
  switch (kind) {
    case WKind::kF32:
      for (size_t i = 3; i < a.data.size(); i += 4) a.data[i] &= 0x7f;
      break;
    case WKind::kBF16:
      for (size_t i = 1; i < a.data.size(); i += 2) a.data[i] &= 0x7f;
      break;
    case WKind::kFP8:
      for (auto& b : a.data) b &= 0x7f;
      break;
    case WKind::kFP4:
      for (auto& b : a.data) b &= 0x77;
      break;
  }
  a.q.data = a.data.data();
  a.q.scale = a.scale.empty() ? nullptr : a.scale.data();
  return a;
}

TEST(Gemm, MatchesGemvForEveryFormat) {
  std::mt19937 rng(3);
  std::normal_distribution<float> g(0.0f, 1.0f);
  Config cfg;
  ThreadPool pool(2);
  for (WKind kind : {WKind::kF32, WKind::kBF16, WKind::kFP8, WKind::kFP4}) {
    for (int64_t K : {int64_t{256}, int64_t{768}}) {
      const int64_t N = 157, M = 45;
      Weights w = make(kind, N, K, rng);
      std::vector<float> x(static_cast<size_t>(M * K)), x_abs(x.size());
      for (float& v : x) v = g(rng) * 3.0f;
      for (size_t i = 0; i < x.size(); ++i) x_abs[i] = std::fabs(x[i]);
      const Weights w_abs = abs_of(w, kind);
      for (bool aq : {false, true}) {
        for (ThreadPool* p : {static_cast<ThreadPool*>(nullptr), &pool}) {
          const Ctx ctx{cfg, kernels::best_kernels(), p, aq, nullptr};
          std::vector<float> all(static_cast<size_t>(M * N)), row(static_cast<size_t>(N)), mag(row.size());
          linear(ctx, w.q, x.data(), M, all.data());
          for (int64_t m = 0; m < M; ++m) {
            linear_gemv(ctx, w.q, x.data() + m * K, 1, row.data());
            // Σ|x·w|: the scale of the rounding error of any summation order.
            linear_gemv(ctx, w_abs.q, x_abs.data() + m * K, 1, mag.data());
            for (int64_t n = 0; n < N; ++n) {
              const float a = all[static_cast<size_t>(m * N + n)], b = row[static_cast<size_t>(n)];
              ASSERT_NEAR(a, b, 1e-5f * mag[static_cast<size_t>(n)] + 1e-6f)
                  << "kind " << static_cast<int>(kind) << " K=" << K << " aq=" << aq << " m=" << m << " n=" << n;
            }
          }
          // A row's result does not depend on how many rows are in the call.
          for (int64_t rows : {1, 9}) {
            std::vector<float> part(static_cast<size_t>(rows * N));
            linear(ctx, w.q, x.data() + 20 * K, rows, part.data());
            for (int64_t i = 0; i < rows * N; ++i)
              ASSERT_EQ(part[static_cast<size_t>(i)], all[static_cast<size_t>(20 * N + i)]);
          }
        }
      }
    }
  }
}

// The scalar oracle table gives the same products as the fast one.
TEST(Gemm, ScalarTableAgrees) {
  std::mt19937 rng(8);
  std::normal_distribution<float> g(0.0f, 1.0f);
  Config cfg;
  Weights w = make(WKind::kFP8, 40, 384, rng);
  const int64_t M = 33;
  std::vector<float> x(static_cast<size_t>(M * 384));
  for (float& v : x) v = g(rng);
  for (bool aq : {false, true}) {
    std::vector<float> a(static_cast<size_t>(M * 40)), b(a.size());
    linear(Ctx{cfg, kernels::scalar_kernels(), nullptr, aq, nullptr}, w.q, x.data(), M, a.data());
    linear(Ctx{cfg, kernels::best_kernels(), nullptr, aq, nullptr}, w.q, x.data(), M, b.data());
    for (size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], b[i], 1e-4f * (1.0f + std::fabs(a[i]))) << i;
  }
}

}  // namespace
}  // namespace v4rt::model
