#include "tools/permission_policy.h"

#include <algorithm>

#include "tools/command_analysis.h"
#include "tools/glob_match.h"
#include "tools/workspace.h"

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

bool whole_tool(const PermissionRule& r) { return r.pattern.empty() || r.pattern == "*"; }

// "./a//b/./c" -> "a/b/c"; "" -> ".". Leaves ".." (the tools refuse it).
std::string normalize_relative(std::string_view p) {
  std::vector<std::string_view> parts;
  size_t i = 0;
  while (i <= p.size()) {
    size_t j = p.find('/', i);
    if (j == std::string_view::npos) j = p.size();
    std::string_view part = p.substr(i, j - i);
    if (!part.empty() && part != ".") parts.push_back(part);
    i = j + 1;
  }
  std::string out;
  for (auto part : parts) out += (out.empty() ? "" : "/") + std::string(part);
  return out.empty() ? "." : out;
}

// A path rule matches a path, or any directory above it (a rule on "secret" covers "secret/a.txt").
bool path_matches(std::string_view pattern, const std::string& rel) {
  std::string pat = pattern.rfind("./", 0) == 0 ? std::string(pattern.substr(2)) : std::string(pattern);
  if (glob_match(pat, rel)) return true;
  for (size_t k = rel.find('/'); k != std::string::npos; k = rel.find('/', k + 1))
    if (glob_match(pat, std::string_view(rel).substr(0, k))) return true;
  return false;
}

// Shell patterns: '*' also crosses '/', runs of blanks are one space.
std::string command_glob(std::string_view pattern) {
  std::string p;
  for (size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (c == ' ' || c == '\t') {
      if (!p.empty() && p.back() != ' ') p += ' ';
    } else if (c == '*' && (i + 1 >= pattern.size() || pattern[i + 1] != '*') && (i == 0 || pattern[i - 1] != '*')) {
      p += "**";
    } else {
      p += c;
    }
  }
  while (!p.empty() && p.back() == ' ') p.pop_back();
  return p;
}

bool command_text_matches(const std::string& glob, const std::string& text) {
  if (glob_match(glob, text)) return true;
  // "git *" also matches plain "git".
  return glob.size() > 3 && glob.compare(glob.size() - 3, 3, " **") == 0 && text == glob.substr(0, glob.size() - 3);
}

bool command_matches(const PermissionRule& r, const AnalyzedCommand& c, bool for_deny) {
  std::string g = command_glob(r.pattern);
  auto one = [&](const std::string& t) {
    return command_text_matches(g, t) || (c.open_args && command_text_matches(g, t + " _"));
  };
  if (one(c.text)) return true;
  return for_deny && c.basename_text != c.text && one(c.basename_text);
}

bool harmless_device(const std::string& target) {
  return target == "/dev/null" || target == "/dev/stdout" || target == "/dev/stderr" || target == "/dev/tty" ||
         target.rfind("/dev/fd/", 0) == 0;
}

// "a/../b" -> "b" (lexically; nullopt when it climbs above the start).
std::optional<std::string> collapse_dotdot(std::string_view p) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i <= p.size()) {
    size_t j = p.find('/', i);
    if (j == std::string_view::npos) j = p.size();
    std::string part(p.substr(i, j - i));
    if (part == "..") {
      if (parts.empty()) return std::nullopt;
      parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    i = j + 1;
  }
  std::string out = !p.empty() && p[0] == '/' ? "/" : "";
  for (size_t k = 0; k < parts.size(); ++k) out += (k ? "/" : "") + parts[k];
  return out.empty() ? "." : out;
}

// A redirection target as a workspace-relative path; nullopt when it lies
// outside. ".." is collapsed lexically (bash resolves it physically, so a
// target with ".." also needs approval before a rule may allow the line).
std::optional<std::string> redirect_path(const PermissionRequest& q, const std::string& target) {
  std::string joined = !target.empty() && target[0] == '/' ? target : q.cwd + "/" + target;
  auto collapsed = collapse_dotdot(joined);
  if (!collapsed) return std::nullopt;
  if (q.workspace) {
    auto abs = q.workspace->resolve(*collapsed);
    if (!abs) return std::nullopt;
    return q.workspace->relative(*abs);
  }
  if ((*collapsed)[0] == '/') return std::nullopt;
  return normalize_relative(*collapsed);
}

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

}  // namespace

