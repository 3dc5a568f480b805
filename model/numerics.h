// Number formats of DeepSeek-V4 (spec §2.2, §5.1, §5.2): bf16, e4m3fn, e8m0,
// e2m1, and the power-of-two (ue8m0) scale rule. Scalar, exact, header-only:
// these are the oracle every vectorized kernel is tested against.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

namespace v4rt::model {

// ---- bfloat16 -------------------------------------------------------------
inline uint16_t f32_to_bf16_bits(float x) {
  uint32_t u = std::bit_cast<uint32_t>(x);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40);  // quiet NaN
  uint32_t rounding = 0x7fffu + ((u >> 16) & 1u);  // round to nearest, ties to even
  return static_cast<uint16_t>((u + rounding) >> 16);
}
inline float bf16_bits_to_f32(uint16_t b) { return std::bit_cast<float>(static_cast<uint32_t>(b) << 16); }
// bf16(x): x rounded to the nearest bfloat16, returned as float.
inline float round_bf16(float x) { return bf16_bits_to_f32(f32_to_bf16_bits(x)); }

// ---- float16 (IEEE half) --------------------------------------------------
inline float f16_bits_to_f32(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1f, man = h & 0x3ffu;
  if (exp == 0) {
    float v = std::ldexp(static_cast<float>(man), -24);
    return sign ? -v : v;
  }
  if (exp == 31) return std::bit_cast<float>(sign | 0x7f800000u | (man << 13));
  return std::bit_cast<float>(sign | ((exp + 112) << 23) | (man << 13));
}

// ---- e8m0 (unsigned exponent, 2^(e-127); 255 = NaN) ------------------------
inline float e8m0_to_f32(uint8_t e) {
  if (e == 255) return std::numeric_limits<float>::quiet_NaN();
  if (e == 0) return std::bit_cast<float>(0x00400000u);  // 2^-127 (subnormal)
  return std::bit_cast<float>(static_cast<uint32_t>(e) << 23);
}

// ---- e4m3fn (bias 7, max 448, no inf, NaN = 0x7f/0xff) ----------------------
inline float e4m3_to_f32(uint8_t b) {
  uint32_t sign = b >> 7, exp = (b >> 3) & 0xf, man = b & 7;
  float v;
  if (exp == 15 && man == 7) return std::numeric_limits<float>::quiet_NaN();
  if (exp == 0) v = std::ldexp(static_cast<float>(man), -9);  // subnormal: man/8 * 2^-6
  else v = std::ldexp(1.0f + static_cast<float>(man) / 8.0f, static_cast<int>(exp) - 7);
  return sign ? -v : v;
}

// Round-to-nearest-even to e4m3fn; |x| > 448 saturates to ±448 (callers clamp first,
// as the reference does). NaN maps to 0x7f.
inline uint8_t f32_to_e4m3(float x) {
  if (std::isnan(x)) return 0x7f;
  uint8_t sign = std::signbit(x) ? 0x80 : 0;
  float a = std::fabs(x);
  if (a >= 448.0f) return sign | 0x7e;
  // Values are multiples of 2^(e-3) for normal exponent e >= -6, of 2^-9 below.
  int e;
  std::frexp(a, &e);  // a = m * 2^e, m in [0.5, 1)
  int unbiased = e - 1;
  if (unbiased < -6) unbiased = -6;
  float quantum = std::ldexp(1.0f, unbiased - 3);
  float q = std::nearbyint(a / quantum);  // default rounding mode: nearest-even
  float r = q * quantum;
  if (r == 0.0f) return sign;
  int re;
  std::frexp(r, &re);
  int rexp = re - 1;
  if (rexp < -6) return sign | static_cast<uint8_t>(static_cast<int>(r / std::ldexp(1.0f, -9)));
  int man = static_cast<int>(r / std::ldexp(1.0f, rexp - 3)) - 8;
  return sign | static_cast<uint8_t>(((rexp + 7) << 3) | man);
}

