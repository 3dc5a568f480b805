// A real HTTP server on 127.0.0.1 (cpp-httplib) that answers each POST with
// the next scripted reply: recorded SSE responses of OpenAI-compatible servers
// sent chunk by chunk, error statuses with Retry-After, a connection dropped
// mid-stream, or no answer at all. It records each request it received. For
// the remote backend tests (tests/agents, tests/e2e). Thread-safe.
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace v4rt::testing {

struct ScriptedReply {
  int status = 200;
  std::vector<std::string> chunks;                            // body, written piece by piece
  std::vector<std::pair<std::string, std::string>> headers;  // e.g. {"Retry-After", "1"}
  bool drop_after_chunks = false;                             // close the connection without ending the body
  double hang_s = 0;                                          // wait before answering (a silent server)
};

struct ReceivedRequest {
  std::string path, body, authorization, x_api_key;
  nlohmann::json json() const { return nlohmann::json::parse(body, nullptr, false); }
};

class ScriptedServer {
 public:
  explicit ScriptedServer(std::vector<ScriptedReply> replies) : replies_(std::move(replies)) {
    server_.Post(".*", [this](const httplib::Request& req, httplib::Response& res) { handle(req, res); });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // stop() before the accept loop runs would be lost and the join would hang.
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~ScriptedServer() {
    stopping_ = true;
    server_.stop();
    thread_.join();
  }
  ScriptedServer(const ScriptedServer&) = delete;
  ScriptedServer& operator=(const ScriptedServer&) = delete;

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<ReceivedRequest> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  size_t replies_left() const {
    std::lock_guard<std::mutex> lock(mu_);
    return replies_.size() - next_;
  }

 private:
  void handle(const httplib::Request& req, httplib::Response& res) {
    ScriptedReply reply;
    {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back({req.path, req.body, req.get_header_value("Authorization"), req.get_header_value("x-api-key")});
      if (next_ >= replies_.size()) {
        res.status = 500;
        res.set_content(R"({"error":{"message":"the test script has no more replies"}})", "application/json");
        return;
      }
      reply = replies_[next_++];
    }
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<int>(reply.hang_s * 1000));
    while (!stopping_ && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    res.status = reply.status;
    for (const auto& [k, v] : reply.headers) res.set_header(k.c_str(), v);
    if (reply.status != 200) {
      std::string body;
      for (const auto& c : reply.chunks) body += c;
      res.set_content(body, "application/json");
      return;
    }
    auto chunks = reply.chunks;
    bool drop = reply.drop_after_chunks;
    res.set_chunked_content_provider("text/event-stream", [chunks, drop](size_t, httplib::DataSink& sink) {
      for (const auto& c : chunks) {
        if (!sink.write(c.data(), c.size())) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
      if (drop) return false;  // httplib closes the connection without the final chunk
      sink.done();
      return true;
    });
  }

  mutable std::mutex mu_;  // guards replies_, next_, requests_
  std::vector<ScriptedReply> replies_;
  size_t next_ = 0;
  std::vector<ReceivedRequest> requests_;
  std::atomic<bool> stopping_{false};
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

// SSE of /v1/completions: one event per text piece, then finish_reason, usage, [DONE].
inline ScriptedReply completions_reply(const std::vector<std::string>& pieces, const std::string& finish_reason,
                                       int64_t prompt_tokens, int64_t completion_tokens, int64_t cached_tokens) {
  ScriptedReply r;
  for (const auto& p : pieces)
    r.chunks.push_back("data: " + nlohmann::json({{"choices", {{{"index", 0}, {"text", p}, {"finish_reason", nullptr}}}}}).dump() + "\n\n");
  r.chunks.push_back("data: " + nlohmann::json({{"choices", {{{"index", 0}, {"text", ""}, {"finish_reason", finish_reason}}}}}).dump() + "\n\n");
  r.chunks.push_back("data: " + nlohmann::json({{"choices", nlohmann::json::array()},
                                                {"usage", {{"prompt_tokens", prompt_tokens},
                                                           {"completion_tokens", completion_tokens},
                                                           {"prompt_tokens_details", {{"cached_tokens", cached_tokens}}}}}}).dump() + "\n\n");
  r.chunks.push_back("data: [DONE]\n\n");
  return r;
}

struct ScriptedToolCall {
  std::string id, name;
  std::vector<std::string> argument_fragments;  // the arguments JSON, split as a server streams it
};

// SSE of /v1/chat/completions: reasoning pieces, content pieces, tool calls
// (name first, then argument fragments, each a delta), finish_reason, usage, [DONE].
inline ScriptedReply chat_reply(const std::vector<std::string>& reasoning, const std::vector<std::string>& content,
                                const std::vector<ScriptedToolCall>& calls, int64_t prompt_tokens,
                                int64_t completion_tokens, int64_t cached_tokens) {
  ScriptedReply r;
  auto chunk = [&](const nlohmann::json& delta, const nlohmann::json& finish) {
    r.chunks.push_back("data: " + nlohmann::json({{"id", "chatcmpl-1"}, {"object", "chat.completion.chunk"},
                                                  {"choices", {{{"index", 0}, {"delta", delta}, {"finish_reason", finish}}}}})
                                      .dump() + "\n\n");
  };
  chunk({{"role", "assistant"}, {"content", ""}}, nullptr);
  for (const auto& p : reasoning) chunk({{"reasoning_content", p}}, nullptr);
  for (const auto& p : content) chunk({{"content", p}}, nullptr);
  for (size_t i = 0; i < calls.size(); ++i) {
    chunk({{"tool_calls", {{{"index", i}, {"id", calls[i].id}, {"type", "function"},
                            {"function", {{"name", calls[i].name}, {"arguments", ""}}}}}}}, nullptr);
    for (const auto& f : calls[i].argument_fragments)
      chunk({{"tool_calls", {{{"index", i}, {"function", {{"arguments", f}}}}}}}, nullptr);
  }
  chunk(nlohmann::json::object(), calls.empty() ? "stop" : "tool_calls");
  r.chunks.push_back("data: " + nlohmann::json({{"choices", nlohmann::json::array()},
                                                {"usage", {{"prompt_tokens", prompt_tokens},
                                                           {"completion_tokens", completion_tokens},
                                                           {"prompt_tokens_details", {{"cached_tokens", cached_tokens}}}}}}).dump() + "\n\n");
  r.chunks.push_back("data: [DONE]\n\n");
  return r;
}

// SSE of Anthropic's /v1/messages: message_start (usage), a thinking block,
// a text block, tool_use blocks with input_json_delta fragments,
// message_delta (stop_reason, output tokens), message_stop.
inline ScriptedReply anthropic_reply(const std::vector<std::string>& thinking, const std::vector<std::string>& text,
                                     const std::vector<ScriptedToolCall>& calls, int64_t input_tokens,
                                     int64_t output_tokens, int64_t cache_read_tokens) {
  ScriptedReply r;
  auto ev = [&](const std::string& name, const nlohmann::json& data) {
    r.chunks.push_back("event: " + name + "\ndata: " + data.dump() + "\n\n");
  };
  ev("message_start", {{"type", "message_start"},
                       {"message", {{"id", "msg_1"}, {"type", "message"}, {"role", "assistant"},
                                    {"content", nlohmann::json::array()},
                                    {"usage", {{"input_tokens", input_tokens},
                                               {"cache_read_input_tokens", cache_read_tokens},
                                               {"output_tokens", 1}}}}}});
  int index = 0;
  if (!thinking.empty()) {
    ev("content_block_start", {{"type", "content_block_start"}, {"index", index},
                               {"content_block", {{"type", "thinking"}, {"thinking", ""}}}});
    for (const auto& t : thinking)
      ev("content_block_delta", {{"type", "content_block_delta"}, {"index", index},
                                 {"delta", {{"type", "thinking_delta"}, {"thinking", t}}}});
    ev("content_block_stop", {{"type", "content_block_stop"}, {"index", index++}});
  }
  r.chunks.push_back("event: ping\ndata: {\"type\": \"ping\"}\n\n");
  if (!text.empty()) {
    ev("content_block_start", {{"type", "content_block_start"}, {"index", index},
                               {"content_block", {{"type", "text"}, {"text", ""}}}});
    for (const auto& t : text)
      ev("content_block_delta", {{"type", "content_block_delta"}, {"index", index},
                                 {"delta", {{"type", "text_delta"}, {"text", t}}}});
    ev("content_block_stop", {{"type", "content_block_stop"}, {"index", index++}});
  }
  for (const auto& c : calls) {
    ev("content_block_start", {{"type", "content_block_start"}, {"index", index},
                               {"content_block", {{"type", "tool_use"}, {"id", c.id}, {"name", c.name},
                                                  {"input", nlohmann::json::object()}}}});
    for (const auto& f : c.argument_fragments)
      ev("content_block_delta", {{"type", "content_block_delta"}, {"index", index},
                                 {"delta", {{"type", "input_json_delta"}, {"partial_json", f}}}});
    ev("content_block_stop", {{"type", "content_block_stop"}, {"index", index++}});
  }
  ev("message_delta", {{"type", "message_delta"},
                       {"delta", {{"stop_reason", calls.empty() ? "end_turn" : "tool_use"}}},
                       {"usage", {{"output_tokens", output_tokens}}}});
  ev("message_stop", {{"type", "message_stop"}});
  return r;
}

inline ScriptedReply error_reply(int status, const std::string& message,
                                 std::vector<std::pair<std::string, std::string>> headers = {}) {
  ScriptedReply r;
  r.status = status;
  r.chunks = {nlohmann::json({{"error", {{"message", message}, {"type", "error"}}}}).dump()};
  r.headers = std::move(headers);
  return r;
}

}  // namespace v4rt::testing
