#include "agents/agent_events.h"

namespace v4rt::agents {

const char* event_kind_name(AgentEvent::Kind kind) {
  switch (kind) {
    case AgentEvent::Kind::kStart: return "init";
    case AgentEvent::Kind::kTurnStart: return "turn_start";
    case AgentEvent::Kind::kReasoning: return "reasoning";
    case AgentEvent::Kind::kText: return "text";
    case AgentEvent::Kind::kToolCall: return "tool_call";
    case AgentEvent::Kind::kPermission: return "permission";
    case AgentEvent::Kind::kToolResult: return "tool_result";
    case AgentEvent::Kind::kTurnEnd: return "turn_end";
    case AgentEvent::Kind::kParseError: return "parse_error";
    case AgentEvent::Kind::kCompacted: return "compacted";
    case AgentEvent::Kind::kDone: return "done";
  }
  return "?";
}

nlohmann::json AgentEvent::to_json() const {
  nlohmann::json j = {{"type", event_kind_name(kind)}};
  switch (kind) {
    case Kind::kStart:
      j.update(extra);
      break;
    case Kind::kTurnStart:
      j["step"] = step;
      break;
    case Kind::kReasoning:
    case Kind::kText:
    case Kind::kParseError:
    case Kind::kCompacted:
      j["text"] = text;
      break;
    case Kind::kToolCall:
      j["id"] = id;
      j["name"] = name;
      j["arguments"] = arguments;
      break;
    case Kind::kPermission:
      j["id"] = id;
      j["name"] = name;
      j["decision"] = decision;
      j["reason"] = reason;
      break;
    case Kind::kToolResult:
      j["id"] = id;
      j["name"] = name;
      j["is_error"] = is_error;
      j["output"] = text;
      break;
    case Kind::kTurnEnd:
      j["step"] = step;
      j["prompt_tokens"] = prompt_tokens;
      j["reused_tokens"] = reused_tokens;
      j["generated_tokens"] = generated_tokens;
      j["prefill_s"] = prefill_s;
      j["decode_s"] = decode_s;
      if (extra.is_object()) j.update(extra);  // remote backends: ttft_s, retries
      break;
    case Kind::kDone:
      j["stop_reason"] = stop_reason;
      j["result"] = text;
      j.update(extra);
      break;
  }
  return j;
}

}  // namespace v4rt::agents
