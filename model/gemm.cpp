// The prefill GEMM: y[M, N] = x[M, K] · dequant(W)ᵀ, with the FP8 activation
// quantisation of spec §5.1 when asked. Activations are packed once into
// panels of 32 rows ([K][32], m fastest) so the micro-kernel
// (Kernels::gemm_tile) broadcasts weights and vectorizes over tokens; weight
// rows are dequantized once per call, kGemmNr rows by one K slice at a time, by the vector row
// decoders of model/dequant.h (exact values: FP8/FP4 scales are powers of
// two). Threads split the weight rows. The result of one row of y does not
// depend on M or on the other rows (per-lane order), so chunking changes no bit.
#include <algorithm>
#include <vector>

#include "model/dequant.h"
#include "model/layers.h"
#include "model/numerics.h"

namespace v4rt::model {
namespace {

using kernels::kGemmMr;
using kernels::kGemmNr;
using kernels::kGemvNr;
using kernels::WKind;

// Up to this many rows go through gemv_tile (bitwise the same sums).
constexpr int64_t kGemvMaxRows = 3;

// K columns per micro-kernel call: the 32-row panel slice stays in L1/L2.
int64_t k_block(int64_t K) { return K <= 1024 ? K : 512; }

// FP8 activation quantisation of one 128-long block p (spec §5.1): writes the
// e4m3 values of p/s to out[i * stride] and returns the ue8m0 scale s.
inline float quantize_block(const float* p, float* out, int64_t stride) {
  float amax = 0.0f;
  for (int j = 0; j < 128; ++j) {
    const float a = std::fabs(p[j]);
    amax = a > amax ? a : amax;  // fmax without the libm call (a NaN is skipped either way)
  }
  const float s = fp8_block_scale(amax), inv = 1.0f / s;  // powers of two: x * inv == x / s
  for (int j = 0; j < 128; ++j) out[j * stride] = e4m3_round(std::clamp(p[j] * inv, -448.0f, 448.0f));
  return s;
}

// Packs rows [mt*32, mt*32+32) of x into xp ([K][32], zero lanes past M);
// with act_quant the values are quantised and xs ([K/128][32]) gets the scales.
void pack_panel(const float* x, int64_t M, int64_t K, int64_t mt, bool act_quant, float* xp, float* xs) {
  const int64_t m0 = mt * kGemmMr, mr = std::min<int64_t>(kGemmMr, M - m0);
  std::fill(xp, xp + K * kGemmMr, 0.0f);
  if (act_quant) std::fill(xs, xs + (K / 128) * kGemmMr, 0.0f);
  for (int64_t i = 0; i < mr; ++i) {
    const float* row = x + (m0 + i) * K;
    if (!act_quant) {
      for (int64_t k = 0; k < K; ++k) xp[k * kGemmMr + i] = row[k];
      continue;
    }
    for (int64_t b = 0; b < K / 128; ++b)
      xs[b * kGemmMr + i] = quantize_block(row + b * 128, xp + b * 128 * kGemmMr + i, kGemmMr);
  }
}

// Columns [k0, k0 + len) of rows [n0, n0 + nr) of w, dequantized, into out
// ([nr][len]). k0 is a multiple of the scale block (kc is a multiple of 128).
void dequant_rows(const QMatrix& w, const DequantKernels& dq, int64_t n0, int64_t nr, int64_t k0, int64_t len,
                  float* out) {
  const size_t n = static_cast<size_t>(len);
  for (int64_t j = 0; j < nr; ++j) {
    const int64_t r = n0 + j;
    float* o = out + j * len;
    switch (w.kind) {
      case WKind::kF32: std::copy_n(w.f32_row(r) + k0, len, o); break;
      case WKind::kBF16: dq.bf16_row(w.bf16_row(r) + k0, n, o); break;
      case WKind::kFP8: dq.fp8_row(w.fp8_codes(r) + k0, w.fp8_scales(r) + k0 / 128, n, o); break;
      case WKind::kFP4: dq.fp4_row(w.fp4_codes(r) + k0 / 2, w.fp4_scales(r) + k0 / 32, n, o); break;
    }
  }
}

// Rows [n0, n0 + nr), columns [k0, k0 + len) of w as fp32 with their row
// stride: in place for F32, else dequantized into buf.
const float* weight_slice(const QMatrix& w, const DequantKernels& dq, int64_t n0, int nr, int64_t k0, int64_t len,
                          std::vector<float>& buf, int64_t& ldw) {
  if (w.kind == WKind::kF32) {
    ldw = w.cols;
    return w.f32_row(n0) + k0;
  }
  dequant_rows(w, dq, n0, nr, k0, len, buf.data());
  ldw = len;
  return buf.data();
}

// Few rows (decode): gemv_tile per row over kGemvNr weight rows at a time.
void gemv(const Ctx& ctx, const QMatrix& w, const float* x, int64_t M, bool act_quant, float* y,
          const DequantKernels& dq) {
  const int64_t K = w.cols, N = w.rows, kb = K / 128;
  std::vector<float> xq, xs;
  if (act_quant) {
    xq.resize(static_cast<size_t>(M * K));
    xs.resize(static_cast<size_t>(M * kb));
    for (int64_t m = 0; m < M; ++m)
      for (int64_t b = 0; b < kb; ++b)
        xs[static_cast<size_t>(m * kb + b)] = quantize_block(x + m * K + b * 128, xq.data() + m * K + b * 128, 1);
    x = xq.data();
  }
  const int64_t kc = k_block(K);
  const int64_t blocks = (N + kGemvNr - 1) / kGemvNr;
  ctx.parallel_for(blocks, [&](int64_t b0, int64_t b1) {
    thread_local std::vector<float> wbuf;
    if (w.kind != WKind::kF32) wbuf.resize(static_cast<size_t>(kGemvNr * kc));
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t n0 = b * kGemvNr;
      const int nr = static_cast<int>(std::min<int64_t>(kGemvNr, N - n0));
      for (int64_t k0 = 0; k0 < K; k0 += kc) {
        const int64_t len = std::min(kc, K - k0);
        int64_t ldw = 0;
        const float* wr = weight_slice(w, dq, n0, nr, k0, len, wbuf, ldw);
        for (int64_t m = 0; m < M; ++m)
          ctx.k.gemv_tile(x + m * K + k0, act_quant ? xs.data() + m * kb + k0 / 128 : nullptr, wr, ldw, len, nr, k0 > 0,
                          y + m * N + n0);
      }
    }
  }, 4);
}

}  // namespace

