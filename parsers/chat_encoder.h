// ChatEncoder: an OpenAI-style conversation -> the exact DeepSeek-V4 prompt
// text, byte for byte what the reference encode_messages() produces
// (encoding/encoding_dsv4.py; spec §6; rules in docs/chat-format.md).
// Stateless; a const ChatEncoder is safe to share between threads.
//
// Messages are JSON objects with the reference's fields: role (system, user,
// assistant, tool, developer, latest_reminder), content, reasoning_content,
// tool_calls [{id?, type, function: {name, arguments}}], tool_call_id, tools
// (OpenAI function tools), response_format, wo_eos, task. Key order of tool
// schemas, arguments and response_format is kept, so parse input with
// nlohmann::ordered_json.
//
// Byte-stable history (v4rt extension, ignored by the reference): an
// assistant message may carry "raw", the exact text the model generated
// after the generation prompt (reasoning, "</think>", content, DSML block,
// EOS). The encoder then writes those bytes instead of re-serialising
// content / tool_calls, so the prompt of turn N+1 starts with the prompt of
// turn N followed by the generated tokens:
//   * reasoning shown (thinking mode and the reference would show it): raw
//     verbatim;
//   * reasoning not shown (chat mode, dropped old turn, or after a task
//     message): raw minus everything up to and including its first
//     "</think>" (all of raw when it has none). Dropped reasoning is the one
//     case where the prompt is not a prefix extension (spec §6.4): cached KV
//     stays valid only up to that turn's "<｜Assistant｜>";
//   * EOS is appended when raw does not end with it (generation stopped
//     early), unless wo_eos is set.
// The structured fields stay authoritative for everything else (tool_calls
// ids still order tool results).
//
// Errors: InvalidArgument (Unsupported for image blocks) whose message
// starts with a stable category and a colon, e.g. "unknown_role: ...":
//   invalid_thinking_mode, invalid_reasoning_effort, invalid_message,
//   unknown_role, invalid_task, arguments_not_object, unsupported_content,
//   invalid_request.
// Where the reference raises, we fail. Where the reference would print a
// Python repr (a null/number/object content, a null tool result, a null tool
// name), we fail too, with invalid_message, rather than render "None".
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "parsers/rendered_prompt.h"
#include "base/status.h"

namespace v4rt::parsers {

enum class ThinkingMode { kChat, kThinking };

// "low" (or null) adds nothing; "high" and "max" prepend a fixed paragraph
// in thinking mode (parsers/chat_templates.h).
enum class ReasoningEffort { kLow, kHigh, kMax };

struct ChatOptions {
  ThinkingMode thinking_mode = ThinkingMode::kChat;
  ReasoningEffort reasoning_effort = ReasoningEffort::kLow;
  bool drop_thinking = true;          // drop old reasoning (only when no message has tools)
  bool add_default_bos_token = true;  // BOS first, unless a non-empty context is given

  // From {"thinking_mode": "chat"|"thinking", "reasoning_effort": null|"low"|
  // "high"|"max", "drop_thinking": bool, "add_default_bos_token": bool}.
  // Missing keys take the defaults above, except thinking_mode (required).
  // Other keys (e.g. "context") are ignored.
  static Result<ChatOptions> from_json(const nlohmann::ordered_json& options);
};

class ChatEncoder {
 public:
  // Renders `messages` (a JSON array of message objects). `context`, when not
  // null and non-empty, is the list of messages already rendered and cached
  // before them: it changes how `messages` render (tool-result order,
  // reasoning dropping, BOS, effort paragraph) but is not itself rendered.
  Result<std::string> render(const nlohmann::ordered_json& messages, const ChatOptions& options,
                             const nlohmann::ordered_json* context = nullptr) const;
  // The same text, with the byte ranges the encoder wrote itself (its
  // structure: role tokens, BOS/EOS, think tags, DSML framing, templates);
  // the rest is content, to be tokenized literally (rendered_prompt.h).
  Result<RenderedPrompt> render_prompt(const nlohmann::ordered_json& messages, const ChatOptions& options,
                                       const nlohmann::ordered_json* context = nullptr) const;

  // One record of golden render.jsonl / `v4rt chat render` input:
  // {"messages": [...], "tools": [...] | null, "options": {..., "context": [...] | null}}.
  // A non-null "tools" is stored as the "tools" key of messages[0] first.
  Result<std::string> render_request(const nlohmann::ordered_json& request) const;
  Result<RenderedPrompt> render_request_prompt(const nlohmann::ordered_json& request) const;
};

// The category at the start of an encoder error message ("unknown_role"),
// or "error" when the message carries none.
std::string_view chat_error_category(const Status& status);

}  // namespace v4rt::parsers
