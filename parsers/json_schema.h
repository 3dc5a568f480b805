// JSON-Schema checks of tool-call arguments: a value against an OpenAI
// function `parameters` schema, and a parsed ToolCall against the declared
// tools. The errors are data for the agent loop to show the model so that it
// can retry the call. Stateless; thread-safe.
//
// Supported keywords (the subset tool schemas use): type (a name or a list of
// names; "integer" accepts integral numbers such as 3.0), enum, const,
// properties, required, additionalProperties (bool or schema), items (schema),
// minItems, maxItems, minLength, maxLength (in code points), minimum, maximum,
// exclusiveMinimum, exclusiveMaximum (numbers), anyOf, oneOf, allOf, not.
// Other keywords (description, default, title, format, pattern, $schema...)
// are ignored. A schema that is not an object (or `true`) accepts everything;
// `false` accepts nothing.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "parsers/tool_call.h"

namespace v4rt::parsers {

struct SchemaError {
  std::string pointer;  // JSON pointer into the checked value: "" (root), "/city", "/items/0"
  std::string message;  // what is wrong there, e.g. "must be one of [\"celsius\", \"fahrenheit\"], got \"kelvin\""
};

// All violations of `schema` by `value` (empty: valid).
std::vector<SchemaError> validate_json(const nlohmann::ordered_json& value, const nlohmann::ordered_json& schema);

// The outcome of checking one call against the declared tools.
struct ToolCallCheck {
  std::string tool;                    // the called name
  nlohmann::ordered_json arguments;    // typed arguments (typed_arguments())
  std::vector<SchemaError> errors;     // unknown tool, undecodable values, schema violations
  bool ok() const { return errors.empty(); }
  // A message for the model, e.g.
  //   Tool call 'get_weather' was not run: its arguments do not match the tool's schema.
  //   - /unit: must be one of ["celsius", "fahrenheit"], got "kelvin"
  //   Fix the arguments and call the tool again.
  std::string render() const;
};

// `tools`: the OpenAI list [{"type":"function","function":{"name","parameters"}}]
// (a bare list of function objects is accepted too). A call to a tool that is
// not declared is an error at pointer "" naming the declared tools.
ToolCallCheck check_tool_call(const ToolCall& call, const nlohmann::ordered_json& tools);

}  // namespace v4rt::parsers
