// End to end: the real v4rt binary, `v4rt code -p` with the replay backend,
// real tools in a temporary git repository, the real bwrap sandbox.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "code_replay_util.h"
#include "tools/sandbox.h"

namespace v4rt::testing::code {
namespace {

namespace fs = std::filesystem;

class CodeAgentE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    repo_ = dir_.path() / "repo";
    state_ = dir_.path() / "state";
    replay_ = dir_.path() / "replay.jsonl";
    sandbox_ok_ = tools::Sandbox::probe().ok();
  }
  void need_sandbox() {
    if (!sandbox_ok_) GTEST_SKIP() << "bwrap cannot create namespaces here: " << tools::Sandbox::probe().message();
  }
  TempDir dir_;
  fs::path repo_, state_, replay_;
  bool sandbox_ok_ = false;
};

// run_code with environment assignments ("A=b", shell-quoted values) for the binary.
CommandResult run_code_env(const fs::path& workspace, const fs::path& replay, const fs::path& state_dir,
                           const std::string& env, const std::string& extra_flags) {
  return run_command("env " + env + " " + shell_quote(v4rt_binary().string()) + " code -p task --backend " +
                     shell_quote("replay:" + replay.string()) + " --workspace " + shell_quote(workspace.string()) +
                     " --state-dir " + shell_quote(state_dir.string()) + " " + extra_flags);
}

const char kCalc[] = "add() {\n  echo $(( $1 - $2 ))\n}\n";
const char kTest[] =
    "#!/bin/sh\n. ./calc.sh\nr=$(add 2 3)\nif [ \"$r\" = 5 ]; then echo PASS; else echo \"FAIL: add 2 3 = $r\"; exit 1; fi\n";

TEST_F(CodeAgentE2E, ReadEditRunTestsFixDone) {
  need_sandbox();
  if (IsSkipped()) return;  // GTEST_SKIP in a helper returns from the helper only
  make_git_repo(repo_, {{"calc.sh", kCalc}, {"test.sh", kTest}});
  write_replay(replay_, {
      turn("Look at the code first.", "", {{"read", {{"path", "calc.sh"}}}}),
      turn("The sign is wrong; try a fix.", "", {{"edit", {{"path", "calc.sh"}, {"old", "$1 - $2"}, {"new", "$1 * $2"}}}}),
      turn("Run the tests.", "", {{"shell", {{"command", "sh test.sh"}}}}),
      turn("6 is wrong; line 2 must add.", "",
           {{"edit", {{"path", "calc.sh"}, {"start_line", "2", false}, {"end_line", "2", false},
                      {"new", "  echo $(( $1 + $2 ))"}}}}),
      turn("Run them again.", "", {{"shell", {{"command", "sh test.sh"}, {"timeout", "30", false}}}}),
      turn("Done.", "Fixed add() in calc.sh: it subtracted; the test passes now."),
  });
  auto r = run_code(repo_, replay_, state_, "--output-format stream-json");
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_EQ(get(repo_ / "calc.sh"), "add() {\n  echo $(( $1 + $2 ))\n}\n");
  auto ev = events(r.out);
  auto results = of_type(ev, "tool_result");
  ASSERT_EQ(results.size(), 5u) << r.out;
  for (const auto& res : results) EXPECT_FALSE(res["is_error"].get<bool>()) << res.dump();
  EXPECT_NE(results[0]["output"].get<std::string>().find("2\t  echo $(( $1 - $2 ))"), std::string::npos);
  EXPECT_NE(results[2]["output"].get<std::string>().find("exit code 1"), std::string::npos);
  EXPECT_NE(results[2]["output"].get<std::string>().find("FAIL: add 2 3 = 6"), std::string::npos);
  EXPECT_NE(results[4]["output"].get<std::string>().find("exit code 0"), std::string::npos);
  EXPECT_NE(results[4]["output"].get<std::string>().find("PASS"), std::string::npos);
  auto done = of_type(ev, "done");
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0]["stop_reason"], "answered");
  EXPECT_EQ(done[0]["result"], "Fixed add() in calc.sh: it subtracted; the test passes now.");
  EXPECT_EQ(done[0]["steps"], 6);
  // The documented event types only.
  for (const auto& e : ev) {
    std::string t = e.value("type", "");
    EXPECT_TRUE(t == "init" || t == "turn_start" || t == "reasoning" || t == "text" || t == "tool_call" ||
                t == "permission" || t == "tool_result" || t == "turn_end" || t == "done")
        << t;
  }
}

