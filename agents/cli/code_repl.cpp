// The interactive `v4rt code` session: line editing (readline when built with
// it), slash commands, streaming output, Ctrl-C cancels the current task.
#include <cstdio>
#include <iostream>
#include <string>

#ifdef V4RT_HAVE_READLINE
#include <readline/history.h>
#include <readline/readline.h>
#endif

#include "agents/cli/code_cli.h"
#include "base/terminal_text.h"

namespace v4rt::cli {

namespace {

bool read_line(const char* prompt, std::string& out) {
#ifdef V4RT_HAVE_READLINE
  char* l = readline(prompt);
  if (!l) return false;
  out = l;
  if (!out.empty()) add_history(l);
  std::free(l);
  return true;
#else
  std::fputs(prompt, stderr);
  return static_cast<bool>(std::getline(std::cin, out));
#endif
}

const char kHelp[] =
    "commands: /help  /sessions  /resume ID  /fork  /clear (new session)  /compact  /cost  /model  /save  /exit\n"
    "anything else is a task for the agent; Ctrl-C stops the running task\n";

}  // namespace

int run_code_repl(agents::CodingAgent& agent, bool color, const std::string& first_task) {
  std::fprintf(stderr, "v4rt code: session %s in %s\n%s", agent.session_id().c_str(),
               terminal_safe(agent.workspace_root().string()).c_str(), kHelp);
  auto renderer = make_code_renderer(CodeOutput::kText, color);
  InterruptGuard guard;
  std::string line;
  int64_t prompt_tokens = 0, reused_tokens = 0, generated_tokens = 0;
  int tasks = 0;
  bool pending_first = !first_task.empty();
  while (pending_first || read_line("v4rt> ", line)) {
    if (pending_first) {
      line = first_task;
      pending_first = false;
    }
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    if (line[0] == '/') {
      std::string cmd = line.substr(0, line.find(' '));
      std::string arg = line.find(' ') == std::string::npos ? "" : line.substr(line.find(' ') + 1);
      if (cmd == "/exit" || cmd == "/quit") break;
      if (cmd == "/help") {
        std::fputs(kHelp, stderr);
      } else if (cmd == "/clear") {
        auto id = agent.clear();
        std::fprintf(stderr, "v4rt: %s\n", terminal_safe(id ? "new session " + *id + " (the old one is saved)"
                                                            : id.status().message()).c_str());
      } else if (cmd == "/cost") {
        std::fprintf(stderr,
                     "v4rt: %d task%s in this session: %lld tokens generated, %lld prompt tokens restored from the "
                     "cache instead of prefilled; the last prompt was %lld tokens\n",
                     tasks, tasks == 1 ? "" : "s", static_cast<long long>(generated_tokens),
                     static_cast<long long>(reused_tokens), static_cast<long long>(prompt_tokens));
      } else if (cmd == "/model") {
        std::fprintf(stderr, "v4rt: %s\n", terminal_safe(agent.backend_description()).c_str());
      } else if (cmd == "/sessions") {
        auto all = agent.transcripts().list();
        if (!all) { std::fprintf(stderr, "v4rt: %s\n", terminal_safe(all.status().message()).c_str()); continue; }
        for (const auto& t : *all)
          std::fprintf(stderr, "%s %s  %s  %zu messages\n", t.id == agent.session_id() ? "*" : " ", terminal_safe(t.id).c_str(),
                       terminal_safe(t.workspace).c_str(), t.messages.size());
      } else if (cmd == "/resume") {
        Status s = agent.resume(arg);
        std::fprintf(stderr, "v4rt: %s\n", terminal_safe(s.ok() ? "resumed " + arg : s.message()).c_str());
      } else if (cmd == "/fork") {
        auto id = agent.fork();
        std::fprintf(stderr, "v4rt: %s\n", terminal_safe(id ? "forked into session " + *id : id.status().message()).c_str());
      } else if (cmd == "/compact") {
        std::string what = agent.compact_now();
        std::fprintf(stderr, "v4rt: %s\n", what.empty() ? "nothing to compact yet" : terminal_safe(what).c_str());
      } else if (cmd == "/save") {
        Status s = agent.save();
        std::fprintf(stderr, "v4rt: %s\n", terminal_safe(s.ok() ? "saved session " + agent.session_id() : s.message()).c_str());
      } else {
        std::fprintf(stderr, "v4rt: unknown command %s\n%s", terminal_safe(cmd).c_str(), kHelp);
      }
      continue;
    }
    guard.reset();
    auto r = agent.run_task(line, renderer.get(), guard.token());
    if (!r) {
      std::fprintf(stderr, "v4rt: %s\n", terminal_safe(r.status().message()).c_str());
      continue;
    }
    print_run_summary(*r, agent);
    ++tasks;
    prompt_tokens = r->prompt_tokens;
    reused_tokens += r->reused_tokens;
    generated_tokens += r->generated_tokens;
  }
  Status s = agent.save();
  if (!s.ok()) std::fprintf(stderr, "v4rt: %s\n", terminal_safe(s.message()).c_str());
  return 0;
}

}  // namespace v4rt::cli
