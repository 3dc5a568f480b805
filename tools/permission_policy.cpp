#include "tools/permission_policy.h"

#include "tools/glob_match.h"

namespace v4rt::tools {

Result<PermissionMode> parse_permission_mode(std::string_view text) {
  if (text == "read-only") return PermissionMode::kReadOnly;
  if (text == "workspace-write") return PermissionMode::kWorkspaceWrite;
  if (text == "full") return PermissionMode::kFull;
  return Status::InvalidArgument("permission mode '" + std::string(text) +
                                 "' is not known; use read-only, workspace-write or full");
}

std::string_view permission_mode_name(PermissionMode mode) {
  switch (mode) {
    case PermissionMode::kReadOnly: return "read-only";
    case PermissionMode::kWorkspaceWrite: return "workspace-write";
    case PermissionMode::kFull: return "full";
  }
  return "?";
}

std::string_view decision_name(Decision d) {
  switch (d) {
    case Decision::kAllow: return "allow";
    case Decision::kAsk: return "ask";
    case Decision::kDeny: return "deny";
  }
  return "?";
}

Result<PermissionRule> parse_rule(std::string_view text, Decision action) {
  PermissionRule r;
  r.action = action;
  r.text = std::string(text);
  auto bad = [&](const char* why) {
    return Status::InvalidArgument("permission rule '" + std::string(text) + "': " + why +
                                   "; write TOOL or TOOL(PATTERN), e.g. shell(git *) or write(src/**)");
  };
  size_t open = text.find('(');
  if (open == std::string_view::npos) {
    r.tool = std::string(text);
  } else {
    if (text.back() != ')') return bad("missing closing ')'");
    r.tool = std::string(text.substr(0, open));
    r.pattern = std::string(text.substr(open + 1, text.size() - open - 2));
    if (r.pattern.empty()) return bad("empty pattern");
  }
  while (!r.tool.empty() && r.tool.back() == ' ') r.tool.pop_back();
  if (r.tool.empty()) return bad("no tool name");
  for (char c : r.tool)
    if (c == ' ' || c == '(' || c == ')') return bad("tool name has a space or parenthesis");
  return r;
}

Status PermissionPolicy::add_json(const nlohmann::json& j, std::string_view source) {
  if (!j.is_object())
    return Status::InvalidArgument(std::string(source) + ": \"permissions\" must be an object");
  if (j.contains("mode")) {
    if (!j["mode"].is_string())
      return Status::InvalidArgument(std::string(source) + ": permissions.mode must be a string");
    auto m = parse_permission_mode(j["mode"].get<std::string>());
    if (!m) return m.status().with_context(source);
    mode_ = *m;
  }
  const std::pair<const char*, Decision> lists[] = {
      {"allow", Decision::kAllow}, {"ask", Decision::kAsk}, {"deny", Decision::kDeny}};
  for (const auto& [key, action] : lists) {
    if (!j.contains(key)) continue;
    if (!j[key].is_array())
      return Status::InvalidArgument(std::string(source) + ": permissions." + key +
                                     " must be an array of rule strings");
    for (const auto& item : j[key]) {
      if (!item.is_string())
        return Status::InvalidArgument(std::string(source) + ": permissions." + key +
                                       " holds a non-string rule");
      auto r = parse_rule(item.get<std::string>(), action);
      if (!r) return r.status().with_context(source);
      rules_.push_back(std::move(*r));
    }
  }
  return Status::Ok();
}

namespace {

bool rule_matches(const PermissionRule& r, const PermissionRequest& q) {
  if (r.tool != "*" && r.tool != q.tool) return false;
  if (r.pattern.empty() || r.pattern == "*") return true;
  if (q.kind == ToolKind::kExecute) {
    // Commands are not paths: '*' crosses '/'.
    std::string p;
    for (size_t i = 0; i < r.pattern.size(); ++i) {
      if (r.pattern[i] == '*' && (i + 1 >= r.pattern.size() || r.pattern[i + 1] != '*') &&
          (i == 0 || r.pattern[i - 1] != '*'))
        p += "**";
      else
        p += r.pattern[i];
    }
    return glob_match(p, q.subject);
  }
  return glob_match(r.pattern, q.subject);
}

}  // namespace

PermissionVerdict PermissionPolicy::decide(const PermissionRequest& q) const {
  const PermissionRule* hit[3] = {nullptr, nullptr, nullptr};  // allow, ask, deny
  for (const auto& r : rules_)
    if (rule_matches(r, q) && !hit[static_cast<int>(r.action)]) hit[static_cast<int>(r.action)] = &r;
  if (hit[2]) return {Decision::kDeny, "denied by rule '" + hit[2]->text + "'"};
  if (hit[1]) return {Decision::kAsk, "rule '" + hit[1]->text + "' asks for approval"};
  if (hit[0]) return {Decision::kAllow, "allowed by rule '" + hit[0]->text + "'"};
  std::string mode = "permission mode " + std::string(permission_mode_name(mode_));
  switch (mode_) {
    case PermissionMode::kFull:
      return {Decision::kAllow, mode};
    case PermissionMode::kReadOnly:
      if (q.kind == ToolKind::kRead) return {Decision::kAllow, mode};
      if (q.kind == ToolKind::kEdit)
        return {Decision::kDeny, mode + " does not allow file changes"};
      return {Decision::kAsk, mode + " asks before " + (q.kind == ToolKind::kExecute ? "commands" : "this tool")};
    case PermissionMode::kWorkspaceWrite:
      if (q.kind == ToolKind::kRead || q.kind == ToolKind::kEdit) return {Decision::kAllow, mode};
      if (q.kind == ToolKind::kExecute)
        return q.sandboxed ? PermissionVerdict{Decision::kAllow, mode + " (sandboxed command)"}
                           : PermissionVerdict{Decision::kAsk, mode + " asks before unsandboxed commands"};
      return {Decision::kAsk, mode + " asks before tools that may act outside the workspace"};
  }
  return {Decision::kDeny, mode};
}

}  // namespace v4rt::tools
