#include "tools/tool_registry.h"

#include <algorithm>

namespace v4rt::tools {

namespace {

bool valid_name(const std::string& n) {
  if (n.empty() || n.size() > 64) return false;
  for (char c : n)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
          c == '-' || c == '.'))
      return false;
  return true;
}

}  // namespace

Status ToolRegistry::add(std::unique_ptr<Tool> tool, std::string source) {
  if (!tool) return Status::InvalidArgument("tool registry: null tool");
  const std::string& name = tool->spec().name;
  if (!valid_name(name))
    return Status::InvalidArgument("tool name '" + name +
                                   "' is not valid; use 1-64 characters from [A-Za-z0-9_.-]");
  if (find(name))
    return Status::InvalidArgument("tool '" + name +
                                   "' is already registered; give the new tool another name");
  if (!tool->spec().parameters.is_object())
    return Status::InvalidArgument("tool '" + name + "': parameters must be a JSON schema object");
  auto pos = std::lower_bound(tools_.begin(), tools_.end(), name,
                              [](const std::unique_ptr<Tool>& t, const std::string& n) {
                                return t->spec().name < n;
                              });
  sources_[name] = std::move(source);
  tools_.insert(pos, std::move(tool));
  return Status::Ok();
}

Status ToolRegistry::remove(std::string_view name) {
  for (auto it = tools_.begin(); it != tools_.end(); ++it)
    if ((*it)->spec().name == name) {
      sources_.erase((*it)->spec().name);
      tools_.erase(it);
      return Status::Ok();
    }
  return Status::NotFound("tool '" + std::string(name) + "' is not registered; see the tool list");
}

Tool* ToolRegistry::find(std::string_view name) const {
  for (const auto& t : tools_)
    if (t->spec().name == name) return t.get();
  return nullptr;
}

std::string ToolRegistry::source(std::string_view name) const {
  auto it = sources_.find(name);
  return it == sources_.end() ? std::string() : it->second;
}

std::vector<Tool*> ToolRegistry::list() const {
  std::vector<Tool*> out;
  for (const auto& t : tools_) out.push_back(t.get());
  return out;
}

std::vector<std::string> ToolRegistry::names() const {
  std::vector<std::string> out;
  for (const auto& t : tools_) out.push_back(t->spec().name);
  return out;
}

nlohmann::json ToolRegistry::declarations() const {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& t : tools_) {
    const ToolSpec& s = t->spec();
    nlohmann::json fn = nlohmann::json::object();
    fn["name"] = s.name;
    fn["description"] = s.description;
    fn["parameters"] = s.parameters;
    out.push_back({{"type", "function"}, {"function", fn}});
  }
  return out;
}

}  // namespace v4rt::tools
