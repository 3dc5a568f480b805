#include "tools/tool.h"

#include <cstdlib>
#include <string_view>

#include "base/utf8.h"
#include "tools/workspace.h"

namespace v4rt::tools {

namespace {

Status bad_type(const std::string& tool, const std::string& key, const char* want,
                const nlohmann::json& got) {
  return Status::InvalidArgument(tool + ": argument '" + key + "' must be " + want + " (got " +
                                 std::string(got.type_name()) + "); fix the call and retry");
}

}  // namespace

Result<std::vector<std::string>> Tool::touched_paths(const nlohmann::json& args, const ToolContext& ctx) const {
  const ToolSpec& s = spec();
  if (s.subject_arg != "path" || (s.kind != ToolKind::kRead && s.kind != ToolKind::kEdit) || !ctx.workspace)
    return std::vector<std::string>{};
  auto path = arg_string_or(args, s.name, "path", ".");
  if (!path) return path.status();
  return touched_path_names(*ctx.workspace, *path);
}

Result<std::vector<std::string>> touched_path_names(const Workspace& ws, std::string_view user_path) {
  std::vector<std::string> out;
  // The entry itself: its directory resolved, its last component as written
  // (a symlink is named by its own path too, so rules on either name match).
  std::string p(user_path);
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  size_t slash = p.find_last_of('/');
  std::string name = slash == std::string::npos ? p : p.substr(slash + 1);
  std::string parent = slash == std::string::npos ? "." : (slash == 0 ? "/" : p.substr(0, slash));
  if (!name.empty() && name != "." && name != "..") {
    auto dir = ws.resolve(parent);
    if (dir.ok()) {
      std::string rel_dir = ws.relative(*dir);
      out.push_back(rel_dir == "." ? name : rel_dir + "/" + name);
    }
  }
  // The file it reaches. A final symlink that points outside is named by its
  // entry only (the tools refuse to follow it, or act on the link itself).
  auto abs = ws.resolve(user_path);
  if (abs.ok()) {
    std::string target = ws.relative(*abs);
    if (out.empty() || out[0] != target) out.push_back(target);
  } else if (out.empty()) {
    return abs.status();
  }
  return out;
}

std::string truncate_middle(const std::string& text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  size_t head = utf8::floor(text, max_bytes * 2 / 3);
  size_t tail_start = utf8::floor(text, text.size() - (max_bytes - head));
  if (tail_start < head) tail_start = head;
  std::string out = text.substr(0, head);
  out += "\n[... " + std::to_string(tail_start - head) + " bytes left out ...]\n";
  out += text.substr(tail_start);
  return out;
}

Result<std::string> arg_string(const nlohmann::json& args, const std::string& tool,
                               const std::string& key) {
  if (!args.is_object() || !args.contains(key))
    return Status::InvalidArgument(tool + ": missing required argument '" + key +
                                   "'; call it again with " + key + " set");
  const auto& v = args.at(key);
  if (!v.is_string()) return bad_type(tool, key, "a string", v);
  return v.get<std::string>();
}

Result<std::string> arg_string_or(const nlohmann::json& args, const std::string& tool,
                                  const std::string& key, std::string fallback) {
  if (!args.is_object() || !args.contains(key) || args.at(key).is_null()) return fallback;
  return arg_string(args, tool, key);
}

Result<long long> arg_int_or(const nlohmann::json& args, const std::string& tool,
                             const std::string& key, long long fallback) {
  if (!args.is_object() || !args.contains(key) || args.at(key).is_null()) return fallback;
  const auto& v = args.at(key);
  if (v.is_number_integer()) return v.get<long long>();
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (d == static_cast<double>(static_cast<long long>(d))) return static_cast<long long>(d);
  }
  if (v.is_string()) {  // models often quote numbers: accept "12"
    const std::string& s = v.get_ref<const std::string&>();
    char* end = nullptr;
    long long n = std::strtoll(s.c_str(), &end, 10);
    if (!s.empty() && end && *end == '\0') return n;
  }
  return bad_type(tool, key, "an integer", v);
}

Result<bool> arg_bool_or(const nlohmann::json& args, const std::string& tool, const std::string& key,
                         bool fallback) {
  if (!args.is_object() || !args.contains(key) || args.at(key).is_null()) return fallback;
  const auto& v = args.at(key);
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_string()) {
    if (v == "true") return true;
    if (v == "false") return false;
  }
  return bad_type(tool, key, "true or false", v);
}

}  // namespace v4rt::tools
