#include "tools/permission_policy.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "test_util.h"
#include "tools/workspace.h"

namespace v4rt::tools {
namespace {

namespace fs = std::filesystem;

PermissionRequest req(const std::string& tool, ToolKind kind, const std::string& subject, bool sandboxed = true) {
  PermissionRequest q;
  q.tool = tool;
  q.kind = kind;
  q.subject = subject;
  q.sandboxed = sandboxed;
  return q;
}

Decision shell(const PermissionPolicy& p, const std::string& command, bool sandboxed = true) {
  return p.decide(req("shell", ToolKind::kExecute, command, sandboxed)).decision;
}

PermissionRequest files(const std::string& tool, ToolKind kind, std::vector<std::string> paths) {
  PermissionRequest q = req(tool, kind, "");
  q.paths = std::move(paths);
  return q;
}

TEST(PermissionPolicyTest, ModeDefaults) {
  PermissionPolicy ro(PermissionMode::kReadOnly);
  EXPECT_EQ(ro.decide(req("read", ToolKind::kRead, "a")).decision, Decision::kAllow);
  EXPECT_EQ(ro.decide(req("write", ToolKind::kEdit, "a")).decision, Decision::kDeny);
  EXPECT_EQ(ro.decide(req("shell", ToolKind::kExecute, "ls")).decision, Decision::kAsk);
  PermissionPolicy ww(PermissionMode::kWorkspaceWrite);
  EXPECT_EQ(ww.decide(req("write", ToolKind::kEdit, "a")).decision, Decision::kAllow);
  EXPECT_EQ(ww.decide(req("shell", ToolKind::kExecute, "ls")).decision, Decision::kAllow);
  EXPECT_EQ(ww.decide(req("shell", ToolKind::kExecute, "ls", false)).decision, Decision::kAsk);
  EXPECT_EQ(ww.decide(req("web_fetch", ToolKind::kOther, "")).decision, Decision::kAsk);
  PermissionPolicy full(PermissionMode::kFull);
  EXPECT_EQ(full.decide(req("shell", ToolKind::kExecute, "rm -rf x", false)).decision, Decision::kAllow);
}

TEST(PermissionPolicyTest, DenyWinsOverAskOverAllow) {
  PermissionPolicy p(PermissionMode::kFull);
  p.add_rule(*parse_rule("shell", Decision::kAllow));
  p.add_rule(*parse_rule("shell(git push*)", Decision::kAsk));
  p.add_rule(*parse_rule("shell(git push --force*)", Decision::kDeny));
  EXPECT_EQ(p.decide(req("shell", ToolKind::kExecute, "git status")).decision, Decision::kAllow);
  EXPECT_EQ(p.decide(req("shell", ToolKind::kExecute, "git push origin main")).decision, Decision::kAsk);
  auto v = p.decide(req("shell", ToolKind::kExecute, "git push --force origin/main"));
  EXPECT_EQ(v.decision, Decision::kDeny);
  EXPECT_NE(v.reason.find("git push --force*"), std::string::npos);
}

TEST(PermissionPolicyTest, PathPatternsAndWildcardTool) {
  PermissionPolicy p(PermissionMode::kWorkspaceWrite);
  p.add_rule(*parse_rule("write(secrets/**)", Decision::kDeny));
  p.add_rule(*parse_rule("*(.env)", Decision::kDeny));
  EXPECT_EQ(p.decide(req("write", ToolKind::kEdit, "secrets/a/b.txt")).decision, Decision::kDeny);
  EXPECT_EQ(p.decide(req("write", ToolKind::kEdit, "src/a.txt")).decision, Decision::kAllow);
  EXPECT_EQ(p.decide(req("read", ToolKind::kRead, ".env")).decision, Decision::kDeny);
}

TEST(PermissionPolicyTest, ReadOnlyAllowsRuleApprovedCommands) {
  PermissionPolicy p(PermissionMode::kReadOnly);
  p.add_rule(*parse_rule("shell(make test)", Decision::kAllow));
  EXPECT_EQ(p.decide(req("shell", ToolKind::kExecute, "make test")).decision, Decision::kAllow);
  EXPECT_EQ(p.decide(req("shell", ToolKind::kExecute, "make install")).decision, Decision::kAsk);
}

TEST(PermissionPolicyTest, ParsesRulesAndJson) {
  EXPECT_FALSE(parse_rule("shell(", Decision::kAllow).ok());
  EXPECT_FALSE(parse_rule("shell()", Decision::kAllow).ok());
  EXPECT_FALSE(parse_rule("", Decision::kAllow).ok());
  auto r = parse_rule("grep(src/*)", Decision::kDeny);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->tool, "grep");
  EXPECT_EQ(r->pattern, "src/*");
  PermissionPolicy p;
  ASSERT_TRUE(p.add_json({{"mode", "read-only"}, {"allow", {"shell(ls*)"}}, {"deny", {"read(.env)"}}}, "x.json").ok());
  EXPECT_EQ(p.mode(), PermissionMode::kReadOnly);
  EXPECT_EQ(p.rules().size(), 2u);
  Status bad = p.add_json({{"mode", "yolo"}}, ".v4rt/settings.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find(".v4rt/settings.json"), std::string::npos);
  EXPECT_NE(bad.message().find("workspace-write"), std::string::npos);
  EXPECT_FALSE(p.add_json({{"allow", "shell"}}, "x").ok());
  EXPECT_FALSE(parse_permission_mode("all").ok());
}

// Issue 11, hole 6: deny rules are matched on parsed commands, not raw text.
TEST(PermissionPolicyTest, ShellDenyRulesSeeEveryCommand) {
  PermissionPolicy p(PermissionMode::kFull);
  p.add_rule(*parse_rule("shell(rm *)", Decision::kDeny));
  for (const char* c : {"rm x", " rm x", "\trm x", "true; rm x", "true && rm x", "false || rm x", "ls | rm x",
                        "echo $(rm x)", "echo `rm x`", "echo \"$(rm x)\"", "(rm x)", "{ rm x; }", "/bin/rm x",
                        "'rm' x", "r\\m x", "$'\\x72m' x", "FOO=1 rm x", "env rm x", "env -i FOO=1 rm x",
                        "command rm x", "busybox rm x", "nice -n 5 rm x", "timeout 5 rm x", "nohup rm x", "exec rm x",
                        "bash -c 'rm x'", "sh -c \"true; rm x\"", "bash -lc 'rm x'", "eval rm x", "eval 'rm x'",
                        "sudo rm x", "sudo -u root rm x", "xargs rm", "find . -exec rm {} \\;",
                        "find . -exec rm {} +", "if true; then rm x; fi", "for f in a; do rm $f; done",
                        "cat <(rm x)", "echo ${X:-$(rm x)}", "time rm x", "! rm x", "rm", "x=$(rm y)",
                        "bash -c 'bash -c \"rm x\"'", "true; rm x; echo 'unterminated",
                        "shopt -s expand_aliases\nalias ls='rm -rf x'\nls", "{fd}>log rm x"}) {
    EXPECT_EQ(shell(p, c), Decision::kDeny) << c;
  }
  auto v = p.decide(req("shell", ToolKind::kExecute, "true; rm -rf x"));
  EXPECT_NE(v.reason.find("rm *"), std::string::npos) << v.reason;
  EXPECT_NE(v.reason.find("rm -rf x"), std::string::npos) << v.reason;
  // What does not run rm is not denied.
  for (const char* c : {"echo rm x", "echo 'rm x'", "grep rm x", "ls", "echo $(ls)", "firm x"})
    EXPECT_EQ(shell(p, c), Decision::kAllow) << c;
}

TEST(PermissionPolicyTest, ShellDenyRulesAskWhenTheyCannotSee) {
  PermissionPolicy p(PermissionMode::kFull);
  p.add_rule(*parse_rule("shell(rm *)", Decision::kDeny));
  for (const char* c : {"$CMD x", "\"$(echo rm)\" x", "/bin/r? x", "eval \"$X\"", "bash -c \"$X\"", "sh",
                        "bash -s", "echo rm x | sh", "cat <<EOF\n$(rm x)\nEOF", "hash -p /bin/rm ls; ls x", "echo $(( $(rm x) ))",
                        "echo 'unterminated"}) {
    auto v = p.decide(req("shell", ToolKind::kExecute, c));
    EXPECT_NE(v.decision, Decision::kAllow) << c << ": " << v.reason;
  }
  // Without deny/ask rules on commands the mode decides (the sandbox is the boundary).
  PermissionPolicy plain(PermissionMode::kWorkspaceWrite);
  EXPECT_EQ(shell(plain, "$CMD x"), Decision::kAllow);
}

TEST(PermissionPolicyTest, ShellAllowRulesMustCoverEveryCommand) {
  PermissionPolicy p(PermissionMode::kReadOnly);
  p.add_rule(*parse_rule("shell(echo *)", Decision::kAllow));
  p.add_rule(*parse_rule("shell(git status*)", Decision::kAllow));
  for (const char* c : {"echo hi", "  echo   hi", "echo 'a;b'", "echo", "echo hi && git status", "echo $HOME",
                        "echo *.txt", "echo hi >/dev/null 2>&1", "echo $(echo inner)", "git status --short",
                        "bash -c 'echo hi'"})
    EXPECT_EQ(shell(p, c), Decision::kAllow) << c;
  for (const char* c : {"echo hi; rm -f a.txt", "echo $(touch x)", "echo `touch x`", "echo hi > /etc/x",
                        "echo hi > ../x", "echo hi > a.txt", "echo hi > $F", "echo <(touch x)", "env touch x",
                        "eval echo hi", "$E hi", "PATH=/tmp/evil echo hi",
                        "LD_PRELOAD=/x.so echo", "echo 'x", "git status; git push", "/tmp/echo hi",
                        "if true; then echo a; fi", "cat <<EOF\nx\nEOF", "sudo echo hi", "xargs echo",
                        "echo hi | sh", "git status && git push",
                        "echo&$'\\0aub?x'", "echo; ''"}) {  // fuzzer find: a command named '' was not judged
    auto v = p.decide(req("shell", ToolKind::kExecute, c));
    EXPECT_NE(v.decision, Decision::kAllow) << c << ": " << v.reason;
  }
  auto v = p.decide(req("shell", ToolKind::kExecute, "echo hi; rm -f a.txt"));
  EXPECT_EQ(v.decision, Decision::kAsk);
  EXPECT_NE(v.reason.find("'rm -f a.txt' is not allowed by any rule"), std::string::npos) << v.reason;
  v = p.decide(req("shell", ToolKind::kExecute, "echo hi > /etc/x"));
  EXPECT_NE(v.reason.find("outside the workspace"), std::string::npos) << v.reason;
  // A wrapper is transparent for allow rules: the inner command decides.
  PermissionPolicy q(PermissionMode::kReadOnly);
  q.add_rule(*parse_rule("shell(make *)", Decision::kAllow));
  EXPECT_EQ(shell(q, "timeout 60 make test"), Decision::kAllow);
  EXPECT_EQ(shell(q, "env CC=clang make"), Decision::kAllow);
  EXPECT_NE(shell(q, "timeout 60 rm x"), Decision::kAllow);
  EXPECT_NE(shell(q, "find . -exec make {} \\;"), Decision::kAllow);  // find itself is not allowed
  // A whole-tool allow rule allows every command (deny rules still win).
  PermissionPolicy all(PermissionMode::kReadOnly);
  all.add_rule(*parse_rule("shell", Decision::kAllow));
  all.add_rule(*parse_rule("shell(rm *)", Decision::kDeny));
  EXPECT_EQ(shell(all, "echo 'x"), Decision::kAsk);  // unparseable: deny rules cannot see it
  EXPECT_EQ(shell(all, "ls; echo $(date)"), Decision::kAllow);
  EXPECT_EQ(shell(all, "ls; rm a"), Decision::kDeny);
}

TEST(PermissionPolicyTest, RedirectionsAreJudgedByPathRules) {
  v4rt::testing::TempDir tmp;
  fs::path dir = fs::canonical(tmp.path());
  std::ofstream(dir / "secret.txt") << "s";
  fs::create_directories(dir / "sub");
  fs::create_symlink(dir / "secret.txt", dir / "link");
  auto ws = Workspace::open(dir);
  ASSERT_TRUE(ws.ok());
  PermissionPolicy p(PermissionMode::kWorkspaceWrite);
  p.add_rule(*parse_rule("write(secret.txt)", Decision::kDeny));
  p.add_rule(*parse_rule("read(private/**)", Decision::kDeny));
  auto cmd = [&](const std::string& c, const std::string& cwd = ".") {
    PermissionRequest q = req("shell", ToolKind::kExecute, c);
    q.workspace = &*ws;
    q.cwd = cwd;
    return p.decide(q);
  };
  EXPECT_EQ(cmd("echo x > secret.txt").decision, Decision::kDeny);
  EXPECT_EQ(cmd("echo x >> ./././secret.txt").decision, Decision::kDeny);
  EXPECT_EQ(cmd("echo x > " + (dir / "secret.txt").string()).decision, Decision::kDeny);
  EXPECT_EQ(cmd("echo x > link").decision, Decision::kDeny);  // symlink to the secret
  EXPECT_EQ(cmd("echo x > ../secret.txt", "sub").decision, Decision::kDeny);
  EXPECT_EQ(cmd("cat < private/key").decision, Decision::kDeny);
  EXPECT_NE(cmd("cat < private/key").reason.find("read(private/**)"), std::string::npos);
  EXPECT_EQ(cmd("echo x > other.txt").decision, Decision::kAllow);
  EXPECT_EQ(cmd("echo x 2>&1 >/dev/null").decision, Decision::kAllow);
}

TEST(PermissionPolicyTest, TouchedPathNamesNameTheEntryAndTheFileItReaches) {
  v4rt::testing::TempDir tmp;
  fs::path dir = fs::canonical(tmp.path());
  fs::create_directories(dir / "repo" / "sub");
  std::ofstream(dir / "repo" / "secret.txt") << "s";
  std::ofstream(dir / "outside.txt") << "o";
  fs::create_symlink("secret.txt", dir / "repo" / "link");
  fs::create_symlink(dir / "outside.txt", dir / "repo" / "out_link");
  auto ws = Workspace::open(dir / "repo");
  ASSERT_TRUE(ws.ok());
  auto names = [&](const std::string& p) { return touched_path_names(*ws, p); };
  EXPECT_EQ(*names("././secret.txt"), std::vector<std::string>({"secret.txt"}));
  EXPECT_EQ(*names((dir / "repo" / "secret.txt").string()), std::vector<std::string>({"secret.txt"}));
  EXPECT_EQ(*names("link"), std::vector<std::string>({"link", "secret.txt"}));
  EXPECT_EQ(*names("sub/new.txt"), std::vector<std::string>({"sub/new.txt"}));
  EXPECT_EQ(*names("out_link"), std::vector<std::string>({"out_link"}));  // the tools refuse to follow it
  EXPECT_EQ(*names("."), std::vector<std::string>({"."}));
  EXPECT_FALSE(names("sub/../secret.txt").ok());
  EXPECT_FALSE(names("../outside.txt").ok());
  EXPECT_FALSE(names((dir / "outside.txt").string()).ok());
}

TEST(PermissionPolicyTest, PathRulesCoverToolFamiliesAndEveryTouchedPath) {
  PermissionPolicy p(PermissionMode::kWorkspaceWrite);
  p.add_rule(*parse_rule("read(secret/**)", Decision::kDeny));
  p.add_rule(*parse_rule("write(locked.txt)", Decision::kDeny));
  p.add_rule(*parse_rule("grep(hidden)", Decision::kDeny));
  EXPECT_EQ(p.decide(files("read", ToolKind::kRead, {"secret/a.txt"})).decision, Decision::kDeny);
  EXPECT_EQ(p.decide(files("grep", ToolKind::kRead, {"secret/a.txt"})).decision, Decision::kDeny);
  EXPECT_EQ(p.decide(files("list", ToolKind::kRead, {"secret/sub"})).decision, Decision::kDeny);
  EXPECT_EQ(p.decide(files("read", ToolKind::kRead, {"hidden/x"})).decision, Decision::kDeny);  // dir rule covers files
  EXPECT_EQ(p.decide(files("read", ToolKind::kRead, {"src/a.txt"})).decision, Decision::kAllow);
  EXPECT_EQ(p.decide(files("edit", ToolKind::kEdit, {"locked.txt"})).decision, Decision::kDeny);
  EXPECT_EQ(p.decide(files("apply_patch", ToolKind::kEdit, {"a.txt", "locked.txt"})).decision, Decision::kDeny);
  EXPECT_EQ(p.decide(files("apply_patch", ToolKind::kEdit, {"a.txt", "secret/k"})).decision, Decision::kDeny);
  EXPECT_EQ(p.decide(files("apply_patch", ToolKind::kEdit, {"a.txt", "b.txt"})).decision, Decision::kAllow);
  EXPECT_EQ(p.decide(files("read", ToolKind::kRead, {"locked.txt"})).decision, Decision::kAllow);
  // The subject is normalised when no paths are given.
  EXPECT_EQ(p.decide(req("read", ToolKind::kRead, "./secret//a.txt")).decision, Decision::kDeny);
  // may_read: what multi-file readers leave out.
  EXPECT_TRUE(p.has_read_path_rules());
  EXPECT_FALSE(p.may_read("secret/a.txt"));
  EXPECT_FALSE(p.may_read("hidden/deep/x"));
  EXPECT_TRUE(p.may_read("src/a.txt"));
  EXPECT_TRUE(p.may_read("locked.txt"));
  PermissionPolicy none;
  EXPECT_FALSE(none.has_read_path_rules());
  // Allow rules: every touched path must be allowed.
  PermissionPolicy ro(PermissionMode::kReadOnly);
  ro.add_rule(*parse_rule("edit(docs/**)", Decision::kAllow));
  EXPECT_EQ(ro.decide(files("apply_patch", ToolKind::kEdit, {"docs/a.md"})).decision, Decision::kAllow);
  EXPECT_EQ(ro.decide(files("apply_patch", ToolKind::kEdit, {"docs/a.md", "src/x"})).decision, Decision::kDeny);
  // Plugins' families can be registered.
  PermissionPolicy plug;
  plug.add_rule(*parse_rule("myread(x)", Decision::kDeny));
  EXPECT_EQ(plug.decide(files("read", ToolKind::kRead, {"x"})).decision, Decision::kAllow);
  plug.set_tool_kind("myread", ToolKind::kRead);
  EXPECT_EQ(plug.decide(files("read", ToolKind::kRead, {"x"})).decision, Decision::kDeny);
}

TEST(PermissionPolicyTest, DescribesCommandsForApproval) {
  std::string d = describe_command_for_approval("echo hi; rm -f a.txt");
  EXPECT_NE(d.find("runs 2 commands: echo hi ; rm -f a.txt"), std::string::npos) << d;
  d = describe_command_for_approval("env FOO=1 bash -c 'rm x'");
  EXPECT_NE(d.find("rm x"), std::string::npos) << d;
  d = describe_command_for_approval("$X");
  EXPECT_NE(d.find("hidden"), std::string::npos) << d;
}

}  // namespace
}  // namespace v4rt::tools
