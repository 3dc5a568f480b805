#include "tool_fixture.h"

#include <algorithm>

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

const char kThreeFilePatch[] =
    "--- a/a.txt\n+++ b/a.txt\n@@ -1,2 +1,2 @@\n one\n-two\n+2\n"
    "--- /dev/null\n+++ b/new/deep/c.txt\n@@ -0,0 +1 @@\n+fresh\n"
    "--- a/gone.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-bye\n"
    "--- a/old.txt\n+++ b/moved.txt\n@@ -1 +1 @@\n-m\n+M\n";

// Fault injection at every commit step: whichever step fails, the workspace is
// left exactly as it was (the steps before it are undone).
TEST_F(ApplyPatchToolTest, FailureAtAnyCommitStepChangesNothing) {
  for (int n = 1;; ++n) {
    put("a.txt", "one\ntwo\n");
    put("gone.txt", "bye\n");
    put("old.txt", "m\n");
    std::filesystem::permissions(root() / "a.txt", std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
                                                       std::filesystem::perms::owner_exec);
    std::filesystem::remove_all(root() / "new");
    std::filesystem::remove(root() / "moved.txt");
    WorkspaceOptions o;
    int step = 0;
    o.fault_injector = [&](std::string_view what) {
      return ++step == n ? Status::IoError("injected fault at " + std::string(what)) : Status::Ok();
    };
    auto ws = Workspace::open(root(), o);
    ASSERT_TRUE(ws.ok());
    ctx_.workspace = &*ws;
    auto r = call("apply_patch", {{"patch", kThreeFilePatch}});
    ctx_.workspace = ws_.get();
    if (r.ok()) {  // ran past the last step: every point was covered
      EXPECT_EQ(n, 6);
      EXPECT_EQ(get("a.txt"), "one\n2\n");
      EXPECT_EQ(get("new/deep/c.txt"), "fresh\n");
      EXPECT_FALSE(std::filesystem::exists(root() / "gone.txt"));
      EXPECT_EQ(get("moved.txt"), "M\n");
      EXPECT_FALSE(std::filesystem::exists(root() / "old.txt"));
      break;
    }
    EXPECT_NE(r.status().message().find("injected fault"), std::string::npos) << r.status().message();
    EXPECT_NE(r.status().message().find("nothing was changed"), std::string::npos) << r.status().message();
    EXPECT_EQ(get("a.txt"), "one\ntwo\n") << "fault at step " << n;
    EXPECT_EQ(std::filesystem::status(root() / "a.txt").permissions(),
              std::filesystem::perms::owner_read | std::filesystem::perms::owner_write | std::filesystem::perms::owner_exec);
    EXPECT_EQ(get("gone.txt"), "bye\n") << "fault at step " << n;
    EXPECT_EQ(get("old.txt"), "m\n") << "fault at step " << n;
    EXPECT_FALSE(std::filesystem::exists(root() / "moved.txt")) << "fault at step " << n;
    EXPECT_FALSE(std::filesystem::exists(root() / "new")) << "fault at step " << n;
    for (const auto& e : std::filesystem::recursive_directory_iterator(root()))
      EXPECT_EQ(e.path().filename().string().find(".v4rt-tmp-"), std::string::npos) << e.path();
    ASSERT_LT(n, 20);
  }
}

TEST_F(ApplyPatchToolTest, ProtectedFileInThePatchChangesNothing) {
  put("a.txt", "one\ntwo\n");
  put(".git/config", "[core]\n");
  std::string patch =
      "--- a/a.txt\n+++ b/a.txt\n@@ -1,2 +1,2 @@\n one\n-two\n+2\n"
      "--- a/.git/config\n+++ b/.git/config\n@@ -1 +1,2 @@\n [core]\n+\tfsmonitor = touch /tmp/pwned\n";
  auto r = call("apply_patch", {{"patch", patch}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("is protected"), std::string::npos) << r.status().message();
  EXPECT_EQ(get("a.txt"), "one\ntwo\n");
  EXPECT_EQ(get(".git/config"), "[core]\n");
  EXPECT_FALSE(call("apply_patch", {{"patch", "--- /dev/null\n+++ b/.v4rt/settings.json\n@@ -0,0 +1 @@\n+{}\n"}}).ok());
  EXPECT_FALSE(std::filesystem::exists(root() / ".v4rt"));
}

TEST_F(ApplyPatchToolTest, DeletingASymlinkRemovesTheLinkOnly) {
  testing::TempDir outside;
  put("target.txt", "keep me\n");
  std::ofstream(outside.path() / "canary.txt") << "canary\n";
  std::filesystem::create_symlink("target.txt", root() / "in_link");
  std::filesystem::create_symlink(outside.path() / "canary.txt", root() / "out_link");
  auto r = call("apply_patch", {{"patch", "--- a/in_link\n+++ /dev/null\n@@ -1 +0,0 @@\n-target.txt\n"
                                          "--- a/out_link\n+++ /dev/null\n@@ -1 +0,0 @@\n-whatever\n"}});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_FALSE(std::filesystem::is_symlink(root() / "in_link"));
  EXPECT_FALSE(std::filesystem::is_symlink(root() / "out_link"));
  EXPECT_EQ(get("target.txt"), "keep me\n");
  std::ifstream f(outside.path() / "canary.txt");
  std::string line;
  std::getline(f, line);
  EXPECT_EQ(line, "canary");
  // Updating through a symlink is refused (like write).
  std::filesystem::create_symlink("target.txt", root() / "link2");
  auto u = call("apply_patch", {{"patch", "--- a/link2\n+++ b/link2\n@@ -1 +1 @@\n-keep me\n+changed\n"}});
  ASSERT_FALSE(u.ok());
  EXPECT_NE(u.status().message().find("symlink"), std::string::npos) << u.status().message();
  EXPECT_EQ(get("target.txt"), "keep me\n");
}

TEST_F(ApplyPatchToolTest, TouchedPathsNameEveryFileCanonically) {
  put("src/a.txt", "x\n");
  std::filesystem::create_symlink("src", root() / "s");
  Tool* t = registry_.find("apply_patch");
  ASSERT_NE(t, nullptr);
  auto paths = t->touched_paths(
      {{"patch", "--- a/./s/a.txt\n+++ b/s/a.txt\n@@ -1 +1 @@\n-x\n+y\n"
                 "--- /dev/null\n+++ b/new/n.txt\n@@ -0,0 +1 @@\n+n\n"
                 "--- a/src/a.txt\n+++ b/moved/a.txt\n@@ -1 +1 @@\n-x\n+x\n"
                 "--- a/gone.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-g\n"}},
      ctx_);
  ASSERT_TRUE(paths.ok()) << paths.status().to_string();
  std::vector<std::string> got = *paths;
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<std::string>{"gone.txt", "moved/a.txt", "new/n.txt", "src/a.txt"}));
  EXPECT_FALSE(t->touched_paths({{"patch", "--- a/../x\n+++ b/../x\n@@ -1 +1 @@\n-a\n+b\n"}}, ctx_).ok());
}

TEST_F(ApplyPatchToolTest, SameFileTwiceIsRefused) {
  put("a.txt", "one\ntwo\n");
  auto r = call("apply_patch", {{"patch", "--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-one\n+1\n"
                                          "--- a/a.txt\n+++ b/a.txt\n@@ -2 +2 @@\n-two\n+2\n"}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("more than once"), std::string::npos) << r.status().message();
  EXPECT_EQ(get("a.txt"), "one\ntwo\n");
}

}  // namespace
}  // namespace v4rt::tools
