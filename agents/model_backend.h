// ModelBackend: where the agent loop gets a model turn from. complete() takes
// the whole rendered prompt and returns the raw text the model generated for
// it (reasoning, content, DSML tool calls, EOS), streaming pieces as they
// come. The prompt is text plus the byte ranges the chat encoder wrote
// itself: a backend that tokenizes (LocalBackend) matches special tokens only
// there, so special-token text inside files, tool results or the task stays
// literal and cannot forge a turn; backends that send text (replay, remote)
// use the text. Implementations: LocalBackend (runtime::Engine, with its session-cache
// prefix lookup) and ReplayBackend (recorded outputs, for demos, bug reports
// and tests). Not thread-safe: one complete() at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <stop_token>
#include <string>
#include <string_view>

#include "parsers/rendered_prompt.h"
#include "base/status.h"

namespace v4rt::agents {

struct CompletionOptions {
  int max_tokens = 4096;  // tokens this turn may generate
  std::stop_token stop;   // Ctrl-C / budget: the backend returns what it has, cancelled = true
};

struct Completion {
  std::string text;                // generated text; ends with EOS when the model ended its turn
  bool cancelled = false;
  bool hit_max_tokens = false;
  int64_t prompt_tokens = 0;       // tokens of the prompt (0 if the backend cannot count)
  int64_t reused_tokens = 0;       // prompt tokens restored from a cache instead of computed
  int64_t generated_tokens = 0;
  double prefill_s = 0, decode_s = 0;
};

// Called with each generated piece; return false to stop generating.
using TextSink = std::function<bool(std::string_view piece)>;

class ModelBackend {
 public:
  virtual ~ModelBackend() = default;
  // Human-readable label, e.g. "replay:demo.jsonl (recorded outputs, not a model)".
  virtual std::string describe() const = 0;
  virtual Result<Completion> complete(const parsers::RenderedPrompt& prompt, const CompletionOptions& options,
                                      const TextSink& on_text) = 0;
};

}  // namespace v4rt::agents
