// v4rt code: the repository coding agent (headless with -p, else a REPL).
#include <unistd.h>

extern char** environ;

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "agents/cli/approval_prompt.h"
#include "agents/cli/code_cli.h"
#include "agents/cli/commands.h"
#include "agents/cli/flags.h"
#include "agents/backends/remote_backend_factory.h"
#include "agents/coding_agent.h"
#include "agents/local_backend.h"
#include "agents/project_trust.h"
#include "agents/replay_backend.h"
#include "base/terminal_text.h"
#include "base/thread_pool.h"
#include "model/config.h"
#include "runtime/engine.h"

namespace v4rt::cli {

namespace {

// Interactive approval on the terminal: y = once, a = always (adds an allow rule), n = refuse.
agents::Approver terminal_approver(agents::CodingAgent& agent) {
  (void)agent;
  return [](const tools::PermissionRequest& req, const std::string& reason) {
    std::fputs(approval_prompt(req, reason).c_str(), stderr);  // model text escaped (issue 11, hole 9)
    std::fflush(stderr);
    std::string line;
    FILE* tty = std::fopen("/dev/tty", "r");
    if (!tty) return tools::Decision::kDeny;
    char buf[256];
    if (std::fgets(buf, sizeof buf, tty)) line = buf;
    std::fclose(tty);
    return (!line.empty() && (line[0] == 'y' || line[0] == 'Y')) ? tools::Decision::kAllow : tools::Decision::kDeny;
  };
}

// Project settings the user has not approved: --trust-project approves them;
// on a terminal the user sees the file (escaped) and answers; otherwise they
// stay unapproved and CodingAgent applies only their restrictions.
Status approve_project_settings(const std::string& workspace, const std::string& state_dir, bool trust_flag) {
  std::error_code ec;
  std::filesystem::path root = std::filesystem::canonical(workspace, ec);
  if (ec) return Status::Ok();  // CodingAgent::create reports the bad workspace
  auto pending = agents::unapproved_project_settings(root, state_dir);
  if (!pending) return pending.status();
  if (!*pending) return Status::Ok();
  agents::ProjectTrust trust = agents::ProjectTrust::in_state_dir(state_dir);
  std::filesystem::path file = root / ".v4rt" / "settings.json";
  if (trust_flag) {
    V4RT_RETURN_IF_ERROR(trust.approve(root, **pending));
    std::fprintf(stderr, "v4rt: approved %s (--trust-project)\n", terminal_safe(file.string()).c_str());
    return Status::Ok();
  }
  if (!isatty(0) || !isatty(2)) return Status::Ok();
  FILE* tty = std::fopen("/dev/tty", "r");
  if (!tty) return Status::Ok();
  std::fprintf(stderr,
               "\nv4rt: %s is new or changed since you last approved it. It can widen permissions, run hooks on "
               "this machine and open the sandbox:\n----\n%s\n----\ntrust it for this workspace? [y/N]: ",
               terminal_safe(file.string()).c_str(), terminal_safe(**pending).c_str());
  std::fflush(stderr);
  char buf[64] = {};
  bool yes = std::fgets(buf, sizeof buf, tty) && (buf[0] == 'y' || buf[0] == 'Y');
  std::fclose(tty);
  if (yes) V4RT_RETURN_IF_ERROR(trust.approve(root, **pending));
  return Status::Ok();
}

}  // namespace

int cmd_code(int argc, char** argv) {
  std::string prompt, output_format = "text", backend_spec = "local", model_dir, store_dir, state_dir;
  std::string workspace = ".", permission_mode, resume;
  std::vector<std::string> allow, ask, deny;
  std::string only_tools;
  bool unsandboxed = false, allow_network = false, cont = false, no_compact = false, thinking = true;
  bool list_sessions = false, trust_project = false;
  long long repo_tokens = 32000, context_limit = 0, max_total_tokens = 0, save_every = 1024;
  int max_steps = 50, max_turn_tokens = 4096;
  double max_wall_s = 0, temperature = 0.6;
  FlagSet flags("v4rt code [flags] [-p TASK]",
                "The repository coding agent. With -p it runs one task headless and exits (0: the model answered; "
                "1: it stopped for another reason, see stop_reason; 2: usage; 130: interrupted); otherwise it "
                "opens an interactive session (slash commands: /sessions /resume ID /fork /compact /save /exit). "
                "The repository is rendered once into a cached prompt prefix; shell commands run in a bubblewrap "
                "sandbox. --backend replay:FILE plays recorded model outputs (demos, bug reports, tests).",
                "v4rt code -p \"make the tests pass\" --permission-mode workspace-write --output-format stream-json");
  flags.add_string("prompt", &prompt, "the task (also -p); '-' reads it from stdin", "TASK");
  flags.add_string("output-format", &output_format, "text, json or stream-json", "FMT");
  flags.add_string("backend", &backend_spec,
                   "local (the engine, needs --model), replay:FILE, openai-completions:URL, openai-chat:URL or "
                   "anthropic:URL "
                   "(docs/backends.md)", "SPEC", "V4RT_BACKEND");
  std::string remote_model, api_key_env;
  std::vector<std::string> remote_headers;
  double connect_timeout_s = 10, request_timeout_s = 300;
  int max_retries = 4;
  flags.add_string("remote-model", &remote_model, "remote backends: the server's model name", "NAME", "V4RT_REMOTE_MODEL");
  flags.add_string("api-key-env", &api_key_env,
                   "remote backends: the environment variable holding the API key (default DEEPSEEK_API_KEY for "
                   "deepseek.com, else ANTHROPIC_API_KEY for anthropic:, else OPENAI_API_KEY); never the key itself", "NAME");
  flags.add_list("header", &remote_headers, "remote backends: extra request header 'Name: value'", "HDR");
  flags.add_double("connect-timeout-s", &connect_timeout_s, "remote backends: seconds to connect");
  flags.add_double("request-timeout-s", &request_timeout_s,
                   "remote backends: seconds the server may stay silent (before its answer or mid-stream)");
  flags.add_int("max-retries", &max_retries,
                "remote backends: re-sends on connect errors, 429 and 5xx (never once an answer has started)");
  flags.add_string("model", &model_dir, "checkpoint directory for the local backend", "DIR", "V4RT_MODEL");
  flags.add_string("store", &store_dir, "session store for cached prefixes (default STATE/store)", "DIR", "V4RT_STORE");
  flags.add_string("state-dir", &state_dir, "where sessions are kept (default ~/.v4rt/code)", "DIR", "V4RT_STATE_DIR");
  flags.add_string("workspace", &workspace, "the repository to work in", "DIR");
  flags.add_string("permission-mode", &permission_mode,
                   "read-only, workspace-write or full (default: project file, else workspace-write)", "MODE");
  flags.add_list("allow", &allow, "allow rule, e.g. 'shell(make *)'", "RULE");
  flags.add_list("ask", &ask, "ask rule", "RULE");
  flags.add_list("deny", &deny, "deny rule (deny wins)", "RULE");
  flags.add_string("tools", &only_tools, "comma-separated built-in tools to offer (default: all)", "LIST");
  flags.add_bool("unsandboxed", &unsandboxed, "run shell commands without the bwrap sandbox (dangerous)");
  flags.add_bool("allow-network", &allow_network, "give sandboxed commands network access");
  flags.add_bool("trust-project", &trust_project,
                 "approve the workspace's .v4rt/settings.json as it is now (until it changes, its allow rules, "
                 "wider mode, hooks, sandbox settings and instructions are ignored)");
  flags.add_string("resume", &resume, "continue the session with this id", "ID");
  flags.add_bool("continue", &cont, "continue the latest session of this workspace");
  flags.add_bool("list-sessions", &list_sessions, "list saved sessions and exit");
  flags.add_bool("no-compact", &no_compact, "never compact the conversation automatically");
  flags.add_int("context-limit", &context_limit,
                "context size in tokens; compaction starts at 80% of it (default: the model's max_position_embeddings; 0: off)");
  flags.add_int("repo-context-tokens", &repo_tokens, "token budget of the repository prefix (0: none)");
  flags.add_bool("thinking", &thinking, "thinking mode (--no-thinking: chat mode)");
  flags.add_int("max-steps", &max_steps, "model turns per task");
  flags.add_int("max-turn-tokens", &max_turn_tokens, "tokens one model turn may generate");
  flags.add_int("max-tokens", &max_total_tokens, "generated tokens per task (0: no limit)");
  flags.add_double("max-wall-s", &max_wall_s, "seconds per task (0: no limit)");
  flags.add_double("temperature", &temperature, "sampling temperature (0: greedy); sent to remote backends only when given");
  flags.add_int("save-every", &save_every,
                "local backend: save a prefix-cache point every N prompt tokens, so the next run restores the "
                "repository prefix instead of prefilling it (0: only at turn ends)");
  // -p is the one short flag: the usual spelling for headless agents.
  std::vector<std::string> args;
  for (int i = 0; i < argc; ++i) args.push_back(std::string(argv[i]) == "-p" ? "--prompt" : argv[i]);
  std::vector<char*> cargs;
  for (auto& a : args) cargs.push_back(a.data());
  if (Status s = flags.parse(static_cast<int>(cargs.size()), cargs.data()); !s.ok()) return report(s, "v4rt code --help");
  if (flags.help_requested()) {
    std::fputs(flags.help().c_str(), stdout);
    return 0;
  }
  if (!flags.positional().empty())
    return report(Status::InvalidArgument("unexpected argument '" + flags.positional()[0] + "'; pass the task with -p"),
                  "v4rt code --help");
  CodeOutput format;
  if (output_format == "text") format = CodeOutput::kText;
  else if (output_format == "json") format = CodeOutput::kJson;
  else if (output_format == "stream-json") format = CodeOutput::kStreamJson;
  else return report(Status::InvalidArgument("--output-format must be text, json or stream-json (got '" + output_format + "')"), "v4rt code --help");
  if (state_dir.empty()) {
    const char* home = std::getenv("HOME");
    state_dir = std::string(home && *home ? home : ".") + "/.v4rt/code";
  }
  if (list_sessions) {
    agents::TranscriptStore store(std::filesystem::path(state_dir) / "sessions");
    auto all = store.list();
    if (!all) return report(all.status());
    for (const auto& t : *all)
      std::printf("%s  %s  %zu messages\n", t.id.c_str(), t.workspace.c_str(), t.messages.size());
    return 0;
  }
  if (prompt == "-") {
    prompt.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  }
  bool headless = flags.was_set("prompt");
  if (headless && prompt.find_first_not_of(" \t\n") == std::string::npos)
    return report(Status::InvalidArgument("the task given with -p is empty"), "v4rt code --help");

  // Backend.
  std::unique_ptr<agents::ModelBackend> backend;
  std::unique_ptr<ThreadPool> pool;
  std::unique_ptr<runtime::Engine> engine;
  if (backend_spec.rfind("replay:", 0) == 0) {
    auto r = agents::ReplayBackend::open(backend_spec.substr(7));
    if (!r) return report(r.status());
    backend = std::move(*r);
    if (format == CodeOutput::kText) std::fprintf(stderr, "v4rt: backend %s\n", backend->describe().c_str());
  } else if (backend_spec == "local") {
    if (model_dir.empty())
      return report(Status::InvalidArgument("the local backend needs --model DIR (or --backend replay:FILE)"),
                    "v4rt code --help");
    pool = std::make_unique<ThreadPool>(0);
    runtime::EngineOptions eo;
    eo.model_dir = model_dir;
    eo.store_dir = store_dir.empty() ? std::filesystem::path(state_dir) / "store" : std::filesystem::path(store_dir);
    eo.save_every_tokens = save_every;
    auto e = runtime::Engine::create(eo, *pool);
    if (!e) return report(e.status());
    engine = std::move(*e);
    runtime::SamplingParams sp;
    sp.temperature = temperature;
    backend = std::make_unique<agents::LocalBackend>(*engine, model_dir, sp);
    // Compaction starts near the model's context unless the user chose a limit.
    if (!flags.was_set("context-limit")) context_limit = engine->config().max_position_embeddings;
  } else if (agents::backends::is_remote_spec(backend_spec)) {
    agents::backends::RemoteOptions ro;
    ro.model = remote_model;
    ro.api_key_env = api_key_env.empty() ? agents::backends::default_api_key_env(backend_spec) : api_key_env;
    if (const char* key = std::getenv(ro.api_key_env.c_str())) ro.api_key = key;
    ::unsetenv(ro.api_key_env.c_str());  // tools and their subprocesses never see the key
    ro.extra_headers = remote_headers;
    if (flags.was_set("temperature")) ro.temperature = temperature;
    ro.http.connect_timeout_s = connect_timeout_s;
    ro.http.idle_timeout_s = request_timeout_s;
    ro.http.max_retries = max_retries;
    auto r = agents::backends::make_remote_backend(backend_spec, std::move(ro));
    if (!r) return report(r.status(), "v4rt code --help");
    backend = std::move(*r);
    if (format == CodeOutput::kText) std::fprintf(stderr, "v4rt: backend %s\n", terminal_safe(backend->describe()).c_str());
  } else {
    return report(Status::InvalidArgument("--backend must be 'local', 'replay:FILE', 'openai-completions:URL', "
                                          "'openai-chat:URL' or 'anthropic:URL' (got '" + backend_spec + "')"),
                  "v4rt code --help");
  }

  agents::CodingAgentOptions o;
  o.workspace = workspace;
  o.state_dir = state_dir;
  o.permission_mode = permission_mode;
  o.allow = allow;
  o.ask = ask;
  o.deny = deny;
  o.unsandboxed = unsandboxed;
  if (const char* home = std::getenv("HOME"); home && *home) o.home = home;
  for (char** e = environ; *e; ++e) o.host_env.push_back(*e);
  o.allow_network = allow_network;
  o.repo_context_tokens = repo_tokens;
  o.thinking = thinking;
  o.context_limit_tokens = context_limit;
  o.compact = !no_compact;
  o.resume_id = resume;
  o.continue_latest = cont;
  for (size_t p = 0; p < only_tools.size();) {
    size_t c = only_tools.find(',', p);
    if (c == std::string::npos) c = only_tools.size();
    if (c > p) o.only_tools.push_back(only_tools.substr(p, c - p));
    p = c + 1;
  }
  o.budget.max_steps = max_steps;
  o.budget.max_tokens_per_turn = max_turn_tokens;
  o.budget.max_total_tokens = max_total_tokens;
  o.budget.max_wall_s = max_wall_s;
  if (Status s = approve_project_settings(workspace, state_dir, trust_project); !s.ok()) return report(s);
  auto agent = agents::CodingAgent::create(o, *backend);
  if (!agent) return report(agent.status());
  agents::CodingAgent& a = **agent;
  for (const auto& w : a.warnings()) std::fprintf(stderr, "v4rt: warning: %s\n", terminal_safe(w).c_str());
  if (!a.sandbox_warning().empty())
    std::fprintf(stderr, "v4rt: warning: %s\nv4rt: shell commands will be refused.\n", a.sandbox_warning().c_str());
  if (unsandboxed) std::fprintf(stderr, "v4rt: warning: shell commands run WITHOUT a sandbox (--unsandboxed)\n");
  bool interactive = isatty(0) && isatty(2);
  bool color = isatty(2) && !std::getenv("NO_COLOR");
  if (interactive) a.set_approver(terminal_approver(a));
  if (format == CodeOutput::kText && !a.repo_context().included.empty())
    std::fprintf(stderr, "v4rt: repository context: %zu files, ~%lld tokens (%zu left out)\n",
                 a.repo_context().included.size(), static_cast<long long>(a.repo_context().estimated_tokens),
                 a.repo_context().left_out.size());

  if (!headless) {
    if (!isatty(0)) {  // piped task
      prompt.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
      if (prompt.find_first_not_of(" \t\n") == std::string::npos)
        return report(Status::InvalidArgument("no task: pass -p TASK or pipe it on stdin"), "v4rt code --help");
    } else {
      return run_code_repl(a, color);
    }
  }
  InterruptGuard guard;
  auto renderer = make_code_renderer(format, color);
  auto r = a.run_task(prompt, renderer.get(), guard.token());
  if (!r) return report(r.status());
  if (format == CodeOutput::kText) print_run_summary(*r, a);
  if (r->stop_reason == "answered") return 0;
  if (r->stop_reason == "cancelled") return 130;
  if (format == CodeOutput::kText || r->stop_reason == "backend_error")
    std::fprintf(stderr, "v4rt: stopped: %s%s%s\n", r->stop_reason.c_str(),
                 r->backend_status.ok() ? "" : ": ", r->backend_status.ok() ? "" : r->backend_status.message().c_str());
  return 1;
}

}  // namespace v4rt::cli
