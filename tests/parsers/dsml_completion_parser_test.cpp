// parse_completion_reference() against the official parser's outputs
// (shared/golden/chat/parse.jsonl), and the strict DsmlStream against both.
#include "parsers/completion_parser.h"

#include <gtest/gtest.h>

#include "parsers/special_tokens.h"
#include "dsml_test_util.h"

namespace v4rt::parsers {
namespace {

using v4rt::testing::load_parse_cases;
using v4rt::testing::run_stream;

TEST(DsmlCompletionParser, ReferenceMatchesEveryGoldenCase) {
  auto cases = load_parse_cases();
  if (cases.empty()) GTEST_SKIP() << "golden data absent (shared/golden/chat/parse.jsonl)";
  ASSERT_EQ(cases.size(), 65u);
  int ok = 0, errors = 0;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    ParseError err;
    Result<ParsedMessage> r = parse_completion_reference(c.text, c.thinking, &err);
    if (c.expects_error()) {
      ASSERT_FALSE(r.ok()) << r->to_json().dump();
      EXPECT_EQ(err.category, c.expected["error"].get<std::string>());
      EXPECT_EQ(err.message, c.expected["message"].get<std::string>());
      ++errors;
    } else {
      ASSERT_TRUE(r.ok()) << r.status().to_string();
      // Byte-identical, arguments strings included.
      EXPECT_EQ(r->to_json().dump(), c.expected.dump());
      ++ok;
    }
  }
  EXPECT_EQ(ok, 28);
  EXPECT_EQ(errors, 37);
}

TEST(DsmlCompletionParser, StrictStreamGivesTheReferenceOutcome) {
  auto cases = load_parse_cases();
  if (cases.empty()) GTEST_SKIP() << "golden data absent (shared/golden/chat/parse.jsonl)";
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto run = run_stream(c.text, {.thinking = c.thinking, .strict = true});
    if (c.expects_error()) {
      EXPECT_EQ(run.outcome, nlohmann::ordered_json({{"error", c.expected["error"]}}));
    } else {
      EXPECT_EQ(run.outcome.dump(), c.expected.dump());
    }
  }
}

TEST(DsmlCompletionParser, ParseCompletionDispatchesOnStrictness) {
  const std::string text = "Hi<\uFF5Cend\u2581of\u2581sentence\uFF5C>";
  auto strict = parse_completion(text, {.strict = true});
  ASSERT_TRUE(strict.ok());
  EXPECT_EQ(strict->content, "Hi");
  // Missing EOS: an error for the reference, a recorded variant for the tolerant stream.
  ParseError err;
  auto bad = parse_completion("Hi", {.strict = true}, &err);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(err.category, "missing_eos");
  EXPECT_NE(bad.status().message().find("missing_eos"), std::string::npos);
  auto tolerant = parse_completion("Hi", {});
  ASSERT_TRUE(tolerant.ok());
  EXPECT_EQ(tolerant->content, "Hi");
  EXPECT_EQ(tolerant->variants, std::vector<std::string>{"missing_eos"});
}

TEST(DsmlCompletionParser, SpecWorkedExample) {
  // spec §6.8, end of example C.
  const std::string d = std::string(tokens::kDsml);
  const std::string text = "x</think>\n\n<" + d + "tool_calls>\n<" + d + "invoke name=\"add\">\n<" + d +
                           "parameter name=\"xs\" string=\"false\">[1, 2]</" + d + "parameter>\n<" + d +
                           "parameter name=\"note\" string=\"true\">hi \"q\"</" + d + "parameter>\n</" + d +
                           "invoke>\n</" + d + "tool_calls>" + std::string(tokens::kEos);
  for (bool strict : {true, false}) {
    auto r = parse_completion(text, {.thinking = true, .strict = strict});
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    EXPECT_EQ(r->reasoning_content, "x");
    EXPECT_EQ(r->content, "");
    ASSERT_EQ(r->tool_calls.size(), 1u);
    EXPECT_EQ(r->tool_calls[0].name, "add");
    EXPECT_EQ(r->tool_calls[0].arguments, "{\"xs\": [1, 2], \"note\": \"hi \\\"q\\\"\"}");
    TypedArguments typed = typed_arguments(r->tool_calls[0]);
    EXPECT_TRUE(typed.errors.empty());
    EXPECT_EQ(typed.object.dump(), "{\"xs\":[1,2],\"note\":\"hi \\\"q\\\"\"}");
  }
}

TEST(DsmlCompletionParser, PythonJsonStringEscapes) {
  EXPECT_EQ(python_json_string("a\"b\\c\n\t\x01\x7f/\u2028\u00e9"), "\"a\\\"b\\\\c\\n\\t\\u0001\x7f/\u2028\u00e9\"");
}

TEST(DsmlCompletionParser, PythonWhitespaceSet) {
  EXPECT_EQ(python_space_length(" ", 0), 1u);
  EXPECT_EQ(python_space_length("\x1c", 0), 1u);
  EXPECT_EQ(python_space_length("\u00a0", 0), 2u);
  EXPECT_EQ(python_space_length("\u3000", 0), 3u);
  EXPECT_EQ(python_space_length("\u200b", 0), 0u);  // zero-width space is not \s
  EXPECT_EQ(python_space_length("x", 0), 0u);
}

}  // namespace
}  // namespace v4rt::parsers
