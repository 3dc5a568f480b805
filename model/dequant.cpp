#include "model/dequant.h"

// GCC 12's AVX-512 intrinsics start from _mm512_undefined_*(), which its
// -Wmaybe-uninitialized reports once inlined (a compiler false positive; the
// values are fully overwritten). Silenced for this file only.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "model/numerics.h"
#include "model/tensor_manifest.h"
#include "model/weights.h"

namespace v4rt::model {

namespace {

// ---- scalar oracle ----------------------------------------------------------

void fp8_row_scalar(const uint8_t* q, const uint8_t* scales, size_t n, float* out) {
  for (size_t k = 0; k < n; ++k) out[k] = e4m3_to_f32(q[k]) * e8m0_to_f32(scales[k / 128]);
}
inline float fp4_value(const uint8_t* packed, const uint8_t* scales, size_t k) {
  const uint8_t byte = packed[k / 2];
  const uint8_t code = (k % 2 == 0) ? (byte & 0x0f) : (byte >> 4);
  return e2m1_to_f32(code) * e8m0_to_f32(scales[k / 32]);
}
void fp4_row_scalar(const uint8_t* packed, const uint8_t* scales, size_t n, float* out) {
  for (size_t k = 0; k < n; ++k) out[k] = fp4_value(packed, scales, k);
}
void bf16_row_scalar(const uint16_t* x, size_t n, float* out) {
  for (size_t k = 0; k < n; ++k) out[k] = bf16_bits_to_f32(x[k]);
}
void f16_row_scalar(const uint16_t* x, size_t n, float* out) {
  for (size_t k = 0; k < n; ++k) out[k] = f16_bits_to_f32(x[k]);
}

constexpr DequantKernels kScalar = {"scalar", fp8_row_scalar, fp4_row_scalar, bf16_row_scalar, f16_row_scalar};

// The vector decoders build IEEE bits with integer ops (no reliance on the
// FTZ/DAZ state, no F16C), so they reproduce the oracle bit for bit:
//   e4m3 normal  (e,m) -> exponent e+120, mantissa m<<20; subnormal -> m * 2^-9; 0x7f -> qNaN
//   f16  normal  (e,m) -> exponent e+112, mantissa m<<13; subnormal -> m * 2^-24; e=31 -> inf/NaN

// ---- AVX2 ------------------------------------------------------------------

#define V4RT_AVX2 __attribute__((target("avx2,fma")))

V4RT_AVX2 inline __m256 e4m3x8_avx2(const uint8_t* p) {
  uint64_t raw;
  std::memcpy(&raw, p, 8);
  const __m256i b = _mm256_cvtepu8_epi32(_mm_cvtsi64_si128(static_cast<long long>(raw)));
  const __m256i sign = _mm256_slli_epi32(_mm256_and_si256(b, _mm256_set1_epi32(0x80)), 24);
  const __m256i em = _mm256_and_si256(b, _mm256_set1_epi32(0x7f));
  const __m256i normal = _mm256_add_epi32(_mm256_slli_epi32(em, 20), _mm256_set1_epi32(120 << 23));
  const __m256i sub = _mm256_castps_si256(_mm256_mul_ps(_mm256_cvtepi32_ps(em), _mm256_set1_ps(1.0f / 512.0f)));
  const __m256i is_sub = _mm256_cmpgt_epi32(_mm256_set1_epi32(8), em);
  __m256i v = _mm256_or_si256(_mm256_blendv_epi8(normal, sub, is_sub), sign);
  const __m256i is_nan = _mm256_cmpeq_epi32(em, _mm256_set1_epi32(0x7f));
  v = _mm256_blendv_epi8(v, _mm256_set1_epi32(0x7fc00000), is_nan);
  return _mm256_castsi256_ps(v);
}

V4RT_AVX2 void fp8_row_avx2(const uint8_t* q, const uint8_t* scales, size_t n, float* out) {
  for (size_t k0 = 0; k0 < n; k0 += 128) {
    const size_t len = std::min<size_t>(128, n - k0);
    const float s = e8m0_to_f32(scales[k0 / 128]);
    const __m256 vs = _mm256_set1_ps(s);
    size_t k = 0;
    for (; k + 8 <= len; k += 8) _mm256_storeu_ps(out + k0 + k, _mm256_mul_ps(e4m3x8_avx2(q + k0 + k), vs));
    for (; k < len; ++k) out[k0 + k] = e4m3_to_f32(q[k0 + k]) * s;
  }
}

V4RT_AVX2 void fp4_row_avx2(const uint8_t* packed, const uint8_t* scales, size_t n, float* out) {
  const __m256 lut = _mm256_setr_ps(0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f);
  size_t k = 0;
  for (; k + 16 <= n; k += 16) {  // 8 bytes -> 16 values, inside one 32-wide scale block
    uint64_t raw;
    std::memcpy(&raw, packed + k / 2, 8);
    const __m256i b = _mm256_cvtepu8_epi32(_mm_cvtsi64_si128(static_cast<long long>(raw)));
    const __m256i lo = _mm256_and_si256(b, _mm256_set1_epi32(15));
    const __m256i hi = _mm256_srli_epi32(b, 4);
    const __m256i seven = _mm256_set1_epi32(7), eight = _mm256_set1_epi32(8);
    const __m256 vl = _mm256_castsi256_ps(_mm256_or_si256(
        _mm256_castps_si256(_mm256_permutevar8x32_ps(lut, _mm256_and_si256(lo, seven))),
        _mm256_slli_epi32(_mm256_and_si256(lo, eight), 28)));
    const __m256 vh = _mm256_castsi256_ps(_mm256_or_si256(
        _mm256_castps_si256(_mm256_permutevar8x32_ps(lut, _mm256_and_si256(hi, seven))),
        _mm256_slli_epi32(_mm256_and_si256(hi, eight), 28)));
    const __m256 a = _mm256_unpacklo_ps(vl, vh);  // l0 h0 l1 h1 | l4 h4 l5 h5
    const __m256 c = _mm256_unpackhi_ps(vl, vh);  // l2 h2 l3 h3 | l6 h6 l7 h7
    const __m256 vs = _mm256_set1_ps(e8m0_to_f32(scales[k / 32]));
    _mm256_storeu_ps(out + k, _mm256_mul_ps(_mm256_permute2f128_ps(a, c, 0x20), vs));
    _mm256_storeu_ps(out + k + 8, _mm256_mul_ps(_mm256_permute2f128_ps(a, c, 0x31), vs));
  }
  for (; k < n; ++k) out[k] = fp4_value(packed, scales, k);
}

V4RT_AVX2 void bf16_row_avx2(const uint16_t* x, size_t n, float* out) {
  size_t k = 0;
  for (; k + 8 <= n; k += 8) {
    const __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + k)));
    _mm256_storeu_ps(out + k, _mm256_castsi256_ps(_mm256_slli_epi32(v, 16)));
  }
  for (; k < n; ++k) out[k] = bf16_bits_to_f32(x[k]);
}

