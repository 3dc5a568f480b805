#include "agents/code_settings.h"

#include <nlohmann/json.hpp>

namespace v4rt::agents {

namespace {

Status string_list(const nlohmann::json& v, const std::string& src, const char* key, std::vector<std::string>& out) {
  if (!v.is_array()) return Status::InvalidArgument(src + ": sandbox." + key + " must be an array of strings");
  for (const auto& e : v) {
    if (!e.is_string()) return Status::InvalidArgument(src + ": sandbox." + key + " must be an array of strings");
    out.push_back(e.get<std::string>());
  }
  return Status::Ok();
}

Status parse_sandbox(const nlohmann::json& v, const std::string& src, CodeSettings& s) {
  if (!v.is_object()) return Status::InvalidArgument(src + ": \"sandbox\" must be an object");
  for (const auto& [k, e] : v.items()) {
    if (k == "network") {
      if (!e.is_boolean()) return Status::InvalidArgument(src + ": sandbox.network must be true or false");
      s.sandbox_network = e.get<bool>();
    } else if (k == "writable" || k == "readable") {
      auto& list = k == "writable" ? s.sandbox_writable : s.sandbox_readable;
      V4RT_RETURN_IF_ERROR(string_list(e, src, k.c_str(), list));
      for (const auto& p : list)
        if (p.empty() || (p[0] != '/' && p.rfind("~/", 0) != 0))
          return Status::InvalidArgument(src + ": sandbox." + k + ": \"" + p +
                                         "\" must be an absolute path or start with ~/");
    } else if (k == "max_processes") {
      if (!e.is_number_integer() || e.get<long long>() < 8 || e.get<long long>() > 1000000)
        return Status::InvalidArgument(src + ": sandbox.max_processes must be an integer from 8 to 1000000");
      s.sandbox_max_processes = e.get<long long>();
    } else if (k == "env") {
      V4RT_RETURN_IF_ERROR(string_list(e, src, "env", s.sandbox_env));
    } else {
      return Status::InvalidArgument(src + ": unknown key \"sandbox." + k +
                                     "\"; known: network, writable, readable, env, max_processes");
    }
  }
  return Status::Ok();
}

}  // namespace

Status apply_code_settings(std::string_view text, const std::string& src, bool trusted,
                           tools::PermissionPolicy& policy, tools::Hooks& hooks, CodeSettings& settings,
                           std::vector<std::string>* ignored) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return Status::InvalidArgument(src + ": not a JSON object; fix the file or remove it");
  // Parse everything first (a malformed file is an error either way), into
  // scratch objects when the file is not trusted.
  tools::PermissionPolicy file_policy(policy.mode());
  tools::Hooks file_hooks;
  CodeSettings file_settings;
  for (const auto& [k, v] : j.items()) {
    if (k == "permissions") {
      V4RT_RETURN_IF_ERROR(file_policy.add_json(v, src));
    } else if (k == "hooks") {
      V4RT_RETURN_IF_ERROR(file_hooks.add_json(v, src));
    } else if (k == "sandbox") {
      V4RT_RETURN_IF_ERROR(parse_sandbox(v, src, file_settings));
    } else if (k == "instructions") {
      if (!v.is_string()) return Status::InvalidArgument(src + ": \"instructions\" must be a string");
      file_settings.instructions = v.get<std::string>();
    } else if (k == "mcpServers") {
      auto servers = tools::mcp::parse_mcp_servers(v, src);
      if (!servers) return servers.status();
      file_settings.mcp_servers = std::move(*servers);
    } else {
      return Status::InvalidArgument(src + ": unknown key \"" + k +
                                     "\"; known: permissions, hooks, sandbox, instructions, mcpServers");
    }
  }
  if (trusted) {
    policy.set_mode(file_policy.mode());
    for (const auto& r : file_policy.rules()) policy.add_rule(r);
    if (j.contains("hooks")) V4RT_RETURN_IF_ERROR(hooks.add_json(j["hooks"], src));
    settings = std::move(file_settings);
    return Status::Ok();
  }
  auto ignore = [&](std::string what) {
    if (ignored) ignored->push_back(std::move(what));
  };
  // Restrictions apply; widenings wait for approval.
  if (file_policy.mode() == tools::PermissionMode::kReadOnly) policy.set_mode(tools::PermissionMode::kReadOnly);
  else if (file_policy.mode() != policy.mode())
    ignore("permissions.mode \"" + std::string(tools::permission_mode_name(file_policy.mode())) + "\"");
  std::string allows;
  for (const auto& r : file_policy.rules()) {
    if (r.action == tools::Decision::kAllow) allows += (allows.empty() ? "" : ", ") + r.text;
    else policy.add_rule(r);
  }
  if (!allows.empty()) ignore("permissions.allow [" + allows + "]");
  if (!file_hooks.empty()) ignore("hooks");
  if (file_settings.sandbox_network) ignore("sandbox.network");
  if (!file_settings.sandbox_writable.empty()) ignore("sandbox.writable");
  if (!file_settings.sandbox_readable.empty()) ignore("sandbox.readable");
  if (!file_settings.sandbox_env.empty()) ignore("sandbox.env");
  if (file_settings.sandbox_max_processes > kDefaultSandboxMaxProcesses)
    ignore("sandbox.max_processes " + std::to_string(file_settings.sandbox_max_processes));
  else
    settings.sandbox_max_processes = file_settings.sandbox_max_processes;  // a lower cap only restricts
  if (!file_settings.instructions.empty()) ignore("instructions");
  if (!file_settings.mcp_servers.empty()) ignore("mcpServers (they start programs)");
  return Status::Ok();
}

}  // namespace v4rt::agents
