// DsmlStream: chunking independence over every golden text and split point,
// the tolerant-mode outcome of every golden case (docs/dsml-parsing.md), the
// variants, minimal hold-back, streaming events and the sampling hooks.
#include "parsers/dsml_stream.h"

#include <map>

#include <gtest/gtest.h>

#include "parsers/special_tokens.h"
#include "dsml_test_util.h"

namespace v4rt::parsers {
namespace {

using v4rt::testing::load_parse_cases;
using v4rt::testing::normalize;
using v4rt::testing::run_stream;

const std::string kD(tokens::kDsml);
const std::string kEos(tokens::kEos);

// A canonical one-call completion with the DSML marker spelled `d` and the wrapper `w`.
std::string call_text(const std::string& d = kD, const std::string& w = "tool_calls", const std::string& prefix = "\n\n") {
  return "Let me check." + prefix + "<" + d + w + ">\n<" + d + "invoke name=\"get_weather\">\n<" + d +
         "parameter name=\"city\" string=\"true\">Paris</" + d + "parameter>\n<" + d +
         "parameter name=\"days\" string=\"false\">3</" + d + "parameter>\n</" + d + "invoke>\n</" + d + w + ">" + kEos;
}
const char* kCallArgs = "{\"city\": \"Paris\", \"days\": 3}";

TEST(DsmlStream, AnySplitOfAnyGoldenTextGivesTheWholeTextEvents) {
  auto cases = load_parse_cases();
  if (cases.empty()) GTEST_SKIP() << "golden data absent (shared/golden/chat/parse.jsonl)";
  size_t runs = 0;
  for (const auto& c : cases) {
    for (bool strict : {true, false}) {
      SCOPED_TRACE(c.name + (strict ? " strict" : " tolerant"));
      const DsmlOptions opt{.thinking = c.thinking, .strict = strict};
      const auto whole = run_stream(c.text, opt);
      // Every split point, including the ones inside multi-byte UTF-8 characters.
      for (size_t cut = 1; cut < c.text.size(); ++cut) {
        const auto two = run_stream(c.text, opt, {cut});
        ASSERT_EQ(two.events, whole.events) << "split at byte " << cut;
        ASSERT_EQ(two.outcome, whole.outcome) << "split at byte " << cut;
        ++runs;
      }
      // Byte by byte.
      std::vector<size_t> all;
      for (size_t i = 1; i < c.text.size(); ++i) all.push_back(i);
      const auto bytes = run_stream(c.text, opt, all);
      ASSERT_EQ(bytes.events, whole.events);
      ASSERT_EQ(bytes.outcome, whole.outcome);
      // Three pieces at a stride of split pairs.
      for (size_t a = 1; a < c.text.size(); a += 7)
        for (size_t b = a + 1; b < c.text.size(); b += 11) {
          const auto three = run_stream(c.text, opt, {a, b});
          ASSERT_EQ(three.events, whole.events) << "splits at " << a << ", " << b;
          ++runs;
        }
    }
  }
  EXPECT_GT(runs, 10000u);
}

TEST(DsmlStream, TolerantModeParsesWellFormedGoldenCasesAsTheReference) {
  auto cases = load_parse_cases();
  if (cases.empty()) GTEST_SKIP() << "golden data absent (shared/golden/chat/parse.jsonl)";
  for (const auto& c : cases) {
    if (c.expects_error()) continue;
    SCOPED_TRACE(c.name);
    auto run = run_stream(c.text, {.thinking = c.thinking});
    auto got = run.outcome;
    got.erase("dsml_variants");  // truncations the reference accepts are flagged missing_closing_tags
    EXPECT_EQ(got.dump(), c.expected.dump());
  }
}

// The documented tolerant outcome (docs/dsml-parsing.md) of every golden case
// the reference rejects, and of the truncations it accepts.
TEST(DsmlStream, TolerantOutcomeOfEveryMalformedGoldenCase) {
  auto cases = load_parse_cases();
  if (cases.empty()) GTEST_SKIP() << "golden data absent (shared/golden/chat/parse.jsonl)";
  const std::map<std::string, std::string> expected = {
    {"chat_missing_eos", R"({"role":"assistant","content":"The answer is 42.","reasoning_content":"","tool_calls":[],"dsml_variants":["missing_eos"]})"},
    {"thinking_missing_think_end", R"({"role":"assistant","content":"","reasoning_content":"Still thinking about it...","tool_calls":[],"dsml_variants":["missing_think_end"]})"},
    {"thinking_tool_calls_before_think_end", R"({"role":"assistant","content":"","reasoning_content":"reasoning","tool_calls":[{"type":"function","function":{"name":"get_weather","arguments":"{\"location\": \"Paris\"}"}}],"dsml_variants":["tool_calls_in_reasoning"]})"},
    {"text_after_eos", R"({"role":"assistant","content":"Done.","reasoning_content":"","tool_calls":[],"dsml_variants":["text_after_eos"]})"},
    {"text_between_tool_calls_and_eos", R"({"role":"assistant","content":"\nAnything else?","reasoning_content":"","tool_calls":[{"type":"function","function":{"name":"get_weather","arguments":"{\"location\": \"Paris\"}"}}],"dsml_variants":["content_after_tool_calls"]})"},
    {"second_tool_calls_block", R"({"role":"assistant","content":"","reasoning_content":"","tool_calls":[{"type":"function","function":{"name":"get_weather","arguments":"{\"location\": \"A\"}"}},{"type":"function","function":{"name":"get_weather","arguments":"{\"location\": \"B\"}"}}],"dsml_variants":["multiple_tool_call_blocks"]})"},
    {"tool_calls_with_single_newline_prefix", R"({"role":"assistant","content":"Checking.","reasoning_content":"","tool_calls":[{"type":"function","function":{"name":"get_weather","arguments":"{\"location\": \"Paris\"}"}}],"dsml_variants":["tool_calls_without_blank_line"]})"},
    {"blank_line_between_parameters", R"({"role":"assistant","content":"","reasoning_content":"","tool_calls":[{"type":"function","function":{"name":"get_weather","arguments":"{\"location\": \"Paris\", \"unit\": \"celsius\"}"}}],"dsml_variants":["nonstandard_separator"]})"},
    {"parameter_missing_string_attribute", R"({"role":"assistant","content":"","reasoning_content":"","tool_calls":[{"type":"function","function":{"name":"get_weather","arguments":"{\"location\": \"Paris\"}"}}],"dsml_variants":["nonstandard_parameter_attributes"]})"},
    {"parameter_string_attribute_not_boolean", "error:parameter_format"},
    {"duplicate_parameter_name", "error:duplicate_parameter"},
    {"missing_parameter_close_tag", R"({"role":"assistant","content":"","reasoning_content":"","tool_calls":[{"type":"function","function":{"name":"get_weather","arguments":"{\"location\": \"Paris\\n\"}"}}],"dsml_variants":["missing_parameter_close"]})"},
    {"missing_invoke_close_tag", R"({"role":"assistant","content":"","reasoning_content":"","tool_calls":[{"type":"function","function":{"name":"get_weather","arguments":"{\"location\": \"Paris\"}"}},{"type":"function","function":{"name":"get_weather","arguments":"{\"location\": \"Lyon\"}"}}],"dsml_variants":["missing_invoke_close"]})"},
    {"missing_tool_calls_close_tag", R"({"role":"assistant","content":"","reasoning_content":"","tool_calls":[{"type":"function","function":{"name":"get_weather","arguments":"{\"location\": \"Paris\"}"}}],"dsml_variants":["missing_closing_tags"]})"},
    {"invoke_name_single_quoted", R"({"role":"assistant","content":"","reasoning_content":"","tool_calls":[{"type":"function","function":{"name":"get_weather","arguments":"{\"location\": \"Paris\"}"}}],"dsml_variants":["nonstandard_invoke_header"]})"},
    {"think_start_token_in_content", R"({"role":"assistant","content":"answer","reasoning_content":"hmm","tool_calls":[],"dsml_variants":["reasoning_in_chat_mode"]})"},
    {"bos_token_in_reasoning", R"({"role":"assistant","content":"answer","reasoning_content":"oops ","tool_calls":[],"dsml_variants":["stray_special_token"]})"},
    {"dsml_text_in_reasoning", R"({"role":"assistant","content":"ok","reasoning_content":"I will write invoke later","tool_calls":[],"dsml_variants":["stray_special_token"]})"},
    {"crlf_inside_tool_call_markup", R"({"role":"assistant","content":"","reasoning_content":"","tool_calls":[{"type":"function","function":{"name":"get_weather","arguments":"{\"location\": \"Paris\"}"}}],"dsml_variants":["nonstandard_separator","nonstandard_invoke_header"]})"},
    {"truncated_after_reasoning", R"({"role":"assistant","content":"","reasoning_content":"Two lookups needed.","tool_calls":[],"dsml_variants":["missing_think_end"]})"},
    {"truncated_after_think_end", R"({"role":"assistant","content":"","reasoning_content":"Two lookups needed.","tool_calls":[],"dsml_variants":["missing_eos"]})"},
    {"truncated_after_content", R"({"role":"assistant","content":"On it.","reasoning_content":"Two lookups needed.","tool_calls":[],"dsml_variants":["missing_eos"]})"},
    {"truncated_after_block_newlines", R"({"role":"assistant","content":"On it.\n\n","reasoning_content":"Two lookups needed.","tool_calls":[],"dsml_variants":["missing_eos"]})"},
    {"truncated_after_block_open", R"({"role":"assistant","content":"On it.","reasoning_content":"Two lookups needed.","tool_calls":[],"dsml_variants":["missing_closing_tags"]})"},
    {"truncated_after_block_open_gt_nl", R"({"role":"assistant","content":"On it.","reasoning_content":"Two lookups needed.","tool_calls":[],"dsml_variants":["missing_closing_tags"]})"},
    {"truncated_after_invoke1_open", "error:tool_name_format"},
    {"truncated_after_invoke1_name", "error:tool_name_format"},
    {"truncated_after_invoke1_gt_nl", R"({"role":"assistant","content":"On it.","reasoning_content":"Two lookups needed.","tool_calls":[{"type":"function","function":{"name":"get_weather","arguments":"{}"}}],"dsml_variants":["missing_closing_tags"]})"},
    {"truncated_after_param1_open", "error:parameter_format"},
    {"truncated_after_param1_attrs", R"({"role":"assistant","content":"On it.","reasoning_content":"Two lookups needed.","tool_calls":[{"type":"function","function":{"name":"get_weather","arguments":"{\"location\": \"\"}"}}],"dsml_variants":["missing_closing_tags"]})"},
    {"truncated_after_param1_value", R"({"role":"assistant","content":"On it.","reasoning_content":"Two lookups needed.","tool_calls":[{"type":"function","function":{"name":"get_weather","arguments":"{\"location\": \"Paris\"}"}}],"dsml_variants":["missing_closing_tags"]})"},
    {"truncated_after_param1_close", R"({"role":"assistant","content":"On it.","reasoning_content":"Two lookups needed.","tool_calls":[{"type":"function","function":{"name":"get_weather","arguments":"{\"location\": \"Paris\"}"}}],"dsml_variants":["missing_closing_tags"]})"},
    {"truncated_after_param1_close_gt", R"({"role":"assistant","content":"On it.","reasoning_content":"Two lookups needed.","tool_calls":[{"type":"function","function":{"name":"get_weather","arguments":"{\"location\": \"Paris\"}"}}],"dsml_variants":["missing_closing_tags"]})"},
    {"truncated_after_param1_nl", R"({"role":"assistant","content":"On it.","reasoning_content":"Two lookups needed.","tool_calls":[{"type":"function","function":{"name":"get_weather","arguments":"{\"location\": \"Paris\"}"}}],"dsml_variants":["missing_closing_tags"]})"},
    {"truncated_after_param2_full", R"({"role":"assistant","content":"On it.","reasoning_content":"Two lookups needed.","tool_calls":[{"type":"function","function":{"name":"get_weather","arguments":"{\"location\": \"Paris\", \"days\": 3}"}}],"dsml_variants":["missing_closing_tags"]})"},
    {"truncated_after_param2_nl", R"({"role":"assistant","content":"On it.","reasoning_content":"Two lookups needed.","tool_calls":[{"type":"function","function":{"name":"get_weather","arguments":"{\"location\": \"Paris\", \"days\": 3}"}}],"dsml_variants":["missing_closing_tags"]})"},
    {"truncated_after_invoke1_close", R"({"role":"assistant","content":"On it.","reasoning_content":"Two lookups needed.","tool_calls":[{"type":"function","function":{"name":"get_weather","arguments":"{\"location\": \"Paris\", \"days\": 3}"}}],"dsml_variants":["missing_closing_tags"]})"},
    {"truncated_after_invoke1_close_gt", R"({"role":"assistant","content":"On it.","reasoning_content":"Two lookups needed.","tool_calls":[{"type":"function","function":{"name":"get_weather","arguments":"{\"location\": \"Paris\", \"days\": 3}"}}],"dsml_variants":["missing_closing_tags"]})"},
    {"truncated_after_invoke1_nl", R"({"role":"assistant","content":"On it.","reasoning_content":"Two lookups needed.","tool_calls":[{"type":"function","function":{"name":"get_weather","arguments":"{\"location\": \"Paris\", \"days\": 3}"}}],"dsml_variants":["missing_closing_tags"]})"},
    {"truncated_after_invoke2_full", R"({"role":"assistant","content":"On it.","reasoning_content":"Two lookups needed.","tool_calls":[{"type":"function","function":{"name":"get_weather","arguments":"{\"location\": \"Paris\", \"days\": 3}"}},{"type":"function","function":{"name":"get_weather","arguments":"{\"location\": \"Nice\"}"}}],"dsml_variants":["missing_closing_tags"]})"},
    {"truncated_after_invoke2_nl", R"({"role":"assistant","content":"On it.","reasoning_content":"Two lookups needed.","tool_calls":[{"type":"function","function":{"name":"get_weather","arguments":"{\"location\": \"Paris\", \"days\": 3}"}},{"type":"function","function":{"name":"get_weather","arguments":"{\"location\": \"Nice\"}"}}],"dsml_variants":["missing_closing_tags"]})"},
    {"truncated_after_block_close", R"({"role":"assistant","content":"On it.","reasoning_content":"Two lookups needed.","tool_calls":[{"type":"function","function":{"name":"get_weather","arguments":"{\"location\": \"Paris\", \"days\": 3}"}},{"type":"function","function":{"name":"get_weather","arguments":"{\"location\": \"Nice\"}"}}],"dsml_variants":["truncated_markup","missing_closing_tags"]})"},
  };
  size_t checked = 0;
  for (const auto& c : cases) {
    auto run = run_stream(c.text, {.thinking = c.thinking});
    auto it = expected.find(c.name);
    if (it == expected.end()) {
      EXPECT_FALSE(c.expects_error()) << c.name << ": malformed case without a documented tolerant outcome";
      continue;
    }
    SCOPED_TRACE(c.name);
    const std::string got = run.outcome.contains("error") ? "error:" + run.outcome["error"].get<std::string>()
                                                          : run.outcome.dump();
    EXPECT_EQ(got, it->second);
    ++checked;
  }
  EXPECT_EQ(checked, expected.size());
}