V4RT_AVX2 void f16_row_avx2(const uint16_t* x, size_t n, float* out) {
  size_t k = 0;
  for (; k + 8 <= n; k += 8) {
    const __m256i h = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + k)));
    const __m256i sign = _mm256_slli_epi32(_mm256_and_si256(h, _mm256_set1_epi32(0x8000)), 16);
    const __m256i em = _mm256_and_si256(h, _mm256_set1_epi32(0x7fff));
    const __m256i normal = _mm256_add_epi32(_mm256_slli_epi32(em, 13), _mm256_set1_epi32(112 << 23));
    const __m256i special = _mm256_or_si256(_mm256_slli_epi32(em, 13), _mm256_set1_epi32(0x7f800000));
    const __m256i sub = _mm256_castps_si256(_mm256_mul_ps(_mm256_cvtepi32_ps(em), _mm256_set1_ps(1.0f / 16777216.0f)));
    const __m256i is_sub = _mm256_cmpgt_epi32(_mm256_set1_epi32(0x400), em);
    const __m256i is_special = _mm256_cmpgt_epi32(em, _mm256_set1_epi32(0x7bff));
    __m256i v = _mm256_blendv_epi8(normal, sub, is_sub);
    v = _mm256_blendv_epi8(v, special, is_special);
    _mm256_storeu_ps(out + k, _mm256_castsi256_ps(_mm256_or_si256(v, sign)));
  }
  for (; k < n; ++k) out[k] = f16_bits_to_f32(x[k]);
}

constexpr DequantKernels kAvx2 = {"avx2", fp8_row_avx2, fp4_row_avx2, bf16_row_avx2, f16_row_avx2};

// ---- AVX-512 ---------------------------------------------------------------

#define V4RT_AVX512 __attribute__((target("avx512f,avx512bw")))

