// Attacks on the file tools (issue 11, holes 2, 3, 4, 5 (file side), 12, 13),
// end to end: the real v4rt binary, `v4rt code -p` with the replay backend
// playing a hostile model's tool calls, real files, the real bwrap sandbox
// where a shell plants things, and canaries outside the workspace that must
// stay as they were. Every attack must be refused or contained, with a message
// the model can act on.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

#include "code_replay_util.h"
#include "tools/sandbox.h"

namespace v4rt::testing::code {
namespace {

namespace fs = std::filesystem;

class AttackFilesE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    repo_ = dir_.path() / "repo";
    state_ = dir_.path() / "state";
    replay_ = dir_.path() / "replay.jsonl";
    outside_ = dir_.path() / "outside";
    put(outside_ / "canary.txt", "canary\n");
    put(outside_ / "secret.txt", "TOP SECRET\n");
    sandbox_ok_ = tools::Sandbox::probe().ok();
  }
  void need_sandbox() {
    if (!sandbox_ok_) GTEST_SKIP() << "bwrap cannot create namespaces here: " << tools::Sandbox::probe().message();
  }
  // The outside directory holds exactly what SetUp put there, unchanged.
  void expect_outside_untouched() {
    std::vector<std::string> names;
    for (const auto& e : fs::recursive_directory_iterator(outside_))
      names.push_back(e.path().lexically_relative(outside_).string());
    std::sort(names.begin(), names.end());
    EXPECT_EQ(names, (std::vector<std::string>{"canary.txt", "secret.txt"}));
    EXPECT_EQ(get(outside_ / "canary.txt"), "canary\n");
    EXPECT_EQ(get(outside_ / "secret.txt"), "TOP SECRET\n");
  }
  std::vector<nlohmann::json> run(const std::vector<std::string>& turns, const std::string& flags = "") {
    write_replay(replay_, turns);
    auto r = run_code(repo_, replay_, state_, "--output-format stream-json " + flags);
    EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
    return of_type(events(r.out), "tool_result");
  }
  static std::string out(const nlohmann::json& res) { return res.value("output", ""); }
  static bool err(const nlohmann::json& res) { return res.value("is_error", false); }

  TempDir dir_;
  fs::path repo_, state_, replay_, outside_;
  bool sandbox_ok_ = false;
};

