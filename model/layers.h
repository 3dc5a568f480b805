// Internal to model/: the weights of every component as the forward pass uses
// them, the compute context, and the component functions (one .cpp each:
// linear.cpp, rope.cpp, mhc.cpp, compressor.cpp, indexer.cpp, attention.cpp,
// moe.cpp, mtp.cpp). Numerics follow the reference run with fp32 activations
// (golden `ref_fp32act`): every activation is fp32, every quantisation
// simulation of the reference (FP8 KV QDQ, FP4 indexer QDQ, FP8 Linear inputs
// on fp8 checkpoints) is kept exactly. Not a public interface.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <vector>

#include "model/config.h"
#include "model/kernels/kernels.h"
#include "model/state_impl.h"

namespace v4rt {
class ThreadPool;
}

namespace v4rt::model {

using kernels::QMatrix;

struct ForwardTrace;

// Everything a component needs besides its weights.
struct Ctx {
  const Config& cfg;
  const kernels::Kernels& k;
  ThreadPool* pool;          // may be null (single-threaded)
  bool act_quant;            // simulate FP8 activation quantisation of QLinear inputs
  const ForwardTrace* trace; // may be null
  bool ref_prefill_topk = false;  // ModelOptions::reference_prefill_topk
  // Runs fn(begin, end) over [0, n), on the pool when there is one.
  void parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& fn, int64_t grain = 1) const;
};

// ---- linear.cpp --------------------------------------------------------------
// y[m, :] = x[m, :] · Wᵀ for m < M. FP8/FP4 weights: with ctx.act_quant the
// input is quantised to e4m3 per 128 (ue8m0) and the product accumulated per
// weight block (spec §5.3/5.4); otherwise the weight is dequantised exactly.
// Every row's result is independent of M (gemm()), so a chunk gives bitwise
// the values of token-by-token feeding: the FP8/FP4 rounding simulations
// downstream would otherwise flip on last-bit differences.
void linear(const Ctx& ctx, const QMatrix& w, const float* x, int64_t M, float* y);
// The same product as one fused dot per output (no decoded copy of a BF16
// row), for the vocabulary head in decode: memory-bound, and its logits feed
// no rounding simulation. Equal to linear() up to float reassociation; for
// every other format it is the independent oracle the GEMM is tested against
// (tests/model/gemm_test.cpp).
void linear_gemv(const Ctx& ctx, const QMatrix& w, const float* x, int64_t M, float* y);
// gemm.cpp: act_quant quantises x to e4m3 per 128 (K a multiple of 128) and
// promotes each 128-long partial sum by its scale.
void gemm(const Ctx& ctx, const QMatrix& w, const float* x, int64_t M, bool act_quant, float* y);
// gemm_bf16.cpp: the act_quant product of an FP8/FP4 weight on AVX-512 BF16
// (Bf16QuantKernels); false when the CPU lacks it or a weight scale is outside
// its exact range (y is then unspecified and gemm() takes the fp32 path).
bool gemm_bf16_quant(const Ctx& ctx, const QMatrix& w, const float* x, int64_t M, float* y);
// y = w · x · rsqrt(mean(x²) + eps), fp32.
void rms_norm(const float* x, const float* w, int64_t n, float eps, float* y);
// FP8 e4m3 quantise (block 64 or 128, ue8m0): codes + e8m0 scale bytes; and back.
void fp8_quantize(const float* x, int64_t n, int64_t block, uint8_t* codes, uint8_t* scales);
void fp8_dequantize(const uint8_t* codes, const uint8_t* scales, int64_t n, int64_t block, float* y);
// FP4 e2m1 quantise in blocks of 32 (packed, low nibble first) + e8m0 scales; and back.
void fp4_quantize(const float* x, int64_t n, uint8_t* packed, uint8_t* scales);
void fp4_dequantize(const uint8_t* packed, const uint8_t* scales, int64_t n, float* y);
// In place: x <- QDQ(x).
void fp4_qdq(float* x, int64_t n);
// In place Sylvester Hadamard transform times n^-1/2 (n a power of two).
void hadamard(float* x, int64_t n);

// ---- topk.cpp ------------------------------------------------------------------
// The k largest of scores[0:n] (indices, best first), resolving exact ties the
// way torch.topk does on CPU (introselect/partial sort over (value, index)
// pairs in index order), so that tie-heavy rows (indexer scores of exactly 0)
// select the same entries as the reference.
void topk_like_torch(const float* scores, int64_t n, int64_t k, std::vector<int32_t>& out);

// ---- rope.cpp ----------------------------------------------------------------
struct Rope {
  std::vector<float> freqs;  // R/2 frequencies (spec §3.5)
  static Rope make(const Config& cfg, int layer);
  // Rotates the interleaved pairs of x[0:2*freqs.size()] by position pos (conjugate if inverse).
  void apply(float* x, int64_t pos, bool inverse) const;
};