TEST(DsmlStream, CanonicalCallIsCanonicalInBothModes) {
  for (bool strict : {true, false}) {
    auto run = run_stream(call_text(), {.strict = strict});
    ASSERT_FALSE(run.outcome.contains("error")) << run.outcome.dump();
    EXPECT_EQ(run.outcome["content"], "Let me check.");
    EXPECT_EQ(run.outcome["tool_calls"][0]["function"]["arguments"], kCallArgs);
    EXPECT_FALSE(run.outcome.contains("dsml_variants"));
  }
}

TEST(DsmlStream, MarkerAndWrapperVariants) {
  struct V { std::string d, w, prefix; std::vector<std::string> variants; };
  const std::vector<V> vs = {
      {"\uFF5C\uFF5CDSML\uFF5C\uFF5C", "tool_calls", "\n\n", {"doubled_pipes"}},
      {"|DSML|", "tool_calls", "\n\n", {"ascii_pipes"}},
      {"||DSML||", "tool_calls", "\n\n", {"doubled_ascii_pipes"}},
      {kD, "function_calls", "\n\n", {"function_calls_wrapper"}},
      {kD, "toolcalls", "\n\n", {"toolcalls_wrapper"}},
      {kD, "tool_calls", "\n", {"tool_calls_without_blank_line"}},
      {kD, "tool_calls", "", {"tool_calls_without_blank_line"}},
      {"|DSML|", "function_calls", "\n", {"tool_calls_without_blank_line", "ascii_pipes", "function_calls_wrapper"}},
  };
  for (const V& v : vs) {
    SCOPED_TRACE(v.d + " " + v.w + " prefix " + std::to_string(v.prefix.size()));
    const std::string text = call_text(v.d, v.w, v.prefix);
    auto tolerant = run_stream(text, {});
    ASSERT_FALSE(tolerant.outcome.contains("error")) << tolerant.outcome.dump();
    EXPECT_EQ(tolerant.outcome["content"], "Let me check.");
    ASSERT_EQ(tolerant.outcome["tool_calls"].size(), 1u);
    EXPECT_EQ(tolerant.outcome["tool_calls"][0]["function"]["arguments"], kCallArgs);
    EXPECT_EQ(tolerant.outcome["dsml_variants"], nlohmann::ordered_json(v.variants));
    // Strict mode finds no call in any of them (ASCII spellings are plain
    // text to the reference; the others are errors).
    auto strict = run_stream(text, {.strict = true});
    EXPECT_TRUE(strict.outcome.contains("error") || strict.outcome["tool_calls"].empty()) << strict.outcome.dump();
  }
}

