// AVX2 + FMA variants of the kernels (chosen at run time).
#include "model/kernels/kernels.h"

#include <algorithm>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

namespace v4rt::model::kernels {

void decode_row_generic(const QMatrix& w, int64_t n, float* values, float* scales);

#if defined(__x86_64__) && defined(__GNUC__)
namespace {

__attribute__((target("avx2,fma"))) float dot_avx2(const float* a, const float* b, int64_t n) {
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps(), s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
    s2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16), s2);
    s3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24), s3);
  }
  for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
  __m256 s = _mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3));
  __m128 h = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
  h = _mm_add_ps(h, _mm_movehl_ps(h, h));
  h = _mm_add_ss(h, _mm_shuffle_ps(h, h, 1));
  float r = _mm_cvtss_f32(h);
  for (; i < n; ++i) r = __builtin_fmaf(a[i], b[i], r);  // explicit FMA: same as the bf16 variant
  return r;
}

__attribute__((target("avx2,fma"))) inline __m256 load_bf16x8(const uint16_t* p) {
  __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

// Same accumulation order as dot_avx2, so a bf16 GEMV gives bitwise the
// result of decoding the row and calling dot (chunked == token by token).
__attribute__((target("avx2,fma"))) float dot_bf16_avx2(const float* a, const uint16_t* w, int64_t n) {
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps(), s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), load_bf16x8(w + i), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), load_bf16x8(w + i + 8), s1);
    s2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), load_bf16x8(w + i + 16), s2);
    s3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), load_bf16x8(w + i + 24), s3);
  }
  for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), load_bf16x8(w + i), s0);
  __m256 s = _mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3));
  __m128 h = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
  h = _mm_add_ps(h, _mm_movehl_ps(h, h));
  h = _mm_add_ss(h, _mm_shuffle_ps(h, h, 1));
  float r = _mm_cvtss_f32(h);
  for (; i < n; ++i) {
    uint32_t u = static_cast<uint32_t>(w[i]) << 16;
    float f;
    __builtin_memcpy(&f, &u, 4);
    r = __builtin_fmaf(a[i], f, r);
  }
  return r;
}

// GEMM tile: the 32 activation lanes as 4 vectors by up to 3 weight rows per
// pass (12 accumulators of the 16 registers); per-lane order is sequential in
// k, as the oracle.
template <int NR>
__attribute__((target("avx2,fma"))) void gemm_tile_avx2_t(const float* x, const float* xs, const float* w,
                                                          int64_t ldw, int64_t kc, int mr, bool accumulate, float* y,
                                                          int64_t ldy) {
  alignas(32) float out[NR][kGemmMr] = {};
  const int64_t blk = xs != nullptr ? 128 : kc;
  for (int64_t b0 = 0; b0 < kc; b0 += blk) {
    __m256 acc[4][NR];
    for (int v = 0; v < 4; ++v)
      for (int j = 0; j < NR; ++j) acc[v][j] = _mm256_setzero_ps();
    for (int64_t k = b0; k < b0 + blk; ++k) {
      __m256 xv[4];
      for (int v = 0; v < 4; ++v) xv[v] = _mm256_loadu_ps(x + k * kGemmMr + 8 * v);
      for (int j = 0; j < NR; ++j) {
        const __m256 b = _mm256_broadcast_ss(w + j * ldw + k);
        for (int v = 0; v < 4; ++v) acc[v][j] = _mm256_fmadd_ps(xv[v], b, acc[v][j]);
      }
    }
    for (int v = 0; v < 4; ++v) {
      const __m256 sv = xs != nullptr ? _mm256_loadu_ps(xs + (b0 / 128) * kGemmMr + 8 * v) : _mm256_set1_ps(1.0f);
      for (int j = 0; j < NR; ++j) {
        float* o = &out[j][8 * v];
        if (xs == nullptr) _mm256_store_ps(o, acc[v][j]);
        else _mm256_store_ps(o, b0 == 0 ? _mm256_mul_ps(acc[v][j], sv)
                                        : _mm256_add_ps(_mm256_load_ps(o), _mm256_mul_ps(acc[v][j], sv)));
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

void gemm_tile_avx2(const float* x, const float* xs, const float* w, int64_t ldw, int64_t kc, int mr, int nr,
                    bool accumulate, float* y, int64_t ldy) {
  for (int j0 = 0; j0 < nr; j0 += 3) {
    const float* wj = w + j0 * ldw;
    switch (std::min(3, nr - j0)) {
      case 1: gemm_tile_avx2_t<1>(x, xs, wj, ldw, kc, mr, accumulate, y + j0, ldy); break;
      case 2: gemm_tile_avx2_t<2>(x, xs, wj, ldw, kc, mr, accumulate, y + j0, ldy); break;
      default: gemm_tile_avx2_t<3>(x, xs, wj, ldw, kc, mr, accumulate, y + j0, ldy); break;
    }
  }
}

__attribute__((target("avx2,fma"))) void dots_avx2(const float* r, const float* q, int64_t nq, int64_t n, float* out) {
  for (int64_t h0 = 0; h0 < nq; h0 += 8) {
    const int64_t hn = std::min<int64_t>(8, nq - h0);
    __m256 acc[8];
    for (int h = 0; h < 8; ++h) acc[h] = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
      const __m256 rv = _mm256_loadu_ps(r + i);
      for (int h = 0; h < hn; ++h) acc[h] = _mm256_fmadd_ps(_mm256_loadu_ps(q + (h0 + h) * n + i), rv, acc[h]);
    }
    for (int h = 0; h < hn; ++h) {
      __m128 x = _mm_add_ps(_mm256_castps256_ps128(acc[h]), _mm256_extractf128_ps(acc[h], 1));
      x = _mm_add_ps(x, _mm_movehl_ps(x, x));
      x = _mm_add_ss(x, _mm_shuffle_ps(x, x, 1));
      float s = _mm_cvtss_f32(x);
      for (int64_t t = i; t < n; ++t) s = __builtin_fmaf(q[(h0 + h) * n + t], r[t], s);
      out[h0 + h] = s;
    }
  }
}

__attribute__((target("avx2,fma"))) void axpys_avx2(const float* const* rows, int64_t nrows, const float* p, int64_t np,
                                                    float* acc, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int64_t h0 = 0; h0 < np; h0 += 8) {
      const int hn = static_cast<int>(std::min<int64_t>(8, np - h0));
      __m256 a[8];
      for (int h = 0; h < hn; ++h) a[h] = _mm256_loadu_ps(acc + (h0 + h) * n + i);
      for (int64_t j = 0; j < nrows; ++j) {
        if (rows[j] == nullptr) continue;
        const __m256 rv = _mm256_loadu_ps(rows[j] + i);
        const float* pj = p + j * np + h0;
        for (int h = 0; h < hn; ++h) a[h] = _mm256_add_ps(a[h], _mm256_mul_ps(_mm256_set1_ps(pj[h]), rv));
      }
      for (int h = 0; h < hn; ++h) _mm256_storeu_ps(acc + (h0 + h) * n + i, a[h]);
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

const Kernels* avx2_kernels() {
  static const Kernels k{"avx2", dot_avx2, dot_bf16_avx2, decode_row_generic, gemm_tile_avx2, nullptr, dots_avx2, axpys_avx2};
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) return nullptr;
  return &k;
}
#else
const Kernels* avx2_kernels() { return nullptr; }
#endif

}  // namespace v4rt::model::kernels
