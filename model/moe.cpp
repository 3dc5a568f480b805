// MoE (spec §3.11, §3.12): sqrt-softplus gate (bias for selection only, hash
// routing via tid2eid on the first layers), route_scale, SwiGLU experts with
// the asymmetric swiglu_limit clamp (routed and shared, R1), the routing
// weight applied before w2, summation in expert-id order then the shared expert.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "model/layers.h"
#include "model/model.h"

namespace v4rt::model {
namespace {

// One expert over the rows of x ([n, D]) -> out [n, D]; weight per row (or null).
void expert_run(const Ctx& ctx, const ExpertWeights& e, const float* x, int64_t n, const float* weight, float* out) {
  const int64_t I = ctx.cfg.moe_inter_dim;
  const float lim = static_cast<float>(ctx.cfg.swiglu_limit);
  std::vector<float> gt(static_cast<size_t>(n * I)), up(static_cast<size_t>(n * I));
  linear(ctx, e.w1, x, n, gt.data());
  linear(ctx, e.w3, x, n, up.data());
  for (int64_t r = 0; r < n; ++r) {
    for (int64_t i = 0; i < I; ++i) {
      float g = gt[static_cast<size_t>(r * I + i)], u = up[static_cast<size_t>(r * I + i)];
      if (lim > 0) {
        u = std::clamp(u, -lim, lim);
        g = std::fmin(g, lim);
      }
      float h = g / (1.0f + std::exp(-g)) * u;
      if (weight != nullptr) h = weight[r] * h;
      gt[static_cast<size_t>(r * I + i)] = h;
    }
  }
  linear(ctx, e.w2, gt.data(), n, out);
}

}  // namespace

void moe_run(const Ctx& ctx, int layer, int64_t p0, const MoeWeights& w, const float* x, const int32_t* ids, int64_t S,
             float* out) {
  const Config& cfg = ctx.cfg;
  const int64_t D = cfg.dim, E = cfg.n_routed_experts, k = cfg.n_activated_experts;
  std::vector<float> logits(static_cast<size_t>(S * E));
  linear(ctx, w.gate, x, S, logits.data());
  std::vector<int32_t> idx(static_cast<size_t>(S * k));
  std::vector<float> wts(static_cast<size_t>(S * k));
  std::vector<float> scores(static_cast<size_t>(E)), biased(static_cast<size_t>(E));
  std::vector<int32_t> order(static_cast<size_t>(E));
  for (int64_t s = 0; s < S; ++s) {
    for (int64_t e = 0; e < E; ++e) {
      float z = logits[static_cast<size_t>(s * E + e)];
      float v;
      if (cfg.score_func == "softmax") {
        v = z;  // normalised below
      } else if (cfg.score_func == "sigmoid") {
        v = 1.0f / (1.0f + std::exp(-z));
      } else {
        v = std::sqrt(z > 20.0f ? z : std::log1p(std::exp(z)));
      }
      scores[static_cast<size_t>(e)] = v;
    }
    if (cfg.score_func == "softmax") {
      float m = *std::max_element(scores.begin(), scores.end()), sum = 0.0f;
      for (float& v : scores) sum += (v = std::exp(v - m));
      for (float& v : scores) v /= sum;
    }
    int32_t* sel = idx.data() + s * k;
    if (w.hash) {
      for (int64_t j = 0; j < k; ++j) sel[j] = static_cast<int32_t>(w.tid2eid[static_cast<int64_t>(ids[s]) * k + j]);
    } else {
      for (int64_t e = 0; e < E; ++e)
        biased[static_cast<size_t>(e)] = scores[static_cast<size_t>(e)] + (w.bias ? w.bias[e] : 0.0f);
      topk_like_torch(biased.data(), E, k, order);
      for (int64_t j = 0; j < k; ++j) sel[j] = order[static_cast<size_t>(j)];
      if (ctx.trace != nullptr && ctx.trace->on_moe)
        ctx.trace->on_moe(layer, p0 + s, biased, std::span<const int32_t>(sel, static_cast<size_t>(k)));
    }
    float* ws = wts.data() + s * k;
    float sum = 0.0f;
    for (int64_t j = 0; j < k; ++j) sum += (ws[j] = scores[static_cast<size_t>(sel[j])]);
    for (int64_t j = 0; j < k; ++j) {
      if (cfg.score_func != "softmax") ws[j] /= sum;
      ws[j] *= static_cast<float>(cfg.route_scale);
    }
  }
  // Experts in id order, each over the rows routed to it.
  std::vector<float> y(static_cast<size_t>(S * D), 0.0f);
  std::vector<float> xs, ew, eo;
  std::vector<int64_t> rows;
  for (int64_t e = 0; e < E; ++e) {
    rows.clear();
    ew.clear();
    for (int64_t s = 0; s < S; ++s)
      for (int64_t j = 0; j < k; ++j)
        if (idx[static_cast<size_t>(s * k + j)] == e) {
          rows.push_back(s);
          ew.push_back(wts[static_cast<size_t>(s * k + j)]);
        }
    if (rows.empty()) continue;
    const int64_t n = static_cast<int64_t>(rows.size());
    xs.resize(static_cast<size_t>(n * D));
    eo.resize(static_cast<size_t>(n * D));
    for (int64_t r = 0; r < n; ++r)
      std::copy(x + rows[static_cast<size_t>(r)] * D, x + (rows[static_cast<size_t>(r)] + 1) * D, xs.data() + r * D);
    expert_run(ctx, w.experts[static_cast<size_t>(e)], xs.data(), n, ew.data(), eo.data());
    for (int64_t r = 0; r < n; ++r)
      for (int64_t d = 0; d < D; ++d) y[static_cast<size_t>(rows[static_cast<size_t>(r)] * D + d)] += eo[static_cast<size_t>(r * D + d)];
  }
  std::vector<float> sh(static_cast<size_t>(S * D));
  expert_run(ctx, w.shared, x, S, nullptr, sh.data());
  for (int64_t i = 0; i < S * D; ++i) out[i] = y[static_cast<size_t>(i)] + sh[static_cast<size_t>(i)];
}

}  // namespace v4rt::model
