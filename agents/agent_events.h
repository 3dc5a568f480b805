// AgentEvent: everything the agent loop does, as one stream of events, so the
// CLI's text view, `--output-format stream-json` and the tests all see the
// same thing. to_json() is the documented stream-json object (docs/agent.md);
// field names are an API: add, never rename. Plain values.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace v4rt::agents {

struct AgentEvent {
  enum class Kind {
    kStart,        // "init": extra = session_id, model, backend, workspace, cwd, tools, permission_mode, resumed
    kTurnStart,    // step
    kReasoning,    // text (delta)
    kText,         // text (delta)
    kToolCall,     // id, name, arguments
    kPermission,   // id, name, decision, reason
    kToolResult,   // id, name, is_error, text
    kTurnEnd,      // step + usage
    kParseError,   // text: what was wrong with the model output (sent back to it)
    kCompacted,    // text: what was summarised
    kDone,         // stop_reason, text = final answer
  };
  Kind kind = Kind::kText;
  int step = 0;
  std::string text;
  std::string id, name;
  nlohmann::json arguments;
  std::string decision, reason;
  bool is_error = false;
  std::string stop_reason;
  int64_t prompt_tokens = 0, reused_tokens = 0, generated_tokens = 0;
  double prefill_s = 0, decode_s = 0;
  nlohmann::json extra;  // kStart: the init fields; kTurnEnd: {"ttft_s","retries"} (remote backends); kDone: totals

  nlohmann::json to_json() const;
};

const char* event_kind_name(AgentEvent::Kind kind);

class AgentObserver {
 public:
  virtual ~AgentObserver() = default;
  virtual void on_event(const AgentEvent& event) = 0;
};

}  // namespace v4rt::agents
