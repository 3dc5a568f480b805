// Partial RoPE with YaRN per layer type (spec §3.5): interleaved pairs on the
// last rope_head_dim dims; compressed layers use compress_rope_theta + YaRN,
// sliding-window layers (and the MTP) plain rope_theta. No mscale.
#include <algorithm>
#include <cmath>
#include <numbers>

#include "model/layers.h"

namespace v4rt::model {

Rope Rope::make(const Config& cfg, int layer) {
  const int dim = cfg.rope_head_dim;
  const bool compressed = cfg.compress_ratio(layer) > 0;
  const double base = compressed ? cfg.compress_rope_theta : cfg.rope_theta;
  const int original = compressed ? cfg.original_seq_len : 0;
  Rope r;
  r.freqs.resize(static_cast<size_t>(dim / 2));
  const float fbase = static_cast<float>(base);
  for (int i = 0; i < dim / 2; ++i) {
    float e = static_cast<float>(2 * i) / static_cast<float>(dim);
    r.freqs[static_cast<size_t>(i)] = 1.0f / std::pow(fbase, e);
  }
  if (original > 0) {
    auto corr = [&](double rot) {
      return dim * std::log(original / (rot * 2 * std::numbers::pi)) / (2 * std::log(base));
    };
    double lo = std::max(std::floor(corr(cfg.beta_fast)), 0.0);
    double hi = std::min(std::ceil(corr(cfg.beta_slow)), static_cast<double>(dim - 1));
    if (lo == hi) hi += 0.001;
    const float flo = static_cast<float>(lo), fspan = static_cast<float>(hi - lo);
    const float factor = static_cast<float>(cfg.rope_factor);
    for (int i = 0; i < dim / 2; ++i) {
      float ramp = std::clamp((static_cast<float>(i) - flo) / fspan, 0.0f, 1.0f);
      float smooth = 1.0f - ramp;
      float f = r.freqs[static_cast<size_t>(i)];
      r.freqs[static_cast<size_t>(i)] = f / factor * (1.0f - smooth) + f * smooth;
    }
  }
  return r;
}

void Rope::apply(float* x, int64_t pos, bool inverse) const {
  const float p = static_cast<float>(pos);
  for (size_t i = 0; i < freqs.size(); ++i) {
    const float phi = p * freqs[i];
    const float c = std::cos(phi);
    const float s = inverse ? -std::sin(phi) : std::sin(phi);
    const float a = x[2 * i], b = x[2 * i + 1];
    x[2 * i] = a * c - b * s;
    x[2 * i + 1] = a * s + b * c;
  }
}

}  // namespace v4rt::model
