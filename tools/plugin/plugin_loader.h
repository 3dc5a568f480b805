// Plugin loader: shared-library tool plugins (tools/plugin/v4rt_plugin.h)
// loaded into a ToolRegistry. A plugin's tools appear to the model as
// "plugin__<tool>" (namespaced so they cannot shadow a built-in), kind
// kOther for permissions (the policy asks unless a rule allows them), with the
// same output cap and events as built-ins.
// Loading: dlopen(RTLD_NOW | RTLD_LOCAL) (unresolved symbols fail at load, and
// the plugin's symbols do not leak into the next plugin), the entry symbol is
// looked up, its table checked (ABI version, sizes, names, schema JSON), and
// plugin names and tool names must be unique across everything loaded.
// A plugin runs in-process: code in it runs with v4rt's privileges, which is
// why project plugins (.v4rt/plugins/) load only from approved settings.
// Not thread-safe while loading; loaded tools follow Tool's contract.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "tools/tool_registry.h"

namespace v4rt::tools {

// The model-visible name of a plugin tool.
inline std::string plugin_tool_name(const std::string& tool) { return "plugin__" + tool; }

struct LoadedPluginInfo {
  std::string name, version;
  std::filesystem::path path;
  std::vector<std::string> tools;  // model-visible names
};

class PluginLibrary;  // a dlopen handle and its table (plugin_loader.cpp)

// Loads one plugin file and adds its tools to registry (all or none).
// Errors (each names the file and says what to do): NotFound (no such file),
// InvalidArgument (not loadable, no entry symbol, no table, ABI version
// mismatch, malformed table or schema, duplicate plugin or tool name).
// The library stays loaded as long as one of its tools lives.
Result<LoadedPluginInfo> load_plugin(const std::filesystem::path& file, ToolRegistry& registry);

// The *.so files directly in dir, sorted by name; none when dir is absent.
std::vector<std::filesystem::path> plugin_files_in(const std::filesystem::path& dir);

}  // namespace v4rt::tools
