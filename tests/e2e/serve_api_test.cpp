// `v4rt serve` end to end: the real server on a tiny random-weight checkpoint,
// spoken to over HTTP on 127.0.0.1 (cpp-httplib client and raw sockets).
#include <httplib.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>

#include "serve_util.h"

namespace v4rt::testing::serve {
namespace {

using json = nlohmann::json;
const char* kKey = "test-key-0123456789";

class ServeApi : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    std::string why;
    ckpt_ = make_tiny_checkpoint(dir_->path(), &why);
    if (ckpt_.empty()) {
      skip_ = "cannot create the tiny checkpoint: " + why;  // reported as a failure in SetUp
      return;
    }
    ::setenv("V4RT_SERVE_TEST_KEY", kKey, 1);
    server_ = new ServeProcess();
    if (!server_->start({"--model", ckpt_.string(), "--store", (dir_->path() / "store").string(), "--max-queue",
                         "1", "--max-body-mb", "1", "--api-key-env", "V4RT_SERVE_TEST_KEY", "--threads", "2"},
                        dir_->path() / "serve.log", &why))
      start_error_ = why;
  }
  static void TearDownTestSuite() {
    if (server_) {
      int rc = server_->terminate();
      EXPECT_EQ(rc, 0) << "SIGTERM should drain and exit 0; log:\n" << server_->log();
      delete server_;
      server_ = nullptr;
    }
    delete dir_;
    dir_ = nullptr;
  }
  void SetUp() override {
    // Making a tiny checkpoint needs nothing absent here: a failure fails, it never skips.
    ASSERT_TRUE(skip_.empty()) << skip_;
    ASSERT_TRUE(start_error_.empty()) << start_error_;
  }

