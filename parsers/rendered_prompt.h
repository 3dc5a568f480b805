// RenderedPrompt: a chat prompt as text, plus which bytes of it the chat
// encoder wrote itself (its structure) as opposed to content it copied in.
// A tokenizer matches special-token text (<｜User｜>, </think>, ｜DSML｜, EOS)
// only inside the structure; in content such text is literal bytes, so a file,
// a tool result or a task cannot forge a turn (runtime::Tokenizer::
// encode_structured). Plain value; thread-compatible.
//
// Structure: BOS, role and transition tokens, think tags, the EOS that closes
// an assistant turn, DSML framing, <tool_result> framing, joiners, and the
// fixed templates (tools preamble, effort paragraphs, response-format header).
// Content: every message's text (system included: it carries repository
// context), tool results, tool schemas (plugins and MCP servers write them),
// tool names and argument values, and the assistant's own earlier text
// (reasoning, answer), since a model may copy hostile text into its output.
// docs/chat-format.md, "Structure and content", has the rules for "raw".
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace v4rt::parsers {

// A byte range [begin, end) of RenderedPrompt::text.
struct PromptRange {
  size_t begin = 0;
  size_t end = 0;
};

struct RenderedPrompt {
  std::string text;
  // Sorted, disjoint, non-empty, never touching (touching ranges are merged).
  std::vector<PromptRange> structure;
};

}  // namespace v4rt::parsers
