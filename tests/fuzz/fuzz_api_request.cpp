// libFuzzer target: the server's request parsers (OpenAI chat, completions,
// Anthropic messages and count_tokens: JSON -> internal request -> rendered
// prompt) and, for a request that parses, the response formatter fed the
// request's own bytes as model output. Errors are fine; crashes, sanitizer
// reports and structure ranges outside the prompt are not. The first byte
// picks the API; the rest is the body.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "parsers/chat_encoder.h"
#include "runtime/server/api_request.h"
#include "runtime/server/response_format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace v4rt::runtime::server;
  if (size < 1) return 0;
  static const v4rt::parsers::ChatEncoder encoder;
  std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  v4rt::Result<ApiRequest> r = v4rt::Status::InvalidArgument("none");
  switch (data[0] % 4) {
    case 0: r = parse_openai_chat(body, encoder, 16); break;
    case 1: r = parse_openai_completion(body, 16); break;
    case 2: r = parse_anthropic_messages(body, encoder); break;
    default: r = parse_anthropic_count_tokens(body, encoder); break;
  }
  if (!r.ok()) return 0;
  size_t last = 0;
  for (const auto& range : r->prompt.structure) {
    if (range.begin < last || range.end <= range.begin || range.end > r->prompt.text.size()) std::abort();
    last = range.end;
  }
  r->stream = (size & 1) != 0;
  auto f = make_formatter(*r, "m", "id-1", 0, 1);
  f->start();
  for (size_t i = 0; i < body.size(); i += 7) f->feed(body.substr(i, 7));
  v4rt::runtime::GenerateResult g;
  g.stop_reason = (size & 2) ? v4rt::runtime::StopReason::kEos : v4rt::runtime::StopReason::kMaxTokens;
  f->finish(g);
  (void)f->body().dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  return 0;
}
