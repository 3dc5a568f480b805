// `v4rt code` as a day-one tool (issue 17), through the real binary and the
// replay backend: budgets and Ctrl-C cut a running tool, stdout carries only
// the answer, the init event carries the session id that --resume takes, flags
// are validated, a session stays in its workspace, a subdirectory finds its
// project root, and the approval prompt offers always / tell-the-model-why.
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

#include "code_replay_util.h"

namespace v4rt::testing::code {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

class UxCodeE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    repo_ = dir_.path() / "repo";
    state_ = dir_.path() / "state";
    replay_ = dir_.path() / "replay.jsonl";
  }
  TempDir dir_;
  fs::path repo_, state_, replay_;
};

Call shell_call(const std::string& command) { return {"shell", {{"command", command}}}; }

std::string bin() { return shell_quote(v4rt_binary().string()); }

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Bug 1: --max-wall-s cuts a running command (its process group) instead of
// waiting for it: `sleep 30` under a 1 s budget ends in a few seconds.
TEST_F(UxCodeE2E, WallTimeBudgetCutsARunningShellCommand) {
  make_git_repo(repo_, {{"a.txt", "a\n"}});
  write_replay(replay_, {turn("", "", {shell_call("sleep 30")}), turn("", "slept")});
  auto t0 = Clock::now();
  auto r = run_code(repo_, replay_, state_,
                    "--unsandboxed --permission-mode full --max-wall-s 1 --output-format stream-json");
  double took = seconds_since(t0);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_LT(took, 8.0) << "the budget did not cut the command";
  auto done = of_type(events(r.out), "done");
  ASSERT_EQ(done.size(), 1u) << r.out;
  EXPECT_EQ(done[0]["stop_reason"], "wall_time");
}

// Bug 1: Ctrl-C in a headless run cuts the running command and ends cleanly
// (a done event, exit 130), not by dying on the signal.
TEST_F(UxCodeE2E, CtrlCCancelsAHeadlessRunCleanly) {
  make_git_repo(repo_, {{"a.txt", "a\n"}});
  write_replay(replay_, {turn("", "", {shell_call("sleep 30")}), turn("", "slept")});
  fs::path out = dir_.path() / "out.jsonl";
  std::string cmd = bin() + " code -p task --backend " + shell_quote("replay:" + replay_.string()) +
                    " --workspace " + shell_quote(repo_.string()) + " --state-dir " + shell_quote(state_.string()) +
                    " --unsandboxed --permission-mode full --output-format stream-json > " +
                    shell_quote(out.string()) + " & pid=$!; sleep 2; kill -INT $pid; wait $pid; echo rc=$?";
  auto t0 = Clock::now();
  auto r = run_command(cmd);
  double took = seconds_since(t0);
  EXPECT_NE(r.out.find("rc=130"), std::string::npos) << r.out << r.err;
  EXPECT_LT(took, 10.0);
  auto ev = events(get(out));
  auto done = of_type(ev, "done");
  ASSERT_EQ(done.size(), 1u) << get(out) << r.err;
  EXPECT_EQ(done[0]["stop_reason"], "cancelled");
  auto results = of_type(ev, "tool_result");
  ASSERT_EQ(results.size(), 1u);
  EXPECT_TRUE(results[0]["is_error"].get<bool>());
}

// Bug 5: text output sends narration and tool activity to stderr; stdout
// holds only the final answer, so `> out.txt` works.
TEST_F(UxCodeE2E, TextStdoutCarriesOnlyTheFinalAnswer) {
  make_git_repo(repo_, {{"a.txt", "hello\n"}});
  write_replay(replay_, {turn("", "Let me look at the file first.", {{"read", {{"path", "a.txt"}}}}),
                         turn("", "It says hello.")});
  auto r = run_code(repo_, replay_, state_, "");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "It says hello.\n");
  EXPECT_NE(r.err.find("Let me look at the file first."), std::string::npos) << r.err;
}