TEST(DsmlStream, MissingEosAndMissingFinalClosingTags) {
  std::string text = call_text();
  text.resize(text.size() - kEos.size());  // no EOS: the reference accepts this after a block
  for (bool strict : {true, false}) {
    auto run = run_stream(text, {.strict = strict});
    EXPECT_EQ(run.outcome["tool_calls"][0]["function"]["arguments"], kCallArgs);
  }
  // The model stops (EOS) without closing the parameter, the invoke and the block.
  const std::string cut = "\n\n<" + kD + "tool_calls>\n<" + kD + "invoke name=\"f\">\n<" + kD +
                          "parameter name=\"q\" string=\"true\">x y" + kEos;
  auto tolerant = run_stream(cut, {});
  ASSERT_FALSE(tolerant.outcome.contains("error")) << tolerant.outcome.dump();
  EXPECT_EQ(tolerant.outcome["tool_calls"][0]["function"]["arguments"], "{\"q\": \"x y\"}");
  EXPECT_EQ(tolerant.outcome["dsml_variants"], nlohmann::ordered_json({"missing_closing_tags"}));
  EXPECT_EQ(run_stream(cut, {.strict = true}).outcome["error"], "parameter_format");
  // End of stream inside a closing tag: the unfinished tag never reaches the value.
  const std::string half = "\n\n<" + kD + "tool_calls>\n<" + kD + "invoke name=\"f\">\n<" + kD +
                           "parameter name=\"q\" string=\"true\">x</" + kD.substr(0, 4);
  auto h = run_stream(half, {});
  ASSERT_FALSE(h.outcome.contains("error")) << h.outcome.dump();
  EXPECT_EQ(h.outcome["tool_calls"][0]["function"]["arguments"], "{\"q\": \"x\"}");
}

