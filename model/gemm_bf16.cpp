// Activation-quantised FP8/FP4 linears on AVX-512 BF16 dot products (the
// contract and the sum order: Bf16QuantKernels in kernels/kernels.h). The
// quantised input (e4m3 value × ue8m0 scale, exact in bf16) is packed once per
// call; decode (M ≤ kBf16Mr) widens weight codes in registers and reads each
// weight byte once, prefill widens kGroupRows weight rows at a time into a
// per-thread buffer kept in L2 while every activation tile passes over it.
// Both run the same per-output sums, so a row's result is independent of M
// and of the rows beside it (chunked prefill ≡ token-by-token, bitwise).
#include <algorithm>
#include <atomic>
#include <bit>
#include <vector>

#include "model/layers.h"
#include "model/numerics.h"

namespace v4rt::model {
namespace {

using kernels::kBf16Mr;
using kernels::kBf16Nr;

// Weight rows widened per group in prefill (32 rows × K 4096 × 2 B = 256 KiB).
constexpr int64_t kGroupRows = 32;

// Row x (K floats) quantised per 128 (spec §5.1) as bf16 bits of value × scale.
void pack_quantized_row(const float* x, int64_t K, uint16_t* out) {
  for (int64_t b = 0; b < K; b += 128) {
    const float* p = x + b;
    float amax = 0.0f;
    for (int j = 0; j < 128; ++j) {
      const float a = std::fabs(p[j]);
      amax = a > amax ? a : amax;
    }
    const float s = fp8_block_scale(amax), inv = 1.0f / s;
    for (int j = 0; j < 128; ++j) {
      const float v = e4m3_round(std::clamp(p[j] * inv, -448.0f, 448.0f)) * s;
      out[b + j] = static_cast<uint16_t>(std::bit_cast<uint32_t>(v) >> 16);  // exact: ≤ 4 significant bits
    }
  }
}

}  // namespace

bool gemm_bf16_quant(const Ctx& ctx, const QMatrix& w, const float* x, int64_t M, float* y) {
  const kernels::Bf16QuantKernels* qk = kernels::avx512_bf16_quant_kernels();
  const int64_t K = w.cols, N = w.rows;
  if (qk == nullptr || !kernels::bf16_quant_allowed() || K % 128 != 0 || M <= 0) return false;
  std::vector<uint16_t> xb(static_cast<size_t>(M * K));
  ctx.parallel_for(M, [&](int64_t m0, int64_t m1) {
    for (int64_t m = m0; m < m1; ++m) pack_quantized_row(x + m * K, K, xb.data() + m * K);
  }, 8);
  std::atomic<bool> exact{true};
  if (M <= kBf16Mr) {
    const int64_t blocks = (N + kBf16Nr - 1) / kBf16Nr;
    ctx.parallel_for(blocks, [&](int64_t b0, int64_t b1) {
      bool ok = true;
      for (int64_t b = b0; b < b1; ++b) {
        const int64_t n0 = b * kBf16Nr;
        const int nr = static_cast<int>(std::min<int64_t>(kBf16Nr, N - n0));
        ok &= qk->gemv(w, n0, nr, xb.data(), K, static_cast<int>(M), y + n0, N);
      }
      if (!ok) exact = false;
    }, 8);
    return exact;
  }
  const int64_t groups = (N + kGroupRows - 1) / kGroupRows;
  ctx.parallel_for(groups, [&](int64_t g0, int64_t g1) {
    thread_local std::vector<uint16_t> wb;
    wb.resize(static_cast<size_t>(kGroupRows * K));
    bool ok = true;
    for (int64_t g = g0; g < g1; ++g) {
      const int64_t n0 = g * kGroupRows;
      const int64_t ng = std::min(kGroupRows, N - n0);
      ok &= qk->weights_bf16(w, n0, static_cast<int>(ng), wb.data());
      for (int64_t m0 = 0; m0 < M; m0 += kBf16Mr) {
        const int mr = static_cast<int>(std::min<int64_t>(kBf16Mr, M - m0));
        for (int64_t j0 = 0; j0 < ng; j0 += kBf16Nr) {
          const int nr = static_cast<int>(std::min<int64_t>(kBf16Nr, ng - j0));
          qk->tile(xb.data() + m0 * K, K, wb.data() + j0 * K, K, K, mr, nr, y + m0 * N + n0 + j0, N);
        }
      }
    }
    if (!ok) exact = false;
  });
  return exact;
}

}  // namespace v4rt::model