// Symlinks at every depth, absolute and relative, to files, directories, '/'
// and /proc magic links: no tool reads or writes through them, and the
// search tools do not follow them out.
TEST_F(AttackFilesE2E, SymlinkTricksAreRefusedByEveryFileTool) {
  make_git_repo(repo_, {{"a.txt", "inside TOP\n"}, {"src/b.txt", "b\n"}});
  fs::create_symlink(outside_ / "secret.txt", repo_ / "abs_link.txt");
  fs::create_symlink("../outside/secret.txt", repo_ / "rel_link.txt");
  fs::create_directory_symlink(outside_, repo_ / "out_dir");
  fs::create_directory_symlink("/", repo_ / "rootlink");
  fs::create_directory_symlink("/proc/self/cwd", repo_ / "magic");
  fs::create_directories(repo_ / "deep" / "er");
  fs::create_symlink("../../../outside/canary.txt", repo_ / "deep" / "er" / "climb.txt");
  fs::create_symlink("src/b.txt", repo_ / "good_link.txt");  // inside -> inside: still readable
  std::vector<Call> refused = {
      {"read", {{"path", "abs_link.txt"}}},
      {"read", {{"path", "rel_link.txt"}}},
      {"read", {{"path", "out_dir/secret.txt"}}},
      {"read", {{"path", "rootlink/etc/hostname"}}},
      {"read", {{"path", "magic/a.txt"}}},
      {"read", {{"path", "deep/er/climb.txt"}}},
      {"write", {{"path", "out_dir/new.txt"}, {"content", "pwned"}}},
      {"write", {{"path", "abs_link.txt"}, {"content", "pwned"}}},
      {"write", {{"path", "deep/er/climb.txt"}, {"content", "pwned"}}},
      {"edit", {{"path", "rel_link.txt"}, {"old", "TOP"}, {"new", "pwned"}}},
      {"edit", {{"path", "out_dir/canary.txt"}, {"old", "canary"}, {"new", "pwned"}}},
      {"grep", {{"pattern", "TOP"}, {"path", "out_dir"}}},
      {"grep", {{"pattern", "TOP"}, {"path", "abs_link.txt"}}},
      {"list", {{"path", "out_dir"}}},
      {"list", {{"path", "rootlink"}}},
      {"apply_patch", {{"patch", "--- a/out_dir/canary.txt\n+++ b/out_dir/canary.txt\n@@ -1 +1 @@\n-canary\n+pwned\n"}}},
      {"apply_patch", {{"patch", "--- /dev/null\n+++ b/out_dir/planted.txt\n@@ -0,0 +1 @@\n+x\n"}}},
  };
  std::vector<Call> contained = {
      {"grep", {{"pattern", "TOP"}}},
      {"glob", {{"pattern", "**"}}},
      {"list", {}},
      {"read", {{"path", "good_link.txt"}}},
  };
  std::vector<Call> all = refused;
  all.insert(all.end(), contained.begin(), contained.end());
  auto results = run({turn("", "", all), turn("", "done")});
  ASSERT_EQ(results.size(), all.size());
  for (size_t i = 0; i < refused.size(); ++i) {
    EXPECT_TRUE(err(results[i])) << refused[i].name << ": " << results[i].dump();
    EXPECT_EQ(out(results[i]).find("TOP SECRET"), std::string::npos) << results[i].dump();
    EXPECT_EQ(out(results[i]).find("canary\n"), std::string::npos) << results[i].dump();
  }
  // Messages say what happened.
  EXPECT_NE(out(results[0]).find("points outside the workspace"), std::string::npos) << results[0].dump();
  EXPECT_NE(out(results[7]).find("is a symlink"), std::string::npos) << results[7].dump();
  size_t c = refused.size();
  EXPECT_FALSE(err(results[c])) << results[c].dump();
  EXPECT_NE(out(results[c]).find("a.txt:1:inside TOP"), std::string::npos) << results[c].dump();
  for (size_t i = c; i < c + 3; ++i) {
    EXPECT_EQ(out(results[i]).find("SECRET"), std::string::npos) << results[i].dump();
    EXPECT_EQ(out(results[i]).find("canary"), std::string::npos) << results[i].dump();
    EXPECT_EQ(out(results[i]).find("hostname"), std::string::npos) << results[i].dump();
    EXPECT_EQ(out(results[i]).find("climb"), std::string::npos) << results[i].dump();
  }
  EXPECT_FALSE(err(results[c + 3])) << results[c + 3].dump();
  EXPECT_NE(out(results[c + 3]).find("1\tb"), std::string::npos) << results[c + 3].dump();
  expect_outside_untouched();
  EXPECT_TRUE(fs::is_symlink(repo_ / "abs_link.txt"));
}

