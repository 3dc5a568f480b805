// CodeSettings: the project file of `v4rt code`, <workspace>/.v4rt/settings.json:
//   {"permissions": {"mode": "workspace-write", "allow": [...], "ask": [...], "deny": [...]},
//    "hooks": {"pre_tool": [...], "post_tool": [...]},
//    "sandbox": {"network": false, "writable": ["/abs/dir", "~/dir"], "readable": ["~/.cargo"],
//                "env": ["CARGO_HOME", "NPM_CONFIG_*"], "max_processes": 512},
//    "instructions": "extra text for the system prompt",
//    "mcpServers": {"name": {"command": "npx", "args": [...], "env": {...}}}}
// Every key is optional; unknown keys are an error naming them. Command-line
// flags are applied after the file (they win).
// The model can write this file, so it applies in full only when the user
// approved these exact bytes (agents/project_trust.h). An unapproved file
// still restricts (deny and ask rules, mode read-only, a lower
// sandbox.max_processes) but every widening is
// ignored and listed: mode workspace-write/full beyond the default, allow
// rules, hooks (they run on the host), sandbox.network/writable/readable/env
// and instructions (they steer every later session). Not thread-safe.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "tools/hooks.h"
#include "tools/mcp/mcp_client.h"
#include "tools/permission_policy.h"

namespace v4rt::agents {

struct CodeSettings {
  bool sandbox_network = false;
  std::vector<std::string> sandbox_writable;  // absolute or "~/..." paths, bound read-write
  std::vector<std::string> sandbox_readable;  // absolute or "~/..." paths shown read-only where hidden
  std::vector<std::string> sandbox_env;       // extra environment names (or "PREFIX*") for the sandbox
  long long sandbox_max_processes = 0;        // tasks the sandbox may hold at once; 0: the default (512)
  std::string instructions;
  std::vector<tools::mcp::McpServerConfig> mcp_servers;  // trusted files only (they start programs)
};

// Parses the file's text (source names it in messages) into policy, hooks and
// settings. trusted=false applies only restrictions and appends a description
// of each ignored widening to *ignored. InvalidArgument naming the key when
// the file is malformed (trusted or not).
constexpr long long kDefaultSandboxMaxProcesses = 512;

Status apply_code_settings(std::string_view text, const std::string& source, bool trusted,
                           tools::PermissionPolicy& policy, tools::Hooks& hooks, CodeSettings& settings,
                           std::vector<std::string>* ignored);

}  // namespace v4rt::agents