TEST(DsmlStream, ToolCallsInsideReasoning) {
  const std::string text = "I need the weather." + call_text().substr(std::string("Let me check.").size());
  auto tolerant = run_stream(text, {.thinking = true});
  ASSERT_FALSE(tolerant.outcome.contains("error")) << tolerant.outcome.dump();
  EXPECT_EQ(tolerant.outcome["reasoning_content"], "I need the weather.");
  EXPECT_EQ(tolerant.outcome["content"], "");
  EXPECT_EQ(tolerant.outcome["tool_calls"][0]["function"]["arguments"], kCallArgs);
  EXPECT_EQ(tolerant.outcome["dsml_variants"], nlohmann::ordered_json({"tool_calls_in_reasoning"}));
  EXPECT_EQ(run_stream(text, {.thinking = true, .strict = true}).outcome["error"], "missing_think_end");
}

TEST(DsmlStream, BareInvokeOpensABlockInTheAnswerOnly) {
  const std::string invoke = "<" + kD + "invoke name=\"f\">\n<" + kD + "parameter name='q'>x</" + kD +
                             "parameter>\n</" + kD + "invoke>\n";
  auto answer = run_stream("ok\n\n" + invoke + kEos, {});
  ASSERT_FALSE(answer.outcome.contains("error")) << answer.outcome.dump();
  EXPECT_EQ(answer.outcome["content"], "ok");
  EXPECT_EQ(answer.outcome["tool_calls"][0]["function"]["arguments"], "{\"q\": \"x\"}");
  EXPECT_EQ(answer.outcome["dsml_variants"],
            nlohmann::ordered_json({"missing_tool_calls_wrapper", "nonstandard_parameter_attributes", "missing_closing_tags"}));
  // In reasoning the model may be writing about DSML: the marker is dropped, no call.
  auto reasoning = run_stream("about " + invoke + "</think>done" + kEos, {.thinking = true});
  ASSERT_FALSE(reasoning.outcome.contains("error")) << reasoning.outcome.dump();
  EXPECT_TRUE(reasoning.outcome["tool_calls"].empty());
  EXPECT_EQ(reasoning.outcome["content"], "done");
  EXPECT_EQ(reasoning.outcome["reasoning_content"].get<std::string>().find(kD), std::string::npos);
}