V4RT_AVX512 inline __m512 e4m3x16_avx512(const uint8_t* p) {
  const __m512i b = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  const __m512i sign = _mm512_slli_epi32(_mm512_and_si512(b, _mm512_set1_epi32(0x80)), 24);
  const __m512i em = _mm512_and_si512(b, _mm512_set1_epi32(0x7f));
  const __m512i normal = _mm512_add_epi32(_mm512_slli_epi32(em, 20), _mm512_set1_epi32(120 << 23));
  const __m512i sub = _mm512_castps_si512(_mm512_mul_ps(_mm512_cvtepi32_ps(em), _mm512_set1_ps(1.0f / 512.0f)));
  const __mmask16 is_sub = _mm512_cmplt_epi32_mask(em, _mm512_set1_epi32(8));
  __m512i v = _mm512_or_si512(_mm512_mask_blend_epi32(is_sub, normal, sub), sign);
  const __mmask16 is_nan = _mm512_cmpeq_epi32_mask(em, _mm512_set1_epi32(0x7f));
  v = _mm512_mask_blend_epi32(is_nan, v, _mm512_set1_epi32(0x7fc00000));
  return _mm512_castsi512_ps(v);
}

V4RT_AVX512 void fp8_row_avx512(const uint8_t* q, const uint8_t* scales, size_t n, float* out) {
  for (size_t k0 = 0; k0 < n; k0 += 128) {
    const size_t len = std::min<size_t>(128, n - k0);
    const float s = e8m0_to_f32(scales[k0 / 128]);
    const __m512 vs = _mm512_set1_ps(s);
    size_t k = 0;
    for (; k + 16 <= len; k += 16) _mm512_storeu_ps(out + k0 + k, _mm512_mul_ps(e4m3x16_avx512(q + k0 + k), vs));
    for (; k < len; ++k) out[k0 + k] = e4m3_to_f32(q[k0 + k]) * s;
  }
}

V4RT_AVX512 void fp4_row_avx512(const uint8_t* packed, const uint8_t* scales, size_t n, float* out) {
  const __m512 lut = _mm512_setr_ps(0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f, -0.0f, -0.5f, -1.0f, -1.5f, -2.0f,
                                    -3.0f, -4.0f, -6.0f);
  const __m512i idx_lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const __m512i idx_hi = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  size_t k = 0;
  for (; k + 32 <= n; k += 32) {  // 16 bytes -> 32 values = one scale block
    const __m512i b = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(packed + k / 2)));
    const __m512 vl = _mm512_permutexvar_ps(_mm512_and_si512(b, _mm512_set1_epi32(15)), lut);
    const __m512 vh = _mm512_permutexvar_ps(_mm512_srli_epi32(b, 4), lut);
    const __m512 vs = _mm512_set1_ps(e8m0_to_f32(scales[k / 32]));
    _mm512_storeu_ps(out + k, _mm512_mul_ps(_mm512_permutex2var_ps(vl, idx_lo, vh), vs));
    _mm512_storeu_ps(out + k + 16, _mm512_mul_ps(_mm512_permutex2var_ps(vl, idx_hi, vh), vs));
  }
  for (; k < n; ++k) out[k] = fp4_value(packed, scales, k);
}

V4RT_AVX512 void bf16_row_avx512(const uint16_t* x, size_t n, float* out) {
  size_t k = 0;
  for (; k + 16 <= n; k += 16) {
    const __m512i v = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + k)));
    _mm512_storeu_ps(out + k, _mm512_castsi512_ps(_mm512_slli_epi32(v, 16)));
  }
  for (; k < n; ++k) out[k] = bf16_bits_to_f32(x[k]);
}

V4RT_AVX512 void f16_row_avx512(const uint16_t* x, size_t n, float* out) {
  size_t k = 0;
  for (; k + 16 <= n; k += 16) {
    const __m512i h = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + k)));
    const __m512i sign = _mm512_slli_epi32(_mm512_and_si512(h, _mm512_set1_epi32(0x8000)), 16);
    const __m512i em = _mm512_and_si512(h, _mm512_set1_epi32(0x7fff));
    const __m512i normal = _mm512_add_epi32(_mm512_slli_epi32(em, 13), _mm512_set1_epi32(112 << 23));
    const __m512i special = _mm512_or_si512(_mm512_slli_epi32(em, 13), _mm512_set1_epi32(0x7f800000));
    const __m512i sub = _mm512_castps_si512(_mm512_mul_ps(_mm512_cvtepi32_ps(em), _mm512_set1_ps(1.0f / 16777216.0f)));
    __m512i v = _mm512_mask_blend_epi32(_mm512_cmplt_epi32_mask(em, _mm512_set1_epi32(0x400)), normal, sub);
    v = _mm512_mask_blend_epi32(_mm512_cmpgt_epi32_mask(em, _mm512_set1_epi32(0x7bff)), v, special);
    _mm512_storeu_ps(out + k, _mm512_castsi512_ps(_mm512_or_si512(v, sign)));
  }
  for (; k < n; ++k) out[k] = f16_bits_to_f32(x[k]);
}

