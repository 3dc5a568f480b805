// Tool calls and parsed assistant messages: the values the DSML parsers
// (parsers/completion_parser.h, parsers/dsml_stream.h) produce and the agent
// loop consumes. Plain values; thread-safe as values.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace v4rt::parsers {

// One <｜DSML｜parameter name="K" string="true|false">V</｜DSML｜parameter>.
struct ToolParam {
  std::string name;
  std::string value;      // raw text between the tags, byte for byte
  bool is_string = true;  // string="true": value is the string itself; "false": value is JSON text
};

struct ToolCall {
  std::string name;
  // The OpenAI `arguments` string, built textually as the reference does:
  // "{" + join(", ", json(K) + ": " + (is_string ? json(V) : V)) + "}". A
  // string="false" value is pasted unvalidated, so this may be invalid JSON.
  std::string arguments;
  std::vector<ToolParam> params;  // in order of appearance
};

// A parse failure. `category` is one of the stable names of
// shared/golden/chat/README.md (missing_think_end, missing_eos,
// content_at_end, content_after_tool_calls, special_token_in_content,
// tool_call_format, truncated_tool_calls, tool_name_format, parameter_format,
// parameter_separator, duplicate_parameter); `message` says what was seen;
// `offset` is the byte offset in the completion where it was detected.
struct ParseError {
  std::string category;
  std::string message;
  size_t offset = 0;
  // InvalidArgument("model output: <category> at byte <offset>: <message>; ...").
  Status to_status() const;
};

struct ParsedMessage {
  std::string content;
  std::string reasoning_content;
  std::vector<ToolCall> tool_calls;
  // Tolerant mode: the non-canonical forms accepted (see docs/dsml-parsing.md),
  // each name once, in order first seen. Empty for canonical output.
  std::vector<std::string> variants;

  // {"role":"assistant","content":...,"reasoning_content":...,"tool_calls":[
  //   {"type":"function","function":{"name":...,"arguments":...}}]}: the shape
  // of shared/golden/chat/parse.jsonl. Adds "dsml_variants" when non-empty.
  nlohmann::ordered_json to_json() const;
};

// json.dumps(s, ensure_ascii=False) of Python: quotes; escapes '"', '\\' and
// bytes below 0x20 (\n \r \t \b \f short, others \u00xx); all else raw.
std::string python_json_string(std::string_view s);

// The reference's arguments string for these parameters (see ToolCall::arguments).
std::string build_arguments(const std::vector<ToolParam>& params);

// The call's arguments as a typed JSON object: string="true" values as
// strings, string="false" values decoded as JSON. A value that does not
// decode is reported in `errors` (one line each, naming the parameter) and
// kept as a string so the object stays complete.
struct TypedArguments {
  nlohmann::ordered_json object = nlohmann::ordered_json::object();
  std::vector<std::string> errors;
};
TypedArguments typed_arguments(const ToolCall& call);

}  // namespace v4rt::parsers
