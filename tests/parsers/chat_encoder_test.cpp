// ChatEncoder against the reference: all golden render.jsonl cases, the
// constant texts by sha256 (spec §6.3), the spec's worked examples, errors on
// bad input, and the byte-stable history property (issue #3 part 2).
#include "parsers/chat_encoder.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "base/sha256.h"
#include "parsers/chat_templates.h"
#include "parsers/special_tokens.h"
#include "test_util.h"

namespace v4rt::parsers {
namespace {

using json = nlohmann::ordered_json;
namespace tok = tokens;

TEST(Sha256, KnownVector) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

// Spec §6.3 pins the texts by sha256; kEffortMax (the newer revision's "max",
// §6.6) is pinned by its bytes in golden effort_max.
TEST(ChatTemplates, ConstantTextsAreByteExact) {
  auto chars = [](std::string_view s) {  // code points, as the spec counts
    size_t n = 0;
    for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    return n;
  };
  EXPECT_EQ(chars(templates::kToolsPreamble), 854u);
  EXPECT_EQ(chars(templates::kEffortHigh), 476u);
  EXPECT_EQ(chars(templates::kEffortMax), 526u);
  EXPECT_EQ(sha256_hex(templates::kToolsPreamble), "c7c9042638154a237b5d1bd48be772374a35a4d24c5cacfd1ffbd92703da329c");
  EXPECT_EQ(templates::kToolsClosing.size(), 99u);
  EXPECT_EQ(sha256_hex(templates::kToolsClosing), "690702850fe256512cb1ee67c4e436ecb3e735c71ebee77ca45ff357a75fb5a7");
  EXPECT_EQ(sha256_hex(templates::kEffortHigh), "f7a24f3b3050d4a83781e9b755b316aae2ec1d9dc87562541d90bcb04d7350f7");
  EXPECT_EQ(sha256_hex(templates::kEffortMax), "53fb31b8392ec5b4a926481943efc67636748f137c1a49d493a7af4d4fa55d2c");
  EXPECT_EQ(templates::kResponseFormatHeader.size(), 80u);
  EXPECT_EQ(sha256_hex(templates::kResponseFormatHeader),
            "5200f58413f49f3957c43beddbc97bead023232cb5934fad0c1997c30c139112");
}

std::vector<json> load_render_cases() {
  std::vector<json> cases;
  std::ifstream in(testing::golden_dir() / "chat" / "render.jsonl", std::ios::binary);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) cases.push_back(json::parse(line));
  }
  return cases;
}

TEST(ChatEncoderGolden, AllRenderCasesMatchTheReference) {
  if (testing::golden_dir().empty()) GTEST_SKIP() << "golden data absent (../shared/golden): nothing to compare";
  std::vector<json> cases = load_render_cases();
  ASSERT_EQ(cases.size(), 60u) << "render.jsonl should hold 60 cases";
  ChatEncoder encoder;
  int passed = 0;
  for (const json& c : cases) {
    const std::string name = c["name"].get<std::string>();
    const json& expected = c["expected"];
    auto prompt = encoder.render_request(c);
    if (expected.is_string()) {
      if (!prompt.ok()) {
        ADD_FAILURE() << "case " << name << ": expected a prompt, got error: " << prompt.status().message();
        continue;
      }
      EXPECT_EQ(*prompt, expected.get<std::string>()) << "case " << name << ": prompt differs from the reference";
      if (*prompt == expected.get<std::string>()) ++passed;
    } else {
      const std::string category = expected["error"].get<std::string>();
      if (prompt.ok()) {
        ADD_FAILURE() << "case " << name << ": expected error " << category << ", got a prompt";
        continue;
      }
      EXPECT_EQ(chat_error_category(prompt.status()), category)
          << "case " << name << ": wrong error category; message: " << prompt.status().message();
      if (chat_error_category(prompt.status()) == category) ++passed;
    }
  }
  EXPECT_EQ(passed, 60);
}

ChatOptions options(ThinkingMode mode, bool drop = true) {
  ChatOptions o;
  o.thinking_mode = mode;
  o.drop_thinking = drop;
  return o;
}

std::string bos() { return std::string(tok::kBos); }
std::string eos() { return std::string(tok::kEos); }
std::string user() { return std::string(tok::kUser); }
std::string asst() { return std::string(tok::kAssistant); }

