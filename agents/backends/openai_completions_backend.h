// OpenAiCompletionsBackend (`openai-completions:URL`): POST /v1/completions
// with the prompt v4rt's encoder rendered (byte-stable turn after turn, so the
// server's prefix cache keeps hitting) and the raw output streamed back (SSE)
// to the agent loop's DSML parser. For vLLM, SGLang, llama-server, `v4rt
// serve`. The leading BOS is left to the server's tokenizer (servers add it to
// a text prompt); special tokens in the output are kept (skip_special_tokens:
// false) and a turn the server ended with finish_reason "stop" gets the EOS
// text appended, so history re-renders exactly as the local backend's.
// The server's usage.prompt_tokens_details.cached_tokens is reported as
// reused_tokens. Not thread-safe.
#pragma once

#include "agents/backends/remote_common.h"
#include "agents/model_backend.h"

namespace v4rt::agents::backends {

class OpenAiCompletionsBackend : public ModelBackend {
 public:
  explicit OpenAiCompletionsBackend(RemoteOptions options);
  std::string describe() const override;
  Result<Completion> complete(const parsers::RenderedPrompt& prompt, const CompletionOptions& options,
                              const TextSink& on_text) override;

 private:
  RemoteOptions o_;
  std::string url_;
};

}  // namespace v4rt::agents::backends
