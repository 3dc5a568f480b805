// The MTP block (spec §3.14): e = enorm(embed[next id]), hX = hnorm(h) per
// stream, X = e_proj(e) + h_proj(hX) per stream, then a normal block (its own
// sliding-window cache; layer id n_layers, never hash-routed).
#include <vector>

#include "model/layers.h"

namespace v4rt::model {

void mtp_run(const Ctx& ctx, const MtpWeights& w, const float* h, const float* e_emb, const int32_t* ids, int64_t S,
             int64_t p0, LayerState& st, float* X) {
  const Config& cfg = ctx.cfg;
  const int64_t D = cfg.dim, C = cfg.hc_mult;
  const float eps = static_cast<float>(cfg.norm_eps);
  std::vector<float> en(static_cast<size_t>(S * D)), ep(static_cast<size_t>(S * D));
  std::vector<float> hn(static_cast<size_t>(S * C * D));
  for (int64_t s = 0; s < S; ++s) rms_norm(e_emb + s * D, w.enorm.data(), D, eps, en.data() + s * D);
  for (int64_t r = 0; r < S * C; ++r) rms_norm(h + r * D, w.hnorm.data(), D, eps, hn.data() + r * D);
  linear(ctx, w.e_proj, en.data(), S, ep.data());
  linear(ctx, w.h_proj, hn.data(), S * C, X);
  for (int64_t s = 0; s < S; ++s)
    for (int64_t j = 0; j < C; ++j)
      for (int64_t d = 0; d < D; ++d) X[(s * C + j) * D + d] = ep[static_cast<size_t>(s * D + d)] + X[(s * C + j) * D + d];
  block_run(ctx, w.block, X, ids, S, p0, st);
}

}  // namespace v4rt::model
