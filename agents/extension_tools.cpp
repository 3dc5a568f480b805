#include "agents/extension_tools.h"

#include "base/file_util.h"

namespace v4rt::agents {

namespace fs = std::filesystem;

fs::path user_plugins_dir(const fs::path& home) { return home / ".config" / "v4rt" / "plugins"; }
fs::path project_plugins_dir(const fs::path& workspace_root) { return workspace_root / ".v4rt" / "plugins"; }

Result<std::vector<tools::LoadedPluginInfo>> register_extension_tools(const ExtensionToolOptions& options,
                                                                      tools::ToolRegistry& registry,
                                                                      std::vector<std::string>* warnings) {
  std::vector<tools::LoadedPluginInfo> loaded;
  for (const auto& file : options.plugin_files) {
    auto info = tools::load_plugin(file, registry);
    if (!info) return info.status();
    loaded.push_back(std::move(*info));
  }
  auto discovered = [&](const fs::path& file) {
    auto info = tools::load_plugin(file, registry);
    if (info) loaded.push_back(std::move(*info));
    else if (warnings) warnings->push_back(info.status().message() + " (skipped)");
  };
  if (!options.home.empty())
    for (const auto& file : tools::plugin_files_in(user_plugins_dir(options.home))) discovered(file);
  if (!options.workspace_root.empty()) {
    auto project = tools::plugin_files_in(project_plugins_dir(options.workspace_root));
    if (options.project_trusted) {
      for (const auto& file : project) discovered(file);
    } else if (!project.empty() && warnings) {
      std::string list;
      for (const auto& f : project) list += (list.empty() ? "" : ", ") + f.filename().string();
      warnings->push_back(project_plugins_dir(options.workspace_root).string() + " holds " +
                          std::to_string(project.size()) + " plugin(s) (" + list +
                          ") that were not loaded: plugins run code on this machine and the project's "
                          ".v4rt/settings.json is absent or not approved; review them, then approve the settings file with "
                          "`v4rt code --trust-project`");
    }
  }
  if (!options.mcp_servers.empty()) {
    if (!options.sandbox_unavailable.empty()) {
      if (warnings)
        warnings->push_back("MCP servers not started: they run in the sandbox, which is unavailable (" +
                            options.sandbox_unavailable + "); pass --unsandboxed to run them on the host");
    } else {
      tools::mcp::register_mcp_servers(options.mcp_servers, options.sandbox, options.workspace_root, registry,
                                       warnings);
    }
  }
  return loaded;
}

Result<std::vector<tools::mcp::McpServerConfig>> load_mcp_config(const fs::path& file) {
  auto text = read_file(file);
  if (!text) return text.status();
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("mcpServers"))
    return Status::InvalidArgument(file.string() + ": expected a JSON object with \"mcpServers\"");
  return tools::mcp::parse_mcp_servers(j["mcpServers"], file.string());
}

}  // namespace v4rt::agents
