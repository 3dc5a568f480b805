// The confinement layer, run twice: with openat2 (when the kernel has it) and
// with the component-by-component walk forced; both must give the same answers.
#include "tools/confined_fs.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "test_util.h"
#include "tools/file_io.h"
#include "tools/workspace.h"

namespace v4rt::tools {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void put(const fs::path& p, const std::string& s) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << s;
}

// Param: true = the walk fallback is forced.
class ConfinedFsTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    root_ = dir_.path() / "ws";
    out_ = dir_.path() / "outside";
    put(root_ / "src" / "a.txt", "inside\n");
    put(out_ / "secret.txt", "SECRET\n");
    put(out_ / "canary.txt", "canary\n");
    WorkspaceOptions o;
    o.force_walk_fallback = GetParam();
    auto w = Workspace::open(root_, o);
    ASSERT_TRUE(w.ok()) << w.status().to_string();
    ws_ = std::make_unique<Workspace>(std::move(*w));
  }
  // Everything under outside/ is as SetUp left it.
  void expect_outside_untouched() {
    std::vector<std::string> names;
    for (const auto& e : fs::recursive_directory_iterator(out_)) names.push_back(e.path().lexically_relative(out_).string());
    std::sort(names.begin(), names.end());
    EXPECT_EQ(names, (std::vector<std::string>{"canary.txt", "secret.txt"}));
    EXPECT_EQ(slurp(out_ / "canary.txt"), "canary\n");
    EXPECT_EQ(slurp(out_ / "secret.txt"), "SECRET\n");
  }
  Result<std::string> read(const std::string& p) {
    auto f = read_text_file(*ws_, p, {});
    if (!f) return f.status();
    return f->text;
  }
  testing::TempDir dir_;
  fs::path root_, out_;
  std::unique_ptr<Workspace> ws_;
};

TEST_P(ConfinedFsTest, ModeIsWhatWasAskedFor) {
  if (GetParam()) {
    EXPECT_FALSE(ws_->use_openat2());
  }
  // This kernel (6.x) has openat2 unless a seccomp filter hides it; say which ran.
  if (!GetParam() && !ws_->use_openat2()) std::cout << "[ note ] openat2 unavailable here: both runs use the walk\n";
}

TEST_P(ConfinedFsTest, ReadsInsideAndThroughInsideSymlinks) {
  fs::create_symlink("src/a.txt", root_ / "rel_link");
  fs::create_symlink(root_ / "src" / "a.txt", root_ / "abs_link");  // absolute, but under the root
  fs::create_directories(root_ / "deep" / "er");
  fs::create_symlink("../../src/a.txt", root_ / "deep" / "er" / "up_link");  // '..' that stays inside
  fs::create_symlink("src", root_ / "dir_link");
  for (const char* p : {"src/a.txt", "./src//a.txt", "rel_link", "abs_link", "deep/er/up_link", "dir_link/a.txt"}) {
    auto f = read_text_file(*ws_, p, {});
    ASSERT_TRUE(f.ok()) << p << ": " << f.status().to_string();
    EXPECT_EQ(f->text, "inside\n") << p;
    EXPECT_EQ(f->rel, "src/a.txt") << p;  // canonical
  }
  auto abs = read((root_ / "src" / "a.txt").string());
  ASSERT_TRUE(abs.ok()) << abs.status().to_string();
}

TEST_P(ConfinedFsTest, RefusesEverythingThatLeaves) {
  fs::create_symlink(out_ / "secret.txt", root_ / "abs_out");
  fs::create_symlink("../outside/secret.txt", root_ / "rel_out");
  fs::create_symlink(out_, root_ / "dir_out");
  fs::create_symlink("/", root_ / "slash");
  fs::create_symlink("/proc/self/root", root_ / "magic");
  fs::create_symlink("/proc/self/cwd", root_ / "magic_cwd");
  fs::create_directories(root_ / "d");
  fs::create_symlink("../../outside", root_ / "d" / "climb");
  fs::create_symlink("loop_b", root_ / "loop_a");
  fs::create_symlink("loop_a", root_ / "loop_b");
  for (const std::string& p : std::vector<std::string>{"../outside/secret.txt", "src/../../outside/secret.txt", (out_ / "secret.txt").string(), "/etc/passwd",
        "/proc/self/root/etc/passwd", "abs_out", "rel_out", "dir_out/secret.txt", "slash/etc/passwd",
        "magic/etc/passwd", "magic_cwd/secret.txt", "d/climb/secret.txt", "loop_a", std::string("a\0b", 3)}) {
    auto r = read(p);
    ASSERT_FALSE(r.ok()) << p << " read: " << *r;
    EXPECT_EQ(r.status().message().find("SECRET"), std::string::npos);
    auto w = write_text_file(*ws_, p, "pwned\n");
    EXPECT_FALSE(w.ok()) << p;
    auto dir_write = write_text_file(*ws_, p + "/new.txt", "pwned\n");
    EXPECT_FALSE(dir_write.ok()) << p << "/new.txt";
  }
  auto loop = read("loop_a");
  EXPECT_NE(loop.status().message().find("too many levels of symlinks"), std::string::npos) << loop.status().message();
  auto out = read("dir_out/secret.txt");
  EXPECT_NE(out.status().message().find("points outside the workspace"), std::string::npos) << out.status().message();
  expect_outside_untouched();
}

