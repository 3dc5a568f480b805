// The lightning indexer (spec §3.9): queries from cq (RoPE, Hadamard, FP4
// QDQ), keys from its own compressor, score = Σ_h relu(q_h·k)·w_h, top-k over
// the entries visible at each query (engine rule, spec §4.5).
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "model/layers.h"
#include "model/model.h"
#include "base/thread_pool.h"

namespace v4rt::model {

void indexer_run(const Ctx& ctx, int layer, const IndexerWeights& w, const Rope& rope, const float* x, const float* qr,
                 int64_t S, int64_t p0, LayerState& st, std::vector<std::vector<int32_t>>& selected) {
  const Config& cfg = ctx.cfg;
  const int64_t Hi = cfg.index_n_heads, Di = cfg.index_head_dim, R = cfg.rope_head_dim, D = cfg.dim;
  const int64_t ratio = w.comp.ratio;
  std::vector<float> q(static_cast<size_t>(S * Hi * Di));
  linear(ctx, w.wq_b, qr, S, q.data());
  for (int64_t s = 0; s < S; ++s) {
    for (int64_t h = 0; h < Hi; ++h) {
      float* qh = q.data() + (s * Hi + h) * Di;
      rope.apply(qh + Di - R, p0 + s, false);
      hadamard(qh, Di);
      fp4_qdq(qh, Di);
    }
  }
  compressor_run(ctx, w.comp, rope, x, S, p0, st.idx_state, st.keys);
  std::vector<float> wts(static_cast<size_t>(S * Hi));
  linear(ctx, w.weights_proj, x, S, wts.data());
  const float c = static_cast<float>(std::pow(static_cast<double>(Di), -0.5) * std::pow(static_cast<double>(Hi), -0.5));
  for (float& v : wts) v *= c;
  (void)D;
  const int64_t n_keys = st.n_keys();
  selected.assign(static_cast<size_t>(S), {});
  const ForwardTrace* trace = ctx.trace;
  const bool traced = trace != nullptr && static_cast<bool>(trace->on_indexer);
  auto select = [&](int64_t s, std::vector<float>& scores, std::vector<float>& padded, std::vector<int32_t>& order) {
    const int64_t p = p0 + s;
    const int64_t nvis = static_cast<int64_t>(scores.size());
    if (ctx.ref_prefill_topk && p0 == 0) {
      // The reference's one-shot prefill ranks every entry of the call
      // (invisible ones at -inf) with k = min(K, S/4): same valid entries
      // except how exact ties resolve.
      const int64_t nn = std::min<int64_t>(S / ratio, n_keys);
      padded.assign(scores.begin(), scores.end());
      padded.resize(static_cast<size_t>(nn), -std::numeric_limits<float>::infinity());
      topk_like_torch(padded.data(), nn, std::min<int64_t>(cfg.index_topk, nn), order);
      std::erase_if(order, [&](int32_t o) { return o >= nvis; });
    } else {
      topk_like_torch(scores.data(), nvis, std::min<int64_t>(cfg.index_topk, nvis), order);
    }
    if (traced) trace->on_indexer(layer, p, scores, order);
    selected[static_cast<size_t>(s)] = order;
  };
  auto visible = [&](int64_t s) { return std::min<int64_t>((p0 + s + 1) / ratio, n_keys); };
  // Queries go in tiles: one GEMM of the tile's Hi·T head queries against the
  // stored keys visible to its last query (gemm(): each score is independent of
  // the tile, so chunking changes no bit), then score = Σ_h relu(q_h·k)·w_h
  // and top-k per query. T bounds the head-score buffer to ~4M floats.
  const int64_t tile = std::clamp<int64_t>((int64_t{1} << 22) / std::max<int64_t>(1, Hi * n_keys), 1, S);
  std::vector<float> dots;
  for (int64_t t0 = 0; t0 < S; t0 += tile) {
    const int64_t t1 = std::min(S, t0 + tile), nk = visible(t1 - 1);
    if (nk > 0) {
      // The stored keys are FP4 rows (codes then scales): the GEMM decodes
      // them as it would FP4 weights, exactly IdxCodec::decode's values.
      QMatrix km{kernels::WKind::kFP4, nk, Di, st.keys.data(), st.keys.data() + Di / 2, Di / 32};
      km.row_bytes = st.idx.bytes();
      dots.resize(static_cast<size_t>((t1 - t0) * Hi * nk));
      gemm(ctx, km, q.data() + t0 * Hi * Di, (t1 - t0) * Hi, /*act_quant=*/false, dots.data());
    }
    auto run = [&](int64_t s0, int64_t s1) {
      std::vector<float> scores, padded;
      std::vector<int32_t> order;
      for (int64_t s = s0; s < s1; ++s) {
        const int64_t nv = visible(s);
        scores.assign(static_cast<size_t>(nv), 0.0f);
        const float* wq = wts.data() + s * Hi;
        for (int64_t h = 0; h < Hi; ++h) {
          const float* d = dots.data() + ((s - t0) * Hi + h) * nk;
          const float wh = wq[h];
          for (int64_t b = 0; b < nv; ++b) scores[static_cast<size_t>(b)] += (d[b] > 0.0f ? d[b] : 0.0f) * wh;
        }
        select(s, scores, padded, order);
      }
    };
    if (traced) run(t0, t1);
    else ctx.parallel_for(t1 - t0, [&](int64_t a, int64_t b) { run(t0 + a, t0 + b); });
  }
}

}  // namespace v4rt::model
