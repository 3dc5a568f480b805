#include "agents/backends/anthropic_backend.h"

#include <chrono>
#include <map>

#include "base/terminal_text.h"

namespace v4rt::agents::backends {

namespace {
using Clock = std::chrono::steady_clock;
constexpr std::string_view kWhat = "anthropic";

std::string str_at(const nlohmann::json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
}
int64_t int_at(const nlohmann::json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_number_integer() ? j[key].get<int64_t>() : 0;
}
std::string text_of(const nlohmann::ordered_json& m) {
  return m.contains("content") && m["content"].is_string() ? m["content"].get<std::string>() : std::string();
}
}  // namespace

nlohmann::json anthropic_request_body(const nlohmann::ordered_json& messages, const RemoteOptions& o, int max_tokens) {
  std::string system;
  nlohmann::json tools = nlohmann::json::array();
  nlohmann::json out = nlohmann::json::array();
  // Appends blocks to the last message when it has the same role (tool results
  // of one turn go back in one user message).
  auto add = [&](const std::string& role, nlohmann::json blocks) {
    if (!out.empty() && out.back()["role"] == role) {
      for (auto& b : blocks) out.back()["content"].push_back(std::move(b));
    } else {
      out.push_back({{"role", role}, {"content", std::move(blocks)}});
    }
  };
  for (const auto& m : messages) {
    if (!m.is_object()) continue;
    std::string role = m.value("role", "");
    if (role == "system" || role == "developer") {
      if (!system.empty()) system += "\n\n";
      system += text_of(m);
      if (m.contains("tools") && m["tools"].is_array())
        for (const auto& t : m["tools"]) {
          const auto& fn = t.contains("function") ? t["function"] : t;
          tools.push_back({{"name", fn.value("name", "")},
                           {"description", fn.value("description", "")},
                           {"input_schema", nlohmann::json::parse(fn.contains("parameters") ? fn["parameters"].dump()
                                                                                             : "{\"type\":\"object\"}")}});
        }
    } else if (role == "assistant") {
      nlohmann::json blocks = nlohmann::json::array();
      if (!text_of(m).empty()) blocks.push_back({{"type", "text"}, {"text", text_of(m)}});
      if (m.contains("tool_calls") && m["tool_calls"].is_array())
        for (const auto& tc : m["tool_calls"]) {
          const auto& fn = tc.contains("function") ? tc["function"] : nlohmann::ordered_json::object();
          nlohmann::json input = nlohmann::json::parse(fn.contains("arguments") && fn["arguments"].is_string()
                                                           ? fn["arguments"].get<std::string>()
                                                           : std::string("{}"),
                                                       nullptr, false);
          if (input.is_discarded() || !input.is_object()) input = nlohmann::json::object();
          blocks.push_back({{"type", "tool_use"}, {"id", tc.value("id", "")}, {"name", fn.value("name", "")},
                            {"input", input}});
        }
      if (blocks.empty()) blocks.push_back({{"type", "text"}, {"text", ""}});
      add("assistant", std::move(blocks));
    } else if (role == "tool") {
      add("user", nlohmann::json::array({{{"type", "tool_result"},
                                          {"tool_use_id", m.value("tool_call_id", "")},
                                          {"content", text_of(m)}}}));
    } else {  // user, latest_reminder
      add("user", nlohmann::json::array({{{"type", "text"}, {"text", text_of(m)}}}));
    }
  }
  nlohmann::json body = {{"messages", out}, {"max_tokens", max_tokens}, {"stream", true}};
  if (!system.empty()) body["system"] = system;
  if (!tools.empty()) body["tools"] = tools;
  if (!o.model.empty()) body["model"] = o.model;
  if (o.temperature >= 0) body["temperature"] = o.temperature;
  return body;
}

AnthropicBackend::AnthropicBackend(RemoteOptions options)
    : o_(std::move(options)), url_(endpoint_url(o_.base_url, "messages")) {}

std::string AnthropicBackend::describe() const {
  return std::string(kWhat) + ":" + url_ + " (model " + (o_.model.empty() ? "server default" : o_.model) + ")";
}

Result<Completion> AnthropicBackend::complete(const parsers::RenderedPrompt&, const CompletionOptions&,
                                              const TextSink&) {
  return Status::Unsupported(describe() + ": the Messages API takes messages (complete_messages), not a rendered prompt");
}

Result<Completion> AnthropicBackend::complete_messages(const nlohmann::ordered_json& messages,
                                                       const parsers::ChatOptions& chat,
                                                       const CompletionOptions& options, const DeltaSink& on_delta) {
  (void)chat;
  nlohmann::json body = anthropic_request_body(messages, o_, options.max_tokens);
  std::vector<std::string> auth = {"anthropic-version: 2023-06-01"};
  if (!o_.api_key.empty()) auth.push_back("x-api-key: " + o_.api_key);

  Completion c;
  StructuredTurn turn;
  std::map<int64_t, StructuredToolCall> calls;  // by content block index
  bool stopped = false, stopped_by_sink = false;
  std::string stop_reason;
  int64_t input = 0, cache_read = 0, cache_write = 0, output = 0;
  int events = 0;
  auto t0 = Clock::now();
  auto first = [&] {
    if (c.ttft_s < 0) c.ttft_s = std::chrono::duration<double>(Clock::now() - t0).count();
  };
  auto deliver = [&](DeltaKind kind, const std::string& piece) {
    if (piece.empty()) return;
    first();
    (kind == DeltaKind::kText ? turn.content : turn.reasoning) += piece;
    if (!on_delta(kind, piece)) stopped_by_sink = true;
  };
  auto r = post_sse(kWhat, url_, body.dump(), auth, o_, options.stop, [&](const SseEvent& e) -> Status {
    ++events;
    auto j = nlohmann::json::parse(e.data, nullptr, false);
    if (j.is_discarded() || !j.is_object())
      return Status::Corruption(std::string(kWhat) + ": malformed stream event " + std::to_string(events) + " ('" +
                                terminal_safe(e.data.substr(0, 120)) +
                                "' is not a JSON object); the server does not speak the Messages API here, check the URL");
    std::string type = str_at(j, "type");
    if (type.empty()) type = e.event;
    if (type == "error") {
      std::string msg = j.contains("error") ? str_at(j["error"], "message") : std::string();
      return Status::IoError(std::string(kWhat) + ": the server reported an error mid-stream: " +
                             terminal_safe(msg.substr(0, 300)) + "; the turn is lost, try again");
    }
    if (type == "message_start" && j.contains("message") && j["message"].is_object() &&
        j["message"].contains("usage")) {
      const auto& u = j["message"]["usage"];
      input = int_at(u, "input_tokens");
      cache_read = int_at(u, "cache_read_input_tokens");
      cache_write = int_at(u, "cache_creation_input_tokens");
      output = int_at(u, "output_tokens");
    } else if (type == "content_block_start" && j.contains("content_block")) {
      const auto& b = j["content_block"];
      if (str_at(b, "type") == "tool_use") {
        first();
        StructuredToolCall& call = calls[int_at(j, "index")];
        call.id = str_at(b, "id");
        call.name = str_at(b, "name");
      } else if (str_at(b, "type") == "text") {
        deliver(DeltaKind::kText, str_at(b, "text"));
      }
    } else if (type == "content_block_delta" && j.contains("delta")) {
      const auto& d = j["delta"];
      std::string dt = str_at(d, "type");
      if (dt == "text_delta") deliver(DeltaKind::kText, str_at(d, "text"));
      else if (dt == "thinking_delta") deliver(DeltaKind::kReasoning, str_at(d, "thinking"));
      else if (dt == "input_json_delta") {
        auto it = calls.find(int_at(j, "index"));
        if (it == calls.end())
          return Status::Corruption(std::string(kWhat) + ": input_json_delta for block " +
                                    std::to_string(int_at(j, "index")) + " that is not a tool_use block");
        it->second.arguments += str_at(d, "partial_json");
      }
    } else if (type == "message_delta") {
      if (j.contains("delta")) stop_reason = str_at(j["delta"], "stop_reason");
      if (j.contains("usage")) output = std::max(output, int_at(j["usage"], "output_tokens"));
    } else if (type == "message_stop") {
      stopped = true;
    }
    if (stopped_by_sink) return Status::Cancelled("stopped");
    return Status::Ok();
  });
  if (!r.ok() && !(stopped_by_sink && r.status().is_cancelled())) return r.status();
  if (stopped_by_sink || (r.ok() && r->http.cancelled) || options.stop.stop_requested()) {
    c.cancelled = true;
  } else {
    if (!stopped)
      return Status::IoError(std::string(kWhat) + " " + url_ + ": the stream ended after " + std::to_string(r->bytes) +
                             " bytes without message_stop; the server or a proxy cut it short; run the task again");
    c.hit_max_tokens = stop_reason == "max_tokens";
    for (auto& [index, call] : calls) turn.tool_calls.push_back(std::move(call));
  }
  double total = std::chrono::duration<double>(Clock::now() - t0).count();
  c.structured = std::move(turn);
  c.prompt_tokens = input + cache_read + cache_write;  // input_tokens excludes the cached part
  c.reused_tokens = cache_read;
  c.generated_tokens = output;
  c.prefill_s = c.ttft_s >= 0 ? c.ttft_s : total;
  c.decode_s = total - c.prefill_s;
  c.retries = r.ok() ? r->http.retries : 0;
  return c;
}

}  // namespace v4rt::agents::backends
