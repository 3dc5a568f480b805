#include "agents/backends/openai_chat_backend.h"

#include <chrono>
#include <map>

#include "agents/backends/openai_usage.h"

namespace v4rt::agents::backends {

namespace {
using Clock = std::chrono::steady_clock;
constexpr std::string_view kWhat = "openai-chat";

std::string str_at(const nlohmann::json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
}
}  // namespace

nlohmann::json chat_request_body(const nlohmann::ordered_json& messages, const RemoteOptions& o, int max_tokens) {
  nlohmann::json out = nlohmann::json::array();
  nlohmann::json tools = nlohmann::json::array();
  for (const auto& m : messages) {
    if (!m.is_object()) continue;
    std::string role = m.value("role", "");
    nlohmann::json x = {{"role", role}};
    if (role == "system" || role == "developer") {
      x["role"] = "system";
      if (m.contains("tools") && m["tools"].is_array())
        for (const auto& t : m["tools"]) tools.push_back(nlohmann::json::parse(t.dump()));
    } else if (role == "latest_reminder") {
      x["role"] = "user";
    }
    if (m.contains("content")) x["content"] = nlohmann::json::parse(m["content"].dump());
    if (role == "assistant") {
      if (m.contains("tool_calls") && m["tool_calls"].is_array() && !m["tool_calls"].empty())
        x["tool_calls"] = nlohmann::json::parse(m["tool_calls"].dump());
      // DeepSeek's thinking mode wants the reasoning of a tool-calling turn back.
      if (!str_at(m, "reasoning_content").empty()) x["reasoning_content"] = m["reasoning_content"].get<std::string>();
    }
    if (role == "tool") x["tool_call_id"] = m.value("tool_call_id", "");
    out.push_back(std::move(x));
  }
  nlohmann::json body = {{"messages", out},
                         {"stream", true},
                         {"stream_options", {{"include_usage", true}}},
                         {"max_tokens", max_tokens}};
  if (!tools.empty()) body["tools"] = tools;
  if (!o.model.empty()) body["model"] = o.model;
  if (o.temperature >= 0) body["temperature"] = o.temperature;
  return body;
}

OpenAiChatBackend::OpenAiChatBackend(RemoteOptions options)
    : o_(std::move(options)), url_(endpoint_url(o_.base_url, "chat/completions")) {}

std::string OpenAiChatBackend::describe() const {
  return std::string(kWhat) + ":" + url_ + " (model " + (o_.model.empty() ? "server default" : o_.model) + ")";
}

Result<Completion> OpenAiChatBackend::complete(const parsers::RenderedPrompt&, const CompletionOptions&,
                                               const TextSink&) {
  return Status::Unsupported(describe() + ": a chat backend takes messages (complete_messages), not a rendered prompt");
}

Result<Completion> OpenAiChatBackend::complete_messages(const nlohmann::ordered_json& messages,
                                                        const parsers::ChatOptions& chat,
                                                        const CompletionOptions& options, const DeltaSink& on_delta) {
  (void)chat;  // the server's chat template decides how thinking is rendered (docs/backends.md)
  nlohmann::json body = chat_request_body(messages, o_, options.max_tokens);
  std::vector<std::string> auth;
  if (!o_.api_key.empty()) auth.push_back("Authorization: Bearer " + o_.api_key);

  Completion c;
  StructuredTurn turn;
  std::map<int64_t, StructuredToolCall> calls;  // by the delta's index
  OpenAiStreamState st;
  auto t0 = Clock::now();
  bool stopped_by_sink = false;
  auto deliver = [&](DeltaKind kind, const std::string& piece) {
    if (piece.empty()) return;
    if (c.ttft_s < 0) c.ttft_s = std::chrono::duration<double>(Clock::now() - t0).count();
    (kind == DeltaKind::kText ? turn.content : turn.reasoning) += piece;
    if (!on_delta(kind, piece)) stopped_by_sink = true;
  };
  auto r = post_sse(kWhat, url_, body.dump(), auth, o_, options.stop, [&](const SseEvent& e) -> Status {
    nlohmann::json j;
    V4RT_RETURN_IF_ERROR(st.accept(e, kWhat, j));
    if (j.is_null()) return Status::Ok();
    const auto& ch = j.contains("choices") ? j["choices"] : nlohmann::json();
    if (!ch.is_array() || ch.empty() || !ch[0].is_object() || !ch[0].contains("delta")) return Status::Ok();
    const auto& d = ch[0]["delta"];
    if (!d.is_object()) return Status::Ok();
    deliver(DeltaKind::kReasoning, str_at(d, "reasoning_content"));
    deliver(DeltaKind::kReasoning, str_at(d, "reasoning"));
    deliver(DeltaKind::kText, str_at(d, "content"));
    if (d.contains("tool_calls") && d["tool_calls"].is_array()) {
      for (const auto& tc : d["tool_calls"]) {
        if (!tc.is_object()) continue;
        int64_t index = tc.contains("index") && tc["index"].is_number_integer() ? tc["index"].get<int64_t>()
                                                                                 : static_cast<int64_t>(calls.size());
        if (c.ttft_s < 0) c.ttft_s = std::chrono::duration<double>(Clock::now() - t0).count();
        StructuredToolCall& call = calls[index];
        if (!str_at(tc, "id").empty()) call.id = str_at(tc, "id");
        if (tc.contains("function") && tc["function"].is_object()) {
          call.name += str_at(tc["function"], "name");
          call.arguments += str_at(tc["function"], "arguments");
        }
      }
    }
    if (stopped_by_sink) return Status::Cancelled("stopped");
    return Status::Ok();
  });
  if (!r.ok() && !(stopped_by_sink && r.status().is_cancelled())) return r.status();
  if (stopped_by_sink || (r.ok() && r->http.cancelled) || options.stop.stop_requested()) {
    c.cancelled = true;
  } else {
    V4RT_RETURN_IF_ERROR(st.check_complete(kWhat, url_, r->truncated, r->bytes));
    c.hit_max_tokens = st.finish_reason == "length";
    for (auto& [index, call] : calls) {
      if (call.name.empty())
        return Status::Corruption(std::string(kWhat) + " " + url_ + ": tool call " + std::to_string(index) +
                                  " arrived without a function name; the server's tool-call stream is malformed");
      turn.tool_calls.push_back(std::move(call));
    }
  }
  double total = std::chrono::duration<double>(Clock::now() - t0).count();
  c.structured = std::move(turn);
  c.prompt_tokens = st.prompt_tokens;
  c.reused_tokens = st.cached_tokens;
  c.generated_tokens = st.completion_tokens;
  c.prefill_s = c.ttft_s >= 0 ? c.ttft_s : total;
  c.decode_s = total - c.prefill_s;
  c.retries = r.ok() ? r->http.retries : 0;
  return c;
}

}  // namespace v4rt::agents::backends
