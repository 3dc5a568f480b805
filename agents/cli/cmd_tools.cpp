// `v4rt tools list`: the tools a `v4rt code` session in this workspace would
// offer the model (built-ins, then plugins from --plugin, the user's folder
// and, when approved, the project's), in the order they are declared, each
// with its source and what the permission policy decides for it by default.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agents/cli/commands.h"
#include "agents/cli/flags.h"
#include "agents/coding_agent.h"
#include "agents/replay_backend.h"
#include "base/terminal_text.h"

namespace v4rt::cli {

namespace {

const char* kind_name(tools::ToolKind k) {
  switch (k) {
    case tools::ToolKind::kRead: return "read";
    case tools::ToolKind::kEdit: return "edit";
    case tools::ToolKind::kExecute: return "execute";
    case tools::ToolKind::kOther: return "other";
  }
  return "other";
}

}  // namespace

int cmd_tools(int argc, char** argv) {
  std::string workspace = ".", state_dir, permission_mode, mcp_config;
  std::vector<std::string> plugins, allow, ask, deny;
  bool json = false;
  FlagSet flags("v4rt tools list [flags]",
                "List every tool a `v4rt code` session in the workspace offers the model, in declaration order: "
                "name, source (builtin, plugin:<name>, mcp:<server>), kind and the permission decision for a call without a "
                "more specific rule (the project settings and --allow/--ask/--deny apply as in `v4rt code`).",
                "v4rt tools list --plugin build/plugins/sqlite_query.so --json");
  flags.add_string("workspace", &workspace, "the repository", "DIR");
  flags.add_string("state-dir", &state_dir, "where approvals are kept (default ~/.v4rt/code)", "DIR", "V4RT_STATE_DIR");
  flags.add_list("plugin", &plugins, "load this tool plugin (.so) too", "PATH");
  flags.add_string("mcp-config", &mcp_config, "JSON file with \"mcpServers\" to start and list", "FILE");
  flags.add_string("permission-mode", &permission_mode, "read-only, workspace-write or full", "MODE");
  flags.add_list("allow", &allow, "allow rule", "RULE");
  flags.add_list("ask", &ask, "ask rule", "RULE");
  flags.add_list("deny", &deny, "deny rule", "RULE");
  flags.add_bool("json", &json, "one JSON array on stdout");
  if (Status s = flags.parse(argc, argv); !s.ok()) return report(s, "v4rt tools list --help");
  if (flags.help_requested()) {
    std::fputs(flags.help().c_str(), stdout);
    return 0;
  }
  if (flags.positional().empty() || flags.positional()[0] != "list" || flags.positional().size() > 1)
    return report(Status::InvalidArgument("usage: v4rt tools list [flags]"), "v4rt tools list --help");
  const char* home = std::getenv("HOME");
  if (state_dir.empty()) state_dir = std::string(home && *home ? home : ".") + "/.v4rt/code";

  agents::CodingAgentOptions o;
  o.workspace = workspace;
  o.state_dir = state_dir;
  o.permission_mode = permission_mode;
  o.allow = allow;
  o.ask = ask;
  o.deny = deny;
  if (home && *home) o.home = home;
  for (char** e = environ; *e; ++e) o.host_env.push_back(*e);  // the sandbox keeps its allow-list
  o.repo_context_tokens = 0;
  o.compact = false;
  for (const auto& p : plugins) o.plugins.push_back(p);
  o.mcp_config = mcp_config;
  auto backend = agents::ReplayBackend::from_outputs({}, "tools list");
  auto agent = agents::CodingAgent::create(o, *backend);
  if (!agent) return report(agent.status());
  for (const auto& w : (*agent)->warnings()) std::fprintf(stderr, "v4rt: warning: %s\n", terminal_safe(w).c_str());
  const tools::ToolRegistry& reg = (*agent)->registry();
  nlohmann::json out = nlohmann::json::array();
  for (tools::Tool* t : reg.list()) {
    const tools::ToolSpec& s = t->spec();
    tools::PermissionRequest q;
    q.tool = s.name;
    q.kind = s.kind;
    auto v = (*agent)->policy().decide(q);
    std::string desc = s.description.substr(0, s.description.find('\n'));
    if (json) {
      out.push_back({{"name", s.name}, {"source", reg.source(s.name)}, {"kind", kind_name(s.kind)},
                     {"permission", std::string(tools::decision_name(v.decision))}, {"description", s.description}});
    } else {
      if (desc.size() > 60) desc = desc.substr(0, 57) + "...";
      std::printf("%-24s %-16s %-8s %-6s %s\n", terminal_safe(s.name).c_str(),
                  terminal_safe(reg.source(s.name)).c_str(), kind_name(s.kind),
                  std::string(tools::decision_name(v.decision)).c_str(),
                  terminal_safe(desc).c_str());
    }
  }
  if (json) std::printf("%s\n", out.dump(2).c_str());
  return 0;
}

}  // namespace v4rt::cli
