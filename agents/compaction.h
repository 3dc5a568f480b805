// Compaction: when a conversation nears the context limit, older turns are
// replaced by a summary and the recent tail is kept verbatim. The summary is
// built without the model (deterministic): the original task, each tool call
// made (name, subject, ok/error) and the assistant's remarks, cut to size.
// The system message (instructions, tools, repository context) and the first
// user message are always kept, so the cached prefix before them stays valid.
// Thread-safe (pure function).
#pragma once

#include <cstddef>
#include <string>

#include <nlohmann/json.hpp>

namespace v4rt::agents {

struct CompactionOptions {
  size_t keep_tail_messages = 8;       // verbatim messages at the end
  size_t max_summary_bytes = 8000;
};

// Returns a one-line description of what was compacted, or "" if there was
// nothing to compact (too few messages).
std::string compact_messages(nlohmann::ordered_json& messages, const CompactionOptions& options = {});

}  // namespace v4rt::agents