// Spec §6.8 example A.
TEST(ChatEncoder, SpecExampleNonThink) {
  json messages = json::parse(R"([{"role":"system","content":"Be brief."},{"role":"user","content":"Name a prime."}])");
  auto p = ChatEncoder().render(messages, options(ThinkingMode::kChat));
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(*p, bos() + "Be brief." + user() + "Name a prime." + asst() + "</think>");
}

// Spec §6.8 example B (this revision: "high" carries the 476-char paragraph).
TEST(ChatEncoder, SpecExampleThinkTwoTurnsDropsOldReasoning) {
  json messages = json::parse(R"([{"role":"user","content":"Hi"},
      {"role":"assistant","reasoning_content":"greet","content":"Hello!"},
      {"role":"user","content":"2*3?"}])");
  ChatOptions o = options(ThinkingMode::kThinking);
  o.reasoning_effort = ReasoningEffort::kHigh;
  auto p = ChatEncoder().render(messages, o);
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(*p, bos() + std::string(templates::kEffortHigh) + user() + "Hi" + asst() + "</think>Hello!" + eos() +
                    user() + "2*3?" + asst() + "<think>");
}

TEST(ChatEncoder, OptionsFromJson) {
  auto o = ChatOptions::from_json(json::parse(R"({"thinking_mode":"thinking","reasoning_effort":"max",
      "drop_thinking":false,"add_default_bos_token":false,"context":null})"));
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->thinking_mode, ThinkingMode::kThinking);
  EXPECT_EQ(o->reasoning_effort, ReasoningEffort::kMax);
  EXPECT_FALSE(o->drop_thinking);
  EXPECT_FALSE(o->add_default_bos_token);
  auto empty_effort = ChatOptions::from_json(json::parse(R"({"thinking_mode":"chat","reasoning_effort":""})"));
  ASSERT_TRUE(empty_effort.ok());  // the reference: `effort or "low"`
  EXPECT_EQ(empty_effort->reasoning_effort, ReasoningEffort::kLow);
  for (const char* bad : {R"({})", R"({"thinking_mode":"none"})", R"({"thinking_mode":"chat","reasoning_effort":"medium"})",
                          R"({"thinking_mode":"chat","drop_thinking":"yes"})", R"([])"}) {
    EXPECT_FALSE(ChatOptions::from_json(json::parse(bad)).ok()) << bad;
  }
}

TEST(ChatEncoder, BadInputIsAnErrorWithACategoryNeverACrash) {
  ChatEncoder encoder;
  const std::pair<const char*, const char*> cases[] = {
      {R"({"role":"user"})", "invalid_request"},  // messages not a list
      {R"([1])", "invalid_message"},
      {R"([{"role":"function","content":"x"}])", "unknown_role"},
      {R"([{"content":"x"}])", "unknown_role"},
      {R"([{"role":"developer","content":null}])", "invalid_message"},
      {R"([{"role":"user","content":null}])", "invalid_message"},
      {R"([{"role":"user","content":{"a":1}}])", "invalid_message"},
      {R"([{"role":"user","content":"x","task":"summarize"}])", "invalid_task"},
      {R"([{"role":"assistant","content":"","tool_calls":[{"function":{"name":"f"}}]}])", "invalid_message"},
      {R"([{"role":"assistant","content":"","tool_calls":[{"function":{"name":"f","arguments":"3"}}]}])",
       "arguments_not_object"},
      {R"([{"role":"assistant","content":"","tool_calls":"x"}])", "invalid_message"},
      {R"([{"role":"system","content":"","tools":[{"name":"f"}]}])", "invalid_message"},
      {R"([{"role":"user","content":[{"type":"image_url","image_url":{"url":"a.png"}}]}])", "unsupported_content"},
      {R"([{"role":"tool","content":null,"tool_call_id":"a"}])", "invalid_message"},
      {R"([{"role":"latest_reminder"}])", "invalid_message"},
      {R"([{"role":"assistant","content":"x","raw":7}])", "invalid_message"},
  };
  for (const auto& [messages, category] : cases) {
    auto p = encoder.render(json::parse(messages), options(ThinkingMode::kChat));
    ASSERT_FALSE(p.ok()) << messages;
    EXPECT_EQ(chat_error_category(p.status()), category) << messages << " -> " << p.status().message();
    EXPECT_TRUE(p.status().is_invalid_argument() || p.status().is_unsupported()) << p.status().to_string();
  }
  std::string deep(300, '[');
  deep += std::string(300, ']');
  json nested = json::parse(R"([{"role":"system","content":"","response_format":{}}])");
  nested[0]["response_format"]["x"] = json::parse(deep);
  auto p = encoder.render(nested, options(ThinkingMode::kChat));
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(chat_error_category(p.status()), "invalid_request");
}

