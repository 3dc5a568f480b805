#include "parsers/completion_parser.h"

#include <array>
#include <optional>
#include <string>

#include "parsers/special_tokens.h"

namespace v4rt::parsers {
namespace {

constexpr std::string_view kInvokeOpen = "<\uFF5CDSML\uFF5Cinvoke";
constexpr std::string_view kInvokeEnd = "</\uFF5CDSML\uFF5Cinvoke";  // no '>': the reader checks ">\n" after it
constexpr std::string_view kParamOpen = "<\uFF5CDSML\uFF5Cparameter";
constexpr std::string_view kParamEnd = "/\uFF5CDSML\uFF5Cparameter";  // the '<' before it ends the value pattern

// The reference's sequential reader: from `index`, the text up to the first
// (leftmost) occurrence of any stop string. Advances `index` past the stop
// (or to the end) and returns which stop matched (-1: none).
struct Read {
  std::string_view content;
  int stop = -1;
};

template <size_t N>
Read read_until(std::string_view text, size_t& index, const std::array<std::string_view, N>& stops) {
  size_t best = std::string_view::npos;
  int which = -1;
  for (size_t k = 0; k < N; ++k) {
    size_t p = text.find(stops[k], index);
    if (p != std::string_view::npos && (best == std::string_view::npos || p < best)) {
      best = p;
      which = static_cast<int>(k);
    }
  }
  Read r;
  if (which < 0) {
    r.content = text.substr(index);
    index = text.size();
    return r;
  }
  r.content = text.substr(index, best - index);
  r.stop = which;
  index = best + stops[static_cast<size_t>(which)].size();
  return r;
}

// `^\s*name="(.*?)">\n$` (DOTALL, Python `$`: end, or before a final "\n").
std::optional<std::string> match_invoke_header(std::string_view s) {
  size_t i = 0;
  while (size_t n = python_space_length(s, i)) i += n;
  constexpr std::string_view kPrefix = "name=\"";
  if (s.substr(i, kPrefix.size()) != kPrefix) return std::nullopt;
  std::string_view rest = s.substr(i + kPrefix.size());
  for (std::string_view tail : {std::string_view("\">\n"), std::string_view("\">\n\n")}) {
    if (rest.size() >= tail.size() && rest.substr(rest.size() - tail.size()) == tail)
      return std::string(rest.substr(0, rest.size() - tail.size()));
  }
  return std::nullopt;
}

// `^ name="(.*?)" string="(true|false)">(.*?)<$` (DOTALL, Python `$`).
std::optional<ToolParam> match_parameter(std::string_view s) {
  constexpr std::string_view kPrefix = " name=\"";
  if (s.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  // The value must end the content with "<" (or "<\n", Python's `$`).
  size_t value_end;
  if (!s.empty() && s.back() == '<') {
    value_end = s.size() - 1;
  } else if (s.size() >= 2 && s.substr(s.size() - 2) == "<\n") {
    value_end = s.size() - 2;
  } else {
    return std::nullopt;
  }
  // Non-greedy name: the first place where the attribute tail fits.
  constexpr std::string_view kTrue = "\" string=\"true\">";
  constexpr std::string_view kFalse = "\" string=\"false\">";
  for (size_t p = kPrefix.size(); p < s.size(); ++p) {
    for (std::string_view tail : {kTrue, kFalse}) {
      if (s.compare(p, tail.size(), tail) == 0 && p + tail.size() <= value_end) {
        ToolParam param;
        param.name = std::string(s.substr(kPrefix.size(), p - kPrefix.size()));
        param.is_string = tail == kTrue;
        param.value = std::string(s.substr(p + tail.size(), value_end - p - tail.size()));
        return param;
      }
    }
  }
  return std::nullopt;
}

std::string quote_for_message(std::string_view s) {
  std::string r;  // (built by append: GCC 12 warns falsely on "'" + std::string(s))
  r.reserve(s.size() + 2);
  r.push_back('\'');
  r.append(s);
  r.push_back('\'');
  return r;
}

}  // namespace

size_t python_space_length(std::string_view s, size_t i) {
  if (i >= s.size()) return 0;
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) return ((b0 >= 0x09 && b0 <= 0x0d) || (b0 >= 0x1c && b0 <= 0x20)) ? 1 : 0;
  auto at = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  if (b0 == 0xc2 && i + 1 < s.size()) return (at(1) == 0x85 || at(1) == 0xa0) ? 2 : 0;
  if (i + 2 >= s.size()) return 0;
  uint32_t cp = 0;
  if ((b0 & 0xf0) == 0xe0) cp = ((b0 & 0x0fu) << 12) | ((at(1) & 0x3fu) << 6) | (at(2) & 0x3fu);
  else return 0;
  if ((at(1) & 0xc0) != 0x80 || (at(2) & 0xc0) != 0x80) return 0;
  const bool space = cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029 ||
                     cp == 0x202f || cp == 0x205f || cp == 0x3000;
  return space ? 3 : 0;
}

Result<ParsedMessage> parse_completion_reference(std::string_view text, bool thinking, ParseError* error) {
  auto fail = [&](std::string category, std::string message, size_t offset) -> Result<ParsedMessage> {
    ParseError e{std::move(category), std::move(message), offset};
    Status s = e.to_status();
    if (error) *error = std::move(e);
    return s;
  };

  ParsedMessage msg;
  size_t index = 0;
  const std::array<std::string_view, 2> reasoning_stops = {tokens::kThinkEnd, tokens::kToolCallsStart};
  if (thinking) {
    Read r = read_until(text, index, reasoning_stops);
    msg.reasoning_content = std::string(r.content);
    if (r.stop != 0) return fail("missing_think_end", "Invalid thinking format: missing </think>", index);
  }

  const std::array<std::string_view, 2> content_stops = {tokens::kEos, tokens::kToolCallsStart};
  Read r = read_until(text, index, content_stops);
  msg.content = std::string(r.content);
  if (r.stop == 1) {
    // Tool-call block, just after "\n\n<｜DSML｜tool_calls".
    const std::array<std::string_view, 2> block_stops = {kInvokeOpen, tokens::kToolCallsClose};
    const std::array<std::string_view, 2> invoke_stops = {kParamOpen, kInvokeEnd};
    const std::array<std::string_view, 1> param_stops = {kParamEnd};
    while (index < text.size()) {
      const size_t at = index;
      Read sep = read_until(text, index, block_stops);
      if (sep.content != ">\n")
        return fail("tool_call_format", "Tool call format error: expected '>\\n' but got " + quote_for_message(sep.content), at);
      if (sep.stop == 1) break;
      if (sep.stop < 0) return fail("truncated_tool_calls", "Missing special token in tool calls", at);

      const size_t header_at = index;
      Read header = read_until(text, index, invoke_stops);
      std::optional<std::string> name = match_invoke_header(header.content);
      if (!name) return fail("tool_name_format", "Tool name format error: " + quote_for_message(header.content), header_at);
      ToolCall call;
      call.name = std::move(*name);
      int stop = header.stop;
      while (stop == 0) {
        const size_t param_at = index;
        Read body = read_until(text, index, param_stops);
        std::optional<ToolParam> param = match_parameter(body.content);
        if (!param) return fail("parameter_format", "Parameter format error: " + quote_for_message(body.content), param_at);
        for (const ToolParam& p : call.params)
          if (p.name == param->name)
            return fail("duplicate_parameter", "Duplicate parameter name: " + quote_for_message(param->name), param_at);
        call.params.push_back(std::move(*param));
        const size_t after_at = index;
        Read after = read_until(text, index, invoke_stops);
        if (after.content != ">\n")
          return fail("parameter_separator", "Parameter format error: expected '>\\n' but got " + quote_for_message(after.content), after_at);
        stop = after.stop;
      }
      call.arguments = build_arguments(call.params);
      msg.tool_calls.push_back(std::move(call));
    }
    const size_t tail_at = index;
    const std::array<std::string_view, 1> eos_stop = {tokens::kEos};
    Read tail = read_until(text, index, eos_stop);
    if (!tail.content.empty()) return fail("content_after_tool_calls", "Unexpected content after tool calls", tail_at);
  } else if (r.stop != 0) {
    return fail("missing_eos", "Invalid format: missing EOS token", index);
  }
  // After the EOS (or the end of the block) nothing may follow.
  if (index != text.size()) return fail("content_at_end", "Unexpected content at end", index);

  for (std::string_view sp : {tokens::kBos, tokens::kEos, tokens::kThinkStart, tokens::kThinkEnd, tokens::kDsml}) {
    if (msg.content.find(sp) != std::string::npos || msg.reasoning_content.find(sp) != std::string::npos)
      return fail("special_token_in_content", "Unexpected special token '" + std::string(sp) + "' in content", text.size());
  }
  return msg;
}

Result<ParsedMessage> parse_completion(std::string_view text, const DsmlOptions& options, ParseError* error) {
  if (options.strict) return parse_completion_reference(text, options.thinking, error);
  DsmlStream stream(options);
  std::vector<DsmlEvent> events;
  stream.feed(text, events);
  stream.finish(events);
  if (const ParseError* e = stream.error()) {
    if (error) *error = *e;
    return e->to_status();
  }
  return stream.result();
}

}  // namespace v4rt::parsers
