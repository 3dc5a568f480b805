// DsmlStream: generated text, fed in pieces of any size -> text / reasoning /
// tool-call events. Not thread-safe (one stream per generation).
//
// The completion grammar is spec §6.7 (DeepSeek-V4 DSML). Two modes:
//   strict    the official parser's grammar exactly; the final result and the
//             first error category equal parse_completion_reference().
//   tolerant  (default, for agents) also accepts the known deviations of real
//             deployments and records each in variants_seen(); markup never
//             reaches text, reasoning or argument values. docs/dsml-parsing.md
//             lists every variant and its outcome.
//
// Chunking never changes the outcome: any split of the same text (inside
// markers, inside multi-byte UTF-8) gives the same events once adjacent
// deltas of the same kind are merged, and the same result. Text is emitted as
// soon as it cannot be the start of a marker (hold-back is at most one
// marker's length, plus an incomplete UTF-8 character), so deltas are whole
// UTF-8 characters when the input is valid UTF-8.
//
// Usage:
//   DsmlStream s({.thinking = true});
//   std::vector<DsmlEvent> ev;
//   for (chunk : generation) { s.feed(chunk, ev); handle(ev); ev.clear(); }
//   s.finish(ev); handle(ev);
//   ParsedMessage m = s.result();   // or s.error()
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "parsers/tool_call.h"

namespace v4rt::parsers {
namespace dsml {
struct Marker;  // parsers/dsml_markers.h
}

struct DsmlOptions {
  bool thinking = false;  // the prompt ended in <think>: the text starts with reasoning
  bool strict = false;    // true: reference grammar only; false: tolerant (the default)
};

struct DsmlEvent {
  enum class Kind {
    kText,          // content delta: `text`
    kReasoning,     // reasoning delta: `text`
    kToolCallStart, // a call's name is complete: `text` = name, `call_index`
    kToolArgDelta,  // part of a parameter value: `text`, `call_index`, `param_index`, `param`, `param_is_string`
    kToolCallEnd,   // a call is complete: `call` (params + reference arguments string), `call_index`
    kError,         // the stream failed: `error`; no events follow
  };
  Kind kind = Kind::kText;
  std::string text;
  int call_index = -1;
  int param_index = -1;
  std::string param;
  bool param_is_string = true;
  ToolCall call;
  ParseError error;
};

// Where the parser is, for the sampler (ds4 samples DSML structure greedily).
enum class DsmlPhase {
  kReasoning,   // free text (reasoning)
  kContent,     // free text (answer)
  kMarkup,      // inside DSML tags/separators: the next bytes are fixed or nearly so
  kToolName,    // inside an invoke header (the tool name)
  kParamName,   // inside a parameter's attributes
  kParamValue,  // inside a parameter value: free text
  kDone,        // EOS seen (or the stream finished)
  kFailed,      // an error was reported
};

class DsmlStream {
 public:
  explicit DsmlStream(DsmlOptions options = {});

  // Appends the events that `chunk` completes to `out`. After an error (or
  // after finish()) further input is ignored.
  void feed(std::string_view chunk, std::vector<DsmlEvent>& out);
  // End of the generation: flushes held-back text and reports the outcome.
  void finish(std::vector<DsmlEvent>& out);

  // What has been parsed so far (complete calls only). After finish() without
  // error this is the final message.
  ParsedMessage result() const;
  // The error, if the stream failed; nullptr otherwise.
  const ParseError* error() const { return error_ ? &*error_ : nullptr; }
  const std::vector<std::string>& variants_seen() const { return variants_; }

  // Sampling hooks. in_structure(): the model is writing DSML structure (tags,
  // separators, names), or text that may be the start of a tag: sample
  // greedily / constrained. False in reasoning, content and parameter values.
  DsmlPhase phase() const;
  bool in_structure() const;
  // The literal continuations the strict grammar allows next, with what is
  // already buffered removed (e.g. {">\n<｜DSML｜invoke name=\"",
  // ">\n</｜DSML｜tool_calls>"}); empty where the next bytes are free text.
  std::vector<std::string> expected_next() const;

 private:
  enum class State {
    kReasoning, kContent, kBlockSep, kHeader, kParamAttrs, kParamValue, kParamSep,
    kAfterBlock, kAfterEos, kDone, kFailed,
  };

  bool step(bool final, std::vector<DsmlEvent>& out);
  bool step_text(bool final, std::vector<DsmlEvent>& out);
  bool step_separator(bool final, std::vector<DsmlEvent>& out);
  bool step_header(bool final, std::vector<DsmlEvent>& out);
  bool step_param_attrs(bool final, std::vector<DsmlEvent>& out);
  bool step_param_value(bool final, std::vector<DsmlEvent>& out);
  bool step_after_block(bool final, std::vector<DsmlEvent>& out);
  bool step_after_eos(bool final, std::vector<DsmlEvent>& out);
  void finish_success(std::vector<DsmlEvent>& out);

  void emit_text(std::string_view s, std::vector<DsmlEvent>& out);
  void emit_arg(std::string_view s, std::vector<DsmlEvent>& out);
  void start_call(std::string name, std::vector<DsmlEvent>& out);
  void end_call(std::vector<DsmlEvent>& out);
  bool add_param(std::vector<DsmlEvent>& out);  // false: duplicate (error reported)
  void consume(size_t n);
  void enter(State s);
  void note(std::string_view variant);
  void note_all(const dsml::Marker& m);
  void fail(std::string category, std::string message, std::vector<DsmlEvent>& out);
  void open_block(const dsml::Marker& m);

  DsmlOptions options_;
  State state_;
  std::string buf_;        // unconsumed input
  size_t buf_offset_ = 0;  // offset of buf_[0] in the whole text
  size_t scan_from_ = 0;   // positions of buf_ below this start no marker
  bool lenient_attrs_failed_ = false;
  bool after_block_ = false;
  bool finished_ = false;

  std::string content_, reasoning_;
  std::vector<ToolCall> calls_;
  bool in_call_ = false;
  ToolCall call_;
  ToolParam param_;
  std::optional<ParseError> error_;
  std::vector<std::string> variants_;
};

}  // namespace v4rt::parsers