// --- Byte-stable history (issue #3 part 2) ---------------------------------

json tools_system() {
  return json::parse(R"({"role":"system","content":"","tools":[{"type":"function","function":{"name":"add",
      "description":"Add numbers","parameters":{"type":"object","properties":{"xs":{"type":"array"}}}}}]})");
}

// Thinking mode with tools: the model wrote "[1,2]" (no space) where the
// re-serialised arguments would read "[1, 2]". With "raw" the next prompt
// is the previous prompt plus exactly the generated bytes, every turn.
TEST(ChatEncoderByteStable, ThinkingWithToolsEachPromptExtendsThePrevious) {
  ChatEncoder encoder;
  const ChatOptions o = options(ThinkingMode::kThinking);
  json messages = json::array({tools_system(), json::parse(R"({"role":"user","content":"Sum 1 and 2"})")});
  auto p1 = encoder.render(messages, o);
  ASSERT_TRUE(p1.ok()) << p1.status().message();
  ASSERT_TRUE(p1->ends_with(asst() + "<think>"));

  const std::string raw1 = "use add</think>\n\n" + std::string(tok::kToolCallsOpen) + "\n" +
                           std::string(tok::kInvokeOpenPrefix) + " name=\"add\">\n" +
                           std::string(tok::kParameterOpenPrefix) + " name=\"xs\" string=\"false\">[1,2]" +
                           std::string(tok::kParameterClose) + "\n" + std::string(tok::kInvokeClose) + "\n" +
                           std::string(tok::kToolCallsClose) + eos();
  json turn1 = json::parse(R"({"role":"assistant","content":"","reasoning_content":"use add",
      "tool_calls":[{"id":"c1","type":"function","function":{"name":"add","arguments":"{\"xs\": [1,2]}"}}]})");
  json without_raw = messages;
  without_raw.push_back(turn1);
  without_raw.push_back(json::parse(R"({"role":"tool","tool_call_id":"c1","content":"3"})"));
  auto reserialised = encoder.render(without_raw, o);
  ASSERT_TRUE(reserialised.ok());
  EXPECT_FALSE(reserialised->starts_with(*p1 + raw1)) << "re-serialising should differ here ([1, 2] vs [1,2])";

  turn1["raw"] = raw1;
  messages.push_back(turn1);
  messages.push_back(json::parse(R"({"role":"tool","tool_call_id":"c1","content":"3"})"));
  auto p2 = encoder.render(messages, o);
  ASSERT_TRUE(p2.ok()) << p2.status().message();
  EXPECT_TRUE(p2->starts_with(*p1 + raw1)) << "turn 2 prompt must extend turn 1 prompt + generated bytes";
  EXPECT_EQ(p2->substr(p1->size() + raw1.size()), user() + "<tool_result>3</tool_result>" + asst() + "<think>");

  const std::string raw2 = "sum is 3</think>The sum is  3." + eos();
  messages.push_back(json{{"role", "assistant"}, {"content", "The sum is  3."}, {"reasoning_content", "sum is 3"},
                          {"raw", raw2}});
  messages.push_back(json{{"role", "user"}, {"content", "thanks"}});
  auto p3 = encoder.render(messages, o);
  ASSERT_TRUE(p3.ok()) << p3.status().message();
  EXPECT_TRUE(p3->starts_with(*p2 + raw2)) << "turn 3 prompt must extend turn 2 prompt + generated bytes";
}

