// The Compressor (spec §3.8, §4.2-4.4): gated softmax pooling per channel over
// blocks of `ratio` tokens (ratio 4 with the overlapping previous block).
// Always streamed token by token through the §4.1 partial-window state, so a
// chunk of any size gives what feeding its tokens one at a time gives.
#include <cmath>
#include <limits>
#include <vector>

#include "model/layers.h"

namespace v4rt::model {

void CompressorState::init(int64_t s, int64_t w) {
  slots = s;
  width = w;
  reset();
}

void CompressorState::reset() {
  kv.assign(static_cast<size_t>(slots * width), 0.0f);
  score.assign(static_cast<size_t>(slots * width), -std::numeric_limits<float>::infinity());
}

void compressor_run(const Ctx& ctx, const CompressorWeights& w, const Rope& rope, const float* x, int64_t S,
                    int64_t p0, CompressorState& st, std::vector<uint8_t>& out) {
  const int64_t r = w.ratio, dc = w.dc, width = (w.overlap ? 2 : 1) * dc;
  std::vector<float> a(static_cast<size_t>(S * width)), g(static_cast<size_t>(S * width));
  linear(ctx, w.wkv, x, S, a.data());
  linear(ctx, w.wgate, x, S, g.data());
  const int64_t R = ctx.cfg.rope_head_dim;
  KvCodec kvc{dc - R, R};
  IdxCodec idc{dc};
  std::vector<float> pooled(static_cast<size_t>(dc)), e(static_cast<size_t>(dc));
  const int64_t n_cand = w.overlap ? 2 * r : r;
  std::vector<float> wts(static_cast<size_t>(n_cand));
  for (int64_t s = 0; s < S; ++s) {
    const int64_t t = p0 + s;
    const float* ape = w.ape + (t % r) * width;
    const int64_t slot = (w.overlap ? r : 0) + t % r;
    float* kvs = st.kv.data() + slot * width;
    float* scs = st.score.data() + slot * width;
    for (int64_t c = 0; c < width; ++c) {
      kvs[c] = a[static_cast<size_t>(s * width + c)];
      scs[c] = g[static_cast<size_t>(s * width + c)] + ape[c];
    }
    if ((t + 1) % r != 0) continue;
    // Pool: per channel, softmax over the candidates.
    for (int64_t d = 0; d < dc; ++d) {
      auto cand_kv = [&](int64_t i) {
        if (!w.overlap) return st.kv[static_cast<size_t>(i * width + d)];
        return i < r ? st.kv[static_cast<size_t>(i * width + d)] : st.kv[static_cast<size_t>(i * width + dc + d)];
      };
      auto cand_sc = [&](int64_t i) {
        if (!w.overlap) return st.score[static_cast<size_t>(i * width + d)];
        return i < r ? st.score[static_cast<size_t>(i * width + d)]
                     : st.score[static_cast<size_t>(i * width + dc + d)];
      };
      float m = -std::numeric_limits<float>::infinity();
      for (int64_t i = 0; i < n_cand; ++i) m = std::fmax(m, cand_sc(i));
      float sum = 0.0f;
      for (int64_t i = 0; i < n_cand; ++i) {
        wts[static_cast<size_t>(i)] = std::exp(cand_sc(i) - m);
        sum += wts[static_cast<size_t>(i)];
      }
      float acc = 0.0f;
      for (int64_t i = 0; i < n_cand; ++i) acc += cand_kv(i) * (wts[static_cast<size_t>(i)] / sum);
      pooled[static_cast<size_t>(d)] = acc;
    }
    if (w.overlap) {
      for (int64_t i = 0; i < r; ++i) {
        for (int64_t c = 0; c < width; ++c) {
          st.kv[static_cast<size_t>(i * width + c)] = st.kv[static_cast<size_t>((r + i) * width + c)];
          st.score[static_cast<size_t>(i * width + c)] = st.score[static_cast<size_t>((r + i) * width + c)];
        }
      }
    }
    rms_norm(pooled.data(), w.norm.data(), dc, static_cast<float>(ctx.cfg.norm_eps), e.data());
    rope.apply(e.data() + dc - R, t + 1 - r, false);
    const size_t at = out.size();
    if (w.rotate) {
      hadamard(e.data(), dc);
      out.resize(at + static_cast<size_t>(idc.bytes()));
      idc.encode(e.data(), out.data() + at);
    } else {
      out.resize(at + static_cast<size_t>(kvc.bytes()));
      kvc.encode(e.data(), out.data() + at);
    }
  }
}

}  // namespace v4rt::model
