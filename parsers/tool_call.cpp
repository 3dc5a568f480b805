#include "parsers/tool_call.h"

#include "parsers/py_json.h"

#include <cstdio>

namespace v4rt::parsers {

Status ParseError::to_status() const {
  return Status::InvalidArgument("model output: " + category + " at byte " + std::to_string(offset) +
                                 ": " + message +
                                 "; the completion is not valid DSML (see docs/dsml-parsing.md); "
                                 "retry the turn or parse it in tolerant mode");
}

nlohmann::ordered_json ParsedMessage::to_json() const {
  nlohmann::ordered_json j;
  j["role"] = "assistant";
  j["content"] = content;
  j["reasoning_content"] = reasoning_content;
  j["tool_calls"] = nlohmann::ordered_json::array();
  for (const ToolCall& c : tool_calls) {
    nlohmann::ordered_json fn;
    fn["name"] = c.name;
    fn["arguments"] = c.arguments;
    nlohmann::ordered_json call;
    call["type"] = "function";
    call["function"] = std::move(fn);
    j["tool_calls"].push_back(std::move(call));
  }
  if (!variants.empty()) j["dsml_variants"] = variants;
  return j;
}

std::string python_json_string(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  append_py_json_string(out, s);
  return out;
}

std::string build_arguments(const std::vector<ToolParam>& params) {
  std::string out = "{";
  for (size_t i = 0; i < params.size(); ++i) {
    if (i > 0) out += ", ";
    out += python_json_string(params[i].name);
    out += ": ";
    out += params[i].is_string ? python_json_string(params[i].value) : params[i].value;
  }
  out += "}";
  return out;
}

TypedArguments typed_arguments(const ToolCall& call) {
  TypedArguments t;
  for (const ToolParam& p : call.params) {
    if (p.is_string) {
      t.object[p.name] = p.value;
      continue;
    }
    nlohmann::ordered_json v = nlohmann::ordered_json::parse(p.value, nullptr, /*allow_exceptions=*/false);
    if (v.is_discarded()) {
      t.errors.push_back("parameter '" + p.name + "' has string=\"false\" but its value is not valid JSON: " +
                         (p.value.size() > 80 ? p.value.substr(0, 80) + "..." : p.value) +
                         "; write it as JSON, or use string=\"true\" for a plain string");
      t.object[p.name] = p.value;
    } else {
      t.object[p.name] = std::move(v);
    }
  }
  return t;
}

}  // namespace v4rt::parsers
