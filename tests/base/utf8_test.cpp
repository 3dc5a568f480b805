#include "base/utf8.h"

#include <gtest/gtest.h>

#include <string>

namespace v4rt::utf8 {
namespace {

TEST(Utf8Test, EncodeDecodeRoundTripAtEveryLengthBoundary) {
  for (uint32_t cp : {0x0u, 0x7Fu, 0x80u, 0x7FFu, 0x800u, 0xFFFFu, 0x10000u, 0x10FFFFu, 0xFF5Cu, 0x2581u}) {
    std::string s;
    append(s, cp);
    EXPECT_EQ(s.size(), cp < 0x80 ? 1u : cp < 0x800 ? 2u : cp < 0x10000 ? 3u : 4u) << cp;
    uint32_t back = 0;
    ASSERT_EQ(decode(s, 0, back), s.size()) << cp;
    EXPECT_EQ(back, cp);
    EXPECT_TRUE(is_valid(s));
  }
  EXPECT_EQ(std::string("\xEF\xBD\x9C"), [] { std::string s; append(s, 0xFF5C); return s; }());
}

TEST(Utf8Test, DecodeRejectsOverlongSurrogateTruncatedAndOutOfRange) {
  uint32_t cp = 0;
  EXPECT_EQ(decode("\xC0\xAF", 0, cp), 0u);          // overlong '/'
  EXPECT_EQ(decode("\xED\xA0\x80", 0, cp), 0u);      // U+D800
  EXPECT_EQ(decode("\xE2\x96", 0, cp), 0u);          // truncated
  EXPECT_EQ(decode("\xF4\x90\x80\x80", 0, cp), 0u);  // > U+10FFFF
  EXPECT_EQ(decode("\x80", 0, cp), 0u);              // lone continuation
  EXPECT_EQ(decode("a\xE2\x96\x81", 1, cp), 3u);
  EXPECT_EQ(cp, 0x2581u);
}

TEST(Utf8Test, ValidPrefixStopsAtTheFirstBadSequence) {
  EXPECT_EQ(valid_prefix("abcdefghij\xE2\x96\x81xyz"), 16u);
  EXPECT_EQ(valid_prefix("abcdefghij\xE2\x96"), 10u);
  EXPECT_EQ(valid_prefix("ab\xC0\xAF"), 2u);
  EXPECT_EQ(valid_prefix("ab\xED\xA0\x80"), 2u);
  EXPECT_EQ(valid_prefix("\xF0\x9F\x98\x80"), 4u);
  EXPECT_FALSE(is_valid("\xFF"));
  EXPECT_TRUE(is_valid(""));
}

TEST(Utf8Test, FloorMovesBackToTheLeadByte) {
  const std::string s = "a\xE2\x96\x81" "b";
  EXPECT_EQ(floor(s, 0), 0u);
  EXPECT_EQ(floor(s, 1), 1u);
  EXPECT_EQ(floor(s, 2), 1u);
  EXPECT_EQ(floor(s, 3), 1u);
  EXPECT_EQ(floor(s, 4), 4u);
  EXPECT_EQ(floor(s, 99), 99u);  // past the end: unchanged
}

TEST(Utf8Test, IncompleteTailCountsTheBytesToHoldBack) {
  EXPECT_EQ(incomplete_tail(""), 0u);
  EXPECT_EQ(incomplete_tail("abc"), 0u);
  EXPECT_EQ(incomplete_tail("a\xE2"), 1u);
  EXPECT_EQ(incomplete_tail("a\xE2\x96"), 2u);
  EXPECT_EQ(incomplete_tail("a\xE2\x96\x81"), 0u);
  EXPECT_EQ(incomplete_tail("a\xF0\x9F\x98"), 3u);
  EXPECT_EQ(incomplete_tail("a\x80\x80\x80"), 0u);  // no lead within 3 bytes: nothing to wait for
  EXPECT_EQ(sequence_length('a'), 1u);
  EXPECT_EQ(sequence_length(0x80), 1u);
  EXPECT_EQ(sequence_length(0xC3), 2u);
  EXPECT_EQ(sequence_length(0xE2), 3u);
  EXPECT_EQ(sequence_length(0xF0), 4u);
  EXPECT_TRUE(is_continuation(0xBF));
  EXPECT_FALSE(is_continuation(0xC0));
}

}  // namespace
}  // namespace v4rt::utf8