std::optional<ToolKind> PermissionPolicy::family_of(const std::string& tool) const {
  auto it = kinds_.find(tool);
  if (it == kinds_.end()) return std::nullopt;
  return it->second;
}

bool PermissionPolicy::rule_covers_paths(const PermissionRule& r, const std::string& tool, ToolKind kind) const {
  if (r.tool == "*" || r.tool == tool) return true;
  auto fam = family_of(r.tool);
  if (!fam) return false;
  if (*fam == kind && (kind == ToolKind::kRead || kind == ToolKind::kEdit)) return true;
  // Editing shows a file's content (edit's snippets, a failing hunk's context):
  // a read deny on a path covers edits of it too.
  return r.action == Decision::kDeny && !whole_tool(r) && *fam == ToolKind::kRead && kind == ToolKind::kEdit;
}

bool PermissionPolicy::may_read(const std::string& rel_path) const {
  for (const auto& r : rules_) {
    if (r.action == Decision::kAllow || whole_tool(r) || !rule_covers_paths(r, "", ToolKind::kRead)) continue;
    if (path_matches(r.pattern, rel_path)) return false;
  }
  return true;
}

bool PermissionPolicy::has_read_path_rules() const {
  for (const auto& r : rules_)
    if (r.action != Decision::kAllow && !whole_tool(r) && rule_covers_paths(r, "", ToolKind::kRead)) return true;
  return false;
}

PermissionVerdict PermissionPolicy::decide(const PermissionRequest& q) const {
  if (q.kind == ToolKind::kExecute && !q.subject.empty()) return decide_command(q);
  if (q.kind == ToolKind::kRead || q.kind == ToolKind::kEdit) return decide_paths(q);
  const PermissionRule* hit[3] = {nullptr, nullptr, nullptr};  // allow, ask, deny
  for (const auto& r : rules_) {
    if (r.tool != "*" && r.tool != q.tool) continue;
    if (!whole_tool(r) && !glob_match(r.pattern, q.subject)) continue;
    if (!hit[static_cast<int>(r.action)]) hit[static_cast<int>(r.action)] = &r;
  }
  if (hit[2]) return {Decision::kDeny, "denied by rule '" + hit[2]->text + "'"};
  if (hit[1]) return {Decision::kAsk, "rule '" + hit[1]->text + "' asks for approval"};
  if (hit[0]) return {Decision::kAllow, "allowed by rule '" + hit[0]->text + "'"};
  return decide_by_mode(q, "");
}

PermissionVerdict PermissionPolicy::decide_paths(const PermissionRequest& q) const {
  std::vector<std::string> paths = q.paths;
  if (paths.empty() && !q.subject.empty()) paths.push_back(normalize_relative(q.subject));
  const PermissionRule* deny = nullptr;
  const PermissionRule* ask = nullptr;
  std::string deny_path, ask_path;
  std::vector<bool> allowed(paths.size(), false);
  bool allow_all = false;
  const PermissionRule* first_allow = nullptr;
  for (const auto& r : rules_) {
    if (!rule_covers_paths(r, q.tool, q.kind)) continue;
    if (whole_tool(r)) {
      if (r.action == Decision::kDeny && !deny) deny = &r;
      if (r.action == Decision::kAsk && !ask) ask = &r;
      if (r.action == Decision::kAllow && (r.tool == "*" || r.tool == q.tool || family_of(r.tool) == q.kind)) {
        allow_all = true;
        if (!first_allow) first_allow = &r;
      }
      continue;
    }
    for (size_t i = 0; i < paths.size(); ++i) {
      if (!path_matches(r.pattern, paths[i])) continue;
      if (r.action == Decision::kDeny && !deny) deny = &r, deny_path = paths[i];
      if (r.action == Decision::kAsk && !ask) ask = &r, ask_path = paths[i];
      if (r.action == Decision::kAllow) {
        allowed[i] = true;
        if (!first_allow) first_allow = &r;
      }
    }
  }
  auto on = [](const std::string& p) { return p.empty() ? std::string() : " (" + p + ")"; };
  if (deny) return {Decision::kDeny, "denied by rule '" + deny->text + "'" + on(deny_path)};
  if (ask) return {Decision::kAsk, "rule '" + ask->text + "' asks for approval" + on(ask_path)};
  bool all = allow_all || (!paths.empty() && std::all_of(allowed.begin(), allowed.end(), [](bool b) { return b; }));
  if (all && first_allow) return {Decision::kAllow, "allowed by rule '" + first_allow->text + "'"};
  return decide_by_mode(q, "");
}

