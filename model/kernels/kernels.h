// Kernels: the few inner loops of the forward pass behind a table chosen once
// at start-up (style.md §10). scalar_kernels() is the oracle: plain loops,
// obviously right; best_kernels() picks an AVX-512 / AVX2 variant when the CPU
// has it (per-function target attributes, never a whole-library -mavx flag).
// Every entry must give the oracle's result up to float reassociation.
#pragma once

#include <cstdint>

namespace v4rt::model::kernels {

// How a weight matrix [rows, cols] is stored (spec §2.2).
enum class WKind {
  kF32,   // fp32
  kBF16,  // bf16
  kFP8,   // e4m3 + e8m0 scale per 128x128 tile: scale[(n/128) * scale_cols + k/128]
  kFP4,   // packed e2m1 (low nibble = even k) + e8m0 scale per (row, 32 k): scale[n * scale_cols + k/32]
};

struct QMatrix {
  WKind kind = WKind::kF32;
  int64_t rows = 0, cols = 0;
  const uint8_t* data = nullptr;
  const uint8_t* scale = nullptr;
  int64_t scale_cols = 0;
  // FP4 only: bytes from one row's codes (and scales) to the next's when rows
  // interleave codes and scales (the indexer's stored keys); 0: the checkpoint
  // layout (codes [rows, cols/2], scales [rows, scale_cols]).
  int64_t row_bytes = 0;
  // K width of one scale block along a row (128 FP8, 32 FP4, cols otherwise).
  int64_t block() const { return kind == WKind::kFP8 ? 128 : kind == WKind::kFP4 ? 32 : cols; }
  // This matrix is rows [first_row, first_row + rows) of the stored one (a
  // group of a grouped projection): FP8 scale tiles stay those of the whole.
  int64_t first_row = 0;
  // Row n's stored values and block scales, per kind.
  const float* f32_row(int64_t n) const { return reinterpret_cast<const float*>(data) + (first_row + n) * cols; }
  const uint16_t* bf16_row(int64_t n) const { return reinterpret_cast<const uint16_t*>(data) + (first_row + n) * cols; }
  const uint8_t* fp8_codes(int64_t n) const { return data + (first_row + n) * cols; }
  const uint8_t* fp8_scales(int64_t n) const { return scale + ((first_row + n) / 128) * scale_cols; }
  const uint8_t* fp4_codes(int64_t n) const { return data + (first_row + n) * (row_bytes ? row_bytes : cols / 2); }
  const uint8_t* fp4_scales(int64_t n) const { return scale + (first_row + n) * (row_bytes ? row_bytes : scale_cols); }
};

// The GEMM micro-kernel's tile: up to kGemmMr activation rows (one packed
// panel) by up to kGemmNr weight rows.
constexpr int kGemmMr = 32;
constexpr int kGemmNr = 12;
constexpr int kGemvNr = 16;

struct Kernels {
  const char* name;
  // Sum of a[i]*b[i] in fp32.
  float (*dot)(const float* a, const float* b, int64_t n);
  // Sum of a[i]*bf16(w[i]) in fp32 (w: raw bf16 bits), without a decoded copy.
  float (*dot_bf16)(const float* a, const uint16_t* w, int64_t n);
  // Row n of w as exact float values WITHOUT the block scales (e4m3/e2m1
  // values for FP8/FP4, the value itself otherwise), and its block scales
  // (cols/block() of them; none for F32/BF16).
  void (*decode_row)(const QMatrix& w, int64_t n, float* values, float* scales);
  // One tile of y = x · wᵀ (model/gemm.cpp drives it):
  //   y[m * ldy + j] (+)= Σ_k x[k * 32 + m] · w[j * ldw + k]   for m < mr ≤ 32, j < nr ≤ kGemmNr, k < kc
  // x is a packed activation panel [kc][32] (m fastest, lanes ≥ mr zero), w
  // holds dequantized weight rows. With xs (activation scales [kc/128][32],
  // kc a multiple of 128) each 128-long partial sum is multiplied by its
  // row's scale before it is added, as the FP8 GEMM promotes (spec §5.1).
  // accumulate: add to y instead of overwriting it.
  void (*gemm_tile)(const float* x, const float* xs, const float* w, int64_t ldw, int64_t kc, int mr, int nr,
                    bool accumulate, float* y, int64_t ldy);
  // The same products for ONE activation row, bitwise equal to gemm_tile's
  // (each output's sum in k order, the same promotion), for decode: x is the
  // row ([kc], contiguous), xs its scales ([kc/128]) or null, w up to
  // kGemvNr dequantized rows; y[j] (+)= ... for j < nr. nullptr in a table
  // without it (gemm_tile is used then).
  void (*gemv_tile)(const float* x, const float* xs, const float* w, int64_t ldw, int64_t kc, int nr, bool accumulate,
                    float* y);
  // Attention over shared rows (one KV row serves every head of a query):
  // out[h] = Σ_i q[h * n + i] · r[i] for h < nq; and for the rows j < nrows in
  // order (null rows skipped) acc[h * n + i] += p[j * np + h] · r_j[i], each
  // step a multiply then an add.
  void (*dots)(const float* r, const float* q, int64_t nq, int64_t n, float* out);
  void (*axpys)(const float* const* rows, int64_t nrows, const float* p, int64_t np, float* acc, int64_t n);
};

// Activation-quantised FP8/FP4 linears (spec §5.1) on bf16 dot products.
// Every operand is exact in bf16: the quantised input x is an e4m3 value times
// its power-of-two scale, a weight an e4m3/e2m1 value times its power-of-two
// scale; so both scales are folded into the operands, every product is exact,
// and only the fp32 sums round. The sum order, for every output, whatever the
// tile shape or M: 16 lanes, lane l accumulates the pairs (k = 32s + 2l + 1,
// k = 32s + 2l) for s = 0, 1, ... over the whole K (VDPBF16PS order), then
// lanes are added by halves (8+8, 4+4, 2+2, 1+1). tile() and gemv() keep that
// order, so their results are bitwise equal; they differ from the fp32 path
// only by that reassociation. Scales outside the exact range (values would
// leave bf16's normal range: never in a real checkpoint) make the weight
// functions return false, and gemm.cpp then takes the fp32 path instead.
struct Bf16QuantKernels {
  const char* name;
  // Rows [n0, n0 + nr) of w (FP8 or FP4) as bf16 bits with the scales folded
  // in, into out [nr][w.cols]. false: a scale outside the exact range.
  bool (*weights_bf16)(const QMatrix& w, int64_t n0, int nr, uint16_t* out);
  // y[m * ldy + j] = Σ_k x[m * ldx + k] · w[j * ldw + k], m < mr ≤ 4, j < nr ≤ 4,
  // k < K (K a multiple of 32), in the order above.
  void (*tile)(const uint16_t* x, int64_t ldx, const uint16_t* w, int64_t ldw, int64_t K, int mr, int nr, float* y,
               int64_t ldy);
  // The same outputs for weight rows [n0, n0 + nr) read straight from w's
  // codes (no bf16 copy): bitwise tile(x, weights_bf16(w)). mr ≤ 4, nr ≤ 4.
  // false: a scale outside the exact range (y is then unspecified).
  bool (*gemv)(const QMatrix& w, int64_t n0, int nr, const uint16_t* x, int64_t ldx, int mr, float* y, int64_t ldy);
};

// Bf16QuantKernels tile bounds.
constexpr int kBf16Mr = 4;
constexpr int kBf16Nr = 4;

// nullptr when the CPU (or compiler) lacks AVX-512 BF16.
const Bf16QuantKernels* avx512_bf16_quant_kernels();
// false when V4RT_KERNELS caps the choice below AVX-512 BF16.
bool bf16_quant_allowed();

const Kernels& scalar_kernels();
// The fastest table this CPU supports (chosen once).
const Kernels& best_kernels();
// Implemented in avx2.cpp / avx512.cpp; nullptr when the compiler cannot build them.
const Kernels* avx2_kernels();
const Kernels* avx512_kernels();

}  // namespace v4rt::model::kernels