TEST(DsmlStream, MarkupNeverLeaksIntoTolerantText) {
  const std::string text = "a" + std::string(tokens::kBos) + "b" + std::string(tokens::kThinkEnd) + "c<" + kD + "x" + kD + "d" + kEos;
  auto run = run_stream(text, {});
  EXPECT_EQ(run.outcome["content"], "abcxd");
  EXPECT_EQ(run.outcome["dsml_variants"], nlohmann::ordered_json({"stray_special_token"}));
  auto strict = run_stream(text, {.strict = true});
  EXPECT_EQ(strict.outcome["error"], "special_token_in_content");
}

TEST(DsmlStream, TextAndReasoningAreEmittedWithMinimalHoldBack) {
  DsmlStream s({.thinking = true});
  std::vector<DsmlEvent> ev;
  s.feed("Let me", ev);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, DsmlEvent::Kind::kReasoning);
  EXPECT_EQ(ev[0].text, "Let me");
  ev.clear();
  s.feed(" think</thi", ev);  // "</thi" may be </think>: held back
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].text, " think");
  ev.clear();
  s.feed("nk>Yes\n", ev);  // "\n" may start "\n\n<｜DSML｜tool_calls"
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, DsmlEvent::Kind::kText);
  EXPECT_EQ(ev[0].text, "Yes");
  ev.clear();
  s.feed("\xe6\x97", ev);  // "\n" is released, half of U+65E5 is held
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].text, "\n");
  ev.clear();
  s.feed("\xa5", ev);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].text, "\xe6\x97\xa5");
  ev.clear();
  s.feed(kEos, ev);
  s.finish(ev);
  EXPECT_TRUE(ev.empty());
  EXPECT_EQ(s.result().content, "Yes\n\xe6\x97\xa5");
  EXPECT_EQ(s.result().reasoning_content, "Let me think");
}

