// AVX-512 BF16 kernels for activation-quantised FP8/FP4 linears (see
// Bf16QuantKernels in kernels.h for the contract and the sum order).
//
// Weights are widened to bf16 in registers, 32 per step, with the block scale
// added to the exponent field:
//   FP8 e4m3 s.eeee.mmm, normal (e > 0): bf16 bits (|c| << 4) + (E - 7) << 7
//       (e4m3 bias 7, bf16 bias 127, e8m0 scale 2^(E - 127)); subnormal
//       (e = 0): m · 2^-9 from an 8-entry table, plus (E - 127) << 7.
//   FP4 e2m1: a 16-entry table of the bf16 values, plus (E - 127) << 7.
// Zero stays zero (the exponent add is masked). The results are exact while
// every value stays in bf16's normal range: E in [10, 246] for FP8, [2, 252]
// for FP4; a row block with another scale reports false.
#include "model/kernels/kernels.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

namespace v4rt::model::kernels {

#if defined(__x86_64__) && defined(__GNUC__)
// GCC 12's AVX-512 headers read their own undefined pass-through operand (__Y)
// in the unmasked conversions: a false positive (see avx512.cpp). GCC only.
#pragma GCC diagnostic push
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
namespace {

#define V4RT_BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx512bf16")))

constexpr int kFp8MinE = 10, kFp8MaxE = 246, kFp4MinE = 2, kFp4MaxE = 252;

// bf16 bits of m · 2^-9 (m = 0..7: the e4m3 subnormals) and of the e2m1 codes.
alignas(64) constexpr uint16_t kE4m3Sub[32] = {0,      0x3B00, 0x3B80, 0x3BC0, 0x3C00, 0x3C20, 0x3C40, 0x3C60};
alignas(64) constexpr uint16_t kE2m1[32] = {0x0000, 0x3F00, 0x3F80, 0x3FC0, 0x4000, 0x4040, 0x4080, 0x40C0,
                                            0x8000, 0xBF00, 0xBF80, 0xBFC0, 0xC000, 0xC040, 0xC080, 0xC0C0};

// 32 e4m3 codes with scale byte E -> 32 bf16.
V4RT_BF16_TARGET inline __m512i fp8_to_bf16(const uint8_t* codes, int E, __m512i sub_tbl) {
  const __m512i c = _mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(codes)));
  const __m512i mag = _mm512_and_si512(c, _mm512_set1_epi16(0x7F));
  const __m512i normal = _mm512_add_epi16(_mm512_slli_epi16(mag, 4), _mm512_set1_epi16(120 << 7));
  const __mmask32 is_normal = _mm512_test_epi16_mask(mag, _mm512_set1_epi16(0x78));
  const __m512i unscaled = _mm512_mask_blend_epi16(is_normal, _mm512_permutexvar_epi16(mag, sub_tbl), normal);
  const __mmask32 nonzero = _mm512_test_epi16_mask(mag, mag);
  const __m512i scaled = _mm512_maskz_add_epi16(nonzero, unscaled, _mm512_set1_epi16(static_cast<short>((E - 127) << 7)));
  // sign: bit 7 of the code to bit 15
  return _mm512_ternarylogic_epi32(scaled, _mm512_slli_epi16(c, 8), _mm512_set1_epi16(static_cast<short>(0x8000)), 0xF8);
}

// 16 packed e2m1 bytes (32 codes, low nibble first) with scale byte E -> 32 bf16.
V4RT_BF16_TARGET inline __m512i fp4_to_bf16(const uint8_t* packed, int E, __m512i tbl) {
  const __m512i d = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(packed)));
  const __m512i idx = _mm512_or_si512(_mm512_and_si512(d, _mm512_set1_epi32(0xF)),
                                      _mm512_slli_epi32(_mm512_srli_epi32(d, 4), 16));
  const __m512i v = _mm512_permutexvar_epi16(idx, tbl);
  const __mmask32 nonzero = _mm512_test_epi16_mask(v, _mm512_set1_epi16(0x7FFF));
  return _mm512_maskz_add_epi16(nonzero, v, _mm512_set1_epi16(static_cast<short>((E - 127) << 7)));
}

