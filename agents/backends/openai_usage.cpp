#include "agents/backends/openai_usage.h"

#include "base/terminal_text.h"

namespace v4rt::agents::backends {

namespace {
int64_t int_at(const nlohmann::json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_number_integer() ? j[key].get<int64_t>() : 0;
}
}  // namespace

Status OpenAiStreamState::accept(const SseEvent& e, std::string_view what, nlohmann::json& out) {
  out = nullptr;
  ++events;
  if (e.data == "[DONE]") {
    done = true;
    return Status::Ok();
  }
  if (e.data.empty()) return Status::Ok();
  out = nlohmann::json::parse(e.data, nullptr, false);
  if (out.is_discarded() || !out.is_object()) {
    std::string head = e.data.substr(0, 120);
    out = nullptr;
    return Status::Corruption(std::string(what) + ": malformed stream event " + std::to_string(events) +
                              " (not a JSON object): '" + terminal_safe(head) +
                              "'; the server does not speak the OpenAI streaming protocol here, check the URL");
  }
  if (out.contains("error") && !out["error"].is_null()) {
    const auto& err = out["error"];
    std::string msg = err.is_object() && err.contains("message") && err["message"].is_string()
                          ? err["message"].get<std::string>()
                          : err.dump();
    return Status::IoError(std::string(what) + ": the server reported an error mid-stream: " +
                           terminal_safe(msg.substr(0, 300)) + "; the turn is lost, try again");
  }
  const auto& ch = out.contains("choices") ? out["choices"] : nlohmann::json();
  if (ch.is_array() && !ch.empty() && ch[0].is_object() && ch[0].contains("finish_reason") &&
      ch[0]["finish_reason"].is_string())
    finish_reason = ch[0]["finish_reason"].get<std::string>();
  if (out.contains("usage") && out["usage"].is_object()) {
    const auto& u = out["usage"];
    prompt_tokens = int_at(u, "prompt_tokens");
    completion_tokens = int_at(u, "completion_tokens");
    if (u.contains("prompt_tokens_details")) cached_tokens = int_at(u["prompt_tokens_details"], "cached_tokens");
    // DeepSeek's API reports its context cache as prompt_cache_hit_tokens.
    if (cached_tokens == 0) cached_tokens = int_at(u, "prompt_cache_hit_tokens");
  }
  return Status::Ok();
}

Status OpenAiStreamState::check_complete(std::string_view what, const std::string& url, bool truncated,
                                         size_t bytes) const {
  if (done || !finish_reason.empty()) return Status::Ok();
  return Status::IoError(std::string(what) + " " + url + ": the stream ended after " + std::to_string(bytes) +
                         " bytes without a finish_reason or [DONE]" + (truncated ? " (inside an event)" : "") +
                         "; the server or a proxy cut it short; run the task again");
}

}  // namespace v4rt::agents::backends
