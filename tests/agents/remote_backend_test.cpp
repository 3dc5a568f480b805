// The remote backends against a real HTTP server on 127.0.0.1 replaying
// recorded SSE responses: streaming, tool-call deltas, usage, retries, errors,
// timeouts, cancellation; plus the SSE reader and the URL rules.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "agents/backends/anthropic_backend.h"
#include "agents/backends/http_stream.h"
#include "agents/backends/openai_chat_backend.h"
#include "agents/backends/openai_completions_backend.h"
#include "agents/backends/remote_backend_factory.h"
#include "agents/backends/sse_reader.h"
#include "parsers/special_tokens.h"
#include "remote_sse_server.h"

namespace v4rt::agents::backends {
namespace {

using testing::ScriptedReply;
using testing::ScriptedServer;
using Clock = std::chrono::steady_clock;

const std::string kKey = "sk-test-SECRET-0123456789";

RemoteOptions options_for(const ScriptedServer& s) {
  RemoteOptions o;
  o.base_url = s.url();
  o.model = "deepseek-v4";
  o.api_key = kKey;
  o.api_key_env = "TEST_API_KEY";
  o.http.backoff_initial_s = 0.05;
  o.http.idle_timeout_s = 5;
  return o;
}

parsers::RenderedPrompt prompt_of(std::string text) { return {std::move(text), {}}; }

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

TEST(SseReader, SplitsEventsAcrossFeedsAndLineEnds) {
  SseReader r;
  std::vector<SseEvent> out;
  std::string body = ": keep-alive\r\nevent: delta\r\ndata: {\"a\":\r\ndata: 1}\r\n\r\ndata: [DONE]\n\ndata: tail";
  for (char c : body) r.feed(std::string_view(&c, 1), out);  // byte by byte
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].event, "delta");
  EXPECT_EQ(out[0].data, "{\"a\":\n1}");
  EXPECT_EQ(out[1].event, "");
  EXPECT_EQ(out[1].data, "[DONE]");
  EXPECT_TRUE(r.pending());  // "data: tail" never ended
}

TEST(RemoteUrl, EndpointRules) {
  EXPECT_EQ(endpoint_url("http://h:8000", "completions"), "http://h:8000/v1/completions");
  EXPECT_EQ(endpoint_url("http://h:8000/v1/", "chat/completions"), "http://h:8000/v1/chat/completions");
  EXPECT_EQ(endpoint_url("https://x/v1/chat/completions", "chat/completions"), "https://x/v1/chat/completions");
  EXPECT_EQ(parse_retry_after(" 3\r\n"), 3);
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), -1);
  EXPECT_EQ(default_api_key_env("openai-chat:https://api.deepseek.com"), "DEEPSEEK_API_KEY");
  EXPECT_EQ(default_api_key_env("openai-chat:http://127.0.0.1:8000"), "OPENAI_API_KEY");
  EXPECT_FALSE(make_remote_backend("openai-chat:ftp://x", {}).ok());
  EXPECT_FALSE(make_remote_backend("nonsense:http://x", {}).ok());
}

TEST(OpenAiCompletions, StreamsTextAppendsEosAndReportsCachedTokens) {
  ScriptedServer server({testing::completions_reply({"Hello", " world"}, "stop", 120, 3, 96)});
  OpenAiCompletionsBackend b(options_for(server));
  std::string streamed;
  std::string prompt = std::string(parsers::tokens::kBos) + "<｜User｜>hi<｜Assistant｜>";
  auto c = b.complete(prompt_of(prompt), {}, [&](std::string_view p) {
    streamed += p;
    return true;
  });
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->text, "Hello world" + std::string(parsers::tokens::kEos));
  EXPECT_EQ(streamed, c->text);
  EXPECT_EQ(c->prompt_tokens, 120);
  EXPECT_EQ(c->reused_tokens, 96);
  EXPECT_EQ(c->generated_tokens, 3);
  EXPECT_GE(c->ttft_s, 0);
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].path, "/v1/completions");
  EXPECT_EQ(reqs[0].authorization, "Bearer " + kKey);
  auto j = reqs[0].json();
  EXPECT_EQ(j["prompt"], "<｜User｜>hi<｜Assistant｜>");  // BOS left to the server
  EXPECT_EQ(j["model"], "deepseek-v4");
  EXPECT_EQ(j["stream"], true);
}