// ---- mhc.cpp -------------------------------------------------------------------
struct HcWeights {
  const float* fn = nullptr;    // [mix, C*D]
  const float* base = nullptr;  // [mix]
  const float* scale = nullptr; // [3] (or [1] for the head)
};
// hc_pre for one token: x [C, D] -> y [D]; post [C], comb [C, C] (row j = source).
void hc_pre(const Config& cfg, const kernels::Kernels& k, const HcWeights& w, const float* x, float* y, float* post,
            float* comb);
// hc_post: x_new[k] = post[k]·a + Σ_j comb[j,k]·res[j].
void hc_post(const Config& cfg, const float* a, const float* res, const float* post, const float* comb, float* out);
// hc_head: x [C, D] -> y [D] (sigmoid weights, no Sinkhorn).
void hc_head(const Config& cfg, const kernels::Kernels& k, const HcWeights& w, const float* x, float* y);

// ---- compressor.cpp -------------------------------------------------------------
struct CompressorWeights {
  int ratio = 0;
  int dc = 0;            // output width (head_dim or index_head_dim)
  bool overlap = false;  // ratio 4
  bool rotate = false;   // indexer compressor: Hadamard + FP4 instead of FP8 QDQ
  QMatrix wkv, wgate;    // [c·dc, D]
  const float* ape = nullptr;  // [ratio, c·dc]
  std::vector<float> norm;     // [dc]
};
// Streams the S tokens of a chunk starting at position p0 through the
// compressor (x: [S, D] attention input), emitting finished entries into
// `out` (append-only rows, encoded). Equivalent to feeding them one by one.
void compressor_run(const Ctx& ctx, const CompressorWeights& w, const Rope& rope, const float* x, int64_t S,
                    int64_t p0, CompressorState& st, std::vector<uint8_t>& out);

// ---- indexer.cpp -----------------------------------------------------------------
struct IndexerWeights {
  QMatrix wq_b;          // [Hi·Di, Q]
  QMatrix weights_proj;  // [Hi, D] bf16
  CompressorWeights comp;
};
// For each query s of the chunk: the selected compressed entries (best first),
// k = min(index_topk, (p+1)/4) of them, over entries visible at p = p0+s.
void indexer_run(const Ctx& ctx, int layer, const IndexerWeights& w, const Rope& rope, const float* x, const float* qr,
                 int64_t S, int64_t p0, LayerState& st, std::vector<std::vector<int32_t>>& selected);

// ---- attention.cpp ----------------------------------------------------------------
struct AttentionWeights {
  int ratio = 0;
  QMatrix wq_a, wq_b, wkv, wo_a, wo_b;
  std::vector<float> q_norm, kv_norm;
  const float* sink = nullptr;
  Rope rope;
  std::optional<CompressorWeights> comp;
  std::optional<IndexerWeights> indexer;
};
// x: [S, D] (attn_norm output) -> out [S, D]. Updates the layer state.
void attention_run(const Ctx& ctx, int layer, const AttentionWeights& w, const float* x, int64_t S, int64_t p0,
                   LayerState& st, float* out);

// ---- moe.cpp -----------------------------------------------------------------------
struct ExpertWeights {
  QMatrix w1, w2, w3;
};
struct MoeWeights {
  bool hash = false;
  QMatrix gate;                   // [E, D]
  const float* bias = nullptr;    // [E] (non-hash layers)
  const int64_t* tid2eid = nullptr;  // [vocab, k] (hash layers)
  std::vector<ExpertWeights> experts;
  ExpertWeights shared;
};
// x: [S, D] (ffn_norm output) -> out [S, D].
void moe_run(const Ctx& ctx, int layer, int64_t p0, const MoeWeights& w, const float* x, const int32_t* ids, int64_t S,
             float* out);

// ---- blocks (model.cpp) ----------------------------------------------------------
struct BlockWeights {
  int layer = 0;
  std::vector<float> attn_norm, ffn_norm;
  HcWeights hc_attn, hc_ffn;
  AttentionWeights attn;
  MoeWeights moe;
};
// Runs one block over X [S, C, D] in place.
void block_run(const Ctx& ctx, const BlockWeights& w, float* X, const int32_t* ids, int64_t S, int64_t p0,
               LayerState& st);

// ---- mtp.cpp ----------------------------------------------------------------------
struct MtpWeights {
  BlockWeights block;
  QMatrix e_proj, h_proj;
  std::vector<float> enorm, hnorm, norm;
  HcWeights hc_head;
};
// Builds the MTP block input [S, C, D] from the main hidden states h [S, C, D]
// and the embeddings of the next ids (e_emb [S, D]), then runs the block.
void mtp_run(const Ctx& ctx, const MtpWeights& w, const float* h, const float* e_emb, const int32_t* ids, int64_t S,
             int64_t p0, LayerState& st, float* X_out);

}  // namespace v4rt::model
