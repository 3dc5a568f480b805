// API requests -> one internal request: the OpenAI chat and completions
// bodies and the Anthropic messages body are checked (unknown top-level
// fields, wrong types, out-of-range values are errors naming the field),
// converted to the chat encoder's message list and rendered with
// parsers::ChatEncoder (text + structure ranges), so a client's history is
// rendered exactly as the agent renders it and cached prefixes match.
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "parsers/chat_encoder.h"
#include "parsers/rendered_prompt.h"
#include "runtime/sampler.h"

namespace v4rt::runtime::server {

enum class Api { kOpenAIChat, kOpenAICompletion, kAnthropicMessages };

struct ApiRequest {
  Api api = Api::kOpenAIChat;
  std::string model;
  bool stream = false;
  bool include_usage = false;       // OpenAI stream_options.include_usage
  bool chat = true;                 // false: `raw_prompt` is the prompt (completions)
  parsers::RenderedPrompt prompt;   // chat: rendered messages (ends with the generation prompt)
  std::string raw_prompt;           // completions: the prompt text as sent
  bool thinking = false;            // the prompt ends in <think>: output starts with reasoning
  int max_tokens = 0;
  SamplingParams sampling;
  std::vector<std::string> stop;
  bool ignore_eos = false;          // vLLM's extension: generate max_tokens whatever the model says
};

// InvalidArgument whose message names the field ("messages[2].content: ...").
Result<ApiRequest> parse_openai_chat(std::string_view body, const parsers::ChatEncoder& encoder,
                                     int default_max_tokens);
Result<ApiRequest> parse_openai_completion(std::string_view body, int default_max_tokens);
Result<ApiRequest> parse_anthropic_messages(std::string_view body, const parsers::ChatEncoder& encoder);
// /v1/messages/count_tokens: the same body without max_tokens; only the prompt matters.
Result<ApiRequest> parse_anthropic_count_tokens(std::string_view body, const parsers::ChatEncoder& encoder);

}  // namespace v4rt::runtime::server
