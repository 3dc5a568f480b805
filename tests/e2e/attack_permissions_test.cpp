// Attacks on the permission rules (issue 11, holes 6 and 9) through the real
// `v4rt code` binary: a replayed hostile model tries to slip commands past
// deny rules, to stretch allow rules, to reach files that path rules deny by
// other names or other tools, and to spoof the approval prompt with escape
// sequences. Canary files (outside the workspace where the attack targets
// them) must stay untouched and the model must be told why it was refused.
// Shell attacks run --unsandboxed --permission-mode full (or read-only with
// an allow rule), so the rules are the only thing in the way.
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>

#include "code_replay_util.h"

namespace v4rt::testing::code {
namespace {

namespace fs = std::filesystem;

class AttackPermissionsE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    repo_ = dir_.path() / "repo";
    state_ = dir_.path() / "state";
    replay_ = dir_.path() / "replay.jsonl";
    outside_ = dir_.path() / "outside";
    fs::create_directories(outside_);
  }
  fs::path canary(const std::string& name) {
    fs::path p = outside_ / name;
    put(p, "canary " + name + "\n");
    return p;
  }
  TempDir dir_;
  fs::path repo_, state_, replay_, outside_;
};

std::vector<nlohmann::json> results_of(const CommandResult& r) { return of_type(events(r.out), "tool_result"); }
std::vector<nlohmann::json> perms_of(const CommandResult& r) { return of_type(events(r.out), "permission"); }

Call shell_call(const std::string& command) { return {"shell", {{"command", command}}}; }