// Readable tool output: labelled by call, newlines kept, head + tail of a long
// output (the assertion at the end stays visible), a non-zero exit shown as a failure.
TEST_F(UxCodeE2E, TextViewShowsToolOutputHeadTailAndFailures) {
  make_git_repo(repo_, {{"a.txt", "a\n"}});
  write_replay(replay_, {turn("", "", {shell_call("for i in $(seq 1 40); do echo line$i; done; echo ASSERTION-X; exit 1")}),
                         turn("", "the test fails")});
  auto r = run_code(repo_, replay_, state_, "--unsandboxed --permission-mode full");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "the test fails\n");
  EXPECT_NE(r.err.find("  ! shell call_1_1 FAILED"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("\n    line1\n"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("\n    ASSERTION-X\n"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(" lines ...\n"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("line20\n"), std::string::npos) << r.err;
}

// Bug 6: stream-json starts with an init event (session id, model, workspace,
// tools, permission mode); the result carries the id; --resume takes it.
TEST_F(UxCodeE2E, InitEventCarriesTheSessionIdAndResumeContinuesIt) {
  make_git_repo(repo_, {{"a.txt", "hello\n"}});
  write_replay(replay_, {turn("", "first answer")});
  auto r = run_code(repo_, replay_, state_, "--output-format stream-json --permission-mode read-only", "task one");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto ev = events(r.out);
  ASSERT_FALSE(ev.empty());
  const auto& init = ev.front();
  EXPECT_EQ(init["type"], "init") << init.dump();
  std::string id = init.value("session_id", "");
  ASSERT_FALSE(id.empty()) << init.dump();
  EXPECT_EQ(init["workspace"], fs::canonical(repo_).string());
  EXPECT_EQ(init["permission_mode"], "read-only");
  EXPECT_EQ(init["backend"], "replay");
  EXPECT_FALSE(init.value("model", "").empty());
  ASSERT_TRUE(init["tools"].is_array());
  EXPECT_NE(std::find(init["tools"].begin(), init["tools"].end(), "read"), init["tools"].end()) << init.dump();
  EXPECT_EQ(init["resumed"], false);
  auto done = of_type(ev, "done");
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0]["session_id"], id);

  fs::path replay2 = dir_.path() / "replay2.jsonl";
  write_replay(replay2, {turn("", "second answer")});
  auto r2 = run_code(repo_, replay2, state_, "--output-format json --resume " + id, "task two");
  ASSERT_EQ(r2.exit_code, 0) << r2.err;
  auto j = nlohmann::json::parse(r2.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r2.out;  // json: one object
  EXPECT_EQ(j["type"], "result");
  EXPECT_EQ(j["session_id"], id);
  EXPECT_EQ(j["result"], "second answer");
  // The resumed conversation holds both tasks.
  auto list = run_command(bin() + " code --list-sessions --output-format json --state-dir " +
                          shell_quote(state_.string()));
  ASSERT_EQ(list.exit_code, 0) << list.err;
  auto arr = nlohmann::json::parse(list.out, nullptr, false);
  ASSERT_TRUE(arr.is_array()) << list.out;
  ASSERT_EQ(arr.size(), 1u) << list.out;
  EXPECT_EQ(arr[0]["session_id"], id);
  EXPECT_EQ(arr[0]["messages"], 5);  // system, task one, answer, task two, answer
}

// Bug 4 (and 7, 9): every flag mistake is a usage error (exit 2) that names the flag.
TEST_F(UxCodeE2E, FlagsAreValidated) {
  make_git_repo(repo_, {{"a.txt", "a\n"}});
  write_replay(replay_, {turn("", "ok")});
  std::string base = bin() + " code --backend " + shell_quote("replay:" + replay_.string()) + " --workspace " +
                     shell_quote(repo_.string()) + " --state-dir " + shell_quote(state_.string()) + " ";
  struct Case {
    std::string flags, needle;
  };
  const Case cases[] = {
      {"--resume -p x", "'--resume' needs a value"},
      {"-p x --continue --resume abc", "--continue and --resume"},
      {"-p x --max-steps -1", "--max-steps must be at least 1"},
      {"-p x --max-steps 0", "--max-steps must be at least 1"},
      {"-p x --max-wall-s -2", "--max-wall-s must be at least 0"},
      {"-p x --max-tokens -5", "--max-tokens must be at least 0"},
      {"-p x --temperature -1", "--temperature must be at least 0"},
  };
  for (const auto& c : cases) {
    auto r = run_command(base + c.flags);
    EXPECT_EQ(r.exit_code, 2) << c.flags << "\n" << r.err;
    EXPECT_NE(r.err.find(c.needle), std::string::npos) << c.flags << "\n" << r.err;
  }
  auto bench = run_command(bin() + " bench --model /nonexistent --temperature 0.5");
  EXPECT_EQ(bench.exit_code, 2) << bench.err;
  EXPECT_NE(bench.err.find("--temperature does not apply to bench"), std::string::npos) << bench.err;
  auto bench_stop = run_command(bin() + " bench --model /nonexistent --stop x");
  EXPECT_EQ(bench_stop.exit_code, 2) << bench_stop.err;
  // Bug 9: `v4rt --version`; help without doubled notes or conflicting defaults.
  auto version = run_command(bin() + " --version");
  EXPECT_EQ(version.exit_code, 0) << version.err;
  EXPECT_EQ(version.out.rfind("v4rt ", 0), 0u) << version.out;
  auto help = run_command(bin() + " generate --help");
  EXPECT_EQ(help.out.find("(repeatable) (repeatable)"), std::string::npos) << help.out;
  auto code_help = run_command(bin() + " code --help");
  size_t cl = code_help.out.find("--context-limit");
  ASSERT_NE(cl, std::string::npos);
  std::string cl_line = code_help.out.substr(cl, code_help.out.find("\n  --", cl + 1) - cl);
  EXPECT_EQ(cl_line.find("default: 0)"), std::string::npos) << cl_line;
  // Bug 7: the session list honours --output-format json, empty on a fresh state dir.
  auto list = run_command(bin() + " code --list-sessions --output-format json --state-dir " +
                          shell_quote((dir_.path() / "fresh").string()));
  EXPECT_EQ(list.exit_code, 0) << list.err;
  EXPECT_EQ(list.out, "[]\n");
}

// Bug 2: a session belongs to its workspace; resuming it elsewhere is refused
// with both workspaces named, and nothing runs.
TEST_F(UxCodeE2E, ResumeFromAnotherWorkspaceIsRefused) {
  make_git_repo(repo_, {{"a.txt", "a\n"}});
  fs::path other = dir_.path() / "other";
  make_git_repo(other, {{"b.txt", "b\n"}});
  write_replay(replay_, {turn("", "done here")});
  auto r = run_code(repo_, replay_, state_, "--output-format stream-json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto ev = events(r.out);
  ASSERT_FALSE(ev.empty());
  std::string id = ev.front().value("session_id", "");
  ASSERT_FALSE(id.empty()) << r.out;
  fs::path replay2 = dir_.path() / "replay2.jsonl";
  write_replay(replay2, {turn("", "", {{"write", {{"path", "c.txt"}, {"content", "x\n"}}}}), turn("", "ok")});
  auto r2 = run_code(other, replay2, state_, "--resume " + id);
  EXPECT_EQ(r2.exit_code, 2) << r2.err;
  EXPECT_NE(r2.err.find(fs::canonical(repo_).string()), std::string::npos) << r2.err;
  EXPECT_NE(r2.err.find(fs::canonical(other).string()), std::string::npos) << r2.err;
  EXPECT_FALSE(fs::exists(other / "c.txt"));
}

// Bug 3: started in a subdirectory, the workspace is the project root (its
// .v4rt/settings.json deny rules apply; the repository context is the whole
// project) and shell commands start in the subdirectory.
TEST_F(UxCodeE2E, SubdirectoryWorksInTheProjectRoot) {
  make_git_repo(repo_, {{"secret.txt", "TOPSECRET\n"},
                        {"sub/inner.txt", "inner\n"},
                        {".v4rt/settings.json", "{\"permissions\": {\"deny\": [\"read(secret.txt)\"]}}"}});
  write_replay(replay_, {turn("", "", {{"read", {{"path", "secret.txt"}}}, shell_call("pwd")}), turn("", "ok")});
  std::string cmd = "cd " + shell_quote((repo_ / "sub").string()) + " && " + bin() + " code -p task --backend " +
                    shell_quote("replay:" + replay_.string()) + " --state-dir " + shell_quote(state_.string()) +
                    " --unsandboxed --permission-mode full --output-format stream-json";
  auto r = run_command(cmd);
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  auto ev = events(r.out);
  ASSERT_FALSE(ev.empty());
  EXPECT_EQ(ev.front()["workspace"], fs::canonical(repo_).string()) << ev.front().dump();
  EXPECT_EQ(ev.front()["cwd"], "sub");
  auto perms = of_type(ev, "permission");
  ASSERT_EQ(perms.size(), 2u) << r.out;
  EXPECT_EQ(perms[0]["decision"], "deny") << perms[0].dump();
  auto results = of_type(ev, "tool_result");
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0]["output"].get<std::string>().find("TOPSECRET"), std::string::npos);
  EXPECT_NE(results[1]["output"].get<std::string>().find(fs::canonical(repo_ / "sub").string()), std::string::npos)
      << results[1].dump();
}

// Bug 8: `chat render` keeps top-level tools when the first message is not a
// system message (an empty leading system message carries them), and renders
// without options in chat mode, as `chat parse` defaults.
TEST_F(UxCodeE2E, ChatRenderKeepsToolsWithoutASystemMessage) {
  fs::path in = dir_.path() / "req.jsonl";
  put(in,
      "{\"messages\":[{\"role\":\"user\",\"content\":\"weather?\"}],\"tools\":[{\"type\":\"function\","
      "\"function\":{\"name\":\"get_weather\",\"description\":\"d\",\"parameters\":{\"type\":\"object\","
      "\"properties\":{}}}}],\"options\":{\"thinking_mode\":\"chat\"}}\n"
      "{\"messages\":[{\"role\":\"system\",\"content\":\"\"},{\"role\":\"user\",\"content\":\"weather?\"}],"
      "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"description\":\"d\","
      "\"parameters\":{\"type\":\"object\",\"properties\":{}}}}],\"options\":{\"thinking_mode\":\"chat\"}}\n"
      "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}\n");
  auto r = run_command(bin() + " chat render " + shell_quote(in.string()));
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  auto lines = events(r.out);
  ASSERT_EQ(lines.size(), 3u) << r.out;
  std::string implicit = lines[0].value("prompt", "");
  EXPECT_NE(implicit.find("get_weather"), std::string::npos) << lines[0].dump();
  EXPECT_EQ(implicit, lines[1].value("prompt", "")) << "an empty leading system message carries the tools";
  EXPECT_FALSE(lines[2].contains("error")) << lines[2].dump();
  EXPECT_EQ(lines[2].value("prompt", "").find("<think>"), std::string::npos) << lines[2].dump();
}

// AGENTS.md / CLAUDE.md reach the system prompt, nearest first, up to the project root.
TEST_F(UxCodeE2E, AgentsMdReachesTheSystemPromptNearestFirst) {
  make_git_repo(repo_, {{"AGENTS.md", "ROOT-RULE: use tabs\n"},
                        {"pkg/CLAUDE.md", "PKG-RULE: use spaces\n"},
                        {"pkg/sub/x.txt", "x\n"},
                        {"other/AGENTS.md", "OTHER-RULE\n"}});
  write_replay(replay_, {turn("", "ok")});
  std::string cmd = "cd " + shell_quote((repo_ / "pkg" / "sub").string()) + " && " + bin() +
                    " code -p task --backend " + shell_quote("replay:" + replay_.string()) + " --state-dir " +
                    shell_quote(state_.string()) + " --repo-context-tokens 0 --output-format stream-json";
  auto r = run_command(cmd);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto ev = events(r.out);
  ASSERT_FALSE(ev.empty());
  std::string id = ev.front().value("session_id", "");
  auto t = nlohmann::json::parse(get(state_ / "sessions" / (id + ".json")), nullptr, false);
  ASSERT_FALSE(t.is_discarded());
  std::string system = t["messages"][0]["content"].get<std::string>();
  size_t pkg = system.find("PKG-RULE: use spaces"), root = system.find("ROOT-RULE: use tabs");
  ASSERT_NE(pkg, std::string::npos) << system;
  ASSERT_NE(root, std::string::npos) << system;
  EXPECT_LT(pkg, root) << "nearest first";
  EXPECT_EQ(system.find("OTHER-RULE"), std::string::npos) << "only files on the way up";
}

// The user's settings ($XDG_CONFIG_HOME/v4rt/settings.json) give defaults
// under the project file, which is under the flags.
TEST_F(UxCodeE2E, UserSettingsSitUnderTheProjectFileAndTheFlags) {
  make_git_repo(repo_, {{"secret.txt", "TOPSECRET\n"}});
  write_replay(replay_, {turn("", "", {{"read", {{"path", "secret.txt"}}}}), turn("", "ok")});
  fs::path cfg = dir_.path() / "cfg";
  put(cfg / "v4rt" / "settings.json",
      nlohmann::json({{"backend", "replay:" + replay_.string()},
                      {"permissions", {{"mode", "read-only"}, {"deny", {"read(secret.txt)"}}}}})
          .dump());
  auto run = [&](const std::string& flags) {
    return run_command("env XDG_CONFIG_HOME=" + shell_quote(cfg.string()) + " " + bin() + " code -p task --workspace " +
                       shell_quote(repo_.string()) + " --state-dir " + shell_quote(state_.string()) +
                       " --output-format stream-json " + flags);
  };
  auto r = run("");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto ev = events(r.out);
  ASSERT_FALSE(ev.empty());
  EXPECT_EQ(ev.front()["backend"], "replay");  // no --backend: the user's default
  EXPECT_EQ(ev.front()["permission_mode"], "read-only");
  auto perms = of_type(ev, "permission");
  ASSERT_EQ(perms.size(), 1u);
  EXPECT_EQ(perms[0]["decision"], "deny");  // the user's deny rule
  // An approved project file's mode wins over the user's; a flag wins over both.
  put(repo_ / ".v4rt" / "settings.json", "{\"permissions\": {\"mode\": \"workspace-write\"}}");
  auto p = run("--trust-project");
  ASSERT_EQ(p.exit_code, 0) << p.err;
  EXPECT_EQ(events(p.out).front()["permission_mode"], "workspace-write");
  auto f = run("--permission-mode full");
  ASSERT_EQ(f.exit_code, 0) << f.err;
  EXPECT_EQ(events(f.out).front()["permission_mode"], "full");
  // A mistake in the file is named.
  put(cfg / "v4rt" / "settings.json", "{\"modle\": \"x\"}");
  auto bad = run("");
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_NE(bad.err.find("settings.json: unknown key \"modle\""), std::string::npos) << bad.err;
}

// Reads from a pty master until `needle` appears or the deadline passes.
// Only text from `from` on counts.
bool read_until(int fd, std::string& got, const std::string& needle, int timeout_ms, size_t from = 0) {
  auto end = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (got.size() < from || got.find(needle, from) == std::string::npos) {
    int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now()).count());
    if (left <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, left) <= 0) return false;
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) return false;
    got.append(buf, static_cast<size_t>(n));
  }
  return true;
}