// Hole 2: the sandboxed shell plants symlinks under every temporary name the
// old code used (PATH.tmp.<pid>, for pids around v4rt's own) and more; writes,
// edits and patches still land on the file, never outside.
TEST_F(AttackFilesE2E, PlantedTemporaryFileSymlinksDoNotRedirectWrites) {
  need_sandbox();
  if (IsSkipped()) return;  // GTEST_SKIP in a helper returns from the helper only
  make_git_repo(repo_, {{"d/a.txt", "old\n"}, {"d/b.txt", "one\n"}});
  std::string plant = "cd d && for f in a.txt b.txt c.txt; do for i in $(seq 1 150); do ln -s " +
                      (outside_ / "canary.txt").string() + " $f.tmp.$i; done; ln -s " +
                      (outside_ / "canary.txt").string() + " $f.tmp; done; ls | wc -l";
  auto results = run({
      turn("", "", {{"shell", {{"command", plant}, {"timeout", "120", false}}}}),
      turn("", "", {{"write", {{"path", "d/a.txt"}, {"content", "new\n"}}}}),
      turn("", "", {{"write", {{"path", "d/c.txt"}, {"content", "created\n"}}}}),
      turn("", "", {{"edit", {{"path", "d/b.txt"}, {"old", "one"}, {"new", "two"}}}}),
      turn("", "", {{"apply_patch", {{"patch", "--- a/d/b.txt\n+++ b/d/b.txt\n@@ -1 +1 @@\n-two\n+three\n"}}}}),
      turn("", "done"),
  });
  ASSERT_EQ(results.size(), 5u);
  EXPECT_NE(out(results[0]).find("455"), std::string::npos) << results[0].dump();  // the links are there
  for (size_t i = 1; i < 5; ++i) EXPECT_FALSE(err(results[i])) << results[i].dump();
  EXPECT_EQ(get(repo_ / "d" / "a.txt"), "new\n");
  EXPECT_EQ(get(repo_ / "d" / "c.txt"), "created\n");
  EXPECT_EQ(get(repo_ / "d" / "b.txt"), "three\n");
  EXPECT_TRUE(fs::is_symlink(repo_ / "d" / "a.txt.tmp"));
  expect_outside_untouched();
}

// Hole 3: a thread of this test swaps a workspace directory with a symlink to
// the outside (renameat2 RENAME_EXCHANGE, so both names always exist) while
// the model writes and reads through both names.
TEST_F(AttackFilesE2E, RenameExchangeRaceNeverWritesOutside) {
  make_git_repo(repo_, {{"box/secret.txt", "inside secret\n"}});
  fs::create_directory_symlink(outside_, repo_ / "swap");
  std::vector<Call> calls;
  for (int i = 0; i < 150; ++i) {
    std::string dir = i % 2 ? "box" : "swap";
    calls.push_back({"write", {{"path", dir + "/f" + std::to_string(i % 20) + ".txt"}, {"content", "x\n"}}});
    calls.push_back({"read", {{"path", dir + "/secret.txt"}}});
  }
  write_replay(replay_, {turn("", "", calls), turn("", "done")});
  std::atomic<bool> stop{false};
  std::atomic<long> swaps{0};
  std::string box = (repo_ / "box").string(), swap = (repo_ / "swap").string();
  std::thread swapper([&] {
    while (!stop.load())
      if (::renameat2(AT_FDCWD, box.c_str(), AT_FDCWD, swap.c_str(), RENAME_EXCHANGE) == 0) swaps.fetch_add(1);
  });
  auto r = run_code(repo_, replay_, state_, "--output-format stream-json");
  stop = true;
  swapper.join();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  if (fs::is_symlink(repo_ / "box")) {
    ASSERT_EQ(::renameat2(AT_FDCWD, box.c_str(), AT_FDCWD, swap.c_str(), RENAME_EXCHANGE), 0);
  }
  auto results = of_type(events(r.out), "tool_result");
  ASSERT_EQ(results.size(), calls.size());
  int wrote = 0;
  for (size_t i = 0; i < results.size(); ++i) {
    EXPECT_EQ(out(results[i]).find("TOP SECRET"), std::string::npos) << results[i].dump();
    if (i % 2 == 0 && !err(results[i])) ++wrote;
  }
  std::cout << "[ info ] " << swaps.load() << " swaps during the run; " << wrote << " of 150 writes landed (inside)\n";
  EXPECT_GT(swaps.load(), 10);
  expect_outside_untouched();
}

