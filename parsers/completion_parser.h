// Whole-text parsing of one generated assistant turn (spec §6.7).
//
// parse_completion_reference() reproduces the official parser
// (encoding_dsv4.py, parse_message_from_completion_text) exactly: the same
// accepted texts, the same content/reasoning/arguments strings, the same
// error categories (shared/golden/chat/parse.jsonl). It is the oracle the
// streaming parser (parsers/dsml_stream.h) is tested against.
//
// parse_completion() is what callers use: strict mode is the reference;
// tolerant mode feeds the whole text to a DsmlStream (docs/dsml-parsing.md).
// Stateless; thread-safe.
#pragma once

#include <string_view>

#include "parsers/dsml_stream.h"
#include "parsers/tool_call.h"
#include "base/status.h"

namespace v4rt::parsers {

// `text`: everything generated after the prompt, including the trailing EOS.
// thinking: the prompt ended in <think> (text starts with the reasoning).
// On failure returns InvalidArgument and, if `error` is given, fills it.
Result<ParsedMessage> parse_completion_reference(std::string_view text, bool thinking,
                                                 ParseError* error = nullptr);

// Strict: parse_completion_reference. Tolerant: DsmlStream over the whole text.
Result<ParsedMessage> parse_completion(std::string_view text, const DsmlOptions& options,
                                       ParseError* error = nullptr);

// Length in bytes of the Python-`\s` whitespace character (str.isspace) that
// starts at s[i], or 0 if there is none (or the UTF-8 there is incomplete).
size_t python_space_length(std::string_view s, size_t i);

}  // namespace v4rt::parsers