TEST(OpenAiCompletions, LengthFinishIsMaxTokensWithoutEos) {
  ScriptedServer server({testing::completions_reply({"abc"}, "length", 10, 1, 0)});
  OpenAiCompletionsBackend b(options_for(server));
  auto c = b.complete(prompt_of("x"), {}, [](std::string_view) { return true; });
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_TRUE(c->hit_max_tokens);
  EXPECT_EQ(c->text, "abc");
}

TEST(OpenAiChat, AccumulatesToolCallArgumentFragmentsAndReasoning) {
  ScriptedServer server({testing::chat_reply({"Let me ", "look."}, {}, {{"call_a", "read", {"{\"pa", "th\": \"calc", ".sh\"}"}},
                                                                          {"call_b", "grep", {"{\"pattern\":", " \"x\"}"}}},
                                             50, 7, 0)});
  OpenAiChatBackend b(options_for(server));
  nlohmann::ordered_json messages = nlohmann::ordered_json::parse(R"([
    {"role":"system","content":"sys","tools":[{"type":"function","function":{"name":"read","parameters":{"type":"object"}}}]},
    {"role":"user","content":"go"},
    {"role":"assistant","content":"","raw":"RAW","tool_calls":[{"id":"c0","type":"function","function":{"name":"read","arguments":"{}"}}]},
    {"role":"tool","tool_call_id":"c0","content":"result"}])");
  std::string reasoning;
  auto c = b.complete_messages(messages, {}, {}, [&](DeltaKind k, std::string_view p) {
    if (k == DeltaKind::kReasoning) reasoning += p;
    return true;
  });
  ASSERT_TRUE(c.ok()) << c.status().message();
  ASSERT_TRUE(c->structured);
  EXPECT_EQ(reasoning, "Let me look.");
  EXPECT_EQ(c->structured->reasoning, "Let me look.");
  ASSERT_EQ(c->structured->tool_calls.size(), 2u);
  EXPECT_EQ(c->structured->tool_calls[0].id, "call_a");
  EXPECT_EQ(c->structured->tool_calls[0].name, "read");
  EXPECT_EQ(c->structured->tool_calls[0].arguments, "{\"path\": \"calc.sh\"}");
  EXPECT_EQ(c->structured->tool_calls[1].arguments, "{\"pattern\": \"x\"}");
  EXPECT_EQ(c->prompt_tokens, 50);
  auto j = server.requests().at(0).json();
  EXPECT_EQ(server.requests()[0].path, "/v1/chat/completions");
  EXPECT_EQ(j["tools"][0]["function"]["name"], "read");
  EXPECT_FALSE(j["messages"][0].contains("tools"));
  EXPECT_FALSE(j["messages"][2].contains("raw"));
  EXPECT_EQ(j["messages"][2]["tool_calls"][0]["id"], "c0");
  EXPECT_EQ(j["messages"][3]["tool_call_id"], "c0");
}