TEST_F(AttackPermissionsE2E, DenyRuleBypassesAreRefused) {
  make_git_repo(repo_, {{"a.txt", "a\n"}});
  std::vector<std::string> attacks = {
      " rm {}",          "true; rm {}",          "echo $(rm {})",        "echo `rm {}`",
      "bash -c 'rm {}'", "env rm {}",            "/bin/rm {}",           "'r'm {}",
      "\\rm {}",         "FOO=1 command rm {}",  "timeout 5 rm {}",      "sh -c \"true && rm {}\"",
      "eval 'rm {}'",    "echo {} | xargs rm",   "find {} -exec rm {} \\;", "ls\nrm {}",
      "cat <(rm {})",    "if true; then rm {}; fi",
  };
  std::vector<fs::path> canaries;
  std::vector<Call> calls;
  for (size_t i = 0; i < attacks.size(); ++i) {
    fs::path c = canary("deny" + std::to_string(i));
    canaries.push_back(c);
    std::string cmd = attacks[i];
    for (size_t at; (at = cmd.find("{}")) != std::string::npos;) cmd.replace(at, 2, c.string());
    // find's own {} stays: "find DIR -exec rm {} \;" removes what find finds.
    if (attacks[i].rfind("find", 0) == 0) cmd = "find " + c.string() + " -exec rm {} \\;";
    calls.push_back(shell_call(cmd));
  }
  calls.push_back(shell_call("echo still-allowed"));
  write_replay(replay_, {turn("", "", calls), turn("", "done")});
  auto r = run_code(repo_, replay_, state_,
                    "--permission-mode full --unsandboxed --deny 'shell(rm *)' --output-format stream-json");
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  for (size_t i = 0; i < canaries.size(); ++i)
    EXPECT_TRUE(fs::exists(canaries[i])) << "attack '" << attacks[i] << "' removed its canary";
  auto perms = perms_of(r);
  auto results = results_of(r);
  ASSERT_EQ(perms.size(), calls.size()) << r.out;
  ASSERT_EQ(results.size(), calls.size());
  for (size_t i = 0; i < attacks.size(); ++i) {
    EXPECT_EQ(perms[i]["decision"], "deny") << attacks[i] << ": " << perms[i].dump();
    const std::string out = results[i]["output"].get<std::string>();
    EXPECT_TRUE(results[i]["is_error"].get<bool>()) << attacks[i];
    EXPECT_NE(out.find("permission denied for shell"), std::string::npos) << attacks[i] << ": " << out;
    EXPECT_NE(out.find("rm *"), std::string::npos) << attacks[i] << ": " << out;
  }
  EXPECT_EQ(perms.back()["decision"], "allow");
  EXPECT_NE(results.back()["output"].get<std::string>().find("still-allowed"), std::string::npos);

  // Control: without the rule the same harness sees the canary go (the checks above can fail).
  fs::path control = canary("control");
  write_replay(replay_, {turn("", "", {shell_call("true; rm " + control.string())}), turn("", "done")});
  r = run_code(repo_, replay_, state_, "--permission-mode full --unsandboxed --output-format stream-json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(fs::exists(control));
}

TEST_F(AttackPermissionsE2E, AllowRuleDoesNotStretchToOtherCommands) {
  make_git_repo(repo_, {{"a.txt", "a\n"}});
  fs::path redirect_target = outside_ / "redirected.txt";
  std::vector<Call> calls = {
      shell_call("echo hi; rm -f a.txt"),
      shell_call("echo $(touch made_by_substitution)"),
      shell_call("echo `touch made_by_backticks`"),
      shell_call("echo hi > " + redirect_target.string()),
      shell_call("echo hi && bash -c 'touch made_by_bash'"),
      shell_call("echo hi | sh"),
      shell_call("PATH=. echo hi"),
      shell_call("echo fine"),
  };
  write_replay(replay_, {turn("", "", calls), turn("", "done")});
  auto r = run_code(repo_, replay_, state_,
                    "--permission-mode read-only --unsandboxed --allow 'shell(echo *)' --output-format stream-json");
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_EQ(get(repo_ / "a.txt"), "a\n");
  EXPECT_FALSE(fs::exists(repo_ / "made_by_substitution"));
  EXPECT_FALSE(fs::exists(repo_ / "made_by_backticks"));
  EXPECT_FALSE(fs::exists(repo_ / "made_by_bash"));
  EXPECT_FALSE(fs::exists(redirect_target));
  auto perms = perms_of(r);
  auto results = results_of(r);
  ASSERT_EQ(perms.size(), calls.size()) << r.out;
  for (size_t i = 0; i + 1 < calls.size(); ++i) {
    EXPECT_EQ(perms[i]["decision"], "deny") << calls[i].params[0].value << ": " << perms[i].dump();
    EXPECT_NE(results[i]["output"].get<std::string>().find("not interactive"), std::string::npos);
  }
  EXPECT_NE(results[0]["output"].get<std::string>().find("'rm -f a.txt' is not allowed by any rule"),
            std::string::npos)
      << results[0].dump();
  EXPECT_NE(results[1]["output"].get<std::string>().find("'touch made_by_substitution' is not allowed"),
            std::string::npos)
      << results[1].dump();
  EXPECT_NE(results[3]["output"].get<std::string>().find("outside the workspace"), std::string::npos)
      << results[3].dump();
  EXPECT_EQ(perms.back()["decision"], "allow");
  EXPECT_NE(results.back()["output"].get<std::string>().find("fine"), std::string::npos);
}

// Read and edit path rules match the file a call reaches, however it is named.
TEST_F(AttackPermissionsE2E, PathRulesSeeCanonicalPaths) {
  make_git_repo(repo_, {{"a.txt", "a\n"}, {"secret.txt", "TOPSECRET-42\n"}, {"locked.txt", "locked\n"},
                        {"sub/keep.txt", "k\n"}});
  fs::create_symlink("secret.txt", repo_ / "link.txt");
  fs::create_symlink("locked.txt", repo_ / "locked_link.txt");
  const std::string abs_secret = fs::canonical(repo_ / "secret.txt").string();
  const std::string abs_locked = fs::canonical(repo_ / "locked.txt").string();
  std::vector<Call> reads = {
      {"read", {{"path", "secret.txt"}}},
      {"read", {{"path", "././secret.txt"}}},
      {"read", {{"path", abs_secret}}},
      {"read", {{"path", "link.txt"}}},
      {"read", {{"path", "sub/../secret.txt"}}},
      {"read", {{"path", "sub//..//secret.txt"}}},
      {"grep", {{"pattern", "TOPSECRET"}, {"path", "./secret.txt"}}},
  };
  std::vector<Call> edits = {
      {"write", {{"path", "./locked.txt"}, {"content", "pwned\n"}}},
      {"write", {{"path", abs_locked}, {"content", "pwned\n"}}},
      {"edit", {{"path", "locked_link.txt"}, {"old", "locked"}, {"new", "pwned"}}},
      {"edit", {{"path", "secret.txt"}, {"old", "TOPSECRET-42"}, {"new", "x"}}},  // read deny covers edits
  };
  write_replay(replay_, {turn("", "", reads), turn("", "", edits), turn("", "done")});
  auto r = run_code(repo_, replay_, state_,
                    "--deny 'read(secret.txt)' --deny 'write(locked.txt)' --output-format stream-json");
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_EQ(get(repo_ / "locked.txt"), "locked\n");
  EXPECT_EQ(get(repo_ / "secret.txt"), "TOPSECRET-42\n");
  auto results = results_of(r);
  ASSERT_EQ(results.size(), reads.size() + edits.size()) << r.out;
  for (const auto& res : results) {
    EXPECT_TRUE(res["is_error"].get<bool>()) << res.dump();
    EXPECT_EQ(res["output"].get<std::string>().find("TOPSECRET-42"), std::string::npos) << res.dump();
    const std::string out = res["output"].get<std::string>();
    // Refused by the rule, or (for "..") by the workspace before any rule; never read.
    bool by_rule = out.find("permission denied") != std::string::npos &&
                   (out.find("read(secret.txt)") != std::string::npos ||
                    out.find("write(locked.txt)") != std::string::npos);
    bool by_workspace = out.find("..") != std::string::npos;
    EXPECT_TRUE(by_rule || by_workspace) << out;
  }
}

// Multi-file tools: grep/glob/list leave denied files out, apply_patch is
// judged on every file of the patch (needs the confinement layer's
// may_read consumers and apply_patch's touched_paths).
TEST_F(AttackPermissionsE2E, MultiFileToolsHonourPathRules) {
  make_git_repo(repo_, {{"a.txt", "a\n"}, {"secret.txt", "TOPSECRET-42\n"}, {"locked.txt", "locked\n"},
                        {"private/key.txt", "TOPSECRET-43\n"}});
  fs::create_symlink("secret.txt", repo_ / "link.txt");
  const std::string patch =
      "--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-a\n+patched\n"
      "--- a/locked.txt\n+++ b/locked.txt\n@@ -1 +1 @@\n-locked\n+pwned\n";
  std::vector<Call> calls = {
      {"grep", {{"pattern", "TOPSECRET"}}},
      {"grep", {{"pattern", "TOPSECRET"}, {"path", "private"}}},
      {"glob", {{"pattern", "**/*.txt"}}},
      {"list", {{"path", "."}}},
      {"apply_patch", {{"patch", patch}}},
  };
  write_replay(replay_, {turn("", "", calls), turn("", "done")});
  auto r = run_code(repo_, replay_, state_,
                    "--deny 'read(secret.txt)' --deny 'read(private)' --deny 'edit(locked.txt)' "
                    "--output-format stream-json");
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  auto results = results_of(r);
  ASSERT_EQ(results.size(), calls.size()) << r.out;
  for (const auto& res : results)  // not through the symlink either
    EXPECT_EQ(res["output"].get<std::string>().find("TOPSECRET-4"), std::string::npos) << res.dump();
  const std::string glob_out = results[2]["output"].get<std::string>();
  EXPECT_NE(glob_out.find("a.txt"), std::string::npos) << glob_out;
  EXPECT_EQ(glob_out.find("secret.txt"), std::string::npos) << glob_out;
  EXPECT_EQ(glob_out.find("key.txt"), std::string::npos) << glob_out;
  const std::string list_out = results[3]["output"].get<std::string>();
  EXPECT_EQ(list_out.find("secret.txt"), std::string::npos) << list_out;
  // apply_patch touches a.txt and locked.txt: refused as a whole, nothing changed.
  EXPECT_TRUE(results[4]["is_error"].get<bool>());
  EXPECT_NE(results[4]["output"].get<std::string>().find("edit(locked.txt)"), std::string::npos) << results[4].dump();
  EXPECT_EQ(get(repo_ / "a.txt"), "a\n");
  EXPECT_EQ(get(repo_ / "locked.txt"), "locked\n");
}

// Reads from a pty master until `needle` appears or the deadline passes.
bool read_until(int fd, std::string& got, const std::string& needle, int timeout_ms) {
  auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (got.find(needle) == std::string::npos) {
    int left = static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now()).count());
    if (left <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, left) <= 0) return false;
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) return false;  // EIO: the child closed the terminal
    got.append(buf, static_cast<size_t>(n));
  }
  return true;
}