TEST_P(ConfinedFsTest, ResolveGivesCanonicalPathsAndKeepsMissingTails) {
  fs::create_symlink("src", root_ / "dir_link");
  auto r = ws_->resolve("dir_link/new/file.txt");
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(*r, ws_->root() / "src" / "new" / "file.txt");
  fs::create_symlink("missing/x", root_ / "dangling");
  EXPECT_FALSE(ws_->resolve("dangling").ok());
  EXPECT_FALSE(ws_->resolve("dangling/more").ok());
  EXPECT_EQ(*ws_->resolve(""), ws_->root());
}

TEST_P(ConfinedFsTest, WritesCreateParentsKeepModeAndLeaveNoTemporaryFiles) {
  auto w = write_text_file(*ws_, "new/dir/f.txt", "x\n");
  ASSERT_TRUE(w.ok()) << w.status().to_string();
  EXPECT_TRUE(w->created);
  EXPECT_EQ(w->rel, "new/dir/f.txt");
  EXPECT_EQ(slurp(root_ / "new/dir/f.txt"), "x\n");
  put(root_ / "run.sh", "old\n");
  fs::permissions(root_ / "run.sh", fs::perms::owner_all | fs::perms::group_read);
  ASSERT_TRUE(write_text_file(*ws_, "run.sh", "new\n").ok());
  EXPECT_EQ(slurp(root_ / "run.sh"), "new\n");
  EXPECT_EQ(fs::status(root_ / "run.sh").permissions(), fs::perms::owner_all | fs::perms::group_read);
  for (const auto& e : fs::recursive_directory_iterator(root_))
    EXPECT_EQ(e.path().filename().string().find(".v4rt-tmp-"), std::string::npos) << e.path();
}

TEST_P(ConfinedFsTest, WritesRefuseProtectedPaths) {
  put(root_ / ".git" / "config", "[core]\n");
  fs::create_symlink(".git", root_ / "g");
  for (const char* p : {".git/config", ".git/hooks/pre-commit", ".v4rt/settings.json", "sub/.git/config", "a/.v4rt",
                        ".git", "g/config", "g/hooks/new"}) {
    auto w = write_text_file(*ws_, p, "pwned\n");
    ASSERT_FALSE(w.ok()) << p;
    EXPECT_NE(w.status().message().find("is protected"), std::string::npos) << p << ": " << w.status().message();
  }
  EXPECT_EQ(slurp(root_ / ".git" / "config"), "[core]\n");
  EXPECT_FALSE(fs::exists(root_ / ".v4rt"));
  EXPECT_FALSE(fs::exists(root_ / "sub"));  // refused before any directory was made
  EXPECT_FALSE(fs::exists(root_ / ".git" / "hooks"));
  // Reading them is fine; a name that only resembles them is not protected.
  EXPECT_TRUE(read(".git/config").ok());
  EXPECT_TRUE(write_text_file(*ws_, ".gitignore", "x\n").ok());
  EXPECT_TRUE(write_text_file(*ws_, ".GIT-notes/x", "x\n").ok());
}

TEST_P(ConfinedFsTest, WritesNeverGoThroughSymlinks) {
  fs::create_symlink(out_ / "canary.txt", root_ / "out_link");
  fs::create_symlink("src/a.txt", root_ / "in_link");
  auto w = write_text_file(*ws_, "out_link", "pwned\n");
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.status().message().find("is a symlink"), std::string::npos) << w.status().message();
  auto w2 = write_text_file(*ws_, "in_link", "changed\n");
  ASSERT_FALSE(w2.ok());  // documented: refused even inside; write the target by its own path
  EXPECT_EQ(slurp(root_ / "src" / "a.txt"), "inside\n");
  EXPECT_TRUE(fs::is_symlink(root_ / "in_link"));
  expect_outside_untouched();
}

