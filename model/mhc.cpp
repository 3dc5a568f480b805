// Manifold hyper-connections (spec §3.3, §3.4, §3.13): hc_pre with the
// Sinkhorn split, hc_post, hc_head. All fp32.
#include <cmath>
#include <vector>

#include "model/layers.h"

namespace v4rt::model {
namespace {

inline float sigmoid(float z) { return 1.0f / (1.0f + std::exp(-z)); }

// rsqrt(mean(x²) + eps) over the flattened C·D vector.
float hc_rsqrt(const float* x, int64_t n, float eps) {
  float ss = 0.0f;
  for (int64_t i = 0; i < n; ++i) ss += x[i] * x[i];
  return 1.0f / std::sqrt(ss / static_cast<float>(n) + eps);
}

}  // namespace

void hc_pre(const Config& cfg, const kernels::Kernels& k, const HcWeights& w, const float* x, float* y, float* post,
            float* comb) {
  const int C = cfg.hc_mult;
  const int64_t D = cfg.dim, n = C * D;
  const int mix = (2 + C) * C;
  const float eps = static_cast<float>(cfg.hc_eps);
  const float r = hc_rsqrt(x, n, static_cast<float>(cfg.norm_eps));
  float mixes[64];
  for (int j = 0; j < mix; ++j) mixes[j] = k.dot(x, w.fn + j * n, n) * r;
  float pre[16];
  for (int j = 0; j < C; ++j) {
    pre[j] = sigmoid(mixes[j] * w.scale[0] + w.base[j]) + eps;
    post[j] = 2.0f * sigmoid(mixes[C + j] * w.scale[1] + w.base[C + j]);
  }
  float* A = comb;
  for (int j = 0; j < C; ++j)
    for (int kk = 0; kk < C; ++kk)
      A[j * C + kk] = mixes[2 * C + j * C + kk] * w.scale[2] + w.base[2 * C + j * C + kk];
  // Row softmax (+eps), column normalisation, then iters-1 x (row, column).
  for (int j = 0; j < C; ++j) {
    float m = A[j * C];
    for (int kk = 1; kk < C; ++kk) m = std::fmax(m, A[j * C + kk]);
    float s = 0.0f;
    for (int kk = 0; kk < C; ++kk) {
      A[j * C + kk] = std::exp(A[j * C + kk] - m);
      s += A[j * C + kk];
    }
    for (int kk = 0; kk < C; ++kk) A[j * C + kk] = A[j * C + kk] / s + eps;
  }
  auto col_norm = [&] {
    for (int kk = 0; kk < C; ++kk) {
      float s = 0.0f;
      for (int j = 0; j < C; ++j) s += A[j * C + kk];
      for (int j = 0; j < C; ++j) A[j * C + kk] /= (s + eps);
    }
  };
  auto row_norm = [&] {
    for (int j = 0; j < C; ++j) {
      float s = 0.0f;
      for (int kk = 0; kk < C; ++kk) s += A[j * C + kk];
      for (int kk = 0; kk < C; ++kk) A[j * C + kk] /= (s + eps);
    }
  };
  col_norm();
  for (int it = 1; it < cfg.hc_sinkhorn_iters; ++it) {
    row_norm();
    col_norm();
  }
  for (int64_t d = 0; d < D; ++d) {
    float s = 0.0f;
    for (int j = 0; j < C; ++j) s += pre[j] * x[j * D + d];
    y[d] = s;
  }
}

void hc_post(const Config& cfg, const float* a, const float* res, const float* post, const float* comb, float* out) {
  const int C = cfg.hc_mult;
  const int64_t D = cfg.dim;
  for (int kk = 0; kk < C; ++kk) {
    for (int64_t d = 0; d < D; ++d) {
      float s = 0.0f;
      for (int j = 0; j < C; ++j) s += comb[j * C + kk] * res[j * D + d];
      out[kk * D + d] = post[kk] * a[d] + s;
    }
  }
}

void hc_head(const Config& cfg, const kernels::Kernels& k, const HcWeights& w, const float* x, float* y) {
  const int C = cfg.hc_mult;
  const int64_t D = cfg.dim, n = C * D;
  const float r = hc_rsqrt(x, n, static_cast<float>(cfg.norm_eps));
  float pre[16];
  for (int j = 0; j < C; ++j) {
    float mix = k.dot(x, w.fn + j * n, n) * r;
    pre[j] = sigmoid(mix * w.scale[0] + w.base[j]) + static_cast<float>(cfg.hc_eps);
  }
  for (int64_t d = 0; d < D; ++d) {
    float s = 0.0f;
    for (int j = 0; j < C; ++j) s += pre[j] * x[j * D + d];
    y[d] = s;
  }
}

}  // namespace v4rt::model