// Hole 9: the approval prompt shows a hostile command inert, with its
// structure; the model's reasoning, text and the tool-call echo are escaped too.
// repl: through the interactive session (readline), else `code -p` on a tty.
void run_spoofing_attack(const fs::path& repo, const fs::path& state, const fs::path& replay_file,
                         const fs::path& victim, bool repl) {
  // Erase the line, return the cursor, retitle the window, C1 CSI: draw a harmless-looking command.
  const std::string hostile = "rm -f " + victim.string() + " \x1b[2K\r\x1b[1A\x1b]0;title\x07\xc2\x9b" "31m; echo safe";
  write_replay(replay_file, {turn("thinking \x1b]0;owned\x07 hard", "hello \x1b[2J\x1b[H", {shell_call(hostile)}),
                             turn("", "done \x1b[31mred\r\xe2\x80\xae")});
  std::string bin = v4rt_binary().string();
  int master = -1;
  pid_t pid = forkpty(&master, nullptr, nullptr, nullptr);
  ASSERT_GE(pid, 0) << "forkpty failed";
  if (pid == 0) {
    setenv("NO_COLOR", "1", 1);
    setenv("TERM", "dumb", 1);
    const std::string replay = "replay:" + replay_file.string();
    if (repl)
      execl(bin.c_str(), bin.c_str(), "code", "--backend", replay.c_str(), "--workspace", repo.c_str(), "--state-dir",
            state.c_str(), "--permission-mode", "read-only", "--unsandboxed", static_cast<char*>(nullptr));
    else
      execl(bin.c_str(), bin.c_str(), "code", "-p", "do it", "--backend", replay.c_str(), "--workspace", repo.c_str(),
            "--state-dir", state.c_str(), "--permission-mode", "read-only", "--unsandboxed",
            static_cast<char*>(nullptr));
    _exit(127);
  }
  std::string got;
  bool ready = !repl || read_until(master, got, "v4rt> ", 60000);
  if (repl && ready) {
    EXPECT_EQ(write(master, "do it\n", 6), 6);
  }
  bool prompted = ready && read_until(master, got, "allow? [y]es / [n]o: ", 60000);
  size_t prompt_end = got.find("allow? [y]es / [n]o: ");
  if (prompted) {
    EXPECT_EQ(write(master, "n\n", 2), 2);
    (void)read_until(master, got, "v4rt: answered", 60000);
    if (repl) {
      (void)read_until(master, got, "v4rt> ", 10000);
      EXPECT_EQ(write(master, "/exit\n", 6), 6);
    }
  }
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  close(master);
  ASSERT_TRUE(prompted) << "no approval prompt; output:\n" << got;
  EXPECT_TRUE(fs::exists(victim));
  // Without readline (-p) nothing may carry an escape; with it, check from the tool call on.
  size_t start = repl ? got.find("> shell") : 0;
  ASSERT_NE(start, std::string::npos) << got;
  std::string shown = repl ? got.substr(start, prompt_end - start) : got;
  EXPECT_EQ(shown.find('\x1b'), std::string::npos) << shown;
  EXPECT_EQ(shown.find('\x07'), std::string::npos) << shown;
  EXPECT_EQ(shown.find("\xc2\x9b"), std::string::npos) << shown;      // C1 CSI
  EXPECT_EQ(shown.find("\xe2\x80\xae"), std::string::npos) << shown;  // right-to-left override
  for (size_t i = 0; i < shown.size(); ++i)  // the pty turns "\n" into "\r\n"; any other CR is raw
    if (shown[i] == '\r') {
      EXPECT_TRUE(i + 1 < shown.size() && shown[i + 1] == '\n') << "raw CR at " << i << ": " << shown;
    }
  // The escapes are visible, and the prompt says what will run: the OSC's ';'
  // separates commands, so it shows all three as bash would run them.
  EXPECT_NE(shown.find("command: rm -f " + victim.string() + " \\e[2K\\r\\e[1A"), std::string::npos) << shown;
  EXPECT_NE(shown.find("runs 3 commands: rm -f " + victim.string()), std::string::npos) << shown;
  EXPECT_NE(shown.find(" ; echo safe"), std::string::npos) << shown;
  EXPECT_NE(got.find("refused by the user"), std::string::npos) << got;
  if (!repl) {
    EXPECT_NE(got.find("thinking \\e]0;owned\\x07 hard"), std::string::npos) << got;
    EXPECT_NE(got.find("hello \\e[2J\\e[H"), std::string::npos) << got;
    EXPECT_NE(got.find("done \\e[31mred\\r\\u202e"), std::string::npos) << got;
  }
}

TEST_F(AttackPermissionsE2E, ApprovalPromptCannotBeSpoofed) {
  make_git_repo(repo_, {{"a.txt", "a\n"}});
  run_spoofing_attack(repo_, state_, replay_, canary("spoof"), false);
}

TEST_F(AttackPermissionsE2E, ApprovalPromptCannotBeSpoofedInTheInteractiveSession) {
  make_git_repo(repo_, {{"a.txt", "a\n"}});
  run_spoofing_attack(repo_, state_, replay_, canary("spoof"), true);
}

}  // namespace
}  // namespace v4rt::testing::code
