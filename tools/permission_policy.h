// PermissionPolicy: decides, for one tool call, allow / ask / deny.
// Rules are "tool" or "tool(pattern)" (pattern: glob over the call's subject,
// i.e. the path of file tools or the command of shell; '*' in a shell pattern
// also crosses '/'); "*" names every tool. Among the rules that match a call,
// deny wins over ask, ask over allow; with no matching rule the mode decides:
//   read-only        reads allowed; edits denied; commands and other tools ask
//   workspace-write  reads and edits inside the workspace allowed; sandboxed
//                    commands allowed; unsandboxed commands and other tools ask
//   full             everything allowed
// "ask" becomes a prompt on a terminal and a refusal when non-interactive.
// Thread-safe for decide(); add_rule() only before concurrent use.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/base/status.h"
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

struct PermissionRequest {
  std::string tool;
  ToolKind kind = ToolKind::kOther;
  std::string subject;     // path relative to the workspace, or the command
  bool sandboxed = true;   // for kExecute: whether the command runs in the sandbox
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

 private:
  PermissionMode mode_;
  std::vector<PermissionRule> rules_;
};

}  // namespace v4rt::tools