// Hole 5 (file side): v4rt's and git's configuration cannot be written by
// write, edit or apply_patch, whatever the path spelling; a patch that touches
// one of them changes nothing at all.
TEST_F(AttackFilesE2E, GitAndV4rtConfigurationAreReadOnlyToTools) {
  make_git_repo(repo_, {{"a.txt", "one\ntwo\n"}});
  std::string config = get(repo_ / ".git" / "config");
  fs::create_directory_symlink(".git", repo_ / "g");
  std::vector<Call> calls = {
      {"write", {{"path", ".git/config"}, {"content", "[core]\n\tfsmonitor = touch /tmp/pwned\n"}}},
      {"write", {{"path", ".git/hooks/pre-commit"}, {"content", "#!/bin/sh\ntouch /tmp/pwned\n"}}},
      {"write", {{"path", ".v4rt/settings.json"}, {"content", "{\"permission_mode\": \"full\"}"}}},
      {"write", {{"path", "./.git//hooks/post-checkout"}, {"content", "x"}}},
      {"write", {{"path", (repo_ / ".v4rt" / "settings.json").string()}, {"content", "{}"}}},
      {"write", {{"path", "g/hooks/pre-push"}, {"content", "x"}}},
      {"write", {{"path", "sub/.git/config"}, {"content", "x"}}},
      {"edit", {{"path", ".git/config"}, {"old", "[core]"}, {"new", "[core]\n\thooksPath = /tmp"}}},
      {"apply_patch",
       {{"patch", "--- a/a.txt\n+++ b/a.txt\n@@ -1,2 +1,2 @@\n one\n-two\n+2\n"
                  "--- /dev/null\n+++ b/.v4rt/settings.json\n@@ -0,0 +1 @@\n+{\"permission_mode\": \"full\"}\n"}}},
      {"apply_patch", {{"patch", "--- /dev/null\n+++ b/.git/hooks/pre-commit\n@@ -0,0 +1 @@\n+touch /tmp/pwned\n"}}},
      {"read", {{"path", ".git/config"}}},  // reading is fine
  };
  auto results = run({turn("", "", calls), turn("", "done")});
  ASSERT_EQ(results.size(), calls.size());
  for (size_t i = 0; i + 1 < calls.size(); ++i) {
    EXPECT_TRUE(err(results[i])) << results[i].dump();
    EXPECT_NE(out(results[i]).find("is protected: v4rt's and git's configuration"), std::string::npos)
        << results[i].dump();
    EXPECT_NE(out(results[i]).find("ask the user"), std::string::npos) << results[i].dump();
  }
  EXPECT_FALSE(err(results.back())) << results.back().dump();
  EXPECT_EQ(get(repo_ / ".git" / "config"), config);
  EXPECT_FALSE(fs::exists(repo_ / ".v4rt"));
  EXPECT_FALSE(fs::exists(repo_ / ".git" / "hooks" / "pre-commit"));
  EXPECT_FALSE(fs::exists(repo_ / ".git" / "hooks" / "pre-push"));
  EXPECT_FALSE(fs::exists(repo_ / "sub"));
  EXPECT_EQ(get(repo_ / "a.txt"), "one\ntwo\n");  // the patch's other file is unchanged too
}

