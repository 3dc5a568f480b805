// libFuzzer target for the DSML parsers (parsers/dsml_stream.h,
// parsers/completion_parser.h). Input: byte 0 = flags (bit 0: thinking mode),
// byte 1 = chunking seed, the rest = a completion text.
// Checks, besides ASan/UBSan:
//   - whole text vs. chunked (seeded sizes 1..16, and byte by byte) give the
//     same events (adjacent deltas merged) and the same outcome, both modes;
//   - the strict stream gives the reference parser's outcome (message JSON,
//     or the same error category);
//   - no text/reasoning delta holds a special token (BOS, EOS, <think>,
//     ｜DSML｜; content deltas also </think>); a tolerant stream whose text
//     ends in an error still never crashes.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "parsers/completion_parser.h"
#include "parsers/dsml_stream.h"
#include "parsers/special_tokens.h"

namespace {

using v4rt::parsers::DsmlEvent;
using v4rt::parsers::DsmlOptions;
using v4rt::parsers::DsmlStream;

void require(bool cond, const char* what) {
  if (!cond) {
    std::fprintf(stderr, "fuzz_dsml_stream: %s\n", what);
    std::abort();
  }
}

// Fuzzed text need not be UTF-8: replace bad bytes instead of throwing.
std::string dump(const nlohmann::ordered_json& j) {
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

struct Run {
  std::vector<std::string> events;
  std::string outcome;
};

std::vector<std::string> normalize(const std::vector<DsmlEvent>& events) {
  using K = DsmlEvent::Kind;
  std::vector<std::string> out;
  std::string last_key;
  for (const auto& e : events) {
    std::string key, payload;
    switch (e.kind) {
      case K::kText: key = "t"; payload = e.text; break;
      case K::kReasoning: key = "r"; payload = e.text; break;
      case K::kToolArgDelta:
        key = "a" + std::to_string(e.call_index) + "/" + std::to_string(e.param_index) + e.param;
        payload = e.text;
        break;
      case K::kToolCallStart: key = "s" + std::to_string(e.call_index) + e.text; break;
      case K::kToolCallEnd: key = "e" + std::to_string(e.call_index) + e.call.arguments; break;
      case K::kError: key = "x" + e.error.category + std::to_string(e.error.offset); break;
    }
    const bool delta = e.kind == K::kText || e.kind == K::kReasoning || e.kind == K::kToolArgDelta;
    if (delta && !out.empty() && key == last_key) out.back() += payload;
    else out.push_back(key + ":" + payload);
    last_key = delta ? key : "";
  }
  return out;
}

void check_deltas(const std::vector<DsmlEvent>& events) {
  namespace tk = v4rt::parsers::tokens;
  for (const auto& e : events) {
    if (e.kind != DsmlEvent::Kind::kText && e.kind != DsmlEvent::Kind::kReasoning) continue;
    for (std::string_view sp : {tk::kBos, tk::kEos, tk::kThinkStart, tk::kDsml})
      require(e.text.find(sp) == std::string::npos, "special token inside a text delta");
    if (e.kind == DsmlEvent::Kind::kText)
      require(e.text.find(tk::kThinkEnd) == std::string::npos, "</think> inside a content delta");
  }
}

// sizes: empty = whole text; {0} = byte by byte; else cycled chunk sizes.
Run run(std::string_view text, DsmlOptions options, const std::vector<size_t>& sizes, bool strict_check) {
  DsmlStream s(options);
  std::vector<DsmlEvent> ev;
  if (sizes.empty()) {
    s.feed(text, ev);
  } else {
    size_t at = 0, k = 0;
    while (at < text.size()) {
      size_t n = sizes[k++ % sizes.size()];
      if (n == 0) n = 1;
      if (n > text.size() - at) n = text.size() - at;
      s.feed(text.substr(at, n), ev);
      at += n;
    }
  }
  s.finish(ev);
  if (!options.strict || strict_check) check_deltas(ev);
  Run r;
  r.events = normalize(ev);
  r.outcome = s.error() ? "error:" + s.error()->category : dump(s.result().to_json());
  // After finish() nothing more happens.
  std::vector<DsmlEvent> more;
  s.feed("x", more);
  s.finish(more);
  require(more.empty(), "events after finish()");
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const bool thinking = data[0] & 1;
  uint32_t seed = data[1] * 2654435761u + 1;
  std::string_view text(reinterpret_cast<const char*>(data + 2), size - 2);

  std::vector<size_t> sizes;
  for (int i = 0; i < 8; ++i) {
    seed = seed * 1103515245u + 12345u;
    sizes.push_back(1 + (seed >> 16) % 16);
  }

  for (bool strict : {true, false}) {
    const DsmlOptions options{.thinking = thinking, .strict = strict};
    Run whole = run(text, options, {}, false);
    Run chunked = run(text, options, sizes, false);
    Run bytes = run(text, options, {1}, false);
    require(whole.events == chunked.events, "chunked events differ from whole-text events");
    require(whole.outcome == chunked.outcome, "chunked outcome differs from whole-text outcome");
    require(whole.events == bytes.events, "byte-by-byte events differ from whole-text events");
    require(whole.outcome == bytes.outcome, "byte-by-byte outcome differs from whole-text outcome");
    if (strict) {
      v4rt::parsers::ParseError err;
      auto ref = v4rt::parsers::parse_completion_reference(text, thinking, &err);
      const std::string expected = ref.ok() ? dump(ref->to_json()) : "error:" + err.category;
      require(whole.outcome == expected, "strict stream disagrees with the reference parser");
    }
  }
  return 0;
}
