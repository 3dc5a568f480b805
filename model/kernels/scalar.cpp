// The scalar oracle kernels and the one-time choice of the best table.
#include <array>
#include <cstdlib>
#include <string_view>

#include "model/kernels/kernels.h"
#include "model/numerics.h"

namespace v4rt::model::kernels {
namespace {

struct Luts {
  std::array<float, 256> e8m0{};
  std::array<float, 16> e2m1{};
  Luts() {
    for (int i = 0; i < 256; ++i) {
      e8m0[i] = e8m0_to_f32(static_cast<uint8_t>(i));
    }
    for (int i = 0; i < 16; ++i) e2m1[i] = e2m1_to_f32(static_cast<uint8_t>(i));
  }
};

const Luts& luts() {
  static const Luts l;
  return l;
}

float dot_scalar(const float* a, const float* b, int64_t n) {
  float s = 0.0f;
  for (int64_t i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}

float dot_bf16_scalar(const float* a, const uint16_t* w, int64_t n) {
  float s = 0.0f;
  for (int64_t i = 0; i < n; ++i) s += a[i] * bf16_bits_to_f32(w[i]);
  return s;
}

}  // namespace

void gemm_tile_scalar(const float* x, const float* xs, const float* w, int64_t ldw, int64_t kc, int mr, int nr,
                      bool accumulate, float* y, int64_t ldy) {
  const int64_t blk = xs != nullptr ? 128 : kc;
  for (int j = 0; j < nr; ++j) {
    for (int m = 0; m < mr; ++m) {
      float acc = 0.0f;
      for (int64_t b0 = 0; b0 < kc; b0 += blk) {
        float part = 0.0f;
        for (int64_t k = b0; k < b0 + blk; ++k) part += x[k * kGemmMr + m] * w[j * ldw + k];
        acc += xs != nullptr ? part * xs[(b0 / 128) * kGemmMr + m] : part;
      }
      float& out = y[m * ldy + j];
      out = accumulate ? out + acc : acc;
    }
  }
}

void dots_scalar(const float* r, const float* q, int64_t nq, int64_t n, float* out) {
  for (int64_t h = 0; h < nq; ++h) {
    float s = 0.0f;
    for (int64_t i = 0; i < n; ++i) s += q[h * n + i] * r[i];
    out[h] = s;
  }
}

void axpys_scalar(const float* const* rows, int64_t nrows, const float* p, int64_t np, float* acc, int64_t n) {
  for (int64_t j = 0; j < nrows; ++j) {
    if (rows[j] == nullptr) continue;
    for (int64_t h = 0; h < np; ++h)
      for (int64_t i = 0; i < n; ++i) {
        const float prod = p[j * np + h] * rows[j][i];
        acc[h * n + i] += prod;
      }
  }
}

void decode_row_generic(const QMatrix& w, int64_t n, float* values, float* scales) {
  const Luts& l = luts();
  const int64_t k = w.cols;
  switch (w.kind) {
    case WKind::kF32: {
      const float* p = w.f32_row(n);
      for (int64_t i = 0; i < k; ++i) values[i] = p[i];
      break;
    }
    case WKind::kBF16: {
      const uint16_t* p = w.bf16_row(n);
      for (int64_t i = 0; i < k; ++i) values[i] = bf16_bits_to_f32(p[i]);
      break;
    }
    case WKind::kFP8: {
      const uint8_t* p = w.fp8_codes(n);
      const float* e4m3 = e4m3_table();
      for (int64_t i = 0; i < k; ++i) values[i] = e4m3[p[i]];
      const uint8_t* s = w.fp8_scales(n);
      for (int64_t b = 0; b < (k + 127) / 128; ++b) scales[b] = l.e8m0[s[b]];
      break;
    }
    case WKind::kFP4: {
      const uint8_t* p = w.fp4_codes(n);
      for (int64_t i = 0; i < k / 2; ++i) {
        values[2 * i] = l.e2m1[p[i] & 0xf];
        values[2 * i + 1] = l.e2m1[p[i] >> 4];
      }
      const uint8_t* s = w.fp4_scales(n);
      for (int64_t b = 0; b < k / 32; ++b) scales[b] = l.e8m0[s[b]];
      break;
    }
  }
}

const Kernels& scalar_kernels() {
  static const Kernels k{"scalar", dot_scalar, dot_bf16_scalar, decode_row_generic, gemm_tile_scalar, nullptr, dots_scalar, axpys_scalar};
  return k;
}

// V4RT_KERNELS=scalar|avx2|avx512 caps the choice (to compare paths or to
// rule a kernel out); unset or anything else: the best this CPU has.
static std::string_view kernels_cap() {
  const char* v = std::getenv("V4RT_KERNELS");
  return v == nullptr ? std::string_view{} : std::string_view{v};
}

const Kernels& best_kernels() {
  static const Kernels* best = [] {
    const std::string_view cap = kernels_cap();
    if (cap == "scalar") return &scalar_kernels();
    if (cap != "avx2")
      if (const Kernels* k = avx512_kernels()) return k;
    if (const Kernels* k = avx2_kernels()) return k;
    return &scalar_kernels();
  }();
  return *best;
}

bool bf16_quant_allowed() {
  static const bool allowed = [] {
    const std::string_view cap = kernels_cap();
    return cap != "scalar" && cap != "avx2" && cap != "avx512";
  }();
  return allowed;
}

}  // namespace v4rt::model::kernels
