// AVX-512 variants of the kernels (chosen at run time).
#include "model/kernels/kernels.h"

#include <algorithm>
#include <array>
#include <utility>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

namespace v4rt::model::kernels {

void decode_row_generic(const QMatrix& w, int64_t n, float* values, float* scales);

#if defined(__x86_64__) && defined(__GNUC__)
namespace {

__attribute__((target("avx512f"))) float dot_avx512(const float* a, const float* b, int64_t n) {
  __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
    s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), s1);
  }
  for (; i + 16 <= n; i += 16) s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, _mm512_add_ps(s0, s1));
  float r = 0.0f;
  for (float v : lanes) r += v;
  for (; i < n; ++i) r = __builtin_fmaf(a[i], b[i], r);  // explicit FMA: same as the bf16 variant
  return r;
}

__attribute__((target("avx512f"))) inline __m512 load_bf16x16(const uint16_t* p) {
  __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  return _mm512_castsi512_ps(_mm512_maskz_slli_epi32(0xFFFF, _mm512_maskz_cvtepu16_epi32(0xFFFF, h), 16));
}

// Same accumulation order as dot_avx512 (bitwise equal to decode + dot).
__attribute__((target("avx512f"))) float dot_bf16_avx512(const float* a, const uint16_t* w, int64_t n) {
  __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), load_bf16x16(w + i), s0);
    s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), load_bf16x16(w + i + 16), s1);
  }
  for (; i + 16 <= n; i += 16) s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), load_bf16x16(w + i), s0);
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, _mm512_add_ps(s0, s1));
  float r = 0.0f;
  for (float v : lanes) r += v;
  for (; i < n; ++i) {
    uint32_t u = static_cast<uint32_t>(w[i]) << 16;
    float f;
    __builtin_memcpy(&f, &u, 4);
    r = __builtin_fmaf(a[i], f, r);
  }
  return r;
}

// GEMM tile, MV vectors of 16 activation rows by NR weight rows: MV*NR
// accumulators stay in registers over each 128-long block (the whole kc
// without activation scales); per-lane order is sequential in k, as the oracle.
template <int MV, int NR>
__attribute__((target("avx512f"))) void gemm_tile_avx512_t(const float* x, const float* xs, const float* w,
                                                           int64_t ldw, int64_t kc, int mr, bool accumulate, float* y,
                                                           int64_t ldy) {
  alignas(64) float out[NR][kGemmMr] = {};
  const int64_t blk = xs != nullptr ? 128 : kc;
  const float* wr[NR];
  for (int j = 0; j < NR; ++j) wr[j] = w + j * ldw;
  for (int64_t b0 = 0; b0 < kc; b0 += blk) {
    __m512 acc[MV][NR];
    for (int v = 0; v < MV; ++v)
      for (int j = 0; j < NR; ++j) acc[v][j] = _mm512_setzero_ps();
    const int64_t b1 = b0 + blk;
    for (int64_t k = b0; k < b1; ++k) {
      __m512 xv[MV];
      for (int v = 0; v < MV; ++v) xv[v] = _mm512_loadu_ps(x + k * kGemmMr + 16 * v);
      for (int j = 0; j < NR; ++j) {
        const __m512 b = _mm512_set1_ps(wr[j][k]);
        for (int v = 0; v < MV; ++v) acc[v][j] = _mm512_fmadd_ps(xv[v], b, acc[v][j]);
      }
    }
    if (xs == nullptr) {
      for (int j = 0; j < NR; ++j)
        for (int v = 0; v < MV; ++v) _mm512_store_ps(&out[j][16 * v], acc[v][j]);
    } else {
      for (int v = 0; v < MV; ++v) {
        const __m512 sv = _mm512_loadu_ps(xs + (b0 / 128) * kGemmMr + 16 * v);
        for (int j = 0; j < NR; ++j) {
          float* o = &out[j][16 * v];
          _mm512_store_ps(o, b0 == 0 ? _mm512_mul_ps(acc[v][j], sv)
                                     : _mm512_add_ps(_mm512_load_ps(o), _mm512_mul_ps(acc[v][j], sv)));
        }
      }
    }
  }
  for (int m = 0; m < mr; ++m) {
    float* yr = y + m * ldy;
    if (accumulate)
      for (int j = 0; j < NR; ++j) yr[j] += out[j][m];
    else
      for (int j = 0; j < NR; ++j) yr[j] = out[j][m];
  }
}