PermissionVerdict PermissionPolicy::decide_command(const PermissionRequest& q) const {
  CommandAnalysis a = analyze_command_line(q.subject);
  const PermissionRule* hit_deny = nullptr;
  const PermissionRule* hit_ask = nullptr;
  std::string deny_what, ask_what;
  bool pattern_deny_or_ask = false;
  auto note_hit = [&](const PermissionRule& r, const std::string& what) {
    if (r.action == Decision::kDeny && !hit_deny) hit_deny = &r, deny_what = what;
    if (r.action == Decision::kAsk && !hit_ask) hit_ask = &r, ask_what = what;
  };
  for (const auto& r : rules_) {
    if (r.action == Decision::kAllow || (r.tool != "*" && r.tool != q.tool)) continue;
    if (whole_tool(r)) {
      note_hit(r, "");
      continue;
    }
    pattern_deny_or_ask = true;
    for (const auto& c : a.commands)
      if (command_matches(r, c, true)) note_hit(r, c.text);
    std::string g = command_glob(r.pattern);
    for (const auto& piece : a.raw_pieces)
      if (command_text_matches(g, piece)) note_hit(r, piece);
  }
  // Redirections are file accesses: path rules judge them.
  std::vector<std::string> redirect_approval;
  for (const auto& rd : a.redirections) {
    bool writes = rd.writes_file(), reads = rd.reads_file();
    if (!writes && !reads) continue;
    const std::string& t = rd.target.text;
    if (!rd.target.literal) {
      redirect_approval.push_back("the redirection target '" + t + "' is computed when it runs");
      continue;
    }
    if (harmless_device(t)) continue;
    auto rel = redirect_path(q, t);
    if (!rel) {
      if (writes) redirect_approval.push_back("it writes to '" + t + "' outside the workspace");
      continue;
    }
    if (writes && ("/" + t + "/").find("/../") != std::string::npos)
      redirect_approval.push_back("it writes to '" + t + "' through '..'");
    if (writes && mode_ == PermissionMode::kReadOnly)
      redirect_approval.push_back("it writes to '" + *rel + "' in read-only mode");
    for (const auto& r : rules_) {
      if (r.action == Decision::kAllow || whole_tool(r) || r.tool == "*") continue;
      bool covers = (writes && rule_covers_paths(r, "", ToolKind::kEdit)) || (reads && rule_covers_paths(r, "", ToolKind::kRead));
      if (covers && path_matches(r.pattern, *rel))
        note_hit(r, std::string(writes ? "writes " : "reads ") + *rel + " through '" + rd.op + "'");
    }
  }
  auto part = [](const std::string& what) { return what.empty() ? std::string() : " (" + what + ")"; };
  if (hit_deny) return {Decision::kDeny, "denied by rule '" + hit_deny->text + "'" + part(deny_what)};
  if (hit_ask) return {Decision::kAsk, "rule '" + hit_ask->text + "' asks for approval" + part(ask_what)};
  if (pattern_deny_or_ask && !a.hidden.empty())
    return {Decision::kAsk, "the deny/ask rules on commands cannot see everything this command runs (" +
                                join(a.hidden, "; ") + "), so it needs approval"};
  std::vector<std::string> allow_rules;
  for (const auto& r : rules_) {
    if (r.action != Decision::kAllow || (r.tool != "*" && r.tool != q.tool)) continue;
    if (whole_tool(r)) return {Decision::kAllow, "allowed by rule '" + r.text + "'"};
    allow_rules.push_back(r.pattern);
  }
  if (allow_rules.empty()) return decide_by_mode(q, "");
  // Every command must be allowed, and nothing may be beyond what rules judge.
  std::vector<std::string> blockers = a.needs_approval;
  for (auto& b : redirect_approval) blockers.push_back(std::move(b));
  std::optional<std::string> first_uncovered;  // the text may be "" (a command named '')
  const PermissionRule* first_rule = nullptr;
  for (const auto& c : a.commands) {
    if (c.deny_only) continue;
    if (!c.needs_approval.empty()) blockers.push_back(c.needs_approval);
    const PermissionRule* by = nullptr;
    for (const auto& r : rules_)
      if (r.action == Decision::kAllow && (r.tool == "*" || r.tool == q.tool) && command_matches(r, c, false)) {
        by = &r;
        break;
      }
    if (!by && !first_uncovered) first_uncovered = c.text;
    if (by && !first_rule) first_rule = by;
  }
  if (a.commands.empty()) blockers.push_back("it runs no command a rule can match");
  if (blockers.empty() && !first_uncovered && first_rule)
    return {Decision::kAllow, "allowed by rule '" + first_rule->text + "'" +
                                  (a.commands.size() > 1 ? " (and the rules covering each of its commands)" : "")};
  std::string note = "no allow rule covers the whole command: ";
  if (first_uncovered) note += "'" + *first_uncovered + "' is not allowed by any rule";
  if (!blockers.empty()) note += (first_uncovered ? "; " : "") + join(blockers, "; ");
  return decide_by_mode(q, note);
}

