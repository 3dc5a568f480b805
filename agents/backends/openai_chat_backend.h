// OpenAiChatBackend (`openai-chat:URL`): the message-level path over POST
// /v1/chat/completions with tools and SSE streaming (DeepSeek API, vLLM,
// SGLang, llama-server, any OpenAI-compatible endpoint). The server renders
// and parses; tool calls come back structured, their arguments streamed in
// fragments keyed by index; reasoning_content (or vLLM's "reasoning") is
// streamed as reasoning. The conversation is sent as OpenAI messages: the
// system message's "tools" become the request's tools, v4rt's "raw" is
// dropped. Not thread-safe.
#pragma once

#include <nlohmann/json.hpp>

#include "agents/backends/remote_common.h"
#include "agents/model_backend.h"

namespace v4rt::agents::backends {

// The request body for messages (exposed for tests): model, messages, tools,
// stream with usage, max_tokens.
nlohmann::json chat_request_body(const nlohmann::ordered_json& messages, const RemoteOptions& o, int max_tokens);

class OpenAiChatBackend : public ModelBackend {
 public:
  explicit OpenAiChatBackend(RemoteOptions options);
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