  static std::unique_ptr<httplib::Client> client() {
    auto c = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    c->set_read_timeout(300, 0);
    return c;
  }
  static httplib::Headers auth() { return {{"Authorization", std::string("Bearer ") + kKey}}; }
  static httplib::Result post(const std::string& path, const json& body, httplib::Headers h = auth()) {
    return client()->Post(path.c_str(), h, body.dump(), "application/json");
  }
  static json health() {
    auto r = client()->Get("/health");
    return r ? json::parse(r->body, nullptr, false) : json();
  }
  // Waits until nothing runs or waits (at most `seconds`).
  static bool wait_idle(int seconds) {
    for (int i = 0; i < seconds * 20; ++i) {
      json h = health();
      if (h.is_object() && h["queued"] == 0 && h["running"] == false) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  static TempDir* dir_;
  static fs::path ckpt_;
  static ServeProcess* server_;
  static std::string skip_, start_error_;
};
TempDir* ServeApi::dir_ = nullptr;
fs::path ServeApi::ckpt_;
ServeProcess* ServeApi::server_ = nullptr;
std::string ServeApi::skip_, ServeApi::start_error_;

json chat_body(const std::string& user, int max_tokens) {
  return {{"model", "tiny"},
          {"messages", json::array({{{"role", "system"}, {"content", "You are terse."}},
                                    {{"role", "user"}, {"content", user}}})},
          {"max_tokens", max_tokens},
          {"temperature", 0}};
}

TEST_F(ServeApi, HealthAndModels) {
  json h = health();
  EXPECT_EQ(h["status"], "ok") << h.dump();
  auto r = client()->Get("/v1/models", auth());
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  json j = json::parse(r->body);
  EXPECT_EQ(j["object"], "list");
  ASSERT_EQ(j["data"].size(), 1u);
  EXPECT_EQ(j["data"][0]["id"], "tiny");
  auto m = client()->Get("/metrics", auth());
  ASSERT_TRUE(m);
  EXPECT_EQ(m->status, 200);
  EXPECT_NE(m->body.find("\nv4rt_requests_total "), std::string::npos) << m->body;
  EXPECT_NE(m->body.find("\nv4rt_cache_hit_tokens_total "), std::string::npos) << m->body;
  auto unauth = client()->Get("/metrics");
  ASSERT_TRUE(unauth);
  EXPECT_EQ(unauth->status, 401);
}

TEST_F(ServeApi, ChatCompletionNonStreaming) {
  auto r = post("/v1/chat/completions", chat_body("Say hello.", 8));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  json j = json::parse(r->body);
  EXPECT_EQ(j["object"], "chat.completion");
  EXPECT_EQ(j["model"], "tiny");
  ASSERT_EQ(j["choices"].size(), 1u);
  EXPECT_EQ(j["choices"][0]["message"]["role"], "assistant");
  EXPECT_TRUE(j["choices"][0]["message"]["content"].is_string());
  std::string finish = j["choices"][0]["finish_reason"];
  EXPECT_TRUE(finish == "stop" || finish == "length" || finish == "tool_calls") << finish;
  EXPECT_GT(j["usage"]["prompt_tokens"].get<int>(), 5);
  EXPECT_LE(j["usage"]["completion_tokens"].get<int>(), 8);
  EXPECT_GE(j["usage"]["completion_tokens"].get<int>(), 1);
  EXPECT_EQ(j["usage"]["total_tokens"].get<int>(),
            j["usage"]["prompt_tokens"].get<int>() + j["usage"]["completion_tokens"].get<int>());
  EXPECT_TRUE(j["usage"]["prompt_tokens_details"]["cached_tokens"].is_number());
}

TEST_F(ServeApi, ChatStreamingIsSseAndMatchesNonStreaming) {
  json body = chat_body("Count to three.", 12);
  auto whole = post("/v1/chat/completions", body);
  ASSERT_TRUE(whole);
  ASSERT_EQ(whole->status, 200) << whole->body;
  json w = json::parse(whole->body);

  body["stream"] = true;
  body["stream_options"] = {{"include_usage", true}};
  auto r = post("/v1/chat/completions", body);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/event-stream");
  std::vector<std::string> data = sse_data(r->body);
  ASSERT_GE(data.size(), 3u) << r->body;
  EXPECT_EQ(data.back(), "[DONE]");
  std::string content, finish;
  json usage;
  for (size_t i = 0; i + 1 < data.size(); ++i) {
    json c = json::parse(data[i], nullptr, false);
    ASSERT_FALSE(c.is_discarded()) << data[i];
    EXPECT_EQ(c["object"], "chat.completion.chunk");
    EXPECT_EQ(c["id"], json::parse(data[0])["id"]);
    if (i == 0) {
      EXPECT_EQ(c["choices"][0]["delta"]["role"], "assistant");
    }
    if (c.contains("usage") && !c["usage"].is_null()) usage = c["usage"];
    if (c["choices"].empty()) continue;
    const json& d = c["choices"][0]["delta"];
    if (d.contains("content")) content += d["content"].get<std::string>();
    if (!c["choices"][0]["finish_reason"].is_null()) finish = c["choices"][0]["finish_reason"];
  }
  // Greedy, same prompt: the stream says what the whole response said.
  EXPECT_EQ(content, w["choices"][0]["message"]["content"].get<std::string>());
  EXPECT_EQ(finish, w["choices"][0]["finish_reason"].get<std::string>());
  ASSERT_TRUE(usage.is_object()) << r->body;
  EXPECT_EQ(usage["completion_tokens"], w["usage"]["completion_tokens"]);
  // The second identical request finds the first one's prompt in the cache.
  EXPECT_EQ(usage["prompt_tokens_details"]["cached_tokens"], usage["prompt_tokens"]) << usage.dump();
}

TEST_F(ServeApi, SecondRequestExtendingTheConversationReportsThePromptAsCached) {
  json body = chat_body("Tell me a story about a cat.", 6);
  auto r1 = post("/v1/chat/completions", body);
  ASSERT_TRUE(r1);
  ASSERT_EQ(r1->status, 200) << r1->body;
  json j1 = json::parse(r1->body);
  int64_t prompt1 = j1["usage"]["prompt_tokens"];
  body["messages"].push_back({{"role", "assistant"}, {"content", j1["choices"][0]["message"]["content"]}});
  body["messages"].push_back({{"role", "user"}, {"content", "And then?"}});
  auto r2 = post("/v1/chat/completions", body);
  ASSERT_TRUE(r2);
  ASSERT_EQ(r2->status, 200) << r2->body;
  json j2 = json::parse(r2->body);
  EXPECT_GT(j2["usage"]["prompt_tokens"].get<int64_t>(), prompt1);
  EXPECT_GE(j2["usage"]["prompt_tokens_details"]["cached_tokens"].get<int64_t>(), prompt1) << j2["usage"].dump();
  std::printf("[ measure  ] first prompt %lld tokens; second prompt %lld tokens, %lld cached\n",
              static_cast<long long>(prompt1), static_cast<long long>(j2["usage"]["prompt_tokens"].get<int64_t>()),
              static_cast<long long>(j2["usage"]["prompt_tokens_details"]["cached_tokens"].get<int64_t>()));
}

TEST_F(ServeApi, CompletionsRawPrompt) {
  json body = {{"model", "tiny"}, {"prompt", "Once upon a time"}, {"max_tokens", 5}, {"temperature", 0}};
  auto r = post("/v1/completions", body);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  json j = json::parse(r->body);
  EXPECT_EQ(j["object"], "text_completion");
  EXPECT_TRUE(j["choices"][0]["text"].is_string());
  EXPECT_LE(j["usage"]["completion_tokens"].get<int>(), 5);

  body["stream"] = true;
  auto s = post("/v1/completions", body);
  ASSERT_TRUE(s);
  ASSERT_EQ(s->status, 200) << s->body;
  std::vector<std::string> data = sse_data(s->body);
  ASSERT_FALSE(data.empty());
  EXPECT_EQ(data.back(), "[DONE]");
  std::string text;
  for (size_t i = 0; i + 1 < data.size(); ++i) text += json::parse(data[i])["choices"][0]["text"].get<std::string>();
  EXPECT_EQ(text, j["choices"][0]["text"].get<std::string>());
}

TEST_F(ServeApi, AnthropicMessagesAndStreamEvents) {
  json body = {{"model", "tiny"},
               {"system", "You are terse."},
               {"max_tokens", 6},
               {"temperature", 0},
               {"messages", json::array({{{"role", "user"}, {"content", "Hi"}}})}};
  auto r = post("/v1/messages", body, {{"x-api-key", kKey}, {"anthropic-version", "2023-06-01"}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  json j = json::parse(r->body);
  EXPECT_EQ(j["type"], "message");
  EXPECT_EQ(j["role"], "assistant");
  EXPECT_TRUE(j["content"].is_array());
  std::string stop = j["stop_reason"];
  EXPECT_TRUE(stop == "end_turn" || stop == "max_tokens" || stop == "tool_use") << stop;
  EXPECT_TRUE(j["usage"]["cache_read_input_tokens"].is_number());

  body["stream"] = true;
  auto s = post("/v1/messages", body, {{"x-api-key", kKey}});
  ASSERT_TRUE(s);
  ASSERT_EQ(s->status, 200) << s->body;
  std::vector<std::string> data = sse_data(s->body);
  ASSERT_GE(data.size(), 3u) << s->body;
  std::vector<std::string> types;
  for (const auto& d : data) types.push_back(json::parse(d)["type"]);
  EXPECT_EQ(types.front(), "message_start");
  EXPECT_EQ(types[types.size() - 2], "message_delta");
  EXPECT_EQ(types.back(), "message_stop");
  int open = 0;
  for (const auto& t : types) {
    if (t == "content_block_start") ++open;
    if (t == "content_block_stop") --open;
    EXPECT_TRUE(open == 0 || open == 1) << s->body;
  }
  EXPECT_EQ(open, 0);
  // The repeated prompt is read from the cache.
  json delta = json::parse(data[data.size() - 2]);
  EXPECT_GT(delta["usage"]["cache_read_input_tokens"].get<int>(), 0) << delta.dump();

  auto c = post("/v1/messages/count_tokens", {{"model", "tiny"}, {"messages", body["messages"]}}, {{"x-api-key", kKey}});
  ASSERT_TRUE(c);
  ASSERT_EQ(c->status, 200) << c->body;
  EXPECT_GT(json::parse(c->body)["input_tokens"].get<int>(), 3);
}

TEST_F(ServeApi, AuthenticationFailuresUseEachApisErrorShape) {
  auto none = post("/v1/chat/completions", chat_body("x", 1), {});
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 401);
  json e = json::parse(none->body);
  EXPECT_EQ(e["error"]["code"], "invalid_api_key") << none->body;
  auto wrong = post("/v1/chat/completions", chat_body("x", 1), {{"Authorization", "Bearer test-key-0123456780"}});
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);
  auto prefix = post("/v1/chat/completions", chat_body("x", 1), {{"x-api-key", "test-key"}});
  ASSERT_TRUE(prefix);
  EXPECT_EQ(prefix->status, 401);
  auto anth = post("/v1/messages", {{"max_tokens", 1}}, {{"x-api-key", "nope"}});
  ASSERT_TRUE(anth);
  EXPECT_EQ(anth->status, 401);
  json a = json::parse(anth->body);
  EXPECT_EQ(a["type"], "error");
  EXPECT_EQ(a["error"]["type"], "authentication_error");
  auto models = client()->Get("/v1/models");
  ASSERT_TRUE(models);
  EXPECT_EQ(models->status, 401);
}

TEST_F(ServeApi, MalformedRequestsGet4xxAndTheServerStaysUp) {
  struct Case {
    std::string path, body;
    int status;
    std::string mention;
  };
  const std::vector<Case> cases = {
      {"/v1/chat/completions", "{not json", 400, "not valid JSON"},
      {"/v1/chat/completions", "[1,2]", 400, "JSON object"},
      {"/v1/chat/completions", R"({"messages":[{"role":"user","content":"x"}],"bogus":1})", 400, "bogus"},
      {"/v1/chat/completions", R"({"messages":[{"role":"user","content":"x"}],"max_tokens":"5"})", 400, "max_tokens"},
      {"/v1/chat/completions", R"({"messages":[{"role":"user","content":"x"}],"temperature":9})", 400, "temperature"},
      {"/v1/chat/completions", R"({"messages":"hi"})", 400, "messages"},
      {"/v1/chat/completions", R"({"messages":[{"role":"wizard","content":"x"}]})", 400, "role"},
      {"/v1/chat/completions", R"({"messages":[{"role":"user","content":[{"type":"image_url"}]}]})", 400, "image_url"},
      {"/v1/chat/completions", R"({"messages":[{"role":"user","content":"x"}],"tools":[{"type":"x"}]})", 400, "tools"},
      {"/v1/completions", R"({"prompt":7})", 400, "prompt"},
      {"/v1/messages", R"({"messages":[{"role":"user","content":"x"}]})", 400, "max_tokens"},
      {"/v1/messages", R"({"max_tokens":4,"messages":[{"role":"user","content":[{"type":"video"}]}]})", 400, "video"},
      {"/v1/nowhere", "{}", 404, "/v1/nowhere"},
  };
  for (const Case& c : cases) {
    auto r = client()->Post(c.path.c_str(), auth(), c.body, "application/json");
    ASSERT_TRUE(r) << c.body;
    EXPECT_EQ(r->status, c.status) << c.path << " " << c.body << " -> " << r->body;
    json e = json::parse(r->body, nullptr, false);
    ASSERT_FALSE(e.is_discarded()) << r->body;
    std::string msg = e["error"]["message"];
    EXPECT_NE(msg.find(c.mention), std::string::npos) << c.body << " -> " << msg;
    if (c.path.rfind("/v1/messages", 0) == 0) {
      EXPECT_EQ(e["type"], "error") << r->body;
    }
  }
  // 2 MiB > --max-body-mb 1: refused before it is parsed.
  std::string big = R"({"messages":[{"role":"user","content":")" + std::string(2 << 20, 'a') + "\"}]}";
  auto r = client()->Post("/v1/chat/completions", auth(), big, "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413) << r->body.substr(0, 200);
  EXPECT_EQ(health()["status"], "ok");
}

TEST_F(ServeApi, QueueFullGets429WithRetryAfterAndDisconnectCancels) {
  ASSERT_TRUE(wait_idle(120));
  // A: streams until the client goes away (ignore_eos, a huge max_tokens).
  json a = chat_body("Go on forever.", 1000000);
  a["stream"] = true;
  a["ignore_eos"] = true;
  a["temperature"] = 1.0;
  RawConnection ca(server_->port());
  ASSERT_TRUE(ca.ok());
  ASSERT_TRUE(ca.send_all(http_post("/v1/chat/completions", a.dump(), std::string("x-api-key: ") + kKey + "\r\n")));
  std::string head = ca.read_until("chat.completion.chunk");
  ASSERT_NE(head.find("200"), std::string::npos) << head;
  bool running = false;
  for (int i = 0; i < 200 && !running; ++i) {
    json h = health();
    running = h["running"] == true && h["queued"] == 0;
    if (!running) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(running) << health().dump();
  // B: waits in the queue (its one slot).
  RawConnection cb(server_->port());
  ASSERT_TRUE(cb.send_all(http_post("/v1/completions", json({{"prompt", "b"}, {"max_tokens", 2}}).dump(),
                                    std::string("x-api-key: ") + kKey + "\r\n")));
  bool queued = false;
  for (int i = 0; i < 200 && !queued; ++i) {
    queued = health()["queued"] == 1;
    if (!queued) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(queued) << health().dump();
  // C: no room.
  auto c = post("/v1/chat/completions", chat_body("c", 1));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->status, 429) << c->body;
  EXPECT_EQ(c->get_header_value("Retry-After"), "1");
  EXPECT_EQ(json::parse(c->body)["error"]["type"], "rate_limit_exceeded");
  auto ac = post("/v1/messages", {{"max_tokens", 1}, {"messages", json::array({{{"role", "user"}, {"content", "c"}}})}},
                 {{"x-api-key", kKey}});
  ASSERT_TRUE(ac);
  EXPECT_EQ(ac->status, 429);
  EXPECT_EQ(json::parse(ac->body)["error"]["type"], "rate_limit_error");
  // A's client disconnects: its generation stops (it would run ~forever), B runs, the engine is idle again.
  const auto t0 = std::chrono::steady_clock::now();
  ca.close();
  EXPECT_TRUE(wait_idle(60)) << health().dump();
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::string b_reply = cb.read_until("text_completion");
  EXPECT_NE(b_reply.find("200 OK"), std::string::npos) << b_reply;
  std::printf("[ measure  ] disconnect to idle: %.2f s\n", s);
}

TEST_F(ServeApi, ChatWithToolsRenders) {
  json body = chat_body("What is the weather in Paris?", 4);
  body["tools"] = json::array({{{"type", "function"},
                                {"function",
                                 {{"name", "get_weather"},
                                  {"description", "weather of a city"},
                                  {"parameters",
                                   {{"type", "object"},
                                    {"properties", {{"city", {{"type", "string"}}}}},
                                    {"required", json::array({"city"})}}}}}}});
  body["messages"].push_back({{"role", "assistant"},
                              {"content", nullptr},
                              {"tool_calls", json::array({{{"id", "call_1"},
                                                           {"type", "function"},
                                                           {"function", {{"name", "get_weather"},
                                                                         {"arguments", R"({"city": "Paris"})"}}}}})}});
  body["messages"].push_back({{"role", "tool"}, {"tool_call_id", "call_1"}, {"content", "sunny, 21C"}});
  auto r = post("/v1/chat/completions", body);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  json j = json::parse(r->body);
  // The tools preamble and the call history make the prompt much longer than the bare question.
  EXPECT_GT(j["usage"]["prompt_tokens"].get<int>(), 100) << j.dump();
}

// A restart with the same --store: the previous run's prompt is restored from disk.
TEST(ServeRestart, CachedTokensSurviveARestartWithTheSameStore) {
  TempDir dir;
  std::string why;
  fs::path ckpt = make_tiny_checkpoint(dir.path(), &why);
  ASSERT_FALSE(ckpt.empty()) << "cannot create the tiny checkpoint: " << why;
  const std::string store = (dir.path() / "store").string();
  json body = chat_body("Remember this sentence for later, please.", 4);
  int64_t prompt1 = 0;
  {
    ServeProcess s;
    ASSERT_TRUE(s.start({"--model", ckpt.string(), "--store", store, "--threads", "2"}, dir.path() / "a.log", &why))
        << why;
    httplib::Client c("127.0.0.1", s.port());
    c.set_read_timeout(300, 0);
    auto r = c.Post("/v1/chat/completions", body.dump(), "application/json");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    json j = json::parse(r->body);
    prompt1 = j["usage"]["prompt_tokens"];
    EXPECT_EQ(j["usage"]["prompt_tokens_details"]["cached_tokens"], 0) << j.dump();
    body["messages"].push_back({{"role", "assistant"}, {"content", j["choices"][0]["message"]["content"]}});
    body["messages"].push_back({{"role", "user"}, {"content", "Now repeat it."}});
    EXPECT_EQ(s.terminate(), 0) << s.log();
  }
  ServeProcess s;
  ASSERT_TRUE(s.start({"--model", ckpt.string(), "--store", store, "--threads", "2"}, dir.path() / "b.log", &why))
      << why;
  httplib::Client c("127.0.0.1", s.port());
  c.set_read_timeout(300, 0);
  auto r = c.Post("/v1/chat/completions", body.dump(), "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  json j = json::parse(r->body);
  EXPECT_GE(j["usage"]["prompt_tokens_details"]["cached_tokens"].get<int64_t>(), prompt1) << j.dump();
  EXPECT_EQ(s.terminate(), 0) << s.log();
}

}  // namespace
}  // namespace v4rt::testing::serve

namespace v4rt::testing::serve {
namespace {

// --request-timeout: a request that would run for ages is cancelled: 504 (whole) or an error event (stream).
TEST(ServeTimeout, LongRequestsAreCancelledAtTheTimeout) {
  TempDir dir;
  std::string why;
  fs::path ckpt = make_tiny_checkpoint(dir.path(), &why);
  ASSERT_FALSE(ckpt.empty()) << "cannot create the tiny checkpoint: " << why;
  ServeProcess s;
  ASSERT_TRUE(s.start({"--model", ckpt.string(), "--no-store", "--request-timeout", "2", "--threads", "2"},
                      dir.path() / "serve.log", &why))
      << why;
  httplib::Client c("127.0.0.1", s.port());
  c.set_read_timeout(120, 0);
  json body = {{"prompt", "forever"}, {"max_tokens", 1000000}, {"ignore_eos", true}};
  const auto t0 = std::chrono::steady_clock::now();
  auto r = c.Post("/v1/completions", body.dump(), "application/json");
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 504) << r->body;
  EXPECT_NE(json::parse(r->body)["error"]["message"].get<std::string>().find("request-timeout"), std::string::npos);
  EXPECT_LT(secs, 30);
  body["stream"] = true;
  auto st = c.Post("/v1/completions", body.dump(), "application/json");
  ASSERT_TRUE(st);
  EXPECT_EQ(st->status, 200);
  std::vector<std::string> data = sse_data(st->body);
  ASSERT_GE(data.size(), 2u);
  EXPECT_EQ(data.back(), "[DONE]");
  EXPECT_TRUE(json::parse(data[data.size() - 2]).contains("error")) << data[data.size() - 2];
  EXPECT_EQ(s.terminate(), 0) << s.log();
}

}  // namespace
}  // namespace v4rt::testing::serve