// Hole 13: a patch that fails part-way changes nothing, and deleting a
// symlink removes the link, never its target.
TEST_F(AttackFilesE2E, ApplyPatchIsAllOrNothingAndDeletesLinksNotTargets) {
  make_git_repo(repo_, {{"a.txt", "one\ntwo\n"}, {"b.txt", "alpha\n"}, {"c.txt", "gamma\n"}});
  fs::create_symlink(outside_ / "canary.txt", repo_ / "out_link");
  fs::create_symlink("c.txt", repo_ / "in_link");
  std::string failing =
      "--- a/a.txt\n+++ b/a.txt\n@@ -1,2 +1,2 @@\n one\n-two\n+2\n"
      "--- /dev/null\n+++ b/new/file.txt\n@@ -0,0 +1 @@\n+new\n"
      "--- a/c.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-gamma\n"
      "--- a/b.txt\n+++ b/b.txt\n@@ -1 +1 @@\n-beta\n+BETA\n";  // does not apply
  std::string delete_links =
      "--- a/out_link\n+++ /dev/null\n@@ -1 +0,0 @@\n-canary\n"
      "--- a/in_link\n+++ /dev/null\n@@ -1 +0,0 @@\n-gamma\n";
  auto results = run({
      turn("", "", {{"apply_patch", {{"patch", failing}}}}),
      turn("", "", {{"apply_patch", {{"patch", delete_links}}}}),
      turn("", "done"),
  });
  ASSERT_EQ(results.size(), 2u);
  EXPECT_TRUE(err(results[0]));
  EXPECT_NE(out(results[0]).find("does not apply to b.txt"), std::string::npos) << results[0].dump();
  EXPECT_NE(out(results[0]).find("Nothing was changed"), std::string::npos) << results[0].dump();
  EXPECT_EQ(get(repo_ / "a.txt"), "one\ntwo\n");
  EXPECT_EQ(get(repo_ / "c.txt"), "gamma\n");
  EXPECT_FALSE(fs::exists(repo_ / "new"));
  EXPECT_FALSE(err(results[1])) << results[1].dump();
  EXPECT_FALSE(fs::exists(fs::symlink_status(repo_ / "out_link")));
  EXPECT_FALSE(fs::exists(fs::symlink_status(repo_ / "in_link")));
  EXPECT_EQ(get(repo_ / "c.txt"), "gamma\n");
  expect_outside_untouched();
}

// Hole 12: a catastrophic regex over 200 long lines is cut off with a clear
// message in well under a second or two (it ran 27 s before), inside the
// --max-wall-s budget.
TEST_F(AttackFilesE2E, RegexBombIsCutOffWithAMessage) {
  std::string bomb;
  for (int l = 0; l < 200; ++l) bomb += std::string(60, 'a') + "!\n";
  make_git_repo(repo_, {{"bomb.txt", bomb}});
  auto t0 = std::chrono::steady_clock::now();
  auto results = run({turn("", "", {{"grep", {{"pattern", "(a+)+$"}}}}),
                      turn("", "", {{"grep", {{"pattern", "(a|aa)+$"}, {"path", "bomb.txt"}}}}), turn("", "done")},
                     "--max-wall-s 10");
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_EQ(results.size(), 2u);
  for (const auto& res : results) {
    EXPECT_TRUE(err(res)) << res.dump();
    EXPECT_NE(out(res).find("too expensive"), std::string::npos) << res.dump();
  }
  EXPECT_LT(s, 5.0) << "the whole run took " << s << " s";
}

// A FIFO planted by a command must not hang the file tools (read, grep).
TEST_F(AttackFilesE2E, PlantedFifoDoesNotHangTheTools) {
  need_sandbox();
  if (IsSkipped()) return;  // GTEST_SKIP in a helper returns from the helper only
  make_git_repo(repo_, {{"a.txt", "a\n"}});
  auto t0 = std::chrono::steady_clock::now();
  auto results = run({
      turn("", "", {{"shell", {{"command", "mkfifo pipe && ln -s pipe pipe_link && echo made"}}}}),
      turn("", "", {{"read", {{"path", "pipe"}}}, {"read", {{"path", "pipe_link"}}}, {"grep", {{"pattern", "x"}}},
                    {"edit", {{"path", "pipe"}, {"old", "a"}, {"new", "b"}}}}),
      turn("", "done"),
  });
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_EQ(results.size(), 5u);
  EXPECT_NE(out(results[0]).find("made"), std::string::npos) << results[0].dump();
  EXPECT_TRUE(err(results[1]));
  EXPECT_NE(out(results[1]).find("not a regular file"), std::string::npos) << results[1].dump();
  EXPECT_TRUE(err(results[2]));
  EXPECT_FALSE(err(results[3])) << results[3].dump();
  EXPECT_TRUE(err(results[4]));
  EXPECT_LT(s, 30.0);
}

