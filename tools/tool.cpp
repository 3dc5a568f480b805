#include "tools/tool.h"

#include <cstdlib>

#include "tools/workspace.h"

namespace v4rt::tools {

namespace {

// Moves i back to the start of a UTF-8 sequence.
size_t utf8_floor(const std::string& s, size_t i) {
  while (i > 0 && i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) --i;
  return i;
}

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
  auto abs = ctx.workspace->resolve(*path);
  if (!abs) return abs.status();
  return std::vector<std::string>{ctx.workspace->relative(*abs)};
}

std::string truncate_middle(const std::string& text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  size_t head = utf8_floor(text, max_bytes * 2 / 3);
  size_t tail_start = utf8_floor(text, text.size() - (max_bytes - head));
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