void gemm(const Ctx& ctx, const QMatrix& w, const float* x, int64_t M, bool act_quant, float* y) {
  const int64_t K = w.cols, N = w.rows;
  const bool scalar = &ctx.k == &kernels::scalar_kernels();
  const bool quantized = w.kind == WKind::kFP8 || w.kind == WKind::kFP4;
  if (act_quant && quantized && !scalar && gemm_bf16_quant(ctx, w, x, M, y)) return;
  const DequantKernels& dq = scalar ? scalar_dequant() : best_dequant();
  if (ctx.k.gemv_tile != nullptr && M <= kGemvMaxRows) return gemv(ctx, w, x, M, act_quant, y, dq);
  const int64_t tiles = (M + kGemmMr - 1) / kGemmMr;
  const int64_t kb = K / 128;
  std::vector<float> xp(static_cast<size_t>(tiles * K * kGemmMr));
  std::vector<float> xs(act_quant ? static_cast<size_t>(tiles * kb * kGemmMr) : 0);
  ctx.parallel_for(tiles, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t)
      pack_panel(x, M, K, t, act_quant, xp.data() + t * K * kGemmMr, act_quant ? xs.data() + t * kb * kGemmMr : nullptr);
  });
  const int64_t kc = k_block(K);  const int64_t blocks = (N + kGemmNr - 1) / kGemmNr;
  // Per thread: its weight-row blocks, one K slice at a time, so the slice of
  // the packed activations (M x kc) stays in L2 across all of them; each
  // weight element is dequantized once.
  ctx.parallel_for(blocks, [&](int64_t b0, int64_t b1) {
    thread_local std::vector<float> wbuf;
    if (w.kind != WKind::kF32) wbuf.resize(static_cast<size_t>(kGemmNr * kc));
    for (int64_t k0 = 0; k0 < K; k0 += kc) {
      const int64_t len = std::min(kc, K - k0);
      for (int64_t b = b0; b < b1; ++b) {
        const int64_t n0 = b * kGemmNr;
        const int nr = static_cast<int>(std::min<int64_t>(kGemmNr, N - n0));
        int64_t ldw = 0;
        const float* wr = weight_slice(w, dq, n0, nr, k0, len, wbuf, ldw);
        for (int64_t t = 0; t < tiles; ++t) {
          const int mr = static_cast<int>(std::min<int64_t>(kGemmMr, M - t * kGemmMr));
          const float* xs_t = act_quant ? xs.data() + (t * kb + k0 / 128) * kGemmMr : nullptr;
          ctx.k.gemm_tile(xp.data() + (t * K + k0) * kGemmMr, xs_t, wr, ldw, len, mr, nr, k0 > 0,
                          y + t * kGemmMr * N + n0, N);
        }
      }
    }
  });
}

}  // namespace v4rt::model