using TileFn = void (*)(const float*, const float*, const float*, int64_t, int64_t, int, bool, float*, int64_t);

template <int MV, int... J>
constexpr auto tile_table(std::integer_sequence<int, J...>) {
  return std::array<TileFn, sizeof...(J)>{gemm_tile_avx512_t<MV, J + 1>...};
}

void gemm_tile_avx512(const float* x, const float* xs, const float* w, int64_t ldw, int64_t kc, int mr, int nr,
                      bool accumulate, float* y, int64_t ldy) {
  static constexpr auto one = tile_table<1>(std::make_integer_sequence<int, kGemmNr>{});
  static constexpr auto two = tile_table<2>(std::make_integer_sequence<int, kGemmNr>{});
  (mr <= 16 ? one : two)[static_cast<size_t>(nr - 1)](x, xs, w, ldw, kc, mr, accumulate, y, ldy);
}

// GCC 12 warns that the unmasked AVX-512 shuffle intrinsics read their own
// undefined pass-through operand (__Y); a false positive of the headers.
// clang has no such warning (and -Werror rejects the unknown name), so GCC only.
#pragma GCC diagnostic push
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
// In-register transpose: on return r[c][j] holds what r[j][c] held.
__attribute__((target("avx512f"))) inline void transpose16(__m512 r[16]) {
  __m512 t[16], u[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  // u[4i + c], 128-bit lane L: column 4L + c of rows 4i..4i+3.
  for (int i = 0; i < 4; ++i) {
    u[4 * i + 0] = _mm512_shuffle_ps(t[4 * i + 0], t[4 * i + 2], _MM_SHUFFLE(1, 0, 1, 0));
    u[4 * i + 1] = _mm512_shuffle_ps(t[4 * i + 0], t[4 * i + 2], _MM_SHUFFLE(3, 2, 3, 2));
    u[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(1, 0, 1, 0));
    u[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  for (int c = 0; c < 4; ++c) {
    const __m512 v0 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0x88), v1 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0xDD);
    const __m512 v2 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0x88), v3 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0xDD);
    r[c] = _mm512_shuffle_f32x4(v0, v2, 0x88);
    r[8 + c] = _mm512_shuffle_f32x4(v0, v2, 0xDD);
    r[4 + c] = _mm512_shuffle_f32x4(v1, v3, 0x88);
    r[12 + c] = _mm512_shuffle_f32x4(v1, v3, 0xDD);
  }
}

// 16 weight rows in the lanes: 16x16 blocks are transposed in registers so
// each k step is one FMA with x[k] broadcast, in k order as gemm_tile.
__attribute__((target("avx512f"))) void gemv_tile_avx512(const float* x, const float* xs, const float* w, int64_t ldw,
                                                         int64_t kc, int nr, bool accumulate, float* y) {
  const int64_t blk = xs != nullptr ? 128 : kc;
  __m512 out = _mm512_setzero_ps();
  for (int64_t b0 = 0; b0 < kc; b0 += blk) {
    const int64_t b1 = b0 + blk;
    __m512 acc = _mm512_setzero_ps();
    int64_t k = b0;
    for (; k + 16 <= b1; k += 16) {
      __m512 r[16];
      for (int j = 0; j < 16; ++j) r[j] = j < nr ? _mm512_loadu_ps(w + j * ldw + k) : _mm512_setzero_ps();
      transpose16(r);
      for (int i = 0; i < 16; ++i) acc = _mm512_fmadd_ps(_mm512_set1_ps(x[k + i]), r[i], acc);
    }
    for (; k < b1; ++k) {
      alignas(64) float col[16] = {};
      for (int j = 0; j < nr; ++j) col[j] = w[j * ldw + k];
      acc = _mm512_fmadd_ps(_mm512_set1_ps(x[k]), _mm512_load_ps(col), acc);
    }
    if (xs == nullptr) out = acc;
    else {
      const __m512 sv = _mm512_set1_ps(xs[b0 / 128]);
      out = b0 == 0 ? _mm512_mul_ps(acc, sv) : _mm512_add_ps(out, _mm512_mul_ps(acc, sv));
    }
  }
  alignas(64) float o[16];
  _mm512_store_ps(o, out);
  for (int j = 0; j < nr; ++j) y[j] = accumulate ? y[j] + o[j] : o[j];
}
#pragma GCC diagnostic pop

