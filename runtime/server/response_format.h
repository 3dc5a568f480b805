// Response formatters: generated text -> each API's response, streamed (SSE
// frames) or whole (a JSON body). Chat output goes through the DSML stream
// parser (parsers::DsmlStream, tolerant mode), so reasoning, answer text and
// tool calls come out as the API's own fields and markup never reaches the
// client; completions pass the text through untouched.
//
// One formatter per request; not thread-safe (the server serialises calls).
// Order: start(), feed()* (worker thread, during generation), finish(), then
// body() for a non-streaming response.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "parsers/dsml_stream.h"
#include "runtime/engine.h"
#include "runtime/server/api_request.h"

namespace v4rt::runtime::server {

struct Usage {
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t cached_tokens = 0;  // of prompt_tokens, restored from the warm state or the session store
};
Usage usage_of(const GenerateStats& stats);

// Builds a tool call's OpenAI `arguments` string incrementally from the DSML
// stream's argument deltas; the pieces concatenate to ToolCall::arguments
// (parsers::build_arguments). A parameter with an empty value sends no delta,
// so when one is skipped the rest of that call is held back to its end.
class ArgumentsStreamer {
 public:
  std::string on_delta(const parsers::DsmlEvent& e);
  std::string on_end(const parsers::ToolCall& call);

 private:
  std::string emitted_;
  int param_ = -1;
  bool param_is_string_ = true;
  bool held_ = false;
};

class ResponseFormatter {
 public:
  virtual ~ResponseFormatter() = default;
  // SSE frames that open the stream.
  virtual std::string start() = 0;
  // A generated text piece; returns SSE frames (empty when not streaming or nothing to send).
  virtual std::string feed(std::string_view piece) = 0;
  // End of generation (r: the engine's result); returns the last SSE frames (incl. the terminator).
  virtual std::string finish(const GenerateResult& r) = 0;
  // The non-streaming response body (after finish()).
  virtual nlohmann::ordered_json body() const = 0;
  // A parse failure of the model output, if any (for the access log).
  virtual std::string parse_error() const { return ""; }
};

std::unique_ptr<ResponseFormatter> make_formatter(const ApiRequest& request, const std::string& model_name,
                                                  const std::string& id, int64_t created, int64_t prompt_tokens);

}  // namespace v4rt::runtime::server
