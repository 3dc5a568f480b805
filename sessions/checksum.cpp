#include "sessions/checksum.h"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace v4rt::sessions {
namespace {

constexpr uint32_t kCrc32cPoly = 0x82F63B78u;  // reflected Castagnoli polynomial

constexpr std::array<uint32_t, 256> make_crc_table() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ kCrc32cPoly : c >> 1;
    t[i] = c;
  }
  return t;
}
constexpr std::array<uint32_t, 256> kCrcTable = make_crc_table();

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) uint32_t crc32c_sse42(std::string_view data, uint32_t crc) {
  uint64_t c = ~crc;
  const char* p = data.data();
  size_t n = data.size();
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    c = _mm_crc32_u64(c, w);
    p += 8;
    n -= 8;
  }
  uint32_t c32 = static_cast<uint32_t>(c);
  while (n--) c32 = _mm_crc32_u8(c32, static_cast<uint8_t>(*p++));
  return ~c32;
}
#endif

inline uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }
// Final avalanche (the MurmurHash3 64-bit finalizer constants).
inline uint64_t fmix(uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdULL;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53ULL;
  k ^= k >> 33;
  return k;
}
constexpr uint64_t kM1 = 0x9E3779B185EBCA87ULL;
constexpr uint64_t kM2 = 0xC2B2AE3D27D4EB4FULL;

}  // namespace

uint32_t crc32c_portable(std::string_view data, uint32_t crc) {
  uint32_t c = ~crc;
  for (unsigned char b : data) c = kCrcTable[(c ^ b) & 0xFF] ^ (c >> 8);
  return ~c;
}

uint32_t crc32c(std::string_view data, uint32_t crc) {
#if defined(__x86_64__)
  if (__builtin_cpu_supports("sse4.2")) return crc32c_sse42(data, crc);
#endif
  return crc32c_portable(data, crc);
}

uint64_t hash64(std::string_view data, uint64_t seed) {
  // Little-endian 8-byte words, multiply-rotate mixing, length folded in.
  uint64_t h = fmix(seed ^ kM2) ^ (static_cast<uint64_t>(data.size()) * kM1);
  const char* p = data.data();
  size_t n = data.size();
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    h ^= rotl(w * kM2, 31) * kM1;
    h = rotl(h, 27) * kM1 + 0x52dce729;
    p += 8;
    n -= 8;
  }
  uint64_t last = 0;
  for (size_t i = 0; i < n; ++i) last |= static_cast<uint64_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  h ^= rotl(last * kM2, 31) * kM1;
  return fmix(h);
}

uint64_t hash64(std::span<const int32_t> tokens, uint64_t seed) {
  static_assert(sizeof(int32_t) == 4);
  return hash64(std::string_view(reinterpret_cast<const char*>(tokens.data()), tokens.size() * 4), seed);
}

std::string_view hex64(uint64_t v, char (&buf)[17]) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (int i = 15; i >= 0; --i) {
    buf[i] = kDigits[v & 0xF];
    v >>= 4;
  }
  buf[16] = 0;
  return std::string_view(buf, 16);
}

}  // namespace v4rt::sessions
