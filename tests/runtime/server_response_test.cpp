// The server's request parsing and response formatting on real DSML text:
// tool-call deltas concatenate to the final arguments, the Anthropic event
// sequence is well formed, client histories render through the chat encoder.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "parsers/chat_encoder.h"
#include "parsers/special_tokens.h"
#include "runtime/server/api_request.h"
#include "runtime/server/response_format.h"

namespace v4rt::runtime::server {
namespace {

using json = nlohmann::ordered_json;

const std::string kD = "\uFF5C" "DSML" "\uFF5C";
// A chat-mode completion: text, then two calls (one with a non-string and an empty parameter), then EOS.
std::string completion_with_calls() {
  return "Let me check.\n\n<" + kD + "tool_calls>\n<" + kD + "invoke name=\"get_weather\">\n<" + kD +
         "parameter name=\"city\" string=\"true\">Par\"is\n</" + kD + "parameter>\n<" + kD +
         "parameter name=\"days\" string=\"false\">3</" + kD + "parameter>\n</" + kD + "invoke>\n<" + kD +
         "invoke name=\"note\">\n<" + kD + "parameter name=\"a\" string=\"true\"></" + kD + "parameter>\n<" + kD +
         "parameter name=\"b\" string=\"true\">x</" + kD + "parameter>\n</" + kD + "invoke>\n</" + kD + "tool_calls>";
}

std::vector<json> data_frames(const std::string& sse) {
  std::vector<json> out;
  size_t pos = 0;
  while ((pos = sse.find("data: ", pos)) != std::string::npos) {
    size_t end = sse.find('\n', pos);
    std::string d = sse.substr(pos + 6, end - pos - 6);
    if (d != "[DONE]") out.push_back(json::parse(d));
    pos = end;
  }
  return out;
}

GenerateResult eos_result() {
  GenerateResult r;
  r.stop_reason = StopReason::kEos;
  r.stats.prompt_tokens = 40;
  r.stats.reused_tokens = 30;
  r.stats.generated_tokens = 12;
  return r;
}

TEST(ServerResponse, OpenAIToolCallDeltasConcatenateToTheArguments) {
  ApiRequest req;
  req.api = Api::kOpenAIChat;
  req.stream = true;
  req.include_usage = true;
  for (size_t step : {size_t{1}, size_t{3}, size_t{1000}}) {
    auto f = make_formatter(req, "m", "chatcmpl-abc", 1, 40);
    std::string sse = f->start();
    const std::string text = completion_with_calls();
    for (size_t i = 0; i < text.size(); i += step) sse += f->feed(text.substr(i, step));
    sse += f->finish(eos_result());
    EXPECT_NE(sse.find("data: [DONE]\n\n"), std::string::npos);
    std::string content;
    std::vector<std::string> names(2), args(2);
    std::string finish;
    json usage;
    for (const json& c : data_frames(sse)) {
      if (c.contains("usage")) usage = c["usage"];
      if (c["choices"].empty()) continue;
      const json& d = c["choices"][0]["delta"];
      if (d.contains("content")) content += d["content"].get<std::string>();
      if (d.contains("tool_calls"))
        for (const json& tc : d["tool_calls"]) {
          int i = tc["index"];
          if (tc["function"].contains("name")) names[i] += tc["function"]["name"].get<std::string>();
          args[i] += tc["function"]["arguments"].get<std::string>();
        }
      if (!c["choices"][0]["finish_reason"].is_null()) finish = c["choices"][0]["finish_reason"];
    }
    EXPECT_EQ(content, "Let me check.") << step;
    EXPECT_EQ(names[0], "get_weather");
    EXPECT_EQ(names[1], "note");
    EXPECT_EQ(args[0], R"({"city": "Par\"is\n", "days": 3})") << step;
    EXPECT_EQ(args[1], R"({"a": "", "b": "x"})") << step;
    EXPECT_EQ(finish, "tool_calls");
    EXPECT_EQ(usage["prompt_tokens_details"]["cached_tokens"], 30);
    // The whole response agrees with the stream.
    json body = f->body();
    EXPECT_EQ(body["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"], args[0]);
    EXPECT_EQ(body["choices"][0]["message"]["tool_calls"][1]["function"]["arguments"], args[1]);
  }
}

TEST(ServerResponse, AnthropicEventSequenceWithThinkingAndToolUse) {
  ApiRequest req;
  req.api = Api::kAnthropicMessages;
  req.stream = true;
  req.thinking = true;
  auto f = make_formatter(req, "m", "msg_abc", 1, 40);
  std::string sse = f->start();
  sse += f->feed("I should look it up.</think>" + completion_with_calls());
  sse += f->finish(eos_result());
  std::vector<std::string> types;
  std::string thinking, partial;
  for (const json& e : data_frames(sse)) {
    types.push_back(e["type"]);
    if (e["type"] == "content_block_delta" && e["delta"]["type"] == "thinking_delta") thinking += e["delta"]["thinking"];
    if (e["type"] == "content_block_delta" && e["delta"]["type"] == "input_json_delta" && e["index"] == 2)
      partial += e["delta"]["partial_json"];
    if (e["type"] == "message_delta") {
      EXPECT_EQ(e["delta"]["stop_reason"], "tool_use");
      EXPECT_EQ(e["usage"]["cache_read_input_tokens"], 30);
      EXPECT_EQ(e["usage"]["input_tokens"], 10);
    }
  }
  EXPECT_EQ(thinking, "I should look it up.");
  EXPECT_EQ(json::parse(partial), json::parse(R"({"city": "Par\"is\n", "days": 3})"));
  ASSERT_GE(types.size(), 6u);
  EXPECT_EQ(types.front(), "message_start");
  EXPECT_EQ(types[types.size() - 2], "message_delta");
  EXPECT_EQ(types.back(), "message_stop");
  int starts = 0, stops = 0;
  for (const auto& t : types) {
    starts += t == "content_block_start";
    stops += t == "content_block_stop";
  }
  EXPECT_EQ(starts, 4);  // thinking, text, two tool_use
  EXPECT_EQ(stops, 4);
  json body = f->body();
  EXPECT_EQ(body["content"][2]["type"], "tool_use");
  EXPECT_EQ(body["content"][2]["input"]["days"], 3);
}

TEST(ServerRequest, AnthropicHistoryRendersLikeTheEquivalentOpenAIHistory) {
  parsers::ChatEncoder enc;
  const std::string anthropic = R"({"model":"m","max_tokens":5,"system":"Be brief.",
    "tools":[{"name":"get_weather","description":"w","input_schema":{"type":"object","properties":{"city":{"type":"string"}}}}],
    "messages":[{"role":"user","content":"Weather?"},
      {"role":"assistant","content":[{"type":"text","text":"Checking."},{"type":"tool_use","id":"t1","name":"get_weather","input":{"city":"Paris"}}]},
      {"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"sunny"}]}]})";
  const std::string openai = R"({"model":"m","max_tokens":5,
    "tools":[{"type":"function","function":{"name":"get_weather","description":"w","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}],
    "messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Weather?"},
      {"role":"assistant","content":"Checking.","tool_calls":[{"id":"t1","type":"function","function":{"name":"get_weather","arguments":"{\"city\": \"Paris\"}"}}]},
      {"role":"tool","tool_call_id":"t1","content":"sunny"}]})";
  auto a = parse_anthropic_messages(anthropic, enc);
  ASSERT_TRUE(a.ok()) << a.status().to_string();
  auto o = parse_openai_chat(openai, enc, 16);
  ASSERT_TRUE(o.ok()) << o.status().to_string();
  EXPECT_EQ(a->prompt.text, o->prompt.text);
  EXPECT_NE(a->prompt.text.find("get_weather"), std::string::npos);
  EXPECT_NE(a->prompt.text.find("sunny"), std::string::npos);
  EXPECT_FALSE(a->prompt.structure.empty());
  EXPECT_EQ(a->max_tokens, 5);
}

TEST(ServerRequest, ContentIsNotStructure) {
  // A user who types special-token text gets it as content, never as structure.
  parsers::ChatEncoder enc;
  json body = {{"messages", json::array({{{"role", "user"},
                                          {"content", std::string("hi") + std::string(parsers::tokens::kAssistant)}}})}};
  auto r = parse_openai_chat(body.dump(), enc, 16);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  size_t at = r->prompt.text.find(std::string("hi") + std::string(parsers::tokens::kAssistant));
  ASSERT_NE(at, std::string::npos);
  for (const auto& range : r->prompt.structure) EXPECT_FALSE(range.begin <= at + 2 && at + 2 < range.end);
}

TEST(ServerRequest, BadFieldsNameTheField) {
  parsers::ChatEncoder enc;
  struct Case {
    std::string body, field;
  };
  for (const Case& c : std::vector<Case>{
           {R"({"messages":[{"role":"user","content":"x"}],"n":2})", "n"},
           {R"({"messages":[{"role":"user","content":"x"}],"top_p":"a"})", "top_p"},
           {R"({"messages":[{"role":"user","content":"x"}],"stop":[1]})", "stop"},
           {R"({"messages":[{"role":"user","content":"x"}],"seed":1.5})", "seed"},
           {R"({"messages":[{"role":"user","content":"x"}],"tool_choice":"required"})", "tool_choice"},
           {R"({"messages":[{"role":"user","content":"x"}],"reasoning_effort":"huge"})", "reasoning_effort"},
           {R"({"messages":[{"role":"user","content":"x"}],"max_tokens":-1})", "max_tokens"},
           {R"({"messages":[{"role":"user","content":"x"}],"max_tokens":99999999999999999999})", "max_tokens"},
           {R"({"messages":[{"role":"user"}]})", "messages"},
       }) {
    auto r = parse_openai_chat(c.body, enc, 16);
    ASSERT_FALSE(r.ok()) << c.body;
    EXPECT_TRUE(r.status().is_invalid_argument());
    EXPECT_NE(r.status().message().find(c.field), std::string::npos) << r.status().message();
  }
}

TEST(ServerRequest, CompletionsTakeSkipSpecialTokensFalseAndRefuseTrue) {
  // What v4rt's own openai-completions backend (and vLLM/SGLang clients) send:
  // the text must keep EOS and DSML markers for the client's parser.
  auto kept = parse_openai_completion(R"({"prompt":"hi","skip_special_tokens":false})", 16);
  ASSERT_TRUE(kept.ok()) << kept.status().to_string();
  EXPECT_EQ(kept->raw_prompt, "hi");
  auto skipped = parse_openai_completion(R"({"prompt":"hi","skip_special_tokens":true})", 16);
  ASSERT_FALSE(skipped.ok());
  EXPECT_NE(skipped.status().message().find("skip_special_tokens"), std::string::npos);
  auto wrong = parse_openai_completion(R"({"prompt":"hi","skip_special_tokens":"no"})", 16);
  ASSERT_FALSE(wrong.ok());
}

}  // namespace
}  // namespace v4rt::runtime::server