// The fixed lane reduction of the contract (8+8, 4+4, 2+2, 1+1).
V4RT_BF16_TARGET inline float hsum(__m512 v) {
  const __m256 a = _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
  __m128 b = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
  b = _mm_add_ps(b, _mm_movehl_ps(b, b));
  b = _mm_add_ss(b, _mm_movehdup_ps(b));
  return _mm_cvtss_f32(b);
}

V4RT_BF16_TARGET inline __m512 dp(__m512 acc, __m512i x, __m512i w) {
  return _mm512_dpbf16_ps(acc, (__m512bh)x, (__m512bh)w);
}

V4RT_BF16_TARGET bool weights_bf16(const QMatrix& w, int64_t n0, int nr, uint16_t* out) {
  const int64_t K = w.cols;
  bool exact = true;
  if (w.kind == WKind::kFP8) {
    const __m512i sub_tbl = _mm512_load_si512(kE4m3Sub);
    for (int j = 0; j < nr; ++j) {
      const uint8_t* codes = w.fp8_codes(n0 + j);
      const uint8_t* sc = w.fp8_scales(n0 + j);
      uint16_t* o = out + j * K;
      for (int64_t k = 0; k < K; k += 32) {
        const int E = sc[k / 128];
        exact &= E >= kFp8MinE && E <= kFp8MaxE;
        _mm512_storeu_si512(o + k, fp8_to_bf16(codes + k, E, sub_tbl));
      }
    }
    return exact;
  }
  const __m512i tbl = _mm512_load_si512(kE2m1);
  for (int j = 0; j < nr; ++j) {
    const uint8_t* packed = w.fp4_codes(n0 + j);
    const uint8_t* sc = w.fp4_scales(n0 + j);
    uint16_t* o = out + j * K;
    for (int64_t k = 0; k < K; k += 32) {
      const int E = sc[k / 32];
      exact &= E >= kFp4MinE && E <= kFp4MaxE;
      _mm512_storeu_si512(o + k, fp4_to_bf16(packed + k / 2, E, tbl));
    }
  }
  return exact;
}

template <int MR, int NR>
V4RT_BF16_TARGET void tile_t(const uint16_t* x, int64_t ldx, const uint16_t* w, int64_t ldw, int64_t K, float* y,
                             int64_t ldy) {
  __m512 acc[MR][NR];
  for (int m = 0; m < MR; ++m)
    for (int j = 0; j < NR; ++j) acc[m][j] = _mm512_setzero_ps();
  for (int64_t k = 0; k < K; k += 32) {
    __m512i wv[NR];
    for (int j = 0; j < NR; ++j) wv[j] = _mm512_loadu_si512(w + j * ldw + k);
    for (int m = 0; m < MR; ++m) {
      const __m512i xv = _mm512_loadu_si512(x + m * ldx + k);
      for (int j = 0; j < NR; ++j) acc[m][j] = dp(acc[m][j], xv, wv[j]);
    }
  }
  for (int m = 0; m < MR; ++m)
    for (int j = 0; j < NR; ++j) y[m * ldy + j] = hsum(acc[m][j]);
}

