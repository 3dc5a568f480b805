#include "tools/glob_match.h"

#include <gtest/gtest.h>

#include "tools/file_walker.h"

namespace v4rt::tools {
namespace {

TEST(GlobMatchTest, StarStaysInsideADirectory) {
  EXPECT_TRUE(glob_match("*.cpp", "a.cpp"));
  EXPECT_FALSE(glob_match("*.cpp", "src/a.cpp"));
  EXPECT_TRUE(glob_match("src/*.cpp", "src/a.cpp"));
  EXPECT_FALSE(glob_match("src/*.cpp", "src/x/a.cpp"));
  EXPECT_TRUE(glob_match("a?c", "abc"));
  EXPECT_FALSE(glob_match("a?c", "a/c"));
}

TEST(GlobMatchTest, DoubleStarCrossesDirectories) {
  EXPECT_TRUE(glob_match("**/*.cpp", "a.cpp"));
  EXPECT_TRUE(glob_match("**/*.cpp", "src/x/a.cpp"));
  EXPECT_TRUE(glob_match("src/**", "src/x/a.cpp"));
  EXPECT_TRUE(glob_match("src/**/a.cpp", "src/a.cpp"));
  EXPECT_TRUE(glob_match("src/**/a.cpp", "src/x/y/a.cpp"));
  EXPECT_FALSE(glob_match("src/**/a.cpp", "lib/a.cpp"));
}

TEST(GlobMatchTest, Classes) {
  EXPECT_TRUE(glob_match("[abc].txt", "b.txt"));
  EXPECT_FALSE(glob_match("[!abc].txt", "b.txt"));
  EXPECT_TRUE(glob_match("f[0-9]", "f7"));
  EXPECT_TRUE(glob_match("[", "["));  // malformed class is literal
}

TEST(GitignoreRulesTest, BasenameAnchoredNegationAndDirOnly) {
  GitignoreRules r;
  r.add_file("", "# comment\n*.o\n/build\nlogs/\n!keep.o\ndocs/*.tmp\n");
  EXPECT_TRUE(r.ignored("a.o", false));
  EXPECT_TRUE(r.ignored("src/x/a.o", false));
  EXPECT_FALSE(r.ignored("keep.o", false));
  EXPECT_TRUE(r.ignored("build", true));
  EXPECT_FALSE(r.ignored("src/build", true));  // anchored to the root
  EXPECT_TRUE(r.ignored("logs", true));
  EXPECT_FALSE(r.ignored("logs", false));  // dir-only rule
  EXPECT_TRUE(r.ignored("docs/a.tmp", false));
  EXPECT_FALSE(r.ignored("a.tmp", false));
  r.add_file("sub", "*.txt\n");
  EXPECT_TRUE(r.ignored("sub/a.txt", false));
  EXPECT_FALSE(r.ignored("a.txt", false));
}

}  // namespace
}  // namespace v4rt::tools
