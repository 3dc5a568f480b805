#include "tool_fixture.h"

namespace v4rt::tools {
namespace {

class ApplyPatchToolTest : public ToolFixture {};

TEST_F(ApplyPatchToolTest, AppliesHunksNewAndDeletedFiles) {
  put("a.txt", "one\ntwo\nthree\nfour\nfive\n");
  put("gone.txt", "bye\n");
  std::string patch =
      "diff --git a/a.txt b/a.txt\n"
      "--- a/a.txt\n+++ b/a.txt\n"
      "@@ -1,3 +1,3 @@\n one\n-two\n+TWO\n three\n"
      "@@ -4,2 +4,3 @@\n four\n five\n+six\n"
      "--- /dev/null\n+++ b/new/b.txt\n@@ -0,0 +1,2 @@\n+hello\n+world\n"
      "--- a/gone.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-bye\n";
  auto r = call("apply_patch", {{"patch", patch}});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(get("a.txt"), "one\nTWO\nthree\nfour\nfive\nsix\n");
  EXPECT_EQ(get("new/b.txt"), "hello\nworld\n");
  EXPECT_FALSE(std::filesystem::exists(root() / "gone.txt"));
}

TEST_F(ApplyPatchToolTest, ToleratesShiftedLineNumbers) {
  put("a.txt", "x\ny\none\ntwo\nthree\n");
  auto r = call("apply_patch", {{"patch", "--- a/a.txt\n+++ b/a.txt\n@@ -1,3 +1,3 @@\n one\n-two\n+2\n three\n"}});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(get("a.txt"), "x\ny\none\n2\nthree\n");
}

TEST_F(ApplyPatchToolTest, AllOrNothing) {
  put("a.txt", "one\ntwo\n");
  put("b.txt", "alpha\n");
  std::string patch =
      "--- a/a.txt\n+++ b/a.txt\n@@ -1,2 +1,2 @@\n one\n-two\n+2\n"
      "--- a/b.txt\n+++ b/b.txt\n@@ -1 +1 @@\n-beta\n+gamma\n";
  auto r = call("apply_patch", {{"patch", patch}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("does not apply to b.txt"), std::string::npos) << r.status().message();
  EXPECT_EQ(get("a.txt"), "one\ntwo\n");
}

TEST_F(ApplyPatchToolTest, RefusesEscapesAndGarbage) {
  EXPECT_FALSE(call("apply_patch", {{"patch", "--- /dev/null\n+++ b/../evil.txt\n@@ -0,0 +1 @@\n+x\n"}}).ok());
  EXPECT_FALSE(call("apply_patch", {{"patch", "--- /dev/null\n+++ /tmp/evil.txt\n@@ -0,0 +1 @@\n+x\n"}}).ok());
  auto r = call("apply_patch", {{"patch", "just some text"}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("unified diff"), std::string::npos);
  EXPECT_FALSE(call("apply_patch", {{"patch", "--- a/x\n+++ b/x\n@@ -1,3 +1,3 @@\n a\n"}}).ok());
}

}  // namespace
}  // namespace v4rt::tools