// The same attacks by a v4rt running as an ordinary user (uid 65534) who owns
// the workspace and the canaries, so that only v4rt stands between the model
// and the canaries (as root the kernel would not stop anything either).
TEST_F(AttackFilesE2E, UnprivilegedUserIsContainedToo) {
  if (::geteuid() != 0) GTEST_SKIP() << "not root: cannot switch to uid 65534 (the other tests ran as this user)";
  if (run_command("command -v setpriv").exit_code != 0) GTEST_SKIP() << "setpriv is not installed";
  make_git_repo(repo_, {{"a.txt", "one\n"}, {"box/secret.txt", "inside\n"}});
  fs::create_symlink(outside_ / "canary.txt", repo_ / "out_link");
  fs::create_directory_symlink(outside_, repo_ / "out_dir");
  fs::create_directory_symlink(outside_, repo_ / "swap");
  fs::create_directories(state_);
  std::vector<Call> calls = {
      {"write", {{"path", "out_link"}, {"content", "pwned"}}},
      {"write", {{"path", "out_dir/canary.txt"}, {"content", "pwned"}}},
      {"edit", {{"path", "out_dir/canary.txt"}, {"old", "canary"}, {"new", "pwned"}}},
      {"apply_patch", {{"patch", "--- a/out_dir/canary.txt\n+++ b/out_dir/canary.txt\n@@ -1 +1 @@\n-canary\n+pwned\n"}}},
      {"write", {{"path", ".git/hooks/pre-commit"}, {"content", "x"}}},
      {"read", {{"path", "out_dir/secret.txt"}}},
  };
  const size_t n_direct = calls.size();
  for (int i = 0; i < 60; ++i)
    calls.push_back({"write", {{"path", std::string(i % 2 ? "box" : "swap") + "/f" + std::to_string(i) + ".txt"},
                               {"content", "x\n"}}});
  write_replay(replay_, {turn("", "", calls), turn("", "done")});
  ::chmod(dir_.path().c_str(), 0755);
  ASSERT_EQ(run_command("chown -R 65534:65534 " + shell_quote(repo_.string()) + " " + shell_quote(state_.string()) + " " +
                        shell_quote(outside_.string()))
                .exit_code,
            0);
  std::atomic<bool> stop{false};
  std::string box = (repo_ / "box").string(), swap = (repo_ / "swap").string();
  std::thread swapper([&] {
    while (!stop.load()) ::renameat2(AT_FDCWD, box.c_str(), AT_FDCWD, swap.c_str(), RENAME_EXCHANGE);
  });
  auto r = run_command("setpriv --reuid=65534 --regid=65534 --clear-groups " + shell_quote(v4rt_binary().string()) +
                       " code -p " + shell_quote("attack") + " --backend " + shell_quote("replay:" + replay_.string()) +
                       " --workspace " + shell_quote(repo_.string()) + " --state-dir " + shell_quote(state_.string()) +
                       " --output-format stream-json");
  stop = true;
  swapper.join();
  if (fs::is_symlink(repo_ / "box")) {
    ASSERT_EQ(::renameat2(AT_FDCWD, box.c_str(), AT_FDCWD, swap.c_str(), RENAME_EXCHANGE), 0);
  }
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  auto results = of_type(events(r.out), "tool_result");
  ASSERT_EQ(results.size(), calls.size());
  for (size_t i = 0; i < n_direct; ++i) {
    EXPECT_TRUE(err(results[i])) << results[i].dump();
    EXPECT_EQ(out(results[i]).find("TOP SECRET"), std::string::npos) << results[i].dump();
  }
  expect_outside_untouched();
  EXPECT_FALSE(fs::exists(repo_ / ".git" / "hooks" / "pre-commit"));
}

}  // namespace
}  // namespace v4rt::testing::code