// Approval prompt: [a]lways allows the same command for the rest of the
// session without asking again; [t]ell refuses and the model reads why.
TEST_F(UxCodeE2E, ApprovalPromptAlwaysAndTellTheModelWhy) {
  make_git_repo(repo_, {{"a.txt", "a\n"}});
  write_replay(replay_, {turn("", "", {shell_call("echo one")}), turn("", "", {shell_call("echo one")}),
                         turn("", "", {shell_call("echo two")}), turn("", "finished")});
  std::string b = v4rt_binary().string();
  int master = -1;
  pid_t pid = forkpty(&master, nullptr, nullptr, nullptr);
  ASSERT_GE(pid, 0) << "forkpty failed";
  if (pid == 0) {
    setenv("NO_COLOR", "1", 1);
    setenv("TERM", "dumb", 1);
    const std::string replay = "replay:" + replay_.string();
    execl(b.c_str(), b.c_str(), "code", "-p", "do it", "--backend", replay.c_str(), "--workspace", repo_.c_str(),
          "--state-dir", state_.c_str(), "--permission-mode", "read-only", "--unsandboxed",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  std::string got;
  const std::string prompt = "allow? [y]es / [n]o: ";
  bool first = read_until(master, got, prompt, 60000);
  if (first) {
    EXPECT_EQ(write(master, "a\n", 2), 2);
  }
  size_t after_first = got.size();
  bool second = first && read_until(master, got, "echo two", 60000, after_first);
  second = second && read_until(master, got, prompt, 60000, got.find("echo two", after_first));
  std::string between = second ? got.substr(after_first) : "";
  if (second) {
    EXPECT_EQ(write(master, "t\n", 2), 2);
    (void)read_until(master, got, "tell the model why (one line): ", 20000, after_first);
    EXPECT_EQ(write(master, "use make instead\n", 17), 17);
    (void)read_until(master, got, "v4rt: answered", 60000, after_first);
  }
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  close(master);
  ASSERT_TRUE(first && second) << got;
  EXPECT_NE(got.find("[a]lways: this command for the rest of the session"), std::string::npos) << got;
  EXPECT_NE(got.find("allowed; this command will not be asked again"), std::string::npos) << got;
  // The second `echo one` ran without a prompt: one prompt between the first answer and `echo two`'s.
  size_t prompts_between = 0;
  for (size_t p = between.find(prompt); p != std::string::npos; p = between.find(prompt, p + 1)) ++prompts_between;
  EXPECT_EQ(prompts_between, 1u) << between;
  EXPECT_NE(between.find("allowed (always, for this session)"), std::string::npos) << between;
  EXPECT_NE(got.find("refused; the model is told why"), std::string::npos) << got;
  EXPECT_NE(got.find("permission denied for shell: refused by the user, who says: use make instead"),
            std::string::npos)
      << got;
}

}  // namespace
}  // namespace v4rt::testing::code

