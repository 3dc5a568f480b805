// Linear layers, RMSNorm and the quantisation simulations (spec §3.0, §5.1-5.4, §5.7).
#include <cmath>
#include <vector>

#include "model/dequant.h"
#include "model/layers.h"
#include "model/numerics.h"
#include "base/thread_pool.h"

namespace v4rt::model {

void Ctx::parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& fn, int64_t grain) const {
  if (n <= 0) return;
  if (pool == nullptr || pool->size() <= 1 || n <= grain) {
    fn(0, n);
    return;
  }
  pool->parallel_for(
      static_cast<size_t>(n), [&](size_t b, size_t e) { fn(static_cast<int64_t>(b), static_cast<int64_t>(e)); },
      static_cast<size_t>(grain));
}

namespace {

// e4m3 value of x/s clamped to ±448 (x/s exact: s is a power of two).
inline float fp8_round(float x, float s) { return e4m3_round(std::fmin(std::fmax(x / s, -448.0f), 448.0f)); }

}  // namespace

void linear(const Ctx& ctx, const QMatrix& w, const float* x, int64_t M, float* y) {
  const bool quantized = w.kind == kernels::WKind::kFP8 || w.kind == kernels::WKind::kFP4;
  gemm(ctx, w, x, M, quantized && ctx.act_quant, y);
}

void linear_gemv(const Ctx& ctx, const QMatrix& w, const float* x, int64_t M, float* y) {
  const int64_t K = w.cols, N = w.rows;
  const bool quantized = w.kind == kernels::WKind::kFP8 || w.kind == kernels::WKind::kFP4;
  const bool aq = quantized && ctx.act_quant;
  // Activation quantisation: per row, blocks of 128, ue8m0 scales.
  std::vector<float> xq, xs;
  const float* xin = x;
  if (aq) {
    const int64_t nb = K / 128;
    xq.resize(static_cast<size_t>(M * K));
    xs.resize(static_cast<size_t>(M * nb));
    for (int64_t m = 0; m < M; ++m) {
      for (int64_t b = 0; b < nb; ++b) {
        const float* p = x + m * K + b * 128;
        float amax = 0.0f;
        for (int i = 0; i < 128; ++i) amax = std::fmax(amax, std::fabs(p[i]));
        float s = fp8_block_scale(amax);
        xs[static_cast<size_t>(m * nb + b)] = s;
        for (int i = 0; i < 128; ++i) xq[static_cast<size_t>(m * K + b * 128 + i)] = fp8_round(p[i], s);
      }
    }
    xin = xq.data();
  }
  const kernels::Kernels& kk = ctx.k;
  if (w.kind == kernels::WKind::kBF16 && M <= 2) {  // decode: fused bf16 dot, no decoded copy
    const uint16_t* wb = w.bf16_row(0);
    ctx.parallel_for(
        N,
        [&](int64_t n0, int64_t n1) {
          for (int64_t n = n0; n < n1; ++n)
            for (int64_t m = 0; m < M; ++m) y[m * N + n] = kk.dot_bf16(x + m * K, wb + n * K, K);
        },
        std::max<int64_t>(16, 16384 / std::max<int64_t>(1, K)));
    return;
  }
  // Rows are decoded in tiles of kRows (each weight row decoded once per call),
  // and every activation row is used against the whole tile while it is hot.
  constexpr int64_t kRows = 8;
  const int64_t blk = w.block();
  const int64_t nb = quantized ? (K + blk - 1) / blk : 1;
  const int64_t grain = std::max<int64_t>(kRows, 4096 / std::max<int64_t>(1, K));
  ctx.parallel_for(
      N,
      [&](int64_t n0, int64_t n1) {
        std::vector<float> vals(static_cast<size_t>(kRows * K));
        std::vector<float> sc(static_cast<size_t>(kRows * (K / 32 + 2)));
        const int64_t scw = K / 32 + 2;
        for (int64_t t0 = n0; t0 < n1; t0 += kRows) {
          const int64_t t1 = std::min(n1, t0 + kRows);
          for (int64_t n = t0; n < t1; ++n) {
            float* v = vals.data() + (n - t0) * K;
            float* sp = sc.data() + (n - t0) * scw;
            kk.decode_row(w, n, v, sp);
            if (quantized && !aq) {
              for (int64_t b = 0; b < nb; ++b) {
                const float s = sp[b];
                const int64_t e = std::min(K, (b + 1) * blk);
                for (int64_t i = b * blk; i < e; ++i) v[i] *= s;
              }
            }
          }
          for (int64_t m = 0; m < M; ++m) {
            const float* xr = xin + m * K;
            for (int64_t n = t0; n < t1; ++n) {
              const float* v = vals.data() + (n - t0) * K;
              if (aq) {
                const float* sp = sc.data() + (n - t0) * scw;
                const int64_t per_act = 128 / blk;  // weight blocks per activation block
                const float* xsr = xs.data() + m * (K / 128);
                float acc = 0.0f;
                for (int64_t b = 0; b < nb; ++b) acc += kk.dot(xr + b * blk, v + b * blk, blk) * (xsr[b / per_act] * sp[b]);
                y[m * N + n] = acc;
              } else {
                y[m * N + n] = kk.dot(xr, v, K);
              }
            }
          }
        }
      },
      grain);
}

