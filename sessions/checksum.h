// Checksums and hashes for the session store: CRC32C (Castagnoli) for block
// integrity, and a 64-bit non-cryptographic hash for the token hash chain.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace v4rt::sessions {

// CRC32C of `data`, continuing from `crc` (0 to start). Uses SSE4.2 when the
// CPU has it, else a table-driven loop; both give the same value.
uint32_t crc32c(std::string_view data, uint32_t crc = 0);
// The portable table-driven implementation (the oracle for the fast path).
uint32_t crc32c_portable(std::string_view data, uint32_t crc = 0);

// 64-bit hash of `data` with `seed`. Stable across platforms and versions
// (hashes are stored on disk): changing it requires a store format bump.
uint64_t hash64(std::string_view data, uint64_t seed);
uint64_t hash64(std::span<const int32_t> tokens, uint64_t seed);

// "0123abcd...": 16 lowercase hex digits.
std::string_view hex64(uint64_t v, char (&buf)[17]);

}  // namespace v4rt::sessions
