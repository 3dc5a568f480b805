// Extension tools: the plugin tools (tools/plugin/) and MCP servers' tools
// (tools/mcp/) a coding session loads, next to the built-ins, into one
// ToolRegistry. Plugin sources, in this order:
//   1. --plugin PATH (each must load, else the session does not start);
//   2. ~/.config/v4rt/plugins/*.so (the user's own);
//   3. <workspace>/.v4rt/plugins/*.so only when the project's settings file is
//      approved (agents/project_trust.h): a plugin runs code in the v4rt
//      process on the host, and the model or a cloned repository can put a
//      file there. Unapproved, they are listed in a warning and never opened.
// A discovered plugin that fails to load is skipped with a warning naming the
// file and the fault. MCP servers come from --mcp-config FILE
// ({"mcpServers": {...}}, the user's) and the approved project settings; they
// start inside the shell sandbox (none when the sandbox is unavailable and
// the session is not --unsandboxed). The registry sorts tools by name, so the order plugins
// load in never changes the prompt. Not thread-safe.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "base/status.h"
#include "tools/permission_policy.h"
#include "tools/mcp/mcp_client.h"
#include "tools/plugin/plugin_loader.h"
#include "tools/tool_registry.h"

namespace v4rt::agents {

struct ExtensionToolOptions {
  std::vector<std::filesystem::path> plugin_files;  // --plugin, in the order given
  std::filesystem::path home;                       // the user's $HOME ("" : no user plugins folder)
  std::filesystem::path workspace_root;             // canonical workspace
  bool project_trusted = false;                     // the workspace's settings file is approved
  std::vector<tools::mcp::McpServerConfig> mcp_servers;
  const tools::Sandbox* sandbox = nullptr;          // MCP servers run through it; borrowed
  std::string sandbox_unavailable;                  // non-empty: MCP servers are not started (why)
};

// Reads an --mcp-config file: {"mcpServers": {...}} (Claude Code's shape).
Result<std::vector<tools::mcp::McpServerConfig>> load_mcp_config(const std::filesystem::path& file);

// The user's plugins folder: <home>/.config/v4rt/plugins.
std::filesystem::path user_plugins_dir(const std::filesystem::path& home);
// The project's plugins folder: <workspace>/.v4rt/plugins.
std::filesystem::path project_plugins_dir(const std::filesystem::path& workspace_root);

// Loads every plugin into registry; appends a line per skipped plugin to
// *warnings. Errors: a --plugin file that cannot be loaded (the message of
// tools::load_plugin).
Result<std::vector<tools::LoadedPluginInfo>> register_extension_tools(const ExtensionToolOptions& options,
                                                                      tools::ToolRegistry& registry,
                                                                      std::vector<std::string>* warnings);

}  // namespace v4rt::agents