namespace v4rt::testing::code {
namespace {

// The REPL: `v4rt code "task"` runs the task first; /help, /cost, /model and
// /clear answer; /exit ends with 0.
TEST_F(UxCodeE2E, ReplRunsAPositionalTaskAndAnswersSlashCommands) {
  make_git_repo(repo_, {{"a.txt", "a\n"}});
  write_replay(replay_, {turn("", "ANSWER-ONE")});
  std::string b = v4rt_binary().string();
  int master = -1;
  pid_t pid = forkpty(&master, nullptr, nullptr, nullptr);
  ASSERT_GE(pid, 0) << "forkpty failed";
  if (pid == 0) {
    setenv("NO_COLOR", "1", 1);
    setenv("TERM", "dumb", 1);
    const std::string replay = "replay:" + replay_.string();
    execl(b.c_str(), b.c_str(), "code", "say something", "--backend", replay.c_str(), "--workspace", repo_.c_str(),
          "--state-dir", state_.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  std::string got;
  bool answered = read_until(master, got, "ANSWER-ONE", 60000) && read_until(master, got, "v4rt> ", 60000);
  size_t mark = got.size();
  bool ok = answered;
  for (const char* cmd : {"/help\n", "/cost\n", "/model\n", "/clear\n"}) {
    if (!ok) break;
    EXPECT_EQ(write(master, cmd, strlen(cmd)), static_cast<ssize_t>(strlen(cmd)));
    ok = read_until(master, got, "v4rt> ", 20000, got.size());
  }
  if (ok) {
    EXPECT_EQ(write(master, "/exit\n", 6), 6);
  }
  int status = 0;
  for (int i = 0; i < 100 && waitpid(pid, &status, WNOHANG) == 0; ++i) {
    std::string more;
    (void)read_until(master, more, "\x01", 100);
  }
  if (waitpid(pid, &status, WNOHANG) == 0) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
  }
  close(master);
  ASSERT_TRUE(ok) << got;
  std::string after = got.substr(mark);
  EXPECT_NE(after.find("/clear (new session)"), std::string::npos) << after;
  EXPECT_NE(after.find("1 task in this session"), std::string::npos) << after;
  EXPECT_NE(after.find("recorded outputs, not a model"), std::string::npos) << after;
  EXPECT_NE(after.find("new session "), std::string::npos) << after;
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

}  // namespace
}  // namespace v4rt::testing::code