TEST(ChatEncoderByteStable, ChatModeExtendsAndAppendsEosWhenGenerationStoppedEarly) {
  ChatEncoder encoder;
  const ChatOptions o = options(ThinkingMode::kChat);
  json messages = json::parse(R"([{"role":"user","content":"hi"}])");
  auto p1 = encoder.render(messages, o);
  ASSERT_TRUE(p1.ok());
  const std::string raw1 = "Hello  there";  // cut by a token limit: no EOS
  messages.push_back(json{{"role", "assistant"}, {"content", "Hello  there"}, {"raw", raw1}});
  messages.push_back(json{{"role", "user"}, {"content", "go on"}});
  auto p2 = encoder.render(messages, o);
  ASSERT_TRUE(p2.ok());
  EXPECT_EQ(*p2, *p1 + raw1 + eos() + user() + "go on" + asst() + "</think>");
}

// When the structured fields say exactly what the raw bytes say, "raw" gives
// the reference rendering, including for a turn whose reasoning is dropped.
TEST(ChatEncoderByteStable, RawAgreesWithTheReferenceWhenBytesAgree) {
  ChatEncoder encoder;
  for (bool drop : {true, false}) {
    for (ThinkingMode mode : {ThinkingMode::kThinking, ThinkingMode::kChat}) {
      const ChatOptions o = options(mode, drop);
      json structured = json::parse(R"([{"role":"user","content":"Hi"},
          {"role":"assistant","reasoning_content":"greet","content":"Hello!"},
          {"role":"user","content":"again"},
          {"role":"assistant","reasoning_content":"again?","content":"Hello again!"}])");
      json with_raw = structured;
      with_raw[1]["raw"] = "greet</think>Hello!" + eos();
      with_raw[3]["raw"] = "again?</think>Hello again!" + eos();
      auto a = encoder.render(structured, o);
      auto b = encoder.render(with_raw, o);
      ASSERT_TRUE(a.ok() && b.ok());
      EXPECT_EQ(*a, *b) << "drop=" << drop << " thinking=" << (mode == ThinkingMode::kThinking);
    }
  }
}

// The one documented non-extension: thinking mode without tools drops an old
// turn's reasoning once a new user message arrives (spec §6.4). The turn's
// content bytes are still the model's own; only "R</think>" goes.
TEST(ChatEncoderByteStable, DroppedReasoningKeepsTheGeneratedContentBytes) {
  ChatEncoder encoder;
  const ChatOptions o = options(ThinkingMode::kThinking);
  json messages = json::parse(R"([{"role":"user","content":"Hi"}])");
  auto p1 = encoder.render(messages, o);
  ASSERT_TRUE(p1.ok());
  const std::string raw = "think hard</think>Hi  there" + eos();
  messages.push_back(json{{"role", "assistant"}, {"content", "Hi there"}, {"reasoning_content", "think hard"},
                          {"raw", raw}});
  messages.push_back(json{{"role", "user"}, {"content", "bye"}});
  auto p2 = encoder.render(messages, o);
  ASSERT_TRUE(p2.ok());
  EXPECT_EQ(*p2, bos() + user() + "Hi" + asst() + "</think>Hi  there" + eos() + user() + "bye" + asst() + "<think>");
  // Shared prefix ends at the first turn's <｜Assistant｜>.
  const std::string common = bos() + user() + "Hi" + asst();
  EXPECT_TRUE(p1->starts_with(common) && p2->starts_with(common));
  EXPECT_FALSE(p2->starts_with(*p1));
}

TEST(ChatEncoderByteStable, ContextRendersOnlyTheNewMessagesAndConcatenates) {
  ChatEncoder encoder;
  const ChatOptions o = options(ThinkingMode::kThinking);
  json all = json::array({tools_system(), json::parse(R"({"role":"user","content":"Sum 1 and 2"})")});
  auto p1 = encoder.render(all, o);
  ASSERT_TRUE(p1.ok());
  json turn = json{{"role", "assistant"}, {"content", "3"}, {"reasoning_content", "easy"},
                   {"raw", "easy</think>3" + eos()}};
  json next = json{{"role", "user"}, {"content", "and 3+4?"}};
  json context = all;
  all.push_back(turn);
  all.push_back(next);
  auto full = encoder.render(all, o);
  context.push_back(turn);
  auto tail = encoder.render(json::array({next}), o, &context);
  ASSERT_TRUE(full.ok() && tail.ok());
  EXPECT_EQ(*full, *p1 + "easy</think>3" + eos() + *tail);
}

}  // namespace
}  // namespace v4rt::parsers
