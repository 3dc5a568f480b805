// PermissionPolicy: decides, for one tool call, allow / ask / deny.
// Rules are "tool" or "tool(pattern)"; "*" names every tool. Among the rules
// that match a call, deny wins over ask, ask over allow; with no matching rule
// the mode decides (below). docs/agent.md, "Permissions", is the user's guide.
//   Path rules (read and edit tools): the pattern is a glob over the
//   canonical workspace-relative path of every file the call touches
//   (Tool::touched_paths: symlinks resolved, "./", absolute paths inside the
//   workspace normalised; apply_patch: every file of the patch). A pattern
//   also matches the files under a directory it matches. Rules apply to the
//   tool's family: a rule on any read tool (read, list, glob, grep) covers
//   every read tool, a rule on any edit tool (write, edit, apply_patch) every
//   edit tool, and a read deny rule with a pattern also covers edits of those
//   files (editing shows their content). deny/ask: ANY touched path matching;
//   allow: EVERY touched path matched by an allow rule.
//   Shell rules: the command is parsed (tools/command_analysis.h); the
//   pattern is a glob over each simple command's words joined by single
//   spaces ('*' also crosses '/'; "git *" also matches plain "git"). deny/ask:
//   ANY command matching (substitutions and unwrapped wrappers included; for
//   deny also with argv[0]'s basename, so /bin/rm is rm). allow: EVERY
//   command matched by an allow rule and nothing a rule cannot judge
//   (unparseable text, a computed command name, eval, sudo, ...; file
//   redirections outside the workspace or to computed names; redirections
//   that write in read-only mode). Redirection targets are path rules:
//   writes are judged as edits, '<' reads as reads. When deny or ask rules on
//   commands exist and the line hides what it runs from them, it asks.
// With no matching rule the mode decides:
//   read-only        reads allowed; edits denied; commands and other tools ask
//   workspace-write  reads and edits inside the workspace allowed; sandboxed
//                    commands allowed; unsandboxed commands and other tools ask
//   full             everything allowed
// "ask" becomes a prompt on a terminal and a refusal when non-interactive.
// Thread-safe for decide(); add_rule() only before concurrent use.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "tools/tool.h"

namespace v4rt::tools {

enum class PermissionMode { kReadOnly, kWorkspaceWrite, kFull };
enum class Decision { kAllow, kAsk, kDeny };

Result<PermissionMode> parse_permission_mode(std::string_view text);
std::string_view permission_mode_name(PermissionMode mode);
std::string_view decision_name(Decision d);

struct PermissionRule {
  std::string tool;     // tool name or "*"
  std::string pattern;  // empty: any subject
  Decision action = Decision::kAllow;
  std::string text;     // as written, for messages
};

// "shell(git status*)", "write(src/**)", "read", "*". InvalidArgument naming the rule.
Result<PermissionRule> parse_rule(std::string_view text, Decision action);

class Workspace;

struct PermissionRequest {
  std::string tool;
  ToolKind kind = ToolKind::kOther;
  std::string subject;     // path relative to the workspace, or the command
  bool sandboxed = true;   // for kExecute: whether the command runs in the sandbox
  // Read and edit tools: the canonical workspace-relative paths the call
  // touches (Tool::touched_paths). Empty: the subject, normalised, is used.
  std::vector<std::string> paths;
  // Shell: resolves redirection targets (relative to cwd); null: lexically,
  // relative paths inside, absolute ones outside. Borrowed.
  const Workspace* workspace = nullptr;
  std::string cwd = ".";   // shell: working directory relative to the workspace
};

struct PermissionVerdict {
  Decision decision = Decision::kDeny;
  std::string reason;  // which rule or mode decided, for the model and the user
};

class PermissionPolicy {
 public:
  explicit PermissionPolicy(PermissionMode mode = PermissionMode::kWorkspaceWrite) : mode_(mode) {}

  void set_mode(PermissionMode mode) { mode_ = mode; }
  PermissionMode mode() const { return mode_; }
  void add_rule(PermissionRule rule) { rules_.push_back(std::move(rule)); }
  const std::vector<PermissionRule>& rules() const { return rules_; }
  // {"mode": "...", "allow": [...], "ask": [...], "deny": [...]} (every key optional).
  Status add_json(const nlohmann::json& permissions, std::string_view source);

  PermissionVerdict decide(const PermissionRequest& request) const;

  // The family (kRead, kEdit) of a tool named in rules. Built-in file tools
  // are known; register others (plugins) before concurrent use.
  void set_tool_kind(const std::string& tool, ToolKind kind) { kinds_[tool] = kind; }
  // Whether read tools may touch this workspace-relative path: false when a
  // deny or ask path rule of the read family matches it (multi-file readers
  // leave it out; see ToolContext::may_read).
  bool may_read(const std::string& rel_path) const;
  // Whether any rule can make may_read() false (else callers skip the filter).
  bool has_read_path_rules() const;

 private:
  PermissionVerdict decide_paths(const PermissionRequest& q) const;
  PermissionVerdict decide_command(const PermissionRequest& q) const;
  PermissionVerdict decide_by_mode(const PermissionRequest& q, const std::string& note) const;
  std::optional<ToolKind> family_of(const std::string& tool) const;
  bool rule_covers_paths(const PermissionRule& r, const std::string& tool, ToolKind kind) const;

  PermissionMode mode_;
  std::vector<PermissionRule> rules_;
  std::map<std::string, ToolKind> kinds_ = {
      {"read", ToolKind::kRead},  {"list", ToolKind::kRead}, {"glob", ToolKind::kRead},
      {"grep", ToolKind::kRead},  {"write", ToolKind::kEdit}, {"edit", ToolKind::kEdit},
      {"apply_patch", ToolKind::kEdit}};
};

// Human description of a shell command for the approval prompt ("runs 2
// commands: echo hi ; rm -f a.txt; ..."). Raw text: escape it for a terminal.
std::string describe_command_for_approval(std::string_view command);

}  // namespace v4rt::tools
