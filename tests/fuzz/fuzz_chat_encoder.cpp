// libFuzzer target for the chat encoder and the Python-compatible JSON it
// uses. Input: one render request as in golden render.jsonl
// ({"messages", "tools", "options"}), or any bytes.
// Checks, besides ASan/UBSan: no exception escapes, no kInternal status (that
// would be a bug, not bad input), and py_json dumps/loads round-trips.
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