template <int MR, int NR, bool kFp4>
V4RT_BF16_TARGET bool gemv_t(const QMatrix& w, int64_t n0, const uint16_t* x, int64_t ldx, float* y, int64_t ldy) {
  const int64_t K = w.cols;
  const __m512i tbl = _mm512_load_si512(kFp4 ? kE2m1 : kE4m3Sub);
  const uint8_t* codes[NR];
  const uint8_t* sc[NR];
  for (int j = 0; j < NR; ++j) {
    codes[j] = kFp4 ? w.fp4_codes(n0 + j) : w.fp8_codes(n0 + j);
    sc[j] = kFp4 ? w.fp4_scales(n0 + j) : w.fp8_scales(n0 + j);
  }
  __m512 acc[MR][NR];
  for (int m = 0; m < MR; ++m)
    for (int j = 0; j < NR; ++j) acc[m][j] = _mm512_setzero_ps();
  bool exact = true;
  for (int64_t k = 0; k < K; k += 32) {
    __m512i xv[MR];
    for (int m = 0; m < MR; ++m) xv[m] = _mm512_loadu_si512(x + m * ldx + k);
    for (int j = 0; j < NR; ++j) {
      __m512i wv;
      if constexpr (kFp4) {
        const int E = sc[j][k / 32];
        exact &= E >= kFp4MinE && E <= kFp4MaxE;
        wv = fp4_to_bf16(codes[j] + k / 2, E, tbl);
      } else {
        const int E = sc[j][k / 128];
        exact &= E >= kFp8MinE && E <= kFp8MaxE;
        wv = fp8_to_bf16(codes[j] + k, E, tbl);
      }
      for (int m = 0; m < MR; ++m) acc[m][j] = dp(acc[m][j], xv[m], wv);
    }
  }
  for (int m = 0; m < MR; ++m)
    for (int j = 0; j < NR; ++j) y[m * ldy + j] = hsum(acc[m][j]);
  return exact;
}

using TileFn = void (*)(const uint16_t*, int64_t, const uint16_t*, int64_t, int64_t, float*, int64_t);
using GemvFn = bool (*)(const QMatrix&, int64_t, const uint16_t*, int64_t, float*, int64_t);

template <int MR>
constexpr TileFn tile_row[kBf16Nr] = {tile_t<MR, 1>, tile_t<MR, 2>, tile_t<MR, 3>, tile_t<MR, 4>};
constexpr const TileFn* kTiles[kBf16Mr] = {tile_row<1>, tile_row<2>, tile_row<3>, tile_row<4>};

template <int MR, bool F4>
constexpr GemvFn gemv_row[kBf16Nr] = {gemv_t<MR, 1, F4>, gemv_t<MR, 2, F4>, gemv_t<MR, 3, F4>, gemv_t<MR, 4, F4>};
constexpr const GemvFn* kGemvFp8[kBf16Mr] = {gemv_row<1, false>, gemv_row<2, false>, gemv_row<3, false>,
                                              gemv_row<4, false>};
constexpr const GemvFn* kGemvFp4[kBf16Mr] = {gemv_row<1, true>, gemv_row<2, true>, gemv_row<3, true>,
                                              gemv_row<4, true>};

void tile(const uint16_t* x, int64_t ldx, const uint16_t* w, int64_t ldw, int64_t K, int mr, int nr, float* y,
          int64_t ldy) {
  kTiles[mr - 1][nr - 1](x, ldx, w, ldw, K, y, ldy);
}

bool gemv(const QMatrix& w, int64_t n0, int nr, const uint16_t* x, int64_t ldx, int mr, float* y, int64_t ldy) {
  const GemvFn* const* table = w.kind == WKind::kFP4 ? kGemvFp4 : kGemvFp8;
  return table[mr - 1][nr - 1](w, n0, x, ldx, y, ldy);
}

}  // namespace

const Bf16QuantKernels* avx512_bf16_quant_kernels() {
  static const Bf16QuantKernels k{"avx512-bf16", weights_bf16, tile, gemv};
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx512bf16") || !__builtin_cpu_supports("avx512bw") ||
      !__builtin_cpu_supports("avx512dq") || !__builtin_cpu_supports("avx512vl"))
    return nullptr;
  return &k;
}
#pragma GCC diagnostic pop
#else
const Bf16QuantKernels* avx512_bf16_quant_kernels() { return nullptr; }
#endif

}  // namespace v4rt::model::kernels