// The sum of squares is accumulated in double: torch's cascade sum is close to
// exact, and a one-ulp difference here can flip a later FP8 rounding tie.
void rms_norm(const float* x, const float* w, int64_t n, float eps, float* y) {
  double ssd = 0.0;
  for (int64_t i = 0; i < n; ++i) ssd += static_cast<double>(x[i] * x[i]);
  const float ss = static_cast<float>(ssd);
  const float r = 1.0f / std::sqrt(ss / static_cast<float>(n) + eps);
  for (int64_t i = 0; i < n; ++i) y[i] = w[i] * (x[i] * r);
}

void fp8_quantize(const float* x, int64_t n, int64_t block, uint8_t* codes, uint8_t* scales) {
  for (int64_t b = 0; b < n / block; ++b) {
    const float* p = x + b * block;
    float amax = 0.0f;
    for (int64_t i = 0; i < block; ++i) amax = std::fmax(amax, std::fabs(p[i]));
    const float s = fp8_block_scale(amax);
    scales[b] = pow2_to_e8m0(s);
    for (int64_t i = 0; i < block; ++i) {
      float v = std::fmin(std::fmax(p[i] / s, -448.0f), 448.0f);
      codes[b * block + i] = e4m3_encode_exact(e4m3_round(v));
    }
  }
}

// Each block through the vector row decoder (a row of <= 128 uses one scale).
void fp8_dequantize(const uint8_t* codes, const uint8_t* scales, int64_t n, int64_t block, float* y) {
  const DequantKernels& dq = best_dequant();
  for (int64_t b = 0; b < n / block; ++b)
    dq.fp8_row(codes + b * block, scales + b, static_cast<size_t>(block), y + b * block);
}

void fp4_quantize(const float* x, int64_t n, uint8_t* packed, uint8_t* scales) {
  for (int64_t b = 0; b < n / 32; ++b) {
    const float* p = x + b * 32;
    float amax = 0.0f;
    for (int i = 0; i < 32; ++i) amax = std::fmax(amax, std::fabs(p[i]));
    const float s = fp4_block_scale(amax);
    scales[b] = pow2_to_e8m0(s);
    for (int i = 0; i < 32; i += 2) {
      float v0 = std::fmin(std::fmax(p[i] / s, -6.0f), 6.0f);
      float v1 = std::fmin(std::fmax(p[i + 1] / s, -6.0f), 6.0f);
      packed[(b * 32 + i) / 2] = static_cast<uint8_t>(f32_to_e2m1(v0) | (f32_to_e2m1(v1) << 4));
    }
  }
}

void fp4_dequantize(const uint8_t* packed, const uint8_t* scales, int64_t n, float* y) {
  for (int64_t b = 0; b < n / 32; ++b) {
    const float s = e8m0_to_f32(scales[b]);
    for (int i = 0; i < 32; i += 2) {
      uint8_t c = packed[(b * 32 + i) / 2];
      y[b * 32 + i] = e2m1_to_f32(c & 0xf) * s;
      y[b * 32 + i + 1] = e2m1_to_f32(c >> 4) * s;
    }
  }
}

void fp4_qdq(float* x, int64_t n) {
  std::vector<uint8_t> packed(static_cast<size_t>(n / 2)), sc(static_cast<size_t>(n / 32));
  fp4_quantize(x, n, packed.data(), sc.data());
  fp4_dequantize(packed.data(), sc.data(), n, x);
}

void hadamard(float* x, int64_t n) {
  for (int64_t h = 1; h < n; h *= 2) {
    for (int64_t i = 0; i < n; i += 2 * h) {
      for (int64_t j = i; j < i + h; ++j) {
        const float a = x[j], b = x[j + h];
        x[j] = a + b;
        x[j + h] = a - b;
      }
    }
  }
  const float s = static_cast<float>(1.0 / std::sqrt(static_cast<double>(n)));
  for (int64_t i = 0; i < n; ++i) x[i] *= s;
}

// ---- row codecs (state_impl.h) -------------------------------------------------
void KvCodec::encode(float* x, uint8_t* out) const {
  fp8_quantize(x, nope, 64, out, out + nope);
  fp8_dequantize(out, out + nope, nope, 64, x);
  std::memcpy(out + nope + nope / 64, x + nope, static_cast<size_t>(rope) * 4);
}

void KvCodec::decode(const uint8_t* in, float* x) const {
  fp8_dequantize(in, in + nope, nope, 64, x);
  std::memcpy(x + nope, in + nope + nope / 64, static_cast<size_t>(rope) * 4);
}

void IdxCodec::encode(float* x, uint8_t* out) const {
  fp4_quantize(x, dim, out, out + dim / 2);
  fp4_dequantize(out, out + dim / 2, dim, x);
}

void IdxCodec::decode(const uint8_t* in, float* x) const { fp4_dequantize(in, in + dim / 2, dim, x); }

}  // namespace v4rt::model