// The e4m3fn value nearest to v (ties to even), as a float: the same value as
// e4m3_to_f32(f32_to_e4m3(v)) for |v| <= 448 (callers clamp), without libm.
// Normal range: round the fp32 mantissa to 3 bits in the integer domain (a
// carry moves into the exponent, as it should). Below 2^-6 the quantum is the
// fixed 2^-9: adding and removing 2^14 rounds there in the FPU's nearest-even.
inline float e4m3_round(float v) {
  const uint32_t u = std::bit_cast<uint32_t>(v);
  const uint32_t sign = u & 0x80000000u, mag = u & 0x7fffffffu;
  if (mag > 0x7f800000u) return v;  // NaN stays NaN
  if (mag < 0x3c800000u) {          // |v| < 2^-6
    const float a = std::bit_cast<float>(mag);
    const float r = (a + 16384.0f) - 16384.0f;
    return std::bit_cast<float>(std::bit_cast<uint32_t>(r) | sign);
  }
  const uint32_t r = (mag + 0x7ffffu + ((mag >> 20) & 1u)) & ~0xfffffu;
  return std::bit_cast<float>(r | sign);
}

// The e4m3fn byte of r, which must be an e4m3 value (e.g. from e4m3_round):
// f32_to_e4m3(r) without libm.
inline uint8_t e4m3_encode_exact(float r) {
  const uint32_t u = std::bit_cast<uint32_t>(r);
  const uint8_t sign = static_cast<uint8_t>((u >> 24) & 0x80u);
  const uint32_t mag = u & 0x7fffffffu;
  if (mag > 0x7f800000u) return 0x7f;
  if (mag < 0x3c800000u)  // below 2^-6: subnormal, r = code * 2^-9
    return sign | static_cast<uint8_t>(std::bit_cast<float>(mag) * 512.0f);
  const uint32_t e = (mag >> 23) - 120;  // biased e4m3 exponent (1..15)
  return sign | static_cast<uint8_t>((e << 3) | ((mag >> 20) & 7u));
}

// e4m3_to_f32 of every byte, computed once.
struct E4m3Table {
  float v[256];
  E4m3Table() {
    for (int i = 0; i < 256; ++i) v[i] = e4m3_to_f32(static_cast<uint8_t>(i));
  }
};
inline const float* e4m3_table() {
  static const E4m3Table t;
  return t.v;
}

// ---- e2m1 (fp4: codes 0..7 = 0, .5, 1, 1.5, 2, 3, 4, 6; bit 3 = sign) ------
inline float e2m1_to_f32(uint8_t code) {
  constexpr float kMag[8] = {0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 4.0f, 6.0f};
  float v = kMag[code & 7];
  return (code & 8) ? -v : v;
}

// Round-to-nearest-even to e2m1 after clamping to ±6 (ties to the even mantissa:
// 0.25->0, 0.75->1, 1.25->1, 1.75->2, 2.5->2, 3.5->4, 5->4).
inline uint8_t f32_to_e2m1(float x) {
  uint8_t sign = std::signbit(x) ? 8 : 0;
  float a = std::fabs(x);
  if (std::isnan(a)) return sign | 7;
  uint8_t c;
  if (a <= 0.25f) c = 0;
  else if (a < 0.75f) c = 1;
  else if (a <= 1.25f) c = 2;
  else if (a < 1.75f) c = 3;
  else if (a <= 2.5f) c = 4;
  else if (a < 3.5f) c = 5;
  else if (a <= 5.0f) c = 6;
  else c = 7;
  return sign | c;
}

// ---- power-of-two scales (ue8m0 mode) ----------------------------------------
// s = 2^ceil(log2 v), read from v's IEEE bits as the kernels do (v normal, > 0).
inline float pow2_ceil(float v) {
  uint32_t u = std::bit_cast<uint32_t>(v);
  uint32_t e = (u >> 23) & 0xffu;
  if ((u & 0x7fffffu) != 0) ++e;
  return std::bit_cast<float>(e << 23);
}
// FP8 activation scale of a block whose max |x| is amax (§5.1).
inline float fp8_block_scale(float amax) {
  amax = std::fmax(amax, 1e-4f);
  return pow2_ceil(amax * (1.0f / 448.0f));
}
// FP4 activation scale (§5.2).
inline float fp4_block_scale(float amax) {
  amax = std::fmax(amax, 6.0f * std::ldexp(1.0f, -126));
  return pow2_ceil(amax * (1.0f / 6.0f));
}
// Exponent byte (e8m0) of a power-of-two float.
inline uint8_t pow2_to_e8m0(float s) { return static_cast<uint8_t>((std::bit_cast<uint32_t>(s) >> 23) & 0xffu); }

}  // namespace v4rt::model
