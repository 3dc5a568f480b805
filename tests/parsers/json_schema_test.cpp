#include "parsers/json_schema.h"

#include <gtest/gtest.h>

#include "parsers/completion_parser.h"
#include "parsers/special_tokens.h"

namespace v4rt::parsers {
namespace {

using Json = nlohmann::ordered_json;

std::vector<std::string> pointers(const std::vector<SchemaError>& errs) {
  std::vector<std::string> p;
  for (const auto& e : errs) p.push_back(e.pointer);
  return p;
}

const Json kWeather = Json::parse(R"({
  "type": "object",
  "properties": {
    "location": {"type": "string", "minLength": 1},
    "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
    "days": {"type": "integer", "minimum": 1, "maximum": 14},
    "hours": {"type": ["integer", "null"]},
    "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 3},
    "filter": {"type": "object", "properties": {"min": {"type": "number"}}, "required": ["min"],
               "additionalProperties": false}
  },
  "required": ["location"],
  "additionalProperties": false
})");

TEST(JsonSchema, ValidValuesPass) {
  EXPECT_TRUE(validate_json(Json::parse(R"({"location": "Paris"})"), kWeather).empty());
  EXPECT_TRUE(validate_json(Json::parse(R"({"location": "Paris", "unit": "celsius", "days": 3.0, "hours": null,
                                            "tags": ["a"], "filter": {"min": -1.5}})"), kWeather).empty());
  EXPECT_TRUE(validate_json(Json::parse("42"), Json::object()).empty());  // empty schema: anything
  EXPECT_TRUE(validate_json(Json::parse("42"), Json(true)).empty());
  EXPECT_FALSE(validate_json(Json::parse("42"), Json(false)).empty());
}

TEST(JsonSchema, EachViolationHasAPointerAndAMessage) {
  auto errs = validate_json(Json::parse(R"({"unit": "kelvin", "days": 0, "hours": 1.5, "tags": ["a", 2, "c", "d"],
                                           "filter": {"max": 3}, "extra": true})"), kWeather);
  EXPECT_EQ(pointers(errs), (std::vector<std::string>{"", "/unit", "/days", "/hours", "/tags/1", "/tags",
                                                      "/filter", "/filter/max", "/extra"}));
  EXPECT_EQ(errs[0].message, "missing required property \"location\"");
  EXPECT_EQ(errs[1].message, "must be one of [\"celsius\",\"fahrenheit\"], got \"kelvin\"");
  EXPECT_EQ(errs[2].message, "must be >= 1, got 0");
  EXPECT_EQ(errs[3].message, "must be integer or null, got number 1.5");
  EXPECT_EQ(errs[4].message, "must be string, got integer 2");
  EXPECT_EQ(errs[6].message, "missing required property \"min\"");
  EXPECT_EQ(errs[7].message, "unknown property (allowed: min)");
}

TEST(JsonSchema, StringGivenForANumberSuggestsStringFalse) {
  auto errs = validate_json(Json::parse(R"({"location": "x", "days": "3"})"), kWeather);
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0].pointer, "/days");
  EXPECT_NE(errs[0].message.find("string=\"false\""), std::string::npos);
}

TEST(JsonSchema, CombinatorsAndPointerEscaping) {
  const Json s = Json::parse(R"({"type": "object", "properties": {"a/b~c": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
      "one": {"oneOf": [{"type": "number"}, {"type": "integer"}]}, "n": {"not": {"type": "null"}}}})");
  auto errs = validate_json(Json::parse(R"({"a/b~c": true, "one": 3, "n": null})"), s);
  EXPECT_EQ(pointers(errs), (std::vector<std::string>{"/a~1b~0c", "/one", "/n"}));
  EXPECT_TRUE(validate_json(Json::parse(R"({"a/b~c": "x", "one": 2.5, "n": 1})"), s).empty());
}

TEST(JsonSchema, CheckToolCallDecodesValidatesAndRenders) {
  const Json tools = Json::array({{{"type", "function"},
                                   {"function", {{"name", "get_weather"}, {"parameters", kWeather}}}}});
  ToolCall call;
  call.name = "get_weather";
  call.params = {{"location", "Paris", true}, {"days", "3", false}, {"tags", "[\"x\"]", false}};
  auto ok = check_tool_call(call, tools);
  EXPECT_TRUE(ok.ok()) << ok.render();
  EXPECT_EQ(ok.arguments.dump(), R"({"location":"Paris","days":3,"tags":["x"]})");
  EXPECT_EQ(ok.render(), "");

  call.params = {{"location", "Paris", true}, {"unit", "kelvin", true}};
  auto bad = check_tool_call(call, tools);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.render(),
            "Tool call 'get_weather' was not run: its arguments do not match the tool's schema.\n"
            "- /unit: must be one of [\"celsius\",\"fahrenheit\"], got \"kelvin\"\n"
            "Fix the arguments and call the tool again.");

  call.params = {{"location", "Paris", true}, {"days", "three", false}};
  auto undecodable = check_tool_call(call, tools);
  ASSERT_EQ(undecodable.errors.size(), 1u);
  EXPECT_EQ(undecodable.errors[0].pointer, "/days");
  EXPECT_NE(undecodable.errors[0].message.find("not valid JSON"), std::string::npos);

  call.name = "get_wether";
  auto unknown = check_tool_call(call, tools);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.errors.back().message, "no tool named 'get_wether' is declared (declared: get_weather)");
}

TEST(JsonSchema, ParsedCallAgainstItsDeclaredTool) {
  // The call of golden case chat_single_tool_call against that case's tool.
  const std::string d(tokens::kDsml);
  const std::string text = "\n\n<" + d + "tool_calls>\n<" + d + "invoke name=\"get_weather\">\n<" + d +
                           "parameter name=\"location\" string=\"true\">Paris</" + d + "parameter>\n<" + d +
                           "parameter name=\"unit\" string=\"true\">celsius</" + d + "parameter>\n</" + d +
                           "invoke>\n</" + d + "tool_calls>" + std::string(tokens::kEos);
  auto msg = parse_completion(text, {});
  ASSERT_TRUE(msg.ok());
  const Json tools = Json::parse(R"([{"type": "function", "function": {"name": "get_weather", "parameters":
      {"type": "object", "properties": {"location": {"type": "string"}, "unit": {"type": "string",
       "enum": ["celsius", "fahrenheit"]}}, "required": ["location"]}}}])");
  EXPECT_TRUE(check_tool_call(msg->tool_calls[0], tools).ok());
}

}  // namespace
}  // namespace v4rt::parsers
