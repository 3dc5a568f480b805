// AnthropicBackend (`anthropic:URL`): the message-level path over POST
// /v1/messages (Anthropic Messages API: DeepSeek's Anthropic-compatible
// endpoint, `v4rt serve`). The conversation becomes a top-level system
// prompt plus user/assistant messages with tool_use blocks, tool results go
// back as tool_result blocks; the stream's events (message_start,
// content_block_start/delta/stop with text_delta, thinking_delta and
// input_json_delta fragments, message_delta, message_stop, error) become
// reasoning, text and tool calls. The key goes in x-api-key. Not thread-safe.
#pragma once

#include <nlohmann/json.hpp>

#include "agents/backends/remote_common.h"
#include "agents/model_backend.h"

namespace v4rt::agents::backends {

// The request body for messages (exposed for tests).
nlohmann::json anthropic_request_body(const nlohmann::ordered_json& messages, const RemoteOptions& o, int max_tokens);

class AnthropicBackend : public ModelBackend {
 public:
  explicit AnthropicBackend(RemoteOptions options);
  std::string describe() const override;
  // Unsupported: this backend takes messages.
  Result<Completion> complete(const parsers::RenderedPrompt& prompt, const CompletionOptions& options,
                              const TextSink& on_text) override;
  bool takes_messages() const override { return true; }
  Result<Completion> complete_messages(const nlohmann::ordered_json& messages, const parsers::ChatOptions& chat,
                                       const CompletionOptions& options, const DeltaSink& on_delta) override;

 private:
  RemoteOptions o_;
  std::string url_;
};

}  // namespace v4rt::agents::backends