TEST_F(CodeAgentE2E, TextAndJsonOutputFormats) {
  make_git_repo(repo_, {{"a.txt", "hello\n"}});
  write_replay(replay_, {turn("", "", {{"read", {{"path", "a.txt"}}}}), turn("", "It says hello.")});
  auto text = run_code(repo_, replay_, state_, "");
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_EQ(text.out, "It says hello.\n");
  EXPECT_NE(text.err, "");
  EXPECT_NE(text.err.find("recorded outputs, not a model"), std::string::npos) << text.err;
  auto json = run_code(repo_, replay_, state_, "--output-format json");
  ASSERT_EQ(json.exit_code, 0) << json.err;
  auto j = nlohmann::json::parse(json.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << json.out;
  EXPECT_EQ(j["type"], "result");
  EXPECT_EQ(j["result"], "It says hello.");
  EXPECT_EQ(j["tool_calls"], 1);
}

TEST_F(CodeAgentE2E, PermissionDenialGoesBackToTheModel) {
  make_git_repo(repo_, {{"a.txt", "a\n"}});
  write_replay(replay_, {
      turn("", "", {{"write", {{"path", "b.txt"}, {"content", "x"}}}}),
      turn("", "", {{"shell", {{"command", "echo hi"}}}}),
      turn("", "I may not change files here."),
  });
  auto r = run_code(repo_, replay_, state_, "--permission-mode read-only --output-format stream-json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(fs::exists(repo_ / "b.txt"));
  auto perms = of_type(events(r.out), "permission");
  ASSERT_EQ(perms.size(), 2u) << r.out;
  EXPECT_EQ(perms[0]["decision"], "deny");
  EXPECT_NE(perms[0]["reason"].get<std::string>().find("read-only"), std::string::npos);
  EXPECT_EQ(perms[1]["decision"], "deny");  // "ask" refused: not interactive
  EXPECT_NE(perms[1]["reason"].get<std::string>().find("not interactive"), std::string::npos) << perms[1].dump();
  auto results = of_type(events(r.out), "tool_result");
  ASSERT_EQ(results.size(), 2u);
  EXPECT_TRUE(results[0]["is_error"].get<bool>());
  EXPECT_NE(results[0]["output"].get<std::string>().find("permission denied"), std::string::npos);
}

TEST_F(CodeAgentE2E, PreApprovedCommandsRunNonInteractively) {
  need_sandbox();
  if (IsSkipped()) return;  // GTEST_SKIP in a helper returns from the helper only
  make_git_repo(repo_, {{"a.txt", "a\n"}});
  write_replay(replay_, {turn("", "", {{"shell", {{"command", "echo approved"}}}, {"shell", {{"command", "ls"}}},
                                       {"shell", {{"command", "echo approved > made.txt"}}}}),
                         turn("", "ok")});
  auto r = run_code(repo_, replay_, state_, "--permission-mode read-only --allow 'shell(echo *)' --output-format stream-json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto perms = of_type(events(r.out), "permission");
  ASSERT_GE(perms.size(), 2u);
  EXPECT_EQ(perms[0]["decision"], "allow");
  EXPECT_EQ(perms[1]["decision"], "deny");
  auto results = of_type(events(r.out), "tool_result");
  ASSERT_EQ(results.size(), 3u);
  EXPECT_NE(results[0]["output"].get<std::string>().find("approved"), std::string::npos);
  // Read-only mode stays read-only for an allowed command: the workspace is
  // bound read-only in the sandbox (before issue 11 this write succeeded).
  EXPECT_FALSE(fs::exists(repo_ / "made.txt"));
  std::string third = results[2]["output"].get<std::string>();
  EXPECT_TRUE(third.find("Read-only file system") != std::string::npos ||
              third.find("permission denied") != std::string::npos)
      << third;
}

TEST_F(CodeAgentE2E, DenyRulesFromProjectFileAndFlags) {
  make_git_repo(repo_, {{"a.txt", "a\n"}, {".v4rt/settings.json", R"J({"permissions": {"deny": ["write(secret*)"]}})J"}});
  write_replay(replay_, {
      turn("", "", {{"write", {{"path", "secret.txt"}, {"content", "x"}}},
                    {"write", {{"path", "ok.txt"}, {"content", "x"}}},
                    {"edit", {{"path", "a.txt"}, {"old", "a"}, {"new", "b"}}}}),
      turn("", "done"),
  });
  auto r = run_code(repo_, replay_, state_, "--deny 'edit(a.txt)' --output-format stream-json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(fs::exists(repo_ / "secret.txt"));
  EXPECT_TRUE(fs::exists(repo_ / "ok.txt"));
  EXPECT_EQ(get(repo_ / "a.txt"), "a\n");
}

TEST_F(CodeAgentE2E, PreToolHookBlocksACall) {
  make_git_repo(repo_, {{"a.txt", "a\n"},
                        {".v4rt/settings.json",
                         R"J({"hooks": {"pre_tool": [{"command": "grep -q rm && { echo 'no rm please' >&2; exit 2; } || exit 0", "tools": ["shell"]}]}})J"}});
  write_replay(replay_, {turn("", "", {{"shell", {{"command", "rm a.txt"}}}}), turn("", "ok")});
  // Hooks come from the project file, which runs them only once approved
  // (issue 11, hole 5): --trust-project approves it as it is now.
  auto r = run_code(repo_, replay_, state_,
                    "--output-format stream-json --unsandboxed --permission-mode full --trust-project");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("approved"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::exists(repo_ / "a.txt"));
  auto results = of_type(events(r.out), "tool_result");
  ASSERT_EQ(results.size(), 1u);
  EXPECT_NE(results[0]["output"].get<std::string>().find("no rm please"), std::string::npos) << results[0].dump();
}


TEST_F(CodeAgentE2E, SandboxDeniesOutsideWritesAndNetwork) {
  need_sandbox();
  if (IsSkipped()) return;  // GTEST_SKIP in a helper returns from the helper only
  make_git_repo(repo_, {{"a.txt", "a\n"}});
  LoopbackListener l;
  fs::path outside = dir_.path() / "outside.txt";
  fs::path home_escape = dir_.path() / "home" / "v4rt-e2e-escape";
  fs::create_directories(home_escape.parent_path());
  std::string net = "exec 3<>/dev/tcp/127.0.0.1/" + std::to_string(l.port()) + " && echo CONNECTED";
  write_replay(replay_, {
      // /tmp and $HOME are private in the sandbox: these writes succeed there and never reach the host.
      turn("", "", {{"shell", {{"command", "echo x > " + outside.string() + "; echo x > ~/v4rt-e2e-escape; "
                                           "echo x > /usr/v4rt-e2e-escape"}}}}),
      turn("", "", {{"shell", {{"command", net}}}}),
      turn("", "", {{"shell", {{"command", "echo inside > made.txt"}}}}),
      turn("", "done"),
  });
  auto r = run_code_env(repo_, replay_, state_, "HOME=" + shell_quote(home_escape.parent_path().string()),
                        "--output-format stream-json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(fs::exists(outside));
  EXPECT_FALSE(fs::exists(home_escape));
  EXPECT_FALSE(fs::exists("/usr/v4rt-e2e-escape"));
  auto results = of_type(events(r.out), "tool_result");
  ASSERT_EQ(results.size(), 3u);
  EXPECT_NE(results[0]["output"].get<std::string>().find("Read-only file system"), std::string::npos) << results[0].dump();
  EXPECT_EQ(results[1]["output"].get<std::string>().find("CONNECTED"), std::string::npos) << results[1].dump();
  EXPECT_EQ(get(repo_ / "made.txt"), "inside\n");
}

TEST_F(CodeAgentE2E, StaleLineRangeEditIsRefused) {
  need_sandbox();
  if (IsSkipped()) return;  // GTEST_SKIP in a helper returns from the helper only
  make_git_repo(repo_, {{"a.txt", "one\ntwo\nthree\n"}});
  write_replay(replay_, {
      turn("", "", {{"read", {{"path", "a.txt"}}}}),
      turn("", "", {{"shell", {{"command", "sed -i 's/two/TWO/' a.txt"}}}}),
      turn("", "", {{"edit", {{"path", "a.txt"}, {"start_line", "2", false}, {"end_line", "2", false}, {"new", "2"}}}}),
      turn("", "", {{"read", {{"path", "a.txt"}}}}),
      turn("", "", {{"edit", {{"path", "a.txt"}, {"start_line", "2", false}, {"end_line", "2", false}, {"new", "2"}}}}),
      turn("", "done"),
  });
  auto r = run_code(repo_, replay_, state_, "--output-format stream-json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto results = of_type(events(r.out), "tool_result");
  ASSERT_EQ(results.size(), 5u);
  EXPECT_TRUE(results[2]["is_error"].get<bool>());
  EXPECT_NE(results[2]["output"].get<std::string>().find("changed since you last read it"), std::string::npos)
      << results[2].dump();
  EXPECT_FALSE(results[4]["is_error"].get<bool>()) << results[4].dump();
  EXPECT_EQ(get(repo_ / "a.txt"), "one\n2\nthree\n");
}

TEST_F(CodeAgentE2E, RecoversFromToolErrors) {
  make_git_repo(repo_, {{"a.txt", "alpha\nbeta\n"}});
  write_replay(replay_, {
      turn("", "", {{"edit", {{"path", "a.txt"}, {"old", "gamma"}, {"new", "delta"}}}}),
      turn("", "", {{"nosuchtool", {{"x", "1"}}}, {"read", {{"pathh", "a.txt"}}}}),
      turn("", "", {{"read", {{"path", "a.txt"}}}}),
      turn("", "", {{"edit", {{"path", "a.txt"}, {"old", "beta"}, {"new", "delta"}}}}),
      turn("", "replaced beta"),
  });
  auto r = run_code(repo_, replay_, state_, "--output-format stream-json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto results = of_type(events(r.out), "tool_result");
  ASSERT_EQ(results.size(), 5u);
  EXPECT_TRUE(results[0]["is_error"].get<bool>());
  EXPECT_NE(results[0]["output"].get<std::string>().find("not found"), std::string::npos);
  EXPECT_NE(results[1]["output"].get<std::string>().find("unknown tool 'nosuchtool'"), std::string::npos);
  EXPECT_NE(results[2]["output"].get<std::string>().find("missing required property"), std::string::npos);
  EXPECT_FALSE(results[4]["is_error"].get<bool>());
  EXPECT_EQ(get(repo_ / "a.txt"), "alpha\ndelta\n");
}

TEST_F(CodeAgentE2E, EscapesAreRefused) {
  make_git_repo(repo_, {{"a.txt", "a\n"}});
  put(dir_.path() / "secret.txt", "top secret\n");
  fs::create_symlink(dir_.path() / "secret.txt", repo_ / "link.txt");
  fs::create_directory_symlink(dir_.path(), repo_ / "updir");
  fs::create_directory_symlink("/proc/self/root", repo_ / "procroot");
  std::vector<Call> calls = {
      {"read", {{"path", "../secret.txt"}}},
      {"read", {{"path", (dir_.path() / "secret.txt").string()}}},
      {"read", {{"path", "link.txt"}}},
      {"read", {{"path", "updir/secret.txt"}}},
      {"read", {{"path", "/proc/self/root/etc/hostname"}}},
      {"read", {{"path", "procroot/etc/hostname"}}},
      {"write", {{"path", "updir/new.txt"}, {"content", "x"}}},
      {"edit", {{"path", "link.txt"}, {"old", "top"}, {"new", "bottom"}}},
      {"grep", {{"pattern", "secret"}, {"path", "updir"}}},
      {"list", {{"path", "/"}}},
      {"apply_patch", {{"patch", "--- /dev/null\n+++ b/../new2.txt\n@@ -0,0 +1 @@\n+x\n"}}},
  };
  write_replay(replay_, {turn("", "", calls), turn("", "done")});
  auto r = run_code(repo_, replay_, state_, "--output-format stream-json --permission-mode full");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto results = of_type(events(r.out), "tool_result");
  ASSERT_EQ(results.size(), calls.size());
  for (const auto& res : results) {
    EXPECT_TRUE(res["is_error"].get<bool>()) << res.dump();
    EXPECT_EQ(res["output"].get<std::string>().find("top secret"), std::string::npos) << res.dump();
  }
  EXPECT_FALSE(fs::exists(dir_.path() / "new.txt"));
  EXPECT_FALSE(fs::exists(dir_.path() / "new2.txt"));
  EXPECT_EQ(get(dir_.path() / "secret.txt"), "top secret\n");
}

TEST_F(CodeAgentE2E, ShellEscapesAreRefusedBySandbox) {
  need_sandbox();
  if (IsSkipped()) return;  // GTEST_SKIP in a helper returns from the helper only
  make_git_repo(repo_, {{"a.txt", "a\n"}});
  put(dir_.path() / "secret.txt", "top secret\n");
  std::string rm = "rm -f " + (dir_.path() / "secret.txt").string() + "; echo rc=$?";
  std::string via_link = "ln -s / rootlink; echo pwned > rootlink" + (dir_.path() / "pwned.txt").string() + "; echo rc=$?";
  std::vector<Call> calls = {{"shell", {{"command", rm}}}, {"shell", {{"command", via_link}}}};
  write_replay(replay_, {turn("", "", calls), turn("", "done")});
  auto r = run_code(repo_, replay_, state_, "--output-format stream-json --permission-mode full");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(get(dir_.path() / "secret.txt"), "top secret\n");
  EXPECT_FALSE(fs::exists(dir_.path() / "pwned.txt"));
}

TEST_F(CodeAgentE2E, UnparsableOutputStopsCleanly) {
  make_git_repo(repo_, {{"a.txt", "a\n"}});
  const std::string d = "\uFF5C" "DSML" "\uFF5C";
  write_replay(replay_, {
      "garbage \x01\x02 <" + d + "invoke name=\"read\"> no structure" + kEos,
      "x</think>\n\n<" + d + "tool_calls>\n<" + d + "invoke name=\"read\">\n<" + d + "parameter name=\"path\" strin",
      "</think></think>" + kEos + kEos,
      "never reached",
  });
  auto r = run_code(repo_, replay_, state_, "--output-format json");
  EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 1) << r.exit_code << r.err;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.out << r.err;
  EXPECT_EQ(j["type"], "result");
  EXPECT_TRUE(j["stop_reason"] == "parse_errors" || j["stop_reason"] == "answered") << j.dump();
}

TEST_F(CodeAgentE2E, ReplayRunningOutIsABackendError) {
  make_git_repo(repo_, {{"a.txt", "a\n"}});
  write_replay(replay_, {turn("", "", {{"read", {{"path", "a.txt"}}}})});
  auto r = run_code(repo_, replay_, state_, "--output-format json");
  EXPECT_EQ(r.exit_code, 1);
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  EXPECT_EQ(j["stop_reason"], "backend_error");
  EXPECT_NE(j["error"].get<std::string>().find("recorded turns were played"), std::string::npos);
}

TEST_F(CodeAgentE2E, MaxStepsBudget) {
  make_git_repo(repo_, {{"a.txt", "a\n"}});
  std::vector<std::string> turns(5, turn("", "", {{"read", {{"path", "a.txt"}}}}));
  write_replay(replay_, turns);
  auto r = run_code(repo_, replay_, state_, "--output-format json --max-steps 2");
  EXPECT_EQ(r.exit_code, 1);
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  EXPECT_EQ(j["stop_reason"], "max_steps");
  EXPECT_EQ(j["steps"], 2);
}

TEST_F(CodeAgentE2E, ContinueAndResumeSessions) {
  make_git_repo(repo_, {{"a.txt", "a\n"}});
  write_replay(replay_, {turn("", "first answer")});
  auto r1 = run_code(repo_, replay_, state_, "--output-format json", "first task");
  ASSERT_EQ(r1.exit_code, 0) << r1.err;
  write_replay(replay_, {turn("", "second answer")});
  auto r2 = run_code(repo_, replay_, state_, "--output-format json --continue", "second task");
  ASSERT_EQ(r2.exit_code, 0) << r2.err;
  auto list = run_command(shell_quote(v4rt_binary().string()) + " code --list-sessions --state-dir " +
                          shell_quote(state_.string()));
  ASSERT_EQ(list.exit_code, 0);
  // One session holding both tasks: system, user, assistant, user, assistant.
  EXPECT_NE(list.out.find("5 messages"), std::string::npos) << list.out;
  std::string id = list.out.substr(0, list.out.find(' '));
  std::string saved = get(state_ / "sessions" / (id + ".json"));
  EXPECT_NE(saved.find("first task"), std::string::npos);
  EXPECT_NE(saved.find("second answer"), std::string::npos);
  write_replay(replay_, {turn("", "third")});
  auto r3 = run_code(repo_, replay_, state_, "--output-format json --resume " + id, "third task");
  ASSERT_EQ(r3.exit_code, 0) << r3.err;
  auto bad = run_code(repo_, replay_, state_, "--resume nope-123", "x");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("not found"), std::string::npos);
}

TEST_F(CodeAgentE2E, CtrlCCancelsTheRunningTask) {
  make_git_repo(repo_, {{"a.txt", "a\n"}});
  write_replay(replay_, {turn("", "", {{"shell", {{"command", "sleep 30"}}}}), turn("", "never")});
  std::string cmd = shell_quote(v4rt_binary().string()) + " code -p task --backend " +
                    shell_quote("replay:" + replay_.string()) + " --workspace " + shell_quote(repo_.string()) +
                    " --state-dir " + shell_quote(state_.string()) +
                    " --unsandboxed --permission-mode full --output-format stream-json";
  auto t0 = std::chrono::steady_clock::now();
  auto r = run_command(cmd + " & pid=$!; sleep 1; kill -INT $pid; wait $pid; echo rc=$?");
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(s, 15) << r.out;
  EXPECT_NE(r.out.find("rc=130"), std::string::npos) << r.out << r.err;
  auto done = of_type(events(r.out), "done");
  ASSERT_EQ(done.size(), 1u) << r.out;
  EXPECT_EQ(done[0]["stop_reason"], "cancelled");
}

TEST_F(CodeAgentE2E, WithoutASandboxShellIsRefusedUnlessUnsandboxed) {
  make_git_repo(repo_, {{"a.txt", "a\n"}});
  write_replay(replay_, {turn("", "", {{"shell", {{"command", "echo ran > ran.txt"}}}}), turn("", "ok")});
  // No bwrap on PATH: the probe fails, the CLI says so, and shell refuses.
  auto r = run_command("env PATH=/nonexistent " + shell_quote(v4rt_binary().string()) + " code -p task --backend " +
                       shell_quote("replay:" + replay_.string()) + " --workspace " + shell_quote(repo_.string()) +
                       " --state-dir " + shell_quote(state_.string()) + " --output-format stream-json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("sandbox unavailable"), std::string::npos) << r.err;
  auto results = of_type(events(r.out), "tool_result");
  ASSERT_EQ(results.size(), 1u);
  EXPECT_TRUE(results[0]["is_error"].get<bool>());
  EXPECT_NE(results[0]["output"].get<std::string>().find("--unsandboxed"), std::string::npos) << results[0].dump();
  EXPECT_FALSE(fs::exists(repo_ / "ran.txt"));
}

TEST_F(CodeAgentE2E, UsageErrors) {
  make_git_repo(repo_, {{"a.txt", "a\n"}});
  write_replay(replay_, {turn("", "x")});
  EXPECT_EQ(run_code(repo_, replay_, state_, "--output-format yaml").exit_code, 2);
  EXPECT_NE(run_code(repo_, replay_, state_, "--permission-mode yolo").exit_code, 0);
  auto missing = run_code(repo_, dir_.path() / "missing.jsonl", state_, "");
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.err.find("missing.jsonl"), std::string::npos);
  auto help = run_command(shell_quote(v4rt_binary().string()) + " code --help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("--permission-mode"), std::string::npos);
}

}  // namespace
}  // namespace v4rt::testing::code