// Up to 8 heads per pass, the row chunk loaded once for all of them; each
// head's sum in dot_avx512's order (so attention scores keep their bits).
__attribute__((target("avx512f"))) void dots_avx512(const float* r, const float* q, int64_t nq, int64_t n, float* out) {
  for (int64_t h0 = 0; h0 < nq; h0 += 8) {
    const int hn = static_cast<int>(std::min<int64_t>(8, nq - h0));
    const float* qh = q + h0 * n;
    __m512 s0[8], s1[8];
    for (int h = 0; h < 8; ++h) s0[h] = s1[h] = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
      const __m512 r0 = _mm512_loadu_ps(r + i), r1 = _mm512_loadu_ps(r + i + 16);
      for (int h = 0; h < hn; ++h) {
        s0[h] = _mm512_fmadd_ps(_mm512_loadu_ps(qh + h * n + i), r0, s0[h]);
        s1[h] = _mm512_fmadd_ps(_mm512_loadu_ps(qh + h * n + i + 16), r1, s1[h]);
      }
    }
    for (; i + 16 <= n; i += 16) {
      const __m512 r0 = _mm512_loadu_ps(r + i);
      for (int h = 0; h < hn; ++h) s0[h] = _mm512_fmadd_ps(_mm512_loadu_ps(qh + h * n + i), r0, s0[h]);
    }
    for (int h = 0; h < hn; ++h) {
      alignas(64) float lanes[16];
      _mm512_store_ps(lanes, _mm512_add_ps(s0[h], s1[h]));
      float s = 0.0f;
      for (float v : lanes) s += v;
      for (int64_t t = i; t < n; ++t) s = __builtin_fmaf(qh[h * n + t], r[t], s);
      out[h0 + h] = s;
    }
  }
}

// Up to 8 heads' 16-lane slices of acc stay in registers while every row of
// the block is added (multiply then add, as the plain loop it replaces).
__attribute__((target("avx512f"))) void axpys_avx512(const float* const* rows, int64_t nrows, const float* p, int64_t np,
                                                     float* acc, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    for (int64_t h0 = 0; h0 < np; h0 += 8) {
      const int hn = static_cast<int>(std::min<int64_t>(8, np - h0));
      __m512 a[8];
      for (int h = 0; h < hn; ++h) a[h] = _mm512_loadu_ps(acc + (h0 + h) * n + i);
      for (int64_t j = 0; j < nrows; ++j) {
        if (rows[j] == nullptr) continue;
        const __m512 rv = _mm512_loadu_ps(rows[j] + i);
        const float* pj = p + j * np + h0;
        for (int h = 0; h < hn; ++h) a[h] = _mm512_add_ps(a[h], _mm512_mul_ps(_mm512_set1_ps(pj[h]), rv));
      }
      for (int h = 0; h < hn; ++h) _mm512_storeu_ps(acc + (h0 + h) * n + i, a[h]);
    }
  }
  for (; i < n; ++i)
    for (int64_t j = 0; j < nrows; ++j) {
      if (rows[j] == nullptr) continue;
      for (int64_t h = 0; h < np; ++h) {
        const float prod = p[j * np + h] * rows[j][i];
        acc[h * n + i] += prod;
      }
    }
}

}  // namespace

const Kernels* avx512_kernels() {
  static const Kernels k{"avx512", dot_avx512, dot_bf16_avx512, decode_row_generic, gemm_tile_avx512, gemv_tile_avx512, dots_avx512, axpys_avx512};
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx512f")) return nullptr;
  return &k;
}
#else
const Kernels* avx512_kernels() { return nullptr; }
#endif

}  // namespace v4rt::model::kernels
