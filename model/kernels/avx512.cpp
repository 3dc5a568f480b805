// AVX-512 variants of the kernels (chosen at run time).
#include "model/kernels/kernels.h"

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

}  // namespace

const Kernels* avx512_kernels() {
  static const Kernels k{"avx512", dot_avx512, dot_bf16_avx512, decode_row_generic};
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx512f")) return nullptr;
  return &k;
}
#else
const Kernels* avx512_kernels() { return nullptr; }
#endif

}  // namespace v4rt::model::kernels