PermissionVerdict PermissionPolicy::decide_by_mode(const PermissionRequest& q, const std::string& note) const {
  std::string mode = "permission mode " + std::string(permission_mode_name(mode_));
  PermissionVerdict v{Decision::kDeny, mode};
  switch (mode_) {
    case PermissionMode::kFull:
      v = {Decision::kAllow, mode};
      break;
    case PermissionMode::kReadOnly:
      if (q.kind == ToolKind::kRead) v = {Decision::kAllow, mode};
      else if (q.kind == ToolKind::kEdit) v = {Decision::kDeny, mode + " does not allow file changes"};
      else v = {Decision::kAsk, mode + " asks before " + (q.kind == ToolKind::kExecute ? "commands" : "this tool")};
      break;
    case PermissionMode::kWorkspaceWrite:
      if (q.kind == ToolKind::kRead || q.kind == ToolKind::kEdit) v = {Decision::kAllow, mode};
      else if (q.kind == ToolKind::kExecute)
        v = q.sandboxed ? PermissionVerdict{Decision::kAllow, mode + " (sandboxed command)"}
                        : PermissionVerdict{Decision::kAsk, mode + " asks before unsandboxed commands"};
      else v = {Decision::kAsk, mode + " asks before tools that may act outside the workspace"};
      break;
  }
  if (!note.empty()) v.reason += "; " + note;
  return v;
}

std::string describe_command_for_approval(std::string_view command) {
  CommandAnalysis a = analyze_command_line(command);
  std::string out = describe_shell_parse(a.parse);
  std::vector<std::string> inner;
  for (const auto& c : a.commands)
    if (c.depth > 0 && !c.deny_only) inner.push_back(c.text);
  if (!inner.empty()) out += "; through wrappers/substitutions it runs: " + join(inner, " ; ");
  if (!a.hidden.empty()) out += "; hidden from the rules: " + join(a.hidden, "; ");
  return out;
}

}  // namespace v4rt::tools