TEST(DsmlStream, ToolCallEventsInOrder) {
  DsmlStream s;
  std::vector<DsmlEvent> ev;
  for (char ch : call_text()) s.feed(std::string_view(&ch, 1), ev);
  s.finish(ev);
  ASSERT_EQ(s.error(), nullptr);
  const auto n = normalize(ev);
  const std::vector<std::string> want = {
      "text: Let me check.",
      "start 0 get_weather: ",
      "arg 0/0 city s: Paris",
      "arg 0/1 days j: 3",
      std::string("end 0 get_weather ") + kCallArgs + ": ",
  };
  EXPECT_EQ(n, want);
  const DsmlEvent& end = ev.back();
  ASSERT_EQ(end.kind, DsmlEvent::Kind::kToolCallEnd);
  ASSERT_EQ(end.call.params.size(), 2u);
  EXPECT_FALSE(end.call.params[1].is_string);
  EXPECT_EQ(typed_arguments(end.call).object.dump(), "{\"city\":\"Paris\",\"days\":3}");
}

TEST(DsmlStream, ErrorIsAnEventAndStopsTheStream) {
  DsmlStream s({.strict = true});
  std::vector<DsmlEvent> ev;
  s.feed("\n\n<" + kD + "tool_calls>\r\n", ev);
  ASSERT_FALSE(ev.empty());
  EXPECT_EQ(ev.back().kind, DsmlEvent::Kind::kError);
  EXPECT_EQ(ev.back().error.category, "tool_call_format");
  EXPECT_EQ(s.phase(), DsmlPhase::kFailed);
  ev.clear();
  s.feed("more", ev);
  s.finish(ev);
  EXPECT_TRUE(ev.empty());
  ASSERT_NE(s.error(), nullptr);
  EXPECT_NE(s.error()->to_status().message().find("tool_call_format"), std::string::npos);
}

