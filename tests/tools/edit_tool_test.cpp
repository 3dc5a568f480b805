#include "tool_fixture.h"

namespace v4rt::tools {
namespace {

class EditToolTest : public ToolFixture {};

TEST_F(EditToolTest, ReplacesUniqueText) {
  put("a.py", "def f():\n    return 1\n\ndef g():\n    return 2\n");
  auto r = call("edit", {{"path", "a.py"}, {"old", "return 1"}, {"new", "return 10"}});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(get("a.py"), "def f():\n    return 10\n\ndef g():\n    return 2\n");
  EXPECT_NE(r->text.find("2\t    return 10"), std::string::npos) << r->text;
}

TEST_F(EditToolTest, AmbiguousTextIsRefusedWithLines) {
  put("a.py", "x = 1\ny = 2\nx = 1\n");
  auto r = call("edit", {{"path", "a.py"}, {"old", "x = 1"}, {"new", "x = 3"}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("occurs 2 times"), std::string::npos);
  EXPECT_NE(r.status().message().find("lines 1, 3"), std::string::npos);
  EXPECT_EQ(get("a.py"), "x = 1\ny = 2\nx = 1\n");
}

TEST_F(EditToolTest, WhitespaceTolerantWhenUnambiguous) {
  put("a.py", "def f():\n    if x:   \n        return 1\n");
  // Model wrote the block with 2-space indentation and no trailing spaces.
  auto r = call("edit", {{"path", "a.py"}, {"old", "  if x:\n      return 1\n"}, {"new", "  if y:\n      return 2\n"}});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(get("a.py"), "def f():\n    if y:\n        return 2\n");
  EXPECT_NE(r->text.find("ignoring whitespace"), std::string::npos);
}

TEST_F(EditToolTest, WhitespaceTolerantRefusesAmbiguity) {
  put("a.py", "  a = 1\n    a = 1\n");
  auto r = call("edit", {{"path", "a.py"}, {"old", "a  =  1"}, {"new", "a = 2"}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("matches 2 places"), std::string::npos) << r.status().message();
}

TEST_F(EditToolTest, NotFoundSaysWhatToDo) {
  put("a.py", "alpha\nbeta\n");
  auto r = call("edit", {{"path", "a.py"}, {"old", "gamma"}, {"new", "delta"}});
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().is_not_found());
  EXPECT_NE(r.status().message().find("read the file"), std::string::npos);
}

TEST_F(EditToolTest, LineEditNeedsARead) {
  put("a.txt", "1\n2\n3\n");
  auto r = call("edit", {{"path", "a.txt"}, {"start_line", 2}, {"end_line", 2}, {"new", "two"}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("never shown"), std::string::npos) << r.status().message();
  ASSERT_TRUE(call("read", {{"path", "a.txt"}}).ok());
  r = call("edit", {{"path", "a.txt"}, {"start_line", 2}, {"end_line", 2}, {"new", "two"}});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(get("a.txt"), "1\ntwo\n3\n");
}

TEST_F(EditToolTest, LineEditOnlyOfShownLines) {
  put("a.txt", "1\n2\n3\n4\n");
  ASSERT_TRUE(call("read", {{"path", "a.txt"}, {"limit", 2}}).ok());
  auto r = call("edit", {{"path", "a.txt"}, {"start_line", 2}, {"end_line", 3}, {"new", "x"}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("line 3 was never shown"), std::string::npos) << r.status().message();
}

TEST_F(EditToolTest, StaleLineEditIsRefused) {
  put("a.txt", "1\n2\n3\n");
  ASSERT_TRUE(call("read", {{"path", "a.txt"}}).ok());
  put("a.txt", "1\nchanged\n3\n");  // someone else changed line 2
  auto r = call("edit", {{"path", "a.txt"}, {"start_line", 2}, {"end_line", 2}, {"new", "two"}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("changed since you last read it"), std::string::npos);
  EXPECT_EQ(get("a.txt"), "1\nchanged\n3\n");
}

TEST_F(EditToolTest, LineNumbersFollowOwnEdits) {
  put("a.txt", "1\n2\n3\n4\n5\n");
  ASSERT_TRUE(call("read", {{"path", "a.txt"}}).ok());
  // Insert two lines before line 2: old line 4 is now line 6, still known.
  ASSERT_TRUE(call("edit", {{"path", "a.txt"}, {"start_line", 2}, {"end_line", 1}, {"new", "a\nb"}}).ok());
  EXPECT_EQ(get("a.txt"), "1\na\nb\n2\n3\n4\n5\n");
  auto r = call("edit", {{"path", "a.txt"}, {"start_line", 6}, {"end_line", 6}, {"new", "four"}});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(get("a.txt"), "1\na\nb\n2\n3\nfour\n5\n");
  // Delete lines 2-3.
  ASSERT_TRUE(call("edit", {{"path", "a.txt"}, {"start_line", 2}, {"end_line", 3}, {"new", ""}}).ok());
  EXPECT_EQ(get("a.txt"), "1\n2\n3\nfour\n5\n");
}

TEST_F(EditToolTest, BadRangesAndMixedModes) {
  put("a.txt", "1\n2\n");
  ASSERT_TRUE(call("read", {{"path", "a.txt"}}).ok());
  EXPECT_FALSE(call("edit", {{"path", "a.txt"}, {"start_line", 3}, {"end_line", 5}, {"new", "x"}}).ok());
  EXPECT_FALSE(call("edit", {{"path", "a.txt"}, {"start_line", 2}, {"new", "x"}}).ok());
  EXPECT_FALSE(call("edit", {{"path", "a.txt"}, {"old", "1"}, {"start_line", 1}, {"end_line", 1}, {"new", "x"}}).ok());
  EXPECT_FALSE(call("edit", {{"path", "a.txt"}, {"old", ""}, {"new", "x"}}).ok());
  EXPECT_EQ(get("a.txt"), "1\n2\n");
}

TEST_F(EditToolTest, RefusesProtectedPathsAndSymlinks) {
  put(".git/config", "[core]\n");
  auto r = call("edit", {{"path", ".git/config"}, {"old", "[core]"}, {"new", "[core]\n\thooksPath = x"}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("is protected"), std::string::npos) << r.status().message();
  EXPECT_EQ(get(".git/config"), "[core]\n");
  put("real.txt", "old\n");
  std::filesystem::create_symlink("real.txt", root() / "alias.txt");
  auto s = call("edit", {{"path", "alias.txt"}, {"old", "old"}, {"new", "new"}});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("is a symlink"), std::string::npos) << s.status().message();
  EXPECT_EQ(get("real.txt"), "old\n");
  EXPECT_TRUE(std::filesystem::is_symlink(root() / "alias.txt"));
}

}  // namespace
}  // namespace v4rt::tools