TEST(Anthropic, StreamsThinkingTextAndToolUseFragments) {
  ScriptedServer server({testing::anthropic_reply({"Hmm, ", "ok."}, {"Reading."}, {{"toolu_9", "read", {"{\"path\"", ": \"a.txt\"}"}}},
                                                  30, 12, 70)});
  AnthropicBackend b(options_for(server));
  nlohmann::ordered_json messages = nlohmann::ordered_json::parse(R"([
    {"role":"system","content":"sys","tools":[{"type":"function","function":{"name":"read","description":"d","parameters":{"type":"object"}}}]},
    {"role":"user","content":"go"},
    {"role":"assistant","content":"","tool_calls":[{"id":"t0","type":"function","function":{"name":"read","arguments":"{\"path\":\"b\"}"}}]},
    {"role":"tool","tool_call_id":"t0","content":"r0"}])");
  std::string text, reasoning;
  auto c = b.complete_messages(messages, {}, {}, [&](DeltaKind k, std::string_view p) {
    (k == DeltaKind::kText ? text : reasoning) += p;
    return true;
  });
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(reasoning, "Hmm, ok.");
  EXPECT_EQ(text, "Reading.");
  ASSERT_EQ(c->structured->tool_calls.size(), 1u);
  EXPECT_EQ(c->structured->tool_calls[0].id, "toolu_9");
  EXPECT_EQ(c->structured->tool_calls[0].arguments, "{\"path\": \"a.txt\"}");
  EXPECT_EQ(c->prompt_tokens, 100);
  EXPECT_EQ(c->reused_tokens, 70);
  EXPECT_EQ(c->generated_tokens, 12);
  auto q = server.requests().at(0);
  EXPECT_EQ(q.path, "/v1/messages");
  EXPECT_EQ(q.x_api_key, kKey);
  EXPECT_TRUE(q.authorization.empty());
  auto j = q.json();
  EXPECT_EQ(j["system"], "sys");
  EXPECT_EQ(j["tools"][0]["name"], "read");
  EXPECT_EQ(j["messages"][1]["content"][0]["type"], "tool_use");
  EXPECT_EQ(j["messages"][1]["content"][0]["input"]["path"], "b");
  EXPECT_EQ(j["messages"][2]["role"], "user");
  EXPECT_EQ(j["messages"][2]["content"][0]["tool_use_id"], "t0");
}

TEST(Anthropic, StreamWithoutMessageStopIsTruncated) {
  ScriptedReply r = testing::anthropic_reply({}, {"abc"}, {}, 1, 1, 0);
  r.chunks.pop_back();  // no message_stop
  ScriptedServer server({r});
  AnthropicBackend b(options_for(server));
  auto c = b.complete_messages(nlohmann::ordered_json::array(), {}, {}, [](DeltaKind, std::string_view) { return true; });
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("without message_stop"), std::string::npos) << c.status().message();
}

TEST(RemoteReliability, Retries429HonouringRetryAfterThen500ThenSucceeds) {
  ScriptedServer server({testing::error_reply(429, "slow down", {{"Retry-After", "1"}}),
                         testing::error_reply(503, "overloaded"), testing::completions_reply({"ok"}, "stop", 5, 1, 0)});
  OpenAiCompletionsBackend b(options_for(server));
  auto t0 = Clock::now();
  auto c = b.complete(prompt_of("x"), {}, [](std::string_view) { return true; });
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_GE(since(t0), 0.95);  // waited out Retry-After: 1
  EXPECT_EQ(c->retries, 2);
  EXPECT_EQ(server.requests().size(), 3u);
}

TEST(RemoteReliability, GivesUpAfterMaxRetriesWithAClearError) {
  ScriptedServer server({testing::error_reply(500, "boom"), testing::error_reply(500, "boom")});
  RemoteOptions o = options_for(server);
  o.http.max_retries = 1;
  OpenAiCompletionsBackend b(o);
  auto c = b.complete(prompt_of("x"), {}, [](std::string_view) { return true; });
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("HTTP 500"), std::string::npos) << c.status().message();
  EXPECT_NE(c.status().message().find("after 1 retries"), std::string::npos) << c.status().message();
}

TEST(RemoteReliability, DroppedStreamIsAnErrorAndNeverResent) {
  ScriptedReply r = testing::completions_reply({"partial ", "answer"}, "stop", 5, 2, 0);
  r.chunks.resize(1);
  r.drop_after_chunks = true;
  ScriptedServer server({r, testing::completions_reply({"should not be asked"}, "stop", 1, 1, 0)});
  OpenAiCompletionsBackend b(options_for(server));
  std::string streamed;
  auto c = b.complete(prompt_of("x"), {}, [&](std::string_view p) {
    streamed += p;
    return true;
  });
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(c.status().is_io_error()) << c.status().message();
  EXPECT_NE(c.status().message().find("mid-stream"), std::string::npos) << c.status().message();
  EXPECT_EQ(streamed, "partial ");
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST(RemoteReliability, StreamWithoutDoneOrFinishIsTruncated) {
  ScriptedReply r = testing::completions_reply({"abc"}, "stop", 5, 2, 0);
  r.chunks.resize(1);  // the body ends cleanly after one text event
  ScriptedServer server({r});
  OpenAiCompletionsBackend b(options_for(server));
  auto c = b.complete(prompt_of("x"), {}, [](std::string_view) { return true; });
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("without a finish_reason"), std::string::npos) << c.status().message();
}

