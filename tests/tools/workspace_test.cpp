#include "tools/workspace.h"

#include <gtest/gtest.h>

#include <fstream>

#include "test_util.h"
#include "tools/file_io.h"

namespace v4rt::tools {
namespace {

namespace fs = std::filesystem;

class WorkspaceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(dir_.path() / "ws" / "src");
    std::ofstream(dir_.path() / "ws" / "src" / "a.txt") << "a";
    std::ofstream(dir_.path() / "secret.txt") << "s";
    auto w = Workspace::open(dir_.path() / "ws");
    ASSERT_TRUE(w.ok());
    ws_ = std::make_unique<Workspace>(*w);
  }
  testing::TempDir dir_;
  std::unique_ptr<Workspace> ws_;
};

TEST_F(WorkspaceTest, ResolvesRelativePathsInside) {
  auto p = ws_->resolve("src/a.txt");
  ASSERT_TRUE(p.ok()) << p.status().to_string();
  EXPECT_EQ(*p, fs::canonical(dir_.path() / "ws" / "src" / "a.txt"));
  EXPECT_EQ(ws_->relative(*p), "src/a.txt");
  auto root = ws_->resolve("");
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(*root, ws_->root());
  auto fresh = ws_->resolve("new/dir/file.txt");  // does not exist yet: fine for write
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(ws_->relative(*fresh), "new/dir/file.txt");
  auto dot = ws_->resolve("./src/");
  ASSERT_TRUE(dot.ok());
  EXPECT_EQ(ws_->relative(*dot), "src");
}

TEST_F(WorkspaceTest, RefusesDotDot) {
  for (const char* p : {"../secret.txt", "src/../../secret.txt", "src/../a", ".."}) {
    auto r = ws_->resolve(p);
    ASSERT_FALSE(r.ok()) << p;
    EXPECT_NE(r.status().message().find("'..'"), std::string::npos) << r.status().message();
  }
}

TEST_F(WorkspaceTest, RefusesAbsolutePathsOutsideButAcceptsInside) {
  EXPECT_FALSE(ws_->resolve((dir_.path() / "secret.txt").string()).ok());
  EXPECT_FALSE(ws_->resolve("/etc/passwd").ok());
  EXPECT_FALSE(ws_->resolve("/").ok());
  EXPECT_TRUE(ws_->resolve((ws_->root() / "src" / "a.txt").string()).ok());
}

TEST_F(WorkspaceTest, RefusesProcTricks) {
  EXPECT_FALSE(ws_->resolve("/proc/self/root/etc/passwd").ok());
  EXPECT_FALSE(ws_->resolve("/proc/self/cwd/x").ok());
  fs::create_directory_symlink("/proc/self/root", ws_->root() / "rootlink");
  EXPECT_FALSE(ws_->resolve("rootlink/etc/passwd").ok());
}

TEST_F(WorkspaceTest, RefusesSymlinksPointingOut) {
  fs::create_symlink(dir_.path() / "secret.txt", ws_->root() / "link.txt");
  fs::create_directory_symlink(dir_.path(), ws_->root() / "up");
  fs::create_symlink(dir_.path() / "missing.txt", ws_->root() / "dangling.txt");
  auto r = ws_->resolve("link.txt");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("outside the workspace"), std::string::npos);
  EXPECT_FALSE(ws_->resolve("up/secret.txt").ok());
  EXPECT_FALSE(ws_->resolve("up/newfile.txt").ok());  // write through a dir symlink
  EXPECT_FALSE(ws_->resolve("dangling.txt").ok());
}

TEST_F(WorkspaceTest, AcceptsSymlinksPointingInside) {
  fs::create_symlink(ws_->root() / "src" / "a.txt", ws_->root() / "alias.txt");
  auto r = ws_->resolve("alias.txt");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(ws_->relative(*r), "src/a.txt");
}

TEST_F(WorkspaceTest, OpenRejectsMissingDirectory) {
  auto w = Workspace::open(dir_.path() / "nope");
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.status().message().find("not an existing directory"), std::string::npos);
}

TEST_F(WorkspaceTest, CopiesHoldTheirOwnRootFd) {
  Workspace copy = *ws_;
  ws_.reset();
  ASSERT_GE(copy.root_fd(), 0);
  auto f = read_text_file(copy, "src/a.txt", {});
  ASSERT_TRUE(f.ok()) << f.status().to_string();
  EXPECT_EQ(f->text, "a");
}

// The root is held by its fd: once opened, replacing the root's path with a
// symlink to somewhere else redirects nothing.
TEST_F(WorkspaceTest, ReplacingTheRootPathRedirectsNothing) {
  fs::path root = ws_->root();
  fs::rename(root, dir_.path() / "moved");
  fs::create_directory_symlink(dir_.path(), root);  // the old root path now leads to the parent
  auto f = read_text_file(*ws_, "src/a.txt", {});
  ASSERT_TRUE(f.ok()) << f.status().to_string();
  EXPECT_EQ(f->rel, "src/a.txt");
  EXPECT_FALSE(read_text_file(*ws_, "secret.txt", {}).ok());
  ASSERT_TRUE(write_text_file(*ws_, "new.txt", "n").ok());
  EXPECT_TRUE(fs::exists(dir_.path() / "moved" / "new.txt"));
  EXPECT_FALSE(fs::exists(dir_.path() / "new.txt"));
}

}  // namespace
}  // namespace v4rt::tools
