#include "agents/backends/openai_completions_backend.h"

#include <chrono>

#include <nlohmann/json.hpp>

#include "agents/backends/openai_usage.h"
#include "parsers/special_tokens.h"

namespace v4rt::agents::backends {

namespace {
using Clock = std::chrono::steady_clock;
constexpr std::string_view kWhat = "openai-completions";
}  // namespace

OpenAiCompletionsBackend::OpenAiCompletionsBackend(RemoteOptions options)
    : o_(std::move(options)), url_(endpoint_url(o_.base_url, "completions")) {}

std::string OpenAiCompletionsBackend::describe() const {
  return std::string(kWhat) + ":" + url_ + " (model " + (o_.model.empty() ? "server default" : o_.model) + ")";
}

Result<Completion> OpenAiCompletionsBackend::complete(const parsers::RenderedPrompt& prompt,
                                                      const CompletionOptions& options, const TextSink& on_text) {
  std::string_view text = prompt.text;
  if (text.substr(0, parsers::tokens::kBos.size()) == parsers::tokens::kBos) text.remove_prefix(parsers::tokens::kBos.size());
  nlohmann::json body = {{"prompt", text},
                         {"max_tokens", options.max_tokens},
                         {"stream", true},
                         {"stream_options", {{"include_usage", true}}},
                         {"skip_special_tokens", false}};
  if (!o_.model.empty()) body["model"] = o_.model;
  if (o_.temperature >= 0) body["temperature"] = o_.temperature;
  std::vector<std::string> auth;
  if (!o_.api_key.empty()) auth.push_back("Authorization: Bearer " + o_.api_key);

  Completion c;
  OpenAiStreamState st;
  auto t0 = Clock::now();
  bool stopped_by_sink = false;
  auto r = post_sse(kWhat, url_, body.dump(), auth, o_, options.stop, [&](const SseEvent& e) -> Status {
    nlohmann::json j;
    V4RT_RETURN_IF_ERROR(st.accept(e, kWhat, j));
    if (j.is_null()) return Status::Ok();
    const auto& ch = j["choices"];
    if (ch.is_array() && !ch.empty() && ch[0].is_object()) {
      const auto& c0 = ch[0];
      if (c0.contains("text") && c0["text"].is_string()) {
        std::string piece = c0["text"].get<std::string>();
        if (!piece.empty()) {
          if (c.ttft_s < 0) c.ttft_s = std::chrono::duration<double>(Clock::now() - t0).count();
          c.text += piece;
          if (!on_text(piece)) stopped_by_sink = true;
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
    if (st.finish_reason == "length") {
      c.hit_max_tokens = true;
    } else if (st.finish_reason == "stop") {
      const std::string_view eos = parsers::tokens::kEos;
      if (c.text.size() < eos.size() || c.text.compare(c.text.size() - eos.size(), eos.size(), eos) != 0) {
        c.text += eos;
        on_text(eos);
      }
    }
  }
  double total = std::chrono::duration<double>(Clock::now() - t0).count();
  c.prompt_tokens = st.prompt_tokens;
  c.reused_tokens = st.cached_tokens;
  c.generated_tokens = st.completion_tokens;
  c.prefill_s = c.ttft_s >= 0 ? c.ttft_s : total;
  c.decode_s = total - c.prefill_s;
  c.retries = r.ok() ? r->http.retries : 0;
  return c;
}

}  // namespace v4rt::agents::backends
