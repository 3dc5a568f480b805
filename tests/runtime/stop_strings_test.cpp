#include "runtime/stop_strings.h"

#include <gtest/gtest.h>

namespace v4rt::runtime {
namespace {

std::string feed_all(StopStringMatcher& m, const std::vector<std::string>& pieces, bool* stopped) {
  std::string out;
  *stopped = false;
  for (const auto& p : pieces) {
    auto s = m.feed(p);
    out += s.emit;
    if (s.stopped) {
      *stopped = true;
      return out;
    }
  }
  return out + m.finish();
}

TEST(StopStringMatcherTest, StopsAcrossPieceBoundariesAndHoldsBackPrefixes) {
  StopStringMatcher m({"</end>"});
  auto a = m.feed("hello </");
  EXPECT_EQ(a.emit, "hello ");  // "</" could start the stop string
  EXPECT_FALSE(a.stopped);
  auto b = m.feed("en");
  EXPECT_EQ(b.emit, "");
  auto c = m.feed("d> tail");
  EXPECT_TRUE(c.stopped);
  EXPECT_EQ(c.emit, "");
  EXPECT_EQ(m.text(), "hello ");
}

TEST(StopStringMatcherTest, ReleasesHeldTextWhenItDoesNotMatch) {
  StopStringMatcher m({"STOP"});
  bool stopped;
  EXPECT_EQ(feed_all(m, {"a S", "T", "x ST"}, &stopped), "a STx ST");
  EXPECT_FALSE(stopped);
}

TEST(StopStringMatcherTest, EarliestOfSeveralStopsWins) {
  StopStringMatcher m({"bb", "abc"});
  bool stopped;
  EXPECT_EQ(feed_all(m, {"xxab", "cbb"}, &stopped), "xx");
  EXPECT_TRUE(stopped);
}

TEST(StopStringMatcherTest, NeverSplitsUtf8AndWorksWithoutStops) {
  StopStringMatcher m({});
  const std::string e = "\xC3\xA9";  // é
  auto a = m.feed("caf" + e.substr(0, 1));
  EXPECT_EQ(a.emit, "caf");
  auto b = m.feed(e.substr(1));
  EXPECT_EQ(b.emit, e);
  EXPECT_EQ(m.finish(), "");
}

TEST(StopStringMatcherTest, StopInsideOnePiece) {
  StopStringMatcher m({"\n\n"});
  auto a = m.feed("line one\n\nline two");
  EXPECT_TRUE(a.stopped);
  EXPECT_EQ(a.emit, "line one");
  EXPECT_TRUE(m.feed("more").stopped);
}

}  // namespace
}  // namespace v4rt::runtime
