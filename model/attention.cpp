// Attention of one layer (spec §3.6, §3.7, §3.10, §5.5): low-rank queries with
// per-head RMS, partial RoPE, one shared latent KV head (K = V) with FP8 QDQ,
// sliding window + compressed entries (all of them for HCA, the indexer's
// top-k for CSA), sink in the denominator, inverse RoPE, grouped low-rank
// output. A chunk of S tokens attends over (old ring ∪ chunk) and the entries
// visible at each query, then writes the ring (engine rule, spec §4.5).
#include <cmath>
#include <limits>
#include <vector>

#include "model/layers.h"
#include "base/thread_pool.h"

namespace v4rt::model {
namespace {

// The reference kernel casts the probabilities to the activation dtype before
// P·V: fp32 here (bf16 only in the bf16-activation run), so no rounding.
constexpr int64_t kAttnBlock = 64;

}  // namespace

void attention_run(const Ctx& ctx, int layer, const AttentionWeights& w, const float* x, int64_t S, int64_t p0,
                   LayerState& st, float* out) {
  const Config& cfg = ctx.cfg;
  const int64_t D = cfg.dim, Q = cfg.q_lora_rank, H = cfg.n_heads, Dh = cfg.head_dim, R = cfg.rope_head_dim;
  const int64_t W = cfg.window_size, G = cfg.o_groups, O = cfg.o_lora_rank;
  const float eps = static_cast<float>(cfg.norm_eps);
  const int64_t ratio = w.ratio;

  // Queries.
  std::vector<float> qa(static_cast<size_t>(S * Q)), qr(static_cast<size_t>(S * Q));
  linear(ctx, w.wq_a, x, S, qa.data());
  for (int64_t s = 0; s < S; ++s) rms_norm(qa.data() + s * Q, w.q_norm.data(), Q, eps, qr.data() + s * Q);
  std::vector<float> q(static_cast<size_t>(S * H * Dh));
  linear(ctx, w.wq_b, qr.data(), S, q.data());
  for (int64_t s = 0; s < S; ++s) {
    for (int64_t h = 0; h < H; ++h) {
      float* qh = q.data() + (s * H + h) * Dh;
      double ss = 0.0;  // near-exact sum, see rms_norm
      for (int64_t i = 0; i < Dh; ++i) ss += static_cast<double>(qh[i] * qh[i]);
      const float g = 1.0f / std::sqrt(static_cast<float>(ss) / static_cast<float>(Dh) + eps);
      for (int64_t i = 0; i < Dh; ++i) qh[i] *= g;
      w.rope.apply(qh + Dh - R, p0 + s, false);
    }
  }

  // Window KV of the chunk (post-norm, RoPE, FP8 QDQ) and its encoding.
  std::vector<float> kva(static_cast<size_t>(S * Dh)), kv(static_cast<size_t>(S * Dh));
  linear(ctx, w.wkv, x, S, kva.data());
  const int64_t kvb = st.kv.bytes();
  std::vector<uint8_t> enc(static_cast<size_t>(S * kvb));
  for (int64_t s = 0; s < S; ++s) {
    float* r = kv.data() + s * Dh;
    rms_norm(kva.data() + s * Dh, w.kv_norm.data(), Dh, eps, r);
    w.rope.apply(r + Dh - R, p0 + s, false);
    st.kv.encode(r, enc.data() + s * kvb);
  }

  // Compressed entries: indexer selection (CSA), then the main compressor.
  std::vector<std::vector<int32_t>> selected;
  if (w.indexer) indexer_run(ctx, layer, *w.indexer, w.rope, x, qr.data(), S, p0, st, selected);
  if (w.comp) compressor_run(ctx, *w.comp, w.rope, x, S, p0, st.comp_state, st.comp);

  // Old ring rows still in some query's window, decoded once.
  std::vector<float> ring(static_cast<size_t>(W * Dh));
  for (int64_t pos = std::max<int64_t>(0, p0 - W + 1); pos < p0; ++pos)
    st.kv.decode(st.ring.data() + (pos % W) * kvb, ring.data() + (pos % W) * Dh);
  // HCA entries are attended densely: decode them once.
  const int64_t n_comp = st.n_comp();
  std::vector<float> comp_dense;
  if (ratio > 0 && !w.indexer) {
    comp_dense.resize(static_cast<size_t>(n_comp * Dh));
    for (int64_t b = 0; b < n_comp; ++b) st.kv.decode(st.comp.data() + b * kvb, comp_dense.data() + b * Dh);
  }

  const float scale = static_cast<float>(std::pow(static_cast<double>(Dh), -0.5));
  std::vector<float> o(static_cast<size_t>(S * H * Dh));
  // The index list of query s: window slots 0..W-1 (ascending positions, -1
  // padded), then the compressed entries (CSA: decoded into `own`).
  auto build_rows = [&](int64_t s, std::vector<const float*>& rows, std::vector<float>& own) {
    const int64_t p = p0 + s;
    rows.assign(static_cast<size_t>(W), nullptr);
    const int64_t lo = std::max<int64_t>(0, p - W + 1);
    for (int64_t pos = lo; pos <= p; ++pos)
      rows[static_cast<size_t>(pos - lo)] = pos >= p0 ? kv.data() + (pos - p0) * Dh : ring.data() + (pos % W) * Dh;
    if (ratio == 0) return;
    if (w.indexer) {
      const auto& sel = selected[static_cast<size_t>(s)];
      own.resize(sel.size() * static_cast<size_t>(Dh));
      for (size_t i = 0; i < sel.size(); ++i)
        st.kv.decode(st.comp.data() + sel[i] * kvb, own.data() + static_cast<int64_t>(i) * Dh);
      for (size_t i = 0; i < sel.size(); ++i) rows.push_back(own.data() + static_cast<int64_t>(i) * Dh);
    } else {
      const int64_t nvis = std::min<int64_t>((p + 1) / ratio, n_comp);
      for (int64_t b = 0; b < nvis; ++b) rows.push_back(comp_dense.data() + b * Dh);
    }
  };
  // Heads [h0, h1) of query s: online softmax over blocks of 64 list entries
  // (spec §5.5); each row is read once for all the heads; the sink only
  // enters the denominator; then inverse RoPE at the query position.
  struct Scratch {
    std::vector<float> acc, sc, p, m, l, dot;
  };
  auto attend = [&](int64_t s, int64_t h0, int64_t h1, const std::vector<const float*>& rows, Scratch& t) {
    const int64_t L = static_cast<int64_t>(rows.size()), nh = h1 - h0;
    const float* qs = q.data() + (s * H + h0) * Dh;
    constexpr float kNegInf = -std::numeric_limits<float>::infinity();
    t.acc.assign(static_cast<size_t>(nh * Dh), 0.0f);
    t.sc.resize(static_cast<size_t>(nh * kAttnBlock));
    t.p.resize(static_cast<size_t>(kAttnBlock * nh));
    t.m.assign(static_cast<size_t>(nh), kNegInf);
    t.l.assign(static_cast<size_t>(nh), 0.0f);
    t.dot.resize(static_cast<size_t>(nh));
    for (int64_t b0 = 0; b0 < L; b0 += kAttnBlock) {
      const int64_t b1 = std::min(L, b0 + kAttnBlock);
      for (int64_t j = b0; j < b1; ++j) {
        const float* r = rows[static_cast<size_t>(j)];
        if (r) ctx.k.dots(r, qs, nh, Dh, t.dot.data());
        for (int64_t h = 0; h < nh; ++h) t.sc[static_cast<size_t>(h * kAttnBlock + j - b0)] = r ? t.dot[static_cast<size_t>(h)] * scale : kNegInf;
      }
      bool any = false;
      for (int64_t h = 0; h < nh; ++h) {
        const float* sc = t.sc.data() + h * kAttnBlock;
        float bm = kNegInf;
        for (int64_t j = b0; j < b1; ++j) bm = sc[j - b0] > bm ? sc[j - b0] : bm;  // scores are never NaN
        float& m = t.m[static_cast<size_t>(h)];
        float& l = t.l[static_cast<size_t>(h)];
        const float m2 = std::fmax(m, bm);
        if (m2 == kNegInf) {  // nothing visible yet in this head: the block adds nothing
          for (int64_t j = b0; j < b1; ++j) t.p[static_cast<size_t>((j - b0) * nh + h)] = 0.0f;
          continue;
        }
        any = true;
        const float alpha = std::exp(m - m2);
        l *= alpha;
        float* acc = t.acc.data() + h * Dh;
        for (int64_t i = 0; i < Dh; ++i) acc[i] *= alpha;
        for (int64_t j = b0; j < b1; ++j) {
          const float pj = rows[static_cast<size_t>(j)] ? std::exp(sc[j - b0] - m2) : 0.0f;
          if (rows[static_cast<size_t>(j)]) l += pj;
          t.p[static_cast<size_t>((j - b0) * nh + h)] = pj;
        }
        m = m2;
      }
      if (!any) continue;
      ctx.k.axpys(rows.data() + b0, b1 - b0, t.p.data(), nh, t.acc.data(), Dh);
    }
    for (int64_t h = 0; h < nh; ++h) {
      const float l = t.l[static_cast<size_t>(h)] + std::exp(w.sink[h0 + h] - t.m[static_cast<size_t>(h)]);
      const float* acc = t.acc.data() + h * Dh;
      float* oh = o.data() + (s * H + h0 + h) * Dh;
      for (int64_t i = 0; i < Dh; ++i) oh[i] = acc[i] / l;
      w.rope.apply(oh + Dh - R, p0 + s, true);
    }
  };
  const int64_t threads = ctx.pool ? ctx.pool->size() : 1;
  if (S >= threads) {  // prefill: queries in parallel
    ctx.parallel_for(S, [&](int64_t s0, int64_t s1) {
      std::vector<const float*> rows;
      std::vector<float> own;
      Scratch t;
      for (int64_t s = s0; s < s1; ++s) {
        build_rows(s, rows, own);
        attend(s, 0, H, rows, t);
      }
    });
  } else {  // decode: heads in parallel
    std::vector<const float*> rows;
    std::vector<float> own;
    for (int64_t s = 0; s < S; ++s) {
      build_rows(s, rows, own);
      ctx.parallel_for(H, [&](int64_t h0, int64_t h1) {
        Scratch t;
        attend(s, h0, h1, rows, t);
      });
    }
  }

  // Ring write after every query of the chunk attended.
  for (int64_t s = std::max<int64_t>(0, S - W); s < S; ++s)
    std::memcpy(st.ring.data() + ((p0 + s) % W) * kvb, enc.data() + s * kvb, static_cast<size_t>(kvb));

  // Grouped low-rank output: z[g] = o[g] · wo_a[g]ᵀ (no activation quantisation), then wo_b.
  const int64_t K = H * Dh / G;
  std::vector<float> og(static_cast<size_t>(S * K)), zg(static_cast<size_t>(S * O)), z(static_cast<size_t>(S * G * O));
  for (int64_t g = 0; g < G; ++g) {
    for (int64_t s = 0; s < S; ++s)
      std::memcpy(og.data() + s * K, o.data() + s * H * Dh + g * K, static_cast<size_t>(K) * 4);
    QMatrix wg = w.wo_a;  // rows [g*O, (g+1)*O): FP8 values used exactly (no activation quantisation)
    wg.rows = O;
    wg.first_row = g * O;
    gemm(ctx, wg, og.data(), S, /*act_quant=*/false, zg.data());
    for (int64_t s = 0; s < S; ++s)
      std::memcpy(z.data() + s * G * O + g * O, zg.data() + s * O, static_cast<size_t>(O) * 4);
  }
  linear(ctx, w.wo_b, z.data(), S, out);
  (void)D;
}

}  // namespace v4rt::model
