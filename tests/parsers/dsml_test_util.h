// Helpers for the DSML parser tests: golden cases of
// shared/golden/chat/parse.jsonl and a chunking-independent view of events.
#pragma once

#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "parsers/dsml_stream.h"
#include "test_util.h"

namespace v4rt::testing {

struct ParseCase {
  std::string name;
  std::string text;
  bool thinking = false;
  nlohmann::ordered_json expected;
  bool expects_error() const { return expected.contains("error"); }
};

// Empty when the golden data is absent.
inline std::vector<ParseCase> load_parse_cases() {
  std::vector<ParseCase> cases;
  const std::filesystem::path dir = golden_dir();
  if (dir.empty()) return cases;
  std::ifstream in(dir / "chat" / "parse.jsonl", std::ios::binary);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto j = nlohmann::ordered_json::parse(line);
    ParseCase c;
    c.name = j["name"].get<std::string>();
    c.text = j["text"].get<std::string>();
    c.thinking = j["options"]["thinking_mode"].get<std::string>() == "thinking";
    c.expected = j["expected"];
    cases.push_back(std::move(c));
  }
  return cases;
}

// One line per event, adjacent deltas of the same kind (and parameter) merged,
// so that two event sequences compare equal exactly when they say the same.
inline std::vector<std::string> normalize(const std::vector<parsers::DsmlEvent>& events) {
  using K = parsers::DsmlEvent::Kind;
  std::vector<std::string> out;
  std::string last_key;
  for (const auto& e : events) {
    std::string key, payload;
    switch (e.kind) {
      case K::kText: key = "text"; payload = e.text; break;
      case K::kReasoning: key = "reasoning"; payload = e.text; break;
      case K::kToolArgDelta:
        key = "arg " + std::to_string(e.call_index) + "/" + std::to_string(e.param_index) + " " + e.param +
              (e.param_is_string ? " s" : " j");
        payload = e.text;
        break;
      case K::kToolCallStart: key = "start " + std::to_string(e.call_index) + " " + e.text; break;
      case K::kToolCallEnd: key = "end " + std::to_string(e.call_index) + " " + e.call.name + " " + e.call.arguments; break;
      case K::kError: key = "error " + e.error.category + " @" + std::to_string(e.error.offset); break;
    }
    const bool delta = e.kind == K::kText || e.kind == K::kReasoning || e.kind == K::kToolArgDelta;
    if (delta && !out.empty() && key == last_key) {
      out.back() += payload;
    } else {
      out.push_back(key + ": " + payload);
    }
    last_key = delta ? key : "";
  }
  return out;
}

struct StreamRun {
  std::vector<std::string> events;   // normalized
  nlohmann::ordered_json outcome;    // the message JSON, or {"error": category}
};

// Feeds `text` split at the given increasing offsets.
inline StreamRun run_stream(const std::string& text, parsers::DsmlOptions options,
                            const std::vector<size_t>& splits = {}) {
  parsers::DsmlStream s(options);
  std::vector<parsers::DsmlEvent> ev;
  size_t at = 0;
  for (size_t cut : splits) {
    s.feed(std::string_view(text).substr(at, cut - at), ev);
    at = cut;
  }
  s.feed(std::string_view(text).substr(at), ev);
  s.finish(ev);
  StreamRun r;
  r.events = normalize(ev);
  if (const parsers::ParseError* e = s.error()) {
    r.outcome = {{"error", e->category}};
  } else {
    r.outcome = s.result().to_json();
  }
  return r;
}

}  // namespace v4rt::testing
