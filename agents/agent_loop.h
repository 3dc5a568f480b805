// AgentLoop: render (parsers::ChatEncoder) -> generate (ModelBackend) ->
// parse (parsers::DsmlStream, tolerant) -> validate -> check permission ->
// hooks -> run tools -> append results -> repeat, until the model answers
// without tool calls, the user stops it, or a budget (steps, tokens, wall
// time) runs out. Invalid calls, refused calls, tool failures and unparsable
// output go back to the model as tool results / a notice it can act on.
// Consecutive read-only calls of one turn run concurrently. Assistant turns
// are stored with their raw generated text ("raw"), so the encoder re-renders
// history byte for byte and the engine's cached prefix stays valid; reasoning
// is kept or dropped exactly as the encoder's rules say.
// Not thread-safe: one run() at a time; the borrowed objects must outlive it.
#pragma once

#include <cstdint>
#include <functional>
#include <stop_token>
#include <string>

#include <nlohmann/json.hpp>

#include "agents/agent_events.h"
#include "agents/model_backend.h"
#include "parsers/chat_encoder.h"
#include "base/status.h"
#include "tools/hooks.h"
#include "tools/permission_policy.h"
#include "tools/sandbox.h"
#include "tools/tool.h"
#include "tools/tool_registry.h"

namespace v4rt::agents {

struct Budget {
  int max_steps = 50;               // model turns per run()
  int max_tokens_per_turn = 4096;   // tokens one model turn may generate
  int64_t max_total_tokens = 0;     // generated tokens over the run (0: no limit)
  double max_wall_s = 0;            // seconds for the run (0: no limit)
  int max_parse_errors = 3;         // consecutive unparsable turns before giving up
};

// The user's answer to an approval prompt: kAllow or kDeny, and for a refusal
// optionally what the user wants the model told (it reaches the tool result).
struct Approval {
  Approval(tools::Decision d, std::string why = "") : decision(d), note(std::move(why)) {}  // NOLINT: implicit
  tools::Decision decision;
  std::string note;
};

// Asked when the policy says "ask". Absent (non-interactive): every "ask" is
// refused with a hint to pre-approve.
using Approver = std::function<Approval(const tools::PermissionRequest& request, const std::string& reason)>;

// Called before each render when the prompt is near the context limit; may
// shorten messages (compaction). Returns a description of what it did, or "".
using Compactor = std::function<std::string(nlohmann::ordered_json& messages)>;

struct AgentOptions {
  parsers::ChatOptions chat;             // thinking mode, effort (prefix-stable with tools)
  size_t max_tool_output_bytes = 30000;  // per tool result
  int max_parallel_tools = 8;            // read-only calls of one turn run concurrently
  int64_t context_limit_tokens = 0;      // 0: no compaction
  double compact_at = 0.8;               // compact when the prompt passes this share of the limit
  // Workspace-relative directory a command tool (one with a "cwd" argument)
  // runs in when the model names none: where the user started v4rt. "": the root.
  std::string default_cwd;
};

struct RunSummary {
  std::string stop_reason;  // answered, max_steps, max_tokens, wall_time, cancelled, parse_errors, backend_error
  std::string final_text;   // the last answer's content
  int steps = 0;
  int tool_calls = 0;
  int tool_errors = 0;
  int64_t prompt_tokens = 0;     // last turn's prompt
  int64_t reused_tokens = 0;     // summed over turns
  int64_t generated_tokens = 0;  // summed over turns
  double prefill_s = 0, decode_s = 0, wall_s = 0;
  Status backend_status;         // when stop_reason == backend_error
};

class AgentLoop {
 public:
  // base: workspace, memory and output limits shared by every call (the stop
  // token is set per run). sandbox, hooks, approver, compactor may be null.
  AgentLoop(ModelBackend& backend, tools::ToolRegistry& registry, tools::ToolContext base,
            tools::PermissionPolicy& policy, const tools::Sandbox* sandbox, const tools::Hooks* hooks,
            Approver approver, AgentOptions options);

  void set_compactor(Compactor c) { compactor_ = std::move(c); }

  // messages: the conversation (system first, carrying "tools"; then user,
  // assistant, tool messages); the loop appends to it. Returns the summary;
  // a non-ok Status only for a conversation the encoder rejects.
  Result<RunSummary> run(nlohmann::ordered_json& messages, const Budget& budget, AgentObserver* observer,
                         std::stop_token stop = {});

 private:
  struct Call;
  void process_calls(std::vector<Call>& calls, AgentObserver* observer, std::stop_token stop);

  ModelBackend& backend_;
  tools::ToolRegistry& registry_;
  tools::ToolContext base_;
  tools::PermissionPolicy& policy_;
  const tools::Sandbox* sandbox_;
  const tools::Hooks* hooks_;
  Approver approver_;
  AgentOptions options_;
  Compactor compactor_;
  parsers::ChatEncoder encoder_;
};

// The system message of a coding session: instructions + the tool declarations.
nlohmann::ordered_json make_system_message(const std::string& instructions, const tools::ToolRegistry& registry);

// Checks arguments against a tool's JSON schema (parsers::validate_json) and
// names unknown keys. Quoted integers/booleans are converted first where the
// schema asks for them (args is updated). Returns "" when valid, else one line per problem.
std::string check_arguments(const nlohmann::json& schema, nlohmann::json& args);

}  // namespace v4rt::agents
