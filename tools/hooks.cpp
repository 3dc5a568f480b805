#include "tools/hooks.h"

#include <algorithm>

#include "tools/subprocess.h"

namespace v4rt::tools {

namespace {

bool applies(const Hook& h, const std::string& tool) {
  return h.tools.empty() || std::find(h.tools.begin(), h.tools.end(), tool) != h.tools.end();
}

// Returns nullopt on success, else the failure text.
std::optional<std::string> run_hook(const Hook& h, const std::filesystem::path& cwd, const nlohmann::json& input) {
  ProcessOptions po;
  po.cwd = cwd;
  po.stdin_data = input.dump();
  po.timeout_s = h.timeout_s;
  po.max_output_bytes = 8192;
  auto r = run_process({"/bin/sh", "-c", h.command}, po);
  if (!r) return "hook '" + h.command + "' could not run: " + r.status().message();
  if (r->timed_out) return "hook '" + h.command + "' timed out";
  if (r->exit_code == 0) return std::nullopt;
  std::string msg = r->output;
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  return "hook '" + h.command + "' exited " + std::to_string(r->exit_code) + (msg.empty() ? "" : ": " + msg);
}

Status parse_list(const nlohmann::json& arr, std::string_view source, const char* key, std::vector<Hook>& out) {
  if (!arr.is_array())
    return Status::InvalidArgument(std::string(source) + ": hooks." + key + " must be an array");
  for (const auto& e : arr) {
    Hook h;
    if (e.is_string()) {
      h.command = e.get<std::string>();
    } else if (e.is_object() && e.contains("command") && e["command"].is_string()) {
      h.command = e["command"].get<std::string>();
      if (e.contains("tools")) {
        if (!e["tools"].is_array())
          return Status::InvalidArgument(std::string(source) + ": hooks." + key + "[].tools must be an array");
        for (const auto& t : e["tools"])
          if (t.is_string()) h.tools.push_back(t.get<std::string>());
      }
      if (e.contains("timeout") && e["timeout"].is_number()) h.timeout_s = e["timeout"].get<double>();
    } else {
      return Status::InvalidArgument(std::string(source) + ": hooks." + key +
                                     " entries must be a command string or {\"command\": ...}");
    }
    out.push_back(std::move(h));
  }
  return Status::Ok();
}

}  // namespace

Status Hooks::add_json(const nlohmann::json& j, std::string_view source) {
  if (!j.is_object()) return Status::InvalidArgument(std::string(source) + ": \"hooks\" must be an object");
  if (j.contains("pre_tool")) V4RT_RETURN_IF_ERROR(parse_list(j["pre_tool"], source, "pre_tool", pre_));
  if (j.contains("post_tool")) V4RT_RETURN_IF_ERROR(parse_list(j["post_tool"], source, "post_tool", post_));
  return Status::Ok();
}

HookOutcome Hooks::run_pre(const std::filesystem::path& cwd, const std::string& tool,
                           const nlohmann::json& arguments) const {
  nlohmann::json in = {{"event", "pre_tool"}, {"tool", tool}, {"arguments", arguments}};
  for (const Hook& h : pre_) {
    if (!applies(h, tool)) continue;
    if (auto fail = run_hook(h, cwd, in)) return HookOutcome{true, "blocked by " + *fail};
  }
  return {};
}

std::string Hooks::run_post(const std::filesystem::path& cwd, const std::string& tool,
                            const nlohmann::json& arguments, const std::string& result, bool is_error) const {
  nlohmann::json in = {{"event", "post_tool"}, {"tool", tool}, {"arguments", arguments},
                       {"result", result}, {"is_error", is_error}};
  std::string out;
  for (const Hook& h : post_) {
    if (!applies(h, tool)) continue;
    if (auto fail = run_hook(h, cwd, in)) out += "\n[post-tool " + *fail + "]";
  }
  return out;
}

}  // namespace v4rt::tools
