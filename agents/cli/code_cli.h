// Pieces of `v4rt code` shared by the headless runner (cmd_code.cpp) and the
// REPL (code_repl.cpp): output renderers and Ctrl-C handling.
#pragma once

#include <memory>
#include <stop_token>
#include <string>
#include <thread>

#include "agents/agent_events.h"
#include "agents/coding_agent.h"

namespace v4rt::cli {

enum class CodeOutput { kText, kJson, kStreamJson };

// Renders agent events: text (answer on stdout, tool activity on stderr),
// json (one object at the end), stream-json (one JSON object per line).
std::unique_ptr<agents::AgentObserver> make_code_renderer(CodeOutput format, bool color);

// Ctrl-C: the first press requests a stop of the current task (the returned
// token); a second press within 2 s exits with 130. reset() arms it for the next task.
class InterruptGuard {
 public:
  InterruptGuard();
  ~InterruptGuard();
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;
  std::stop_token token() const { return source_.get_token(); }
  void reset();

 private:
  void watch();
  std::stop_source source_;
  std::jthread watcher_;
};

// The text view of a tool result (stderr): labelled by tool and call id,
// FAILED for an error or a shell command that exited non-zero or timed out,
// newlines kept, long output as head + tail; everything escaped.
std::string tool_result_view(const std::string& name, const std::string& id, const std::string& text, bool is_error,
                             bool color);
bool shell_result_failed(const std::string& name, const std::string& text);

// The REPL; returns the exit code.
// first_task (v4rt code "task"): run before the first prompt.
int run_code_repl(agents::CodingAgent& agent, bool color, const std::string& first_task = "");

// Prints the one-line summary of a finished task on stderr (text mode).
void print_run_summary(const agents::RunSummary& s, const agents::CodingAgent& agent);

}  // namespace v4rt::cli
