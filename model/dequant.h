// Dequantization of stored weight rows to float (spec §2.2): FP8 e4m3 with
// e8m0 block scales (one per 128 along a row; a row of an FP8 matrix uses the
// scale row n/128 of its 128x128 tiles), packed FP4 e2m1 with one e8m0 scale
// per 32 (low nibble = even element), BF16 and F16. scalar_dequant() is the
// oracle (plain loops over model/numerics.h); AVX2 and AVX-512 tables are
// built with per-function target attributes and chosen at run time, so the
// binary runs on CPUs without them. Every table gives the oracle's bits
// (NaN inputs give NaN). Stateless; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "base/status.h"

namespace v4rt::model {

struct TensorView;

struct DequantKernels {
  const char* name;
  // out[k] = e4m3(q[k]) * e8m0(scales[k / 128]) for k < n; scales holds ceil(n/128) bytes.
  void (*fp8_row)(const uint8_t* q, const uint8_t* scales, size_t n, float* out);
  // out[k] = e2m1(nibble k of packed) * e8m0(scales[k / 32]) for k < n (n even;
  // packed holds n/2 bytes, element 2j in the low nibble of byte j; scales ceil(n/32) bytes).
  void (*fp4_row)(const uint8_t* packed, const uint8_t* scales, size_t n, float* out);
  void (*bf16_row)(const uint16_t* x, size_t n, float* out);
  void (*f16_row)(const uint16_t* x, size_t n, float* out);
};

const DequantKernels& scalar_dequant();
// nullptr when this CPU lacks the instructions (AVX2; AVX-512 F+BW).
const DequantKernels* avx2_dequant();
const DequantKernels* avx512_dequant();
// The fastest table this CPU supports, chosen once.
const DequantKernels& best_dequant();

// Dequantizes rows [row0, row1) of a 2-D weight into out (row-major,
// (row1-row0) x logical columns). Handles F32, BF16, F16, F8_E4M3 (needs its
// F8_E8M0 [ceil(rows/128), ceil(cols/128)] `scale`) and packed FP4 stored as I8
// [rows, cols/2] (needs `scale` F8_E8M0 [rows, cols/32]; logical cols = 2x the
// stored). Errors name the tensor when dtypes, shapes or sizes disagree.
Status dequantize_rows(const TensorView& w, const TensorView* scale, int64_t row0, int64_t row1,
                       std::span<float> out, const DequantKernels& kernels = best_dequant());

}  // namespace v4rt::model
