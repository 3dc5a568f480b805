#include "agents/compaction.h"

namespace v4rt::agents {

std::string compact_messages(nlohmann::ordered_json& messages, const CompactionOptions& options) {
  if (!messages.is_array()) return "";
  // Head: system messages and the first user message.
  size_t head = 0;
  while (head < messages.size() && messages[head].value("role", "") == "system") ++head;
  if (head < messages.size() && messages[head].value("role", "") == "user") ++head;
  if (messages.size() <= head + options.keep_tail_messages + 1) return "";
  size_t tail_start = messages.size() - options.keep_tail_messages;
  // The tail must not start with a tool result whose call would be cut off.
  while (tail_start > head && messages[tail_start].value("role", "") == "tool") --tail_start;
  if (tail_start <= head + 1) return "";
  std::string summary = "[v4rt: summary of " + std::to_string(tail_start - head) +
                        " earlier messages, compacted to save context]\n";
  for (size_t i = head; i < tail_start; ++i) {
    const auto& m = messages[i];
    std::string role = m.value("role", "");
    std::string line;
    if (role == "assistant") {
      std::string content = m.value("content", "");
      if (!content.empty()) line += "assistant: " + content.substr(0, 200) + "\n";
      if (m.contains("tool_calls"))
        for (const auto& tc : m["tool_calls"]) {
          std::string args = tc["function"].value("arguments", "");
          line += "called " + tc["function"].value("name", "?") + " " + args.substr(0, 120) + "\n";
        }
    } else if (role == "tool") {
      std::string c = m.value("content", "");
      line += std::string("  -> ") + (c.rfind("error:", 0) == 0 ? c.substr(0, 160) : "ok (" + std::to_string(c.size()) + " bytes)") + "\n";
    } else if (role == "user") {
      line += "user: " + m.value("content", "").substr(0, 300) + "\n";
    }
    if (summary.size() + line.size() > options.max_summary_bytes) {
      summary += "[...]\n";
      break;
    }
    summary += line;
  }
  nlohmann::ordered_json note = nlohmann::ordered_json::object();
  note["role"] = "user";
  note["content"] = summary;
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (size_t i = 0; i < head; ++i) out.push_back(messages[i]);
  out.push_back(note);
  for (size_t i = tail_start; i < messages.size(); ++i) out.push_back(messages[i]);
  size_t removed = tail_start - head;
  messages = std::move(out);
  return "compacted " + std::to_string(removed) + " older messages into a summary; kept the last " +
         std::to_string(messages.size() - head - 1) + " verbatim";
}

}  // namespace v4rt::agents
