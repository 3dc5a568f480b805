// libFuzzer target for the chat encoder and the Python-compatible JSON it
// uses. Input: one render request as in golden render.jsonl
// ({"messages", "tools", "options"}), or any bytes.
// Checks, besides ASan/UBSan: no exception escapes, no kInternal status (that
// would be a bug, not bad input), py_json dumps/loads round-trips, and
// render_request_prompt gives render_request's bytes with well-formed
// structure ranges.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <nlohmann/json.hpp>

#include "parsers/chat_encoder.h"
#include "parsers/py_json.h"

namespace {

void require(bool cond) {
  if (!cond) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using v4rt::parsers::PyJson;
  std::string_view text(reinterpret_cast<const char*>(data), size);

  // Python json: loads -> dumps -> loads -> dumps is a fixed point.
  auto parsed = v4rt::parsers::py_json_loads(text);
  if (parsed) {
    std::string once = v4rt::parsers::py_json_dumps(*parsed);
    auto again = v4rt::parsers::py_json_loads(once);
    require(again.ok());
    require(v4rt::parsers::py_json_dumps(*again) == once);
  }

  auto request = nlohmann::ordered_json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (request.is_discarded()) return 0;
  v4rt::parsers::ChatEncoder encoder;
  auto prompt = encoder.render_request(request);
  require(prompt.ok() || prompt.status().code() != v4rt::Status::Code::kInternal);
  // render_request_prompt: the same bytes (or the same failure) and
  // well-formed structure ranges (sorted, non-empty, never touching).
  auto structured = encoder.render_request_prompt(request);
  require(structured.ok() == prompt.ok());
  if (structured.ok()) {
    require(structured->text == *prompt);
    size_t last_end = 0;
    for (size_t i = 0; i < structured->structure.size(); ++i) {
      const v4rt::parsers::PromptRange& r = structured->structure[i];
      require(r.begin < r.end && r.end <= structured->text.size());
      require(i == 0 || r.begin > last_end);
      last_end = r.end;
    }
  }
  if (request.is_object() && request.contains("messages")) {
    // Every option combination over the same messages.
    for (const char* mode : {"chat", "thinking"}) {
      for (bool drop : {true, false}) {
        nlohmann::ordered_json options = {{"thinking_mode", mode}, {"drop_thinking", drop}};
        auto parsed_options = v4rt::parsers::ChatOptions::from_json(options);
        require(parsed_options.ok());
        auto r = encoder.render(request["messages"], *parsed_options);
        require(r.ok() || r.status().code() != v4rt::Status::Code::kInternal);
      }
    }
  }
  return 0;
}