TEST(DsmlStream, SamplingHooksFollowTheStructure) {
  DsmlStream s;
  std::vector<DsmlEvent> ev;
  EXPECT_EQ(s.phase(), DsmlPhase::kContent);
  s.feed("Checking.", ev);
  EXPECT_FALSE(s.in_structure());
  s.feed("\n", ev);
  EXPECT_FALSE(s.in_structure());  // a line break alone is not yet structure
  s.feed("\n<" + kD.substr(0, 3), ev);
  EXPECT_TRUE(s.in_structure());  // may be the tool-call opener: sample greedily
  s.feed(kD.substr(3) + "tool_calls", ev);
  EXPECT_EQ(s.phase(), DsmlPhase::kMarkup);
  EXPECT_TRUE(s.in_structure());
  EXPECT_EQ(s.expected_next(), (std::vector<std::string>{">\n<" + kD + "invoke name=\"", ">\n</" + kD + "tool_calls>"}));
  s.feed(">\n<" + kD + "invoke", ev);
  EXPECT_EQ(s.phase(), DsmlPhase::kToolName);
  EXPECT_TRUE(s.in_structure());
  s.feed(" name=\"f\">\n<" + kD + "parameter name=\"q\" string=\"true\">", ev);
  EXPECT_EQ(s.phase(), DsmlPhase::kParamValue);
  EXPECT_FALSE(s.in_structure());  // free sampling inside values
  EXPECT_TRUE(s.expected_next().empty());
  s.feed("v</" + kD + "parameter", ev);
  EXPECT_EQ(s.phase(), DsmlPhase::kMarkup);
  EXPECT_EQ(s.expected_next(), (std::vector<std::string>{">\n<" + kD + "parameter name=\"", ">\n</" + kD + "invoke>"}));
  s.feed(">", ev);
  EXPECT_EQ(s.expected_next(), (std::vector<std::string>{"\n<" + kD + "parameter name=\"", "\n</" + kD + "invoke>"}));
  s.feed("\n</" + kD + "invoke>\n</" + kD + "tool_calls>", ev);
  EXPECT_EQ(s.phase(), DsmlPhase::kContent);  // tolerant: after the block
  s.feed(kEos, ev);
  EXPECT_EQ(s.phase(), DsmlPhase::kDone);
  s.finish(ev);
  ASSERT_EQ(s.error(), nullptr);
  EXPECT_EQ(s.result().tool_calls.size(), 1u);
}

TEST(DsmlStream, ValueHoldingMarkupAndNamesHoldingQuotes) {
  // Parameter names with '>' or '"' fall back to the reference's pattern in tolerant mode.
  const std::string text = "\n\n<" + kD + "tool_calls>\n<" + kD + "invoke name=\"f\">\n<" + kD +
                           "parameter name=\"a>b\" string=\"true\">1</" + kD + "parameter>\n<" + kD +
                           "parameter name=\"c\" d\" string=\"false\">2</" + kD + "parameter>\n</" + kD +
                           "invoke>\n</" + kD + "tool_calls>" + kEos;
  for (bool strict : {true, false}) {
    auto run = run_stream(text, {.strict = strict});
    ASSERT_FALSE(run.outcome.contains("error")) << run.outcome.dump();
    EXPECT_EQ(run.outcome["tool_calls"][0]["function"]["arguments"], "{\"a>b\": \"1\", \"c\\\" d\": 2}");
  }
}

TEST(DsmlStream, InvalidUtf8AndEmptyInputDoNotCrash) {
  for (bool strict : {true, false}) {
    for (std::string text : {std::string(""), std::string("\xff\xfe"), std::string("\xe6"), std::string("<\xef\xbd")}) {
      auto run = run_stream(text, {.strict = strict});
      (void)run;
    }
  }
  auto empty = run_stream("", {});
  EXPECT_EQ(empty.outcome["dsml_variants"], nlohmann::ordered_json({"missing_eos"}));
}

}  // namespace
}  // namespace v4rt::parsers