constexpr DequantKernels kAvx512 = {"avx512", fp8_row_avx512, fp4_row_avx512, bf16_row_avx512, f16_row_avx512};

const DequantKernels& pick_best() {
  if (const DequantKernels* k = avx512_dequant()) return *k;
  if (const DequantKernels* k = avx2_dequant()) return *k;
  return kScalar;
}

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

}  // namespace

const DequantKernels& scalar_dequant() { return kScalar; }

const DequantKernels* avx2_dequant() {
  return (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) ? &kAvx2 : nullptr;
}

const DequantKernels* avx512_dequant() {
  return (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")) ? &kAvx512 : nullptr;
}

const DequantKernels& best_dequant() {
  static const DequantKernels& best = pick_best();  // immutable after the first call
  return best;
}

Status dequantize_rows(const TensorView& w, const TensorView* scale, int64_t row0, int64_t row1, std::span<float> out,
                       const DequantKernels& k) {
  const std::string name(w.name);
  if (w.shape.size() != 2)
    return Status::InvalidArgument("tensor '" + name + "': dequantize_rows needs a 2-D weight, got shape " +
                                   shape_string(w.shape));
  const int64_t rows = w.shape[0], stored_cols = w.shape[1];
  if (row0 < 0 || row1 < row0 || row1 > rows)
    return Status::InvalidArgument("tensor '" + name + "': rows [" + std::to_string(row0) + ", " + std::to_string(row1) +
                                   ") outside [0, " + std::to_string(rows) + ")");
  const bool fp4 = w.dtype == DType::kI8;
  const int64_t cols = fp4 ? 2 * stored_cols : stored_cols;
  if (out.size() < static_cast<size_t>((row1 - row0) * cols))
    return Status::InvalidArgument("tensor '" + name + "': output holds " + std::to_string(out.size()) +
                                   " floats, rows need " + std::to_string((row1 - row0) * cols));
  if (static_cast<uint64_t>(w.nbytes) != static_cast<uint64_t>(rows * stored_cols) * dtype_size(w.dtype))
    return Status::Corruption("tensor '" + name + "': byte size disagrees with its shape");
  auto need_scale = [&](std::vector<int64_t> shape) -> Status {
    if (scale == nullptr)
      return Status::InvalidArgument("tensor '" + name + "' is " + std::string(dtype_name(w.dtype)) +
                                     " and needs its .scale tensor (F8_E8M0 " + shape_string(shape) + ")");
    if (scale->dtype != DType::kF8E8M0 || scale->shape != shape)
      return Status::InvalidArgument("scale of '" + name + "' is " + std::string(dtype_name(scale->dtype)) + " " +
                                     shape_string(scale->shape) + ", expected F8_E8M0 " + shape_string(shape));
    return Status::Ok();
  };
  for (int64_t r = row0; r < row1; ++r) {
    float* dst = out.data() + (r - row0) * cols;
    const size_t n = static_cast<size_t>(cols);
    switch (w.dtype) {
      case DType::kF32:
        std::memcpy(dst, w.data + r * cols * 4, n * 4);
        break;
      case DType::kBF16:
        k.bf16_row(reinterpret_cast<const uint16_t*>(w.data) + r * cols, n, dst);
        break;
      case DType::kF16:
        k.f16_row(reinterpret_cast<const uint16_t*>(w.data) + r * cols, n, dst);
        break;
      case DType::kF8E4M3: {
        const int64_t sc = ceil_div(cols, 128);
        if (r == row0) V4RT_RETURN_IF_ERROR(need_scale({ceil_div(rows, 128), sc}));
        k.fp8_row(w.data + r * cols, scale->data + (r / 128) * sc, n, dst);
        break;
      }
      case DType::kI8: {
        const int64_t sc = ceil_div(cols, 32);
        if (r == row0) V4RT_RETURN_IF_ERROR(need_scale({rows, sc}));
        k.fp4_row(w.data + r * stored_cols, scale->data + r * sc, n, dst);
        break;
      }
      default:
        return Status::Unsupported("tensor '" + name + "': cannot dequantize dtype " + std::string(dtype_name(w.dtype)));
    }
  }
  return Status::Ok();
}

}  // namespace v4rt::model
