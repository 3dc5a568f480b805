// Fixed instruction texts of the DeepSeek-V4 chat format (spec §6.3, §6.6),
// byte-exact copies of the reference encoder's constants as they appear in
// rendered prompts (golden render.jsonl). Constants only; thread-safe.
//
//   kToolsPreamble        "## Tools ..." up to and including
//                         "### Available Tool Schemas\n\n" (854 chars); the
//                         tool schemas follow, one JSON line each.
//   kToolsClosing         "\n\nYou MUST strictly follow ...\n" (99 chars),
//                         after the last schema line.
//   kEffortHigh           thinking mode, reasoning_effort "high" (476 chars).
//   kEffortMax            thinking mode, reasoning_effort "max" (526 chars).
//   kResponseFormatHeader "## Response Format:\n\n...reply:\n" (80 chars);
//                         the JSON of response_format follows.
//
// The sha256 of each text is pinned in tests/parsers/chat_encoder_test.cpp.
#pragma once

#include <string_view>

namespace v4rt::parsers::templates {

extern const std::string_view kToolsPreamble;
extern const std::string_view kToolsClosing;
extern const std::string_view kEffortHigh;
extern const std::string_view kEffortMax;
extern const std::string_view kResponseFormatHeader;

}  // namespace v4rt::parsers::templates
