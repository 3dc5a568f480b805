#include "agents/code_settings.h"

#include <nlohmann/json.hpp>

#include "runtime/base/file_util.h"

namespace v4rt::agents {

Status load_code_settings(const std::filesystem::path& file, tools::PermissionPolicy& policy, tools::Hooks& hooks,
                          CodeSettings& settings) {
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return Status::Ok();
  auto text = read_file(file);
  if (!text) return text.status();
  auto j = nlohmann::json::parse(*text, nullptr, false);
  std::string src = file.string();
  if (j.is_discarded() || !j.is_object())
    return Status::InvalidArgument(src + ": not a JSON object; fix the file or remove it");
  for (const auto& [k, v] : j.items()) {
    if (k == "permissions") {
      V4RT_RETURN_IF_ERROR(policy.add_json(v, src));
    } else if (k == "hooks") {
      V4RT_RETURN_IF_ERROR(hooks.add_json(v, src));
    } else if (k == "sandbox") {
      if (!v.is_object()) return Status::InvalidArgument(src + ": \"sandbox\" must be an object");
      if (v.contains("network")) {
        if (!v["network"].is_boolean()) return Status::InvalidArgument(src + ": sandbox.network must be true or false");
        settings.sandbox_network = v["network"].get<bool>();
      }
    } else if (k == "instructions") {
      if (!v.is_string()) return Status::InvalidArgument(src + ": \"instructions\" must be a string");
      settings.instructions = v.get<std::string>();
    } else {
      return Status::InvalidArgument(src + ": unknown key \"" + k +
                                     "\"; known: permissions, hooks, sandbox, instructions");
    }
  }
  return Status::Ok();
}

}  // namespace v4rt::agents