TEST(RemoteReliability, MalformedEventIsCorruption) {
  ScriptedReply r;
  r.chunks = {"data: {not json\n\n"};
  ScriptedServer server({r});
  OpenAiChatBackend b(options_for(server));
  auto c = b.complete_messages(nlohmann::ordered_json::array(), {}, {}, [](DeltaKind, std::string_view) { return true; });
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(c.status().is_corruption()) << c.status().message();
}

TEST(RemoteReliability, SilentServerTimesOut) {
  ScriptedReply r = testing::completions_reply({"late"}, "stop", 1, 1, 0);
  r.hang_s = 10;
  ScriptedServer server({r});
  RemoteOptions o = options_for(server);
  o.http.idle_timeout_s = 1;
  OpenAiCompletionsBackend b(o);
  auto t0 = Clock::now();
  auto c = b.complete(prompt_of("x"), {}, [](std::string_view) { return true; });
  ASSERT_FALSE(c.ok());
  EXPECT_LT(since(t0), 1.6);
  EXPECT_NE(c.status().message().find("no answer within"), std::string::npos) << c.status().message();
  EXPECT_EQ(server.requests().size(), 1u);  // not re-sent
}

TEST(RemoteReliability, StopTokenAbortsTheTransferAtOnce) {
  ScriptedReply r = testing::completions_reply({"late"}, "stop", 1, 1, 0);
  r.hang_s = 10;
  ScriptedServer server({r});
  OpenAiCompletionsBackend b(options_for(server));
  std::stop_source stop;
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    stop.request_stop();
  });
  CompletionOptions co;
  co.stop = stop.get_token();
  auto t0 = Clock::now();
  auto c = b.complete(prompt_of("x"), co, [](std::string_view) { return true; });
  canceller.join();
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_TRUE(c->cancelled);
  EXPECT_LT(since(t0), 0.8);  // 0.3 s until the request, then at once
}

TEST(RemoteErrors, UnauthorizedNamesTheVariableNeverTheKey) {
  ScriptedServer server({testing::error_reply(401, "Incorrect API key provided: " + kKey)});
  OpenAiChatBackend b(options_for(server));
  auto c = b.complete_messages(nlohmann::ordered_json::array(), {}, {}, [](DeltaKind, std::string_view) { return true; });
  ASSERT_FALSE(c.ok());
  const std::string& m = c.status().message();
  EXPECT_NE(m.find("HTTP 401"), std::string::npos) << m;
  EXPECT_NE(m.find("$TEST_API_KEY"), std::string::npos) << m;
  EXPECT_NE(m.find("--api-key-env"), std::string::npos) << m;
  EXPECT_EQ(m.find(kKey), std::string::npos) << m;
  EXPECT_EQ(server.requests().size(), 1u);  // 401 is not retried
}

TEST(RemoteErrors, UnknownModelNamesRemoteModelFlag) {
  ScriptedServer server({testing::error_reply(404, "The model `nope` does not exist.")});
  OpenAiCompletionsBackend b(options_for(server));
  auto c = b.complete(prompt_of("x"), {}, [](std::string_view) { return true; });
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(c.status().is_not_found());
  EXPECT_NE(c.status().message().find("--remote-model"), std::string::npos) << c.status().message();
}

TEST(RemoteErrors, ConnectionRefusedIsRetriedThenReported) {
  int port;
  {
    ScriptedServer gone({});
    port = gone.port();
  }
  RemoteOptions o;
  o.base_url = "http://127.0.0.1:" + std::to_string(port);
  o.http.max_retries = 2;
  o.http.backoff_initial_s = 0.01;
  OpenAiCompletionsBackend b(o);
  auto c = b.complete(prompt_of("x"), {}, [](std::string_view) { return true; });
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(c.status().is_io_error()) << c.status().message();
  EXPECT_NE(c.status().message().find("after 2 retries"), std::string::npos) << c.status().message();
}

}  // namespace
}  // namespace v4rt::agents::backends
