#include "parsers/dsml_stream.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <utility>

#include "parsers/completion_parser.h"
#include "parsers/dsml_markers.h"
#include "parsers/special_tokens.h"

namespace v4rt::parsers {

using dsml::Marker;
using dsml::MarkerSet;
using dsml::MarkerTables;
using dsml::Scan;
using dsml::complete_utf8_prefix;
using dsml::scan;
using Mk = dsml::MarkerKind;

namespace {

bool is_ascii_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Skips Python-\s whitespace from i. Returns npos if an incomplete UTF-8
// character at the end might still turn out to be whitespace.
size_t skip_python_spaces(std::string_view b, size_t i, bool final) {
  while (i < b.size()) {
    if (size_t n = python_space_length(b, i)) { i += n; continue; }
    const auto c = static_cast<unsigned char>(b[i]);
    const size_t need = c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    if (!final && need > 1 && i + need > b.size()) return std::string_view::npos;
    break;
  }
  return i;
}

// Whether b[i..] and `lit` agree on their common length.
bool compatible(std::string_view b, size_t i, std::string_view lit) {
  const size_t k = std::min(b.size() - i, lit.size());
  return b.compare(i, k, lit.substr(0, k)) == 0;
}

// 'v' for messages, cut at 200 bytes.
std::string quote_text(std::string_view v) {
  std::string r;
  r.push_back('\'');
  r.append(v.substr(0, 200));
  if (v.size() > 200) r.append("...");
  r.push_back('\'');
  return r;
}

// Tolerant invoke header: ws name ws = ws ("..."|'...') ws > ws.
std::optional<std::string> lenient_invoke_header(std::string_view h, bool* single_quoted) {
  size_t i = skip_python_spaces(h, 0, true);
  if (h.compare(i, 4, "name") != 0) return std::nullopt;
  i += 4;
  while (i < h.size() && is_ascii_space(h[i])) ++i;
  if (i >= h.size() || h[i] != '=') return std::nullopt;
  ++i;
  while (i < h.size() && is_ascii_space(h[i])) ++i;
  if (i >= h.size() || (h[i] != '"' && h[i] != '\'')) return std::nullopt;
  const char q = h[i];
  size_t end = h.size();
  while (end > i && is_ascii_space(h[end - 1])) --end;
  if (end == i || h[end - 1] != '>') return std::nullopt;
  --end;
  while (end > i && is_ascii_space(h[end - 1])) --end;
  if (end <= i + 1 || h[end - 1] != q) return std::nullopt;
  *single_quoted = q == '\'';
  return std::string(h.substr(i + 1, end - 1 - (i + 1)));
}

// Tolerant parameter attributes (the text before the first '>'): name="K"
// and optionally string="true|false", either quote, any order, any spacing.
struct LenientAttrs {
  std::string name;
  bool is_string = true;
  bool string_given = false;
};
std::optional<LenientAttrs> lenient_param_attrs(std::string_view a) {
  LenientAttrs out;
  bool have_name = false;
  size_t i = 0;
  while (true) {
    const size_t before = i;
    while (i < a.size() && is_ascii_space(a[i])) ++i;
    if (i >= a.size()) break;
    if (i == before && before != 0) return std::nullopt;  // attributes need a separating space
    size_t k = i;
    while (k < a.size() && (std::isalnum(static_cast<unsigned char>(a[k])) || a[k] == '_')) ++k;
    const std::string_view key = a.substr(i, k - i);
    i = k;
    while (i < a.size() && is_ascii_space(a[i])) ++i;
    if (i >= a.size() || a[i] != '=') return std::nullopt;
    ++i;
    while (i < a.size() && is_ascii_space(a[i])) ++i;
    if (i >= a.size() || (a[i] != '"' && a[i] != '\'')) return std::nullopt;
    const char q = a[i];
    const size_t close = a.find(q, i + 1);
    if (close == std::string_view::npos) return std::nullopt;
    const std::string_view value = a.substr(i + 1, close - i - 1);
    i = close + 1;
    if (key == "name" && !have_name) {
      out.name = std::string(value);
      have_name = true;
    } else if (key == "string" && !out.string_given) {
      if (value == "true" || value == "True") out.is_string = true;
      else if (value == "false" || value == "False") out.is_string = false;
      else return std::nullopt;
      out.string_given = true;
    } else {
      return std::nullopt;
    }
  }
  if (!have_name) return std::nullopt;
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------

DsmlStream::DsmlStream(DsmlOptions options)
    : options_(options), state_(options.thinking ? State::kReasoning : State::kContent) {}

void DsmlStream::feed(std::string_view chunk, std::vector<DsmlEvent>& out) {
  if (finished_ || state_ == State::kFailed || state_ == State::kDone) return;
  buf_.append(chunk);
  while (state_ != State::kDone && state_ != State::kFailed && step(false, out)) {
  }
}

void DsmlStream::finish(std::vector<DsmlEvent>& out) {
  if (finished_) return;
  finished_ = true;
  while (state_ != State::kDone && state_ != State::kFailed && step(true, out)) {
  }
  check(state_ == State::kDone || state_ == State::kFailed, "DsmlStream::finish must reach an outcome");
}

ParsedMessage DsmlStream::result() const {
  ParsedMessage m;
  m.content = content_;
  m.reasoning_content = reasoning_;
  m.tool_calls = calls_;
  m.variants = variants_;
  return m;
}

DsmlPhase DsmlStream::phase() const {
  switch (state_) {
    case State::kReasoning: return DsmlPhase::kReasoning;
    case State::kContent: return DsmlPhase::kContent;
    case State::kHeader: return DsmlPhase::kToolName;
    case State::kParamAttrs: return DsmlPhase::kParamName;
    case State::kParamValue: return DsmlPhase::kParamValue;
    case State::kBlockSep:
    case State::kParamSep:
    case State::kAfterBlock: return DsmlPhase::kMarkup;
    case State::kAfterEos:
    case State::kDone: return DsmlPhase::kDone;
    case State::kFailed: return DsmlPhase::kFailed;
  }
  return DsmlPhase::kFailed;
}

bool DsmlStream::in_structure() const {
  switch (phase()) {
    case DsmlPhase::kMarkup:
    case DsmlPhase::kToolName:
    case DsmlPhase::kParamName: return true;
    case DsmlPhase::kReasoning:
    case DsmlPhase::kContent:
    case DsmlPhase::kParamValue:
      // Held-back text that may open a tag (beyond a plain line break).
      return buf_.find_first_not_of('\n') != std::string::npos;
    default: return false;
  }
}

std::vector<std::string> DsmlStream::expected_next() const {
  std::vector<std::string> lits;
  const std::string dsml(tokens::kDsml);
  switch (state_) {
    case State::kBlockSep:
      lits = {">\n<" + dsml + "invoke name=\"", ">\n" + std::string(tokens::kToolCallsClose)};
      break;
    case State::kParamSep:
      lits = {">\n<" + dsml + "parameter name=\"", ">\n</" + dsml + "invoke>"};
      break;
    case State::kHeader:
      lits = {" name=\""};
      break;
    case State::kParamAttrs:
      lits = {" name=\""};
      break;
    case State::kAfterBlock:
      lits = {std::string(tokens::kEos)};
      break;
    default:
      return {};
  }
  std::vector<std::string> out;
  for (const std::string& l : lits) {
    if (buf_.size() < l.size() && l.compare(0, buf_.size(), buf_) == 0) out.push_back(l.substr(buf_.size()));
  }
  return out;
}

// ---------------------------------------------------------------------------

void DsmlStream::consume(size_t n) {
  buf_.erase(0, n);
  buf_offset_ += n;
  scan_from_ = 0;
}

void DsmlStream::enter(State s) {
  state_ = s;
  scan_from_ = 0;
  lenient_attrs_failed_ = false;
}

void DsmlStream::note(std::string_view variant) {
  if (variant.empty()) return;
  for (const std::string& v : variants_)
    if (v == variant) return;
  variants_.emplace_back(variant);
}

void DsmlStream::note_all(const dsml::Marker& m) {
  for (std::string_view v : m.variants) note(v);
}

void DsmlStream::fail(std::string category, std::string message, std::vector<DsmlEvent>& out) {
  ParseError e{std::move(category), std::move(message), buf_offset_};
  DsmlEvent ev;
  ev.kind = DsmlEvent::Kind::kError;
  ev.error = e;
  out.push_back(std::move(ev));
  error_ = std::move(e);
  state_ = State::kFailed;
}

void DsmlStream::emit_text(std::string_view t, std::vector<DsmlEvent>& out) {
  if (t.empty()) return;
  DsmlEvent ev;
  if (state_ == State::kReasoning) {
    reasoning_ += t;
    ev.kind = DsmlEvent::Kind::kReasoning;
  } else {
    if (after_block_ && t.find_first_not_of(" \t\r\n") != std::string_view::npos) note("content_after_tool_calls");
    content_ += t;
    ev.kind = DsmlEvent::Kind::kText;
  }
  ev.text = std::string(t);
  out.push_back(std::move(ev));
}

void DsmlStream::emit_arg(std::string_view t, std::vector<DsmlEvent>& out) {
  if (t.empty()) return;
  param_.value += t;
  DsmlEvent ev;
  ev.kind = DsmlEvent::Kind::kToolArgDelta;
  ev.text = std::string(t);
  ev.call_index = static_cast<int>(calls_.size());
  ev.param_index = static_cast<int>(call_.params.size());
  ev.param = param_.name;
  ev.param_is_string = param_.is_string;
  out.push_back(std::move(ev));
}

void DsmlStream::start_call(std::string name, std::vector<DsmlEvent>& out) {
  call_ = ToolCall();
  call_.name = std::move(name);
  in_call_ = true;
  DsmlEvent ev;
  ev.kind = DsmlEvent::Kind::kToolCallStart;
  ev.text = call_.name;
  ev.call_index = static_cast<int>(calls_.size());
  out.push_back(std::move(ev));
}

void DsmlStream::end_call(std::vector<DsmlEvent>& out) {
  if (!in_call_) return;
  in_call_ = false;
  call_.arguments = build_arguments(call_.params);
  DsmlEvent ev;
  ev.kind = DsmlEvent::Kind::kToolCallEnd;
  ev.call_index = static_cast<int>(calls_.size());
  ev.call = call_;
  calls_.push_back(std::move(call_));
  call_ = ToolCall();
  out.push_back(std::move(ev));
}

bool DsmlStream::add_param(std::vector<DsmlEvent>& out) {
  for (const ToolParam& p : call_.params) {
    if (p.name == param_.name) {
      fail("duplicate_parameter", "Duplicate parameter name: " + quote_text(param_.name), out);
      return false;
    }
  }
  call_.params.push_back(std::move(param_));
  param_ = ToolParam();
  return true;
}

void DsmlStream::open_block(const dsml::Marker& m) {
  note_all(m);
  if (after_block_) note("multiple_tool_call_blocks");
  enter(m.kind == Mk::kImplicitInvoke ? State::kHeader : State::kBlockSep);
}

void DsmlStream::finish_success(std::vector<DsmlEvent>& out) {
  buf_offset_ += buf_.size();
  buf_.clear();
  if (options_.strict) {
    for (std::string_view sp : {tokens::kBos, tokens::kEos, tokens::kThinkStart, tokens::kThinkEnd, tokens::kDsml}) {
      if (content_.find(sp) != std::string::npos || reasoning_.find(sp) != std::string::npos) {
        fail("special_token_in_content", "Unexpected special token '" + std::string(sp) + "' in content", out);
        return;
      }
    }
  }
  state_ = State::kDone;
}

// ---------------------------------------------------------------------------

bool DsmlStream::step(bool final, std::vector<DsmlEvent>& out) {
  switch (state_) {
    case State::kReasoning:
    case State::kContent: return step_text(final, out);
    case State::kBlockSep:
    case State::kParamSep: return step_separator(final, out);
    case State::kHeader: return step_header(final, out);
    case State::kParamAttrs: return step_param_attrs(final, out);
    case State::kParamValue: return step_param_value(final, out);
    case State::kAfterBlock: return step_after_block(final, out);
    case State::kAfterEos: return step_after_eos(final, out);
    case State::kDone:
    case State::kFailed: return false;
  }
  return false;
}

bool DsmlStream::step_text(bool final, std::vector<DsmlEvent>& out) {
  const bool reasoning = state_ == State::kReasoning;
  const MarkerTables& t = dsml::marker_tables(options_.strict);
  // Strict: at the end a partial marker is plain text (as for the reference).
  // Tolerant: at the end a partial tag is dropped, not shown as text.
  const Scan sc = scan(buf_, 0, reasoning ? t.reasoning : t.content, final && options_.strict);
  size_t emit = sc.pos;
  if (!sc.marker && !sc.partial && !final) emit = complete_utf8_prefix(std::string_view(buf_).substr(0, sc.pos));
  if (final && sc.partial) {  // tolerant only: keep leading line breaks, drop the unfinished tag
    while (emit < buf_.size() && buf_[emit] == '\n') ++emit;
    emit_text(std::string_view(buf_).substr(0, emit), out);
    if (emit < buf_.size()) note("truncated_markup");
    consume(buf_.size());
  } else {
    emit_text(std::string_view(buf_).substr(0, emit), out);
    consume(emit);
  }
  if (sc.marker) {
    const Marker& m = *sc.marker;
    consume(m.text.size());
    switch (m.kind) {
      case Mk::kThinkEnd: enter(State::kContent); return true;
      case Mk::kEos:
        if (reasoning) note("missing_think_end");
        enter(State::kAfterEos);
        return true;
      case Mk::kStray:
        // Chat mode, but the answer opens with <think>: a reasoning block after all.
        if (!reasoning && m.text == tokens::kThinkStart && content_.empty() && calls_.empty() && !after_block_ &&
            reasoning_.empty() && !options_.thinking) {
          note("reasoning_in_chat_mode");
          enter(State::kReasoning);
          return true;
        }
        note("stray_special_token");
        return true;
      case Mk::kBlockOpen:
      case Mk::kImplicitInvoke:
        if (reasoning) {
          if (options_.strict) {
            fail("missing_think_end", "Invalid thinking format: missing </think>", out);
            return false;
          }
          note("tool_calls_in_reasoning");
        }
        open_block(m);
        return true;
      default: check(false, "unexpected marker in text"); return false;
    }
  }
  if (!final) return emit > 0;
  if (!buf_.empty()) return true;  // a partial marker was flushed as text; go round again
  if (reasoning) {
    if (options_.strict) {
      fail("missing_think_end", "Invalid thinking format: missing </think>", out);
      return false;
    }
    note("missing_think_end");
  } else if (!after_block_) {
    if (options_.strict) {
      fail("missing_eos", "Invalid format: missing EOS token", out);
      return false;
    }
    note("missing_eos");
  }
  finish_success(out);
  return false;
}

bool DsmlStream::step_separator(bool final, std::vector<DsmlEvent>& out) {
  const bool block = state_ == State::kBlockSep;
  const MarkerTables& t = dsml::marker_tables(options_.strict);
  const MarkerSet& set = block ? t.block_sep : t.param_sep;
  const char* category = block ? "tool_call_format" : "parameter_separator";
  const std::string expected = block ? "Tool call format error: expected '>\\n' but got "
                                     : "Parameter format error: expected '>\\n' but got ";
  size_t i = 0;
  if (options_.strict) {
    if (!compatible(buf_, 0, ">\n")) {
      fail(category, expected + quote_text(buf_), out);
      return false;
    }
    i = std::min<size_t>(2, buf_.size());
  } else {
    if (!buf_.empty() && buf_[0] == '>') i = 1;
    while (i < buf_.size() && is_ascii_space(buf_[i])) ++i;
  }
  if (i == buf_.size() && !final) return false;
  const Scan sc = scan(buf_, i, set, /*final=*/false);
  if (sc.pos == i && sc.marker) {
    const Marker& m = *sc.marker;
    if (std::string_view(buf_).substr(0, i) != ">\n") note("nonstandard_separator");
    note_all(m);
    consume(i + m.text.size());
    switch (m.kind) {
      case Mk::kInvokeOpen:
        if (!block) end_call(out);
        enter(State::kHeader);
        return true;
      case Mk::kBlockClose:
        if (!block) end_call(out);
        if (options_.strict) {
          enter(State::kAfterBlock);
        } else {
          after_block_ = true;
          enter(State::kContent);
        }
        return true;
      case Mk::kParamOpen: enter(State::kParamAttrs); return true;
      case Mk::kInvokeEnd:
        end_call(out);
        enter(State::kBlockSep);
        return true;
      case Mk::kEos:
        end_call(out);
        enter(State::kAfterEos);
        return true;
      default: check(false, "unexpected marker in separator"); return false;
    }
  }
  if (sc.pos == i && sc.partial) {
    if (!final) return false;  // a marker is arriving
    if (options_.strict) {
      fail(category, expected + quote_text(buf_), out);
      return false;
    }
    note("truncated_markup");  // tolerant: the unfinished tag is dropped below
  } else if (i < buf_.size()) {
    fail(category, expected + quote_text(buf_), out);
    return false;
  }
  // End of the text inside the block (final).
  if (options_.strict) {
    if (block) {
      if (buf_.empty()) { finish_success(out); return false; }
      if (buf_ == ">\n") { fail("truncated_tool_calls", "Missing special token in tool calls", out); return false; }
      fail(category, expected + quote_text(buf_), out);
      return false;
    }
    if (buf_ != ">\n") { fail(category, expected + quote_text(buf_), out); return false; }
    end_call(out);
    finish_success(out);
    return false;
  }
  note("missing_closing_tags");
  end_call(out);
  finish_success(out);
  return false;
}

bool DsmlStream::step_header(bool final, std::vector<DsmlEvent>& out) {
  const MarkerTables& t = dsml::marker_tables(options_.strict);
  // Early rejection: the header must start (after whitespace) with name=" (tolerant: name).
  const size_t i = skip_python_spaces(buf_, 0, final);
  if (i != std::string_view::npos && !compatible(buf_, i, options_.strict ? "name=\"" : "name")) {
    fail("tool_name_format", "Tool name format error: " + quote_text(buf_), out);
    return false;
  }
  const Scan sc = scan(buf_, scan_from_, t.header, final && options_.strict);
  if (!sc.marker && !final) {
    scan_from_ = sc.pos;
    return false;
  }
  // At the end (final) a tolerant stream drops an unfinished tag after the header.
  const std::string_view header = std::string_view(buf_).substr(0, sc.marker || sc.partial ? sc.pos : buf_.size());
  std::optional<std::string> name = [&]() -> std::optional<std::string> {
    // `^\s*name="(.*?)">\n$` as the reference; tolerant also takes other spacing and quotes.
    size_t j = skip_python_spaces(header, 0, true);
    constexpr std::string_view kPrefix = "name=\"";
    if (header.compare(j, kPrefix.size(), kPrefix) == 0) {
      std::string_view rest = header.substr(j + kPrefix.size());
      for (std::string_view tail : {std::string_view("\">\n"), std::string_view("\">\n\n")})
        if (rest.size() >= tail.size() && rest.substr(rest.size() - tail.size()) == tail)
          return std::string(rest.substr(0, rest.size() - tail.size()));
    }
    if (options_.strict) return std::nullopt;
    bool single = false;
    std::optional<std::string> n = lenient_invoke_header(header, &single);
    if (n) note("nonstandard_invoke_header");
    return n;
  }();
  if (!name) {
    fail("tool_name_format", "Tool name format error: " + quote_text(header), out);
    return false;
  }
  start_call(std::move(*name), out);
  if (!sc.marker) {  // end of text right after the header: a call without parameters
    if (!options_.strict) note("missing_closing_tags");
    end_call(out);
    finish_success(out);
    return false;
  }
  const Marker& m = *sc.marker;
  note_all(m);
  consume(sc.pos + m.text.size());
  switch (m.kind) {
    case Mk::kParamOpen: enter(State::kParamAttrs); return true;
    case Mk::kInvokeEnd: end_call(out); enter(State::kBlockSep); return true;
    case Mk::kEos: end_call(out); enter(State::kAfterEos); return true;
    default: check(false, "unexpected marker in invoke header"); return false;
  }
}

bool DsmlStream::step_param_attrs(bool final, std::vector<DsmlEvent>& out) {
  const MarkerTables& t = dsml::marker_tables(options_.strict);
  constexpr std::string_view kPrefix = " name=\"";
  const bool exact = options_.strict || lenient_attrs_failed_;
  if (exact) {
    if (!compatible(buf_, 0, kPrefix)) {
      fail("parameter_format", "Parameter format error: " + quote_text(buf_), out);
      return false;
    }
    if (buf_.size() < kPrefix.size()) {
      if (!final) return false;
      fail("parameter_format", "Parameter format error: " + quote_text(buf_), out);
      return false;
    }
  }
  const size_t from = std::max(scan_from_, exact ? kPrefix.size() : size_t{0});
  const Scan sc = scan(buf_, from, exact ? t.attrs_exact : t.attrs_lenient, final);
  if (!sc.marker) {
    if (!final) {
      scan_from_ = sc.pos;
      return false;
    }
    fail("parameter_format", "Parameter format error: " + quote_text(buf_), out);
    return false;
  }
  const Marker& m = *sc.marker;
  switch (m.kind) {
    case Mk::kAttrTrue:
    case Mk::kAttrFalse:
      param_ = ToolParam();
      param_.name = buf_.substr(kPrefix.size(), sc.pos - kPrefix.size());
      param_.is_string = m.kind == Mk::kAttrTrue;
      consume(sc.pos + m.text.size());
      enter(State::kParamValue);
      return true;
    case Mk::kGt: {
      std::optional<LenientAttrs> a = lenient_param_attrs(std::string_view(buf_).substr(0, sc.pos));
      if (!a) {  // maybe a name holding '>' or '"': fall back to the reference's pattern
        lenient_attrs_failed_ = true;
        scan_from_ = 0;
        return true;
      }
      const std::string canonical = std::string(kPrefix) + a->name + "\" string=\"" + (a->is_string ? "true" : "false") + "\"";
      if (buf_.compare(0, sc.pos, canonical) != 0) note("nonstandard_parameter_attributes");
      param_ = ToolParam();
      param_.name = std::move(a->name);
      param_.is_string = a->is_string;
      consume(sc.pos + 1);
      enter(State::kParamValue);
      return true;
    }
    default:  // the parameter's end (or EOS) before its attributes were complete
      fail("parameter_format", "Parameter format error: " + quote_text(std::string_view(buf_).substr(0, sc.pos)), out);
      return false;
  }
}

bool DsmlStream::step_param_value(bool final, std::vector<DsmlEvent>& out) {
  const MarkerTables& t = dsml::marker_tables(options_.strict);
  // Tolerant mode drops an unfinished closing tag at the very end instead of
  // pasting it into the value.
  const Scan sc = scan(buf_, 0, t.value, final && options_.strict);
  size_t emit = sc.pos;
  if (!sc.marker && !sc.partial && !final) emit = complete_utf8_prefix(std::string_view(buf_).substr(0, sc.pos));
  emit_arg(std::string_view(buf_).substr(0, emit), out);
  consume(emit);
  if (sc.marker) {
    const Marker& m = *sc.marker;
    if (m.kind == Mk::kParamEnd) {
      fail("parameter_format", "Parameter format error: the value of " + quote_text(param_.name) +
                                   " is not followed by '<' before its closing tag", out);
      return false;
    }
    note_all(m);
    consume(m.text.size());
    if (!add_param(out)) return false;
    switch (m.kind) {
      case Mk::kParamEndLt:
      case Mk::kParamEndLtNl: enter(State::kParamSep); return true;
      case Mk::kInvokeEnd: end_call(out); enter(State::kBlockSep); return true;
      case Mk::kEos: end_call(out); enter(State::kAfterEos); return true;
      default: check(false, "unexpected marker in parameter value"); return false;
    }
  }
  if (!final) return emit > 0;
  if (options_.strict) {
    // The reference reads the rest as the parameter: it fits the pattern only
    // if it ends with "<" (or "<\n"); then the missing ">\n" is the error.
    const std::string& v = param_.value;
    const bool fits = (!v.empty() && v.back() == '<') || (v.size() >= 2 && v.compare(v.size() - 2, 2, "<\n") == 0);
    if (!fits) {
      fail("parameter_format", "Parameter format error: " + quote_text(v), out);
      return false;
    }
    if (!add_param(out)) return false;
    fail("parameter_separator", "Parameter format error: expected '>\\n' but got ''", out);
    return false;
  }
  note("missing_closing_tags");
  buf_offset_ += buf_.size();
  buf_.clear();
  if (!add_param(out)) return false;
  end_call(out);
  finish_success(out);
  return false;
}

bool DsmlStream::step_after_block(bool final, std::vector<DsmlEvent>& out) {
  // Strict only: nothing but EOS (or the end) may follow the block.
  if (!compatible(buf_, 0, tokens::kEos) || (final && !buf_.empty() && buf_.size() < tokens::kEos.size())) {
    fail("content_after_tool_calls", "Unexpected content after tool calls", out);
    return false;
  }
  if (buf_.size() >= tokens::kEos.size()) {
    consume(tokens::kEos.size());
    enter(State::kAfterEos);
    return true;
  }
  if (final) finish_success(out);
  return false;
}

bool DsmlStream::step_after_eos(bool final, std::vector<DsmlEvent>& out) {
  if (!buf_.empty()) {
    if (options_.strict) {
      fail("content_at_end", "Unexpected content at end", out);
      return false;
    }
    note("text_after_eos");
    consume(buf_.size());
  }
  if (final) finish_success(out);
  return false;
}

}  // namespace v4rt::parsers
