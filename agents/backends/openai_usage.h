// OpenAiStreamState: what the OpenAI streaming protocol (completions and chat
// completions) carries besides the generated text -- "[DONE]", the
// finish_reason, usage (prompt, completion and cached prompt tokens), an
// in-stream error object -- and the check that a stream really ended. Not
// thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "agents/backends/sse_reader.h"
#include "base/status.h"

namespace v4rt::agents::backends {

struct OpenAiStreamState {
  bool done = false;           // "data: [DONE]" seen
  std::string finish_reason;   // of choices[0], once sent
  int64_t prompt_tokens = 0, completion_tokens = 0, cached_tokens = 0;
  int events = 0;

  // Decodes one event into out (null for [DONE] and empty keep-alives),
  // recording finish_reason and usage. Corruption for data that is not a
  // JSON object; IoError for an {"error": ...} event.
  Status accept(const SseEvent& e, std::string_view what, nlohmann::json& out);
  // After the transfer: IoError when the stream ended before [DONE] or a
  // finish_reason (the server or the connection cut it short).
  Status check_complete(std::string_view what, const std::string& url, bool truncated, size_t bytes) const;
};

}  // namespace v4rt::agents::backends