TEST_P(ConfinedFsTest, PlantedTemporaryNamesAreNeverUsed) {
  // Whatever names a hostile command plants (symlinks to outside files, in the
  // target's directory), the write uses O_EXCL|O_NOFOLLOW names of its own.
  fs::create_directories(root_ / "d");
  for (int i = 0; i < 500; ++i) {
    char name[64];
    std::snprintf(name, sizeof name, ".v4rt-tmp-%024x", i);
    fs::create_symlink(out_ / "canary.txt", root_ / "d" / name);
  }
  fs::create_symlink(out_ / "canary.txt", root_ / "d" / "f.txt.tmp");
  fs::create_symlink(out_ / "canary.txt", root_ / "d" / ("f.txt.tmp." + std::to_string(getpid())));
  auto w = write_text_file(*ws_, "d/f.txt", "mine\n");
  ASSERT_TRUE(w.ok()) << w.status().to_string();
  EXPECT_EQ(slurp(root_ / "d" / "f.txt"), "mine\n");
  expect_outside_untouched();
}

TEST_P(ConfinedFsTest, ErrorsDoNotLeakThePid) {
  put(root_ / "file", "x");
  auto w = write_text_file(*ws_, "file/below.txt", "x");
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.status().message().find(std::to_string(getpid())), std::string::npos) << w.status().message();
}

TEST_P(ConfinedFsTest, FifoIsRefusedWithoutBlocking) {
  ASSERT_EQ(::mkfifo((root_ / "pipe").c_str(), 0600), 0);
  auto t0 = std::chrono::steady_clock::now();
  auto r = read("pipe");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("not a regular file"), std::string::npos) << r.status().message();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
  EXPECT_FALSE(write_text_file(*ws_, "pipe", "x").ok());
}

// A thread of this process swaps a directory inside the workspace with a
// symlink to the outside (renameat2 RENAME_EXCHANGE: both names always exist)
// while writes and reads are issued through the swapping name. Every write
// lands inside (or fails); no read returns outside content.
TEST_P(ConfinedFsTest, RenameExchangeRaceNeverEscapes) {
  fs::create_directories(root_ / "box");
  put(root_ / "box" / "secret.txt", "inside secret\n");
  fs::create_symlink(out_, root_ / "swap");
  std::atomic<bool> done{false};
  std::atomic<long> swaps{0};
  int rfd = ws_->root_fd();
  std::thread swapper([&] {
    while (!done.load()) {
      if (::renameat2(rfd, "box", rfd, "swap", RENAME_EXCHANGE) == 0) swaps.fetch_add(1);
    }
  });
  int wrote = 0, read_ok = 0;
  for (int i = 0; i < 1000; ++i) {
    const std::string name = (i % 2 ? "box/" : "swap/") + std::string("f") + std::to_string(i % 50) + ".txt";
    if (write_text_file(*ws_, name, "written\n").ok()) ++wrote;
    auto r = read(i % 2 ? "box/secret.txt" : "swap/secret.txt");
    if (r.ok()) {
      ++read_ok;
      EXPECT_EQ(*r, "inside secret\n");
    }
  }
  done = true;
  swapper.join();
  std::cout << "[ info ] " << swaps.load() << " swaps, " << wrote << " writes and " << read_ok
            << " reads succeeded\n";
  EXPECT_GT(swaps.load(), 100);
  EXPECT_GT(wrote, 0);
  // Put the directory back where it was, then check the outside.
  if (fs::is_symlink(root_ / "box")) {
    ASSERT_EQ(::renameat2(rfd, "box", rfd, "swap", RENAME_EXCHANGE), 0);
  }
  expect_outside_untouched();
}

INSTANTIATE_TEST_SUITE_P(Modes, ConfinedFsTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "WalkFallback" : "Openat2"; });

TEST(ProtectedPathTest, ComponentsOnly) {
  EXPECT_TRUE(is_protected_path(".git"));
  EXPECT_TRUE(is_protected_path(".git/config"));
  EXPECT_TRUE(is_protected_path("a/b/.v4rt/x"));
  EXPECT_FALSE(is_protected_path(".gitignore"));
  EXPECT_FALSE(is_protected_path("x.git/config"));
  EXPECT_FALSE(is_protected_path(".GIT/config"));  // case-sensitive, as the file system here
}

}  // namespace
}  // namespace v4rt::tools
