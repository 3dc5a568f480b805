#include "agents/local_backend.h"

#include "model/config.h"
#include "parsers/special_tokens.h"
#include "runtime/tokenizer/tokenizer.h"

namespace v4rt::agents {

Result<Completion> LocalBackend::complete(const parsers::RenderedPrompt& prompt, const CompletionOptions& options,
                                          const TextSink& on_text) {
  runtime::GenerateRequest req;
  if (const runtime::Tokenizer* tokenizer = engine_.tokenizer())
    req.tokens = prompt_token_ids(*tokenizer, prompt, engine_.config().bos_token_id);
  else
    req.text = prompt.text;  // the engine reports that it cannot encode text
  req.max_tokens = options.max_tokens;
  req.sampling = sampling_;
  req.stop_at_eos = true;
  runtime::Callbacks cb;
  if (on_text) cb.on_text = [&](std::string_view piece) { return on_text(piece); };
  auto r = engine_.generate(req, cb, options.stop);
  if (!r.ok()) {
    if (r.status().is_cancelled()) {
      Completion c;
      c.cancelled = true;
      return c;
    }
    return r.status();
  }
  Completion c;
  c.text = r->text;
  const std::string eos(parsers::tokens::kEos);
  if (r->stop_reason == runtime::StopReason::kEos &&
      (c.text.size() < eos.size() || c.text.compare(c.text.size() - eos.size(), eos.size(), eos) != 0))
    c.text += eos;
  c.cancelled = r->stop_reason == runtime::StopReason::kCancelled;
  c.hit_max_tokens = r->stop_reason == runtime::StopReason::kMaxTokens;
  c.prompt_tokens = r->stats.prompt_tokens;
  c.reused_tokens = r->stats.reused_tokens;
  c.generated_tokens = r->stats.generated_tokens;
  c.prefill_s = r->stats.prefill_s;
  c.decode_s = r->stats.decode_s;
  return c;
}

}  // namespace v4rt::agents
