// libFuzzer target for the shell-word parser (tools/shell_words.h) and the
// permission decision built on it (tools/permission_policy.h). Input: a
// command line. Checks, besides ASan/UBSan and libFuzzer's time limit:
//   - parsing is deterministic, and ok() and error agree;
//   - an allow decision under allow rules implies the line parsed, and every
//     simple command it lists (substitutions included) has a literal name
//     that an allow rule matches or is a wrapper the analysis unwraps;
//   - a visible rm (literal argv[0] whose basename is rm, anywhere) is
//     denied by a deny rule shell(rm *);
//   - the approval description is produced without fault.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "tools/glob_match.h"
#include "tools/permission_policy.h"
#include "tools/shell_words.h"

namespace {

using namespace v4rt::tools;

void require(bool cond, const char* what) {
  if (!cond) {
    std::fprintf(stderr, "invariant failed: %s\n", what);
    std::abort();
  }
}

std::string basename_of(const std::string& w) {
  size_t s = w.find_last_of('/');
  return s == std::string::npos || s + 1 == w.size() ? w : w.substr(s + 1);
}

// An independent oracle for the allow patterns below (all "PREFIX *" or exact).
bool allowed_by_oracle(const std::string& joined) {
  for (std::string_view prefix : {"echo", "ls", "git status", "cat"}) {
    if (joined == prefix) return true;
    if (joined.size() > prefix.size() && joined.compare(0, prefix.size(), prefix) == 0 &&
        joined[prefix.size()] == ' ')
      return true;
  }
  return false;
}

bool unwrapped_wrapper(const std::string& name) {
  for (std::string_view w :
       {"env",  "command", "builtin", "busybox", "toybox", "exec", "nice", "nohup", "setsid", "stdbuf",
        "time", "timeout", "ionice",  "chrt",    "taskset", "bash", "sh",   "dash",  "zsh",    "ksh",
        "mksh", "ash",     "rbash",   "yash",    "fish",    "tcsh", "csh",  "find"})
    if (name == w) return true;
  return false;
}

PermissionRequest shell_request(std::string_view line) {
  PermissionRequest q;
  q.tool = "shell";
  q.kind = ToolKind::kExecute;
  q.subject = std::string(line);
  q.sandboxed = true;
  return q;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view line(reinterpret_cast<const char*>(data), size);
  if (line.empty()) return 0;

  ShellParse a = parse_shell_words(line);
  ShellParse b = parse_shell_words(line);
  require(a.ok == b.ok && a.commands.size() == b.commands.size() && a.opaque == b.opaque, "deterministic");
  require(a.ok == a.error.empty(), "ok() and error agree");
  for (size_t i = 0; i < a.commands.size(); ++i) require(a.commands[i].joined() == b.commands[i].joined(), "same words");
  (void)describe_shell_parse(a);
  (void)describe_command_for_approval(line);

  static PermissionPolicy* allow_policy = [] {
    auto* p = new PermissionPolicy(PermissionMode::kReadOnly);
    for (const char* r : {"shell(echo *)", "shell(ls *)", "shell(git status *)", "shell(cat *)"})
      p->add_rule(*parse_rule(r, Decision::kAllow));
    return p;
  }();
  static PermissionPolicy* deny_policy = [] {
    auto* p = new PermissionPolicy(PermissionMode::kFull);
    p->add_rule(*parse_rule("shell(rm *)", Decision::kDeny));
    return p;
  }();

  PermissionVerdict v = allow_policy->decide(shell_request(line));
  if (v.decision == Decision::kAllow) {
    require(a.ok, "allowed lines parse");
    for (const ShellCommand& c : a.commands) {
      if (c.words.empty()) continue;
      require(c.name_literal(), "allowed lines have literal command names");
      require(allowed_by_oracle(c.joined()) || unwrapped_wrapper(basename_of(c.words[0].text)),
              "every command of an allowed line is allowed by a rule or unwrapped");
    }
  }

  bool visible_rm = false;
  for (const ShellCommand& c : a.commands)
    if (c.name_literal() && basename_of(c.words[0].text) == "rm") visible_rm = true;
  if (visible_rm) require(deny_policy->decide(shell_request(line)).decision == Decision::kDeny, "visible rm is denied");
  return 0;
}
