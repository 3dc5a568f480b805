// ToolRegistry: owns the tools of one agent session and declares them to the
// model in a fixed order (sorted by name), so that the tools block of the
// prompt is byte-identical from run to run whatever order tools were added in
// (built-ins, plugins, MCP): the cached prompt prefix stays valid.
// Not thread-safe for add(); find()/list() are safe once adding is done.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "tools/tool.h"

namespace v4rt::tools {

class ToolRegistry {
 public:
  // InvalidArgument for an empty/ill-formed name or a name already taken.
  // source says where the tool comes from, for `v4rt tools list` and
  // messages: "builtin", "plugin:<name>", "mcp:<server>".
  Status add(std::unique_ptr<Tool> tool, std::string source = "builtin");
  // Removes a tool (e.g. --disable-tool); NotFound if absent.
  Status remove(std::string_view name);
  Tool* find(std::string_view name) const;  // nullptr if absent
  // The source given to add() ("" if absent).
  std::string source(std::string_view name) const;
  // Sorted by name.
  std::vector<Tool*> list() const;
  std::vector<std::string> names() const;
  // OpenAI-style declarations, sorted by name:
  // [{"type":"function","function":{"name","description","parameters"}}, ...]
  nlohmann::json declarations() const;

 private:
  std::vector<std::unique_ptr<Tool>> tools_;  // kept sorted by name
  std::map<std::string, std::string, std::less<>> sources_;  // tool name -> source
};

}  // namespace v4rt::tools
