// v4rt code: the repository coding agent (headless with -p, else a REPL).
#include <unistd.h>

extern char** environ;

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>
#include <set>
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
#include "base/file_util.h"
#include "base/terminal_text.h"
#include "base/thread_pool.h"
#include "model/config.h"
#include "runtime/engine.h"

namespace v4rt::cli {

namespace {

// Interactive approval on the terminal: y = once, n = refuse, a = always (this
// command, or this tool, for the rest of the session), t = refuse and tell the
// model why (a line the user types). The decision is shown.
agents::Approver terminal_approver() {
  auto always = std::make_shared<std::set<std::string>>();
  return [always](const tools::PermissionRequest& req, const std::string& reason) -> agents::Approval {
    const bool by_command = req.kind == tools::ToolKind::kExecute && !req.subject.empty();
    const std::string key = req.tool + (by_command ? "\n" + req.subject : std::string());
    if (always->count(key)) {
      std::fprintf(stderr, "v4rt: allowed (always, for this session)\n");
      return tools::Decision::kAllow;
    }
    std::fputs(approval_prompt(req, reason).c_str(), stderr);  // model text escaped (issue 11, hole 9)
    std::fflush(stderr);
    FILE* tty = std::fopen("/dev/tty", "r");
    if (!tty) return tools::Decision::kDeny;
    auto read_line = [tty] {
      char buf[1024];
      std::string line = std::fgets(buf, sizeof buf, tty) ? buf : "";
      while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
      return line;
    };
    std::string line = read_line();
    char c = line.empty() ? 'n' : static_cast<char>(std::tolower(static_cast<unsigned char>(line[0])));
    agents::Approval answer(tools::Decision::kDeny);
    if (c == 'y') {
      answer = tools::Decision::kAllow;
      std::fprintf(stderr, "v4rt: allowed once\n");
    } else if (c == 'a') {
      always->insert(key);
      answer = tools::Decision::kAllow;
      std::fprintf(stderr, "v4rt: allowed; %s will not be asked again in this session\n",
                   by_command ? "this command" : ("the tool " + terminal_safe(req.tool)).c_str());
    } else if (c == 't') {
      std::fputs("  tell the model why (one line): ", stderr);
      std::fflush(stderr);
      answer = agents::Approval(tools::Decision::kDeny, read_line());
      std::fprintf(stderr, "v4rt: refused; the model is told why\n");
    } else {
      std::fprintf(stderr, "v4rt: refused\n");
    }
    std::fclose(tty);
    return answer;
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

// The project a directory belongs to: the git top-level (a `.git` directory
// or file), else the nearest directory with `.v4rt/settings.json` (not $HOME,
// whose ~/.v4rt is the user's state), else the directory itself.
std::filesystem::path find_project_root(const std::filesystem::path& start) {
  namespace fs = std::filesystem;
  std::error_code ec;
  for (fs::path d = start;; d = d.parent_path()) {
    if (fs::exists(d / ".git", ec)) return d;
    if (d == d.root_path() || d.parent_path() == d) break;
  }
  const char* home = std::getenv("HOME");
  fs::path home_dir = home && *home ? fs::weakly_canonical(home, ec) : fs::path();
  for (fs::path d = start;; d = d.parent_path()) {
    if (d != home_dir && fs::exists(d / ".v4rt" / "settings.json", ec)) return d;
    if (d == d.root_path() || d.parent_path() == d) break;
  }
  return start;
}

// The user's settings: $XDG_CONFIG_HOME/v4rt/settings.json (else
// ~/.config/v4rt/settings.json): {"model", "backend", "permissions": {"mode",
// "allow", "ask", "deny"}}. Under the project file and the flags.
struct UserSettings {
  std::string file, model, backend, mode;
  std::vector<std::string> allow, ask, deny;
};

Result<UserSettings> load_user_settings() {
  namespace fs = std::filesystem;
  UserSettings u;
  const char* xdg = std::getenv("XDG_CONFIG_HOME");
  const char* home = std::getenv("HOME");
  if (xdg && *xdg) u.file = (fs::path(xdg) / "v4rt" / "settings.json").string();
  else if (home && *home) u.file = (fs::path(home) / ".config" / "v4rt" / "settings.json").string();
  else return u;
  std::error_code ec;
  if (!fs::exists(u.file, ec)) return u;
  auto text = read_file(u.file);
  if (!text) return text.status();
  auto j = nlohmann::json::parse(*text, nullptr, false);
  auto bad = [&](const std::string& why) { return Status::InvalidArgument(u.file + ": " + why + "; fix the file"); };
  if (j.is_discarded() || !j.is_object()) return bad("not a JSON object");
  for (const auto& [k, v] : j.items()) {
    if (k == "model" || k == "backend") {
      if (!v.is_string()) return bad("\"" + k + "\" must be a string");
      (k == "model" ? u.model : u.backend) = v.get<std::string>();
    } else if (k == "permissions") {
      if (!v.is_object()) return bad("\"permissions\" must be an object");
      for (const auto& [pk, pv] : v.items()) {
        if (pk == "mode") {
          if (!pv.is_string()) return bad("\"permissions.mode\" must be a string");
          u.mode = pv.get<std::string>();
        } else if (pk == "allow" || pk == "ask" || pk == "deny") {
          if (!pv.is_array()) return bad("\"permissions." + pk + "\" must be an array of rules");
          for (const auto& r : pv) {
            if (!r.is_string()) return bad("\"permissions." + pk + "\" holds a rule that is not a string");
            (pk == "allow" ? u.allow : pk == "ask" ? u.ask : u.deny).push_back(r.get<std::string>());
          }
        } else {
          return bad("unknown key \"permissions." + pk + "\"; known: mode, allow, ask, deny");
        }
      }
    } else {
      return bad("unknown key \"" + k + "\"; known: model, backend, permissions");
    }
  }
  return u;
}

// What a first run without a model can do instead (issue 17).
const char kNoModelHelp[] =
    "no model: the local backend needs a checkpoint. Choose one of:\n"
    "  --model DIR (or V4RT_MODEL=DIR)   a Hugging Face DeepSeek-V4 checkpoint directory; its weights are memory-"
    "mapped, so RAM of about the checkpoint's size keeps it fast (`v4rt model inspect DIR` shows size and needs)\n"
    "  v4rt model init --preset small --out DIR   a small random-weight model for a local demo (answers are noise)\n"
    "  --backend replay:FILE             recorded model outputs (demos, tests; see docs/agent.md)";

}  // namespace

int cmd_code(int argc, char** argv) {
  std::string prompt, output_format = "text", backend_spec = "local", model_dir, store_dir, state_dir;
  std::string workspace = ".", permission_mode, resume;
  std::vector<std::string> allow, ask, deny;
  std::string only_tools;
  std::vector<std::string> plugins;
  std::string mcp_config;
  bool unsandboxed = false, allow_network = false, cont = false, no_compact = false, thinking = true;
  bool list_sessions = false, trust_project = false;
  long long repo_tokens = 32000, context_limit = 0, max_total_tokens = 0, save_every = 1024;
  int max_steps = 50, max_turn_tokens = 4096;
  double max_wall_s = 0, temperature = 0.6;
  FlagSet flags("v4rt code [flags] [-p TASK | TASK]",
                "The repository coding agent. With -p it runs one task headless and exits (0: the model answered; "
                "1: it stopped for another reason, see stop_reason; 2: usage; 130: interrupted); otherwise it "
                "opens an interactive session, starting with TASK when given (slash commands: /help /sessions /resume ID "
                "/fork /clear /compact /cost /model /save /exit). "
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
  flags.at_least(0);
  flags.add_double("request-timeout-s", &request_timeout_s,
                   "remote backends: seconds the server may stay silent (before its answer or mid-stream)");
  flags.at_least(0);
  flags.add_int("max-retries", &max_retries,
                "remote backends: re-sends on connect errors, 429 and 5xx (never once an answer has started)");
  flags.at_least(0);
  flags.add_string("model", &model_dir, "checkpoint directory for the local backend", "DIR", "V4RT_MODEL");
  flags.add_string("store", &store_dir, "session store for cached prefixes (default STATE/store)", "DIR", "V4RT_STORE");
  flags.add_string("state-dir", &state_dir, "where sessions are kept (default ~/.v4rt/code)", "DIR", "V4RT_STATE_DIR");
  flags.add_string("workspace", &workspace,
                   "the repository to work in (default: the project of the current directory: its git top-level, "
                   "else the nearest directory with .v4rt/settings.json; shell commands start in the current directory)",
                   "DIR");
  flags.add_string("permission-mode", &permission_mode,
                   "read-only, workspace-write or full (default: project file, else workspace-write)", "MODE");
  flags.add_list("allow", &allow, "allow rule, e.g. 'shell(make *)'", "RULE");
  flags.add_list("ask", &ask, "ask rule", "RULE");
  flags.add_list("deny", &deny, "deny rule (deny wins)", "RULE");
  flags.add_string("tools", &only_tools, "comma-separated built-in tools to offer (default: all)", "LIST");
  flags.add_list("plugin", &plugins, "load this tool plugin (.so) too; see `v4rt tools list`", "PATH");
  flags.add_string("mcp-config", &mcp_config, "JSON file with \"mcpServers\" (Claude Code's shape) to start", "FILE");
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
  flags.at_least(0);
  flags.add_int("repo-context-tokens", &repo_tokens, "token budget of the repository prefix (0: none)");
  flags.at_least(0);
  flags.add_bool("thinking", &thinking, "thinking mode (--no-thinking: chat mode)");
  flags.add_int("max-steps", &max_steps, "model turns per task");
  flags.at_least(1);
  flags.add_int("max-turn-tokens", &max_turn_tokens, "tokens one model turn may generate");
  flags.at_least(1);
  flags.add_int("max-tokens", &max_total_tokens, "generated tokens per task (0: no limit)");
  flags.at_least(0);
  flags.add_double("max-wall-s", &max_wall_s, "seconds per task, cutting a running tool or turn (0: no limit)");
  flags.at_least(0);
  flags.add_double("temperature", &temperature, "sampling temperature (0: greedy); sent to remote backends only when given");
  flags.at_least(0);
  flags.add_int("save-every", &save_every,
                "local backend: save a prefix-cache point every N prompt tokens, so the next run restores the "
                "repository prefix instead of prefilling it (0: only at turn ends)");
  flags.at_least(0);
  // Short spellings as in Claude Code: -p TASK, -c (continue), -r ID (resume).
  std::vector<std::string> args;
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    args.push_back(a == "-p" ? "--prompt" : a == "-c" ? "--continue" : a == "-r" ? "--resume" : a);
  }
  std::vector<char*> cargs;
  for (auto& a : args) cargs.push_back(a.data());
  if (Status s = flags.parse(static_cast<int>(cargs.size()), cargs.data()); !s.ok()) return report(s, "v4rt code --help");
  if (flags.help_requested()) {
    std::fputs(flags.help().c_str(), stdout);
    return 0;
  }
  // `v4rt code "task"`: the first task of an interactive session (as Claude
  // Code); without a terminal on stdin it runs headless like -p.
  std::string first_task;
  for (const auto& p : flags.positional()) first_task += (first_task.empty() ? "" : " ") + p;
  if (!first_task.empty() && flags.was_set("prompt"))
    return report(Status::InvalidArgument("the task is given twice (-p and '" + flags.positional()[0] +
                                          "'); pass it once"),
                  "v4rt code --help");
  if (flags.was_set("resume") && cont)
    return report(Status::InvalidArgument("--continue and --resume both choose a session; pass one of them"),
                  "v4rt code --help");
  if (flags.was_set("resume") && resume.empty())
    return report(Status::InvalidArgument("--resume needs a session id (see --list-sessions)"), "v4rt code --help");
  auto user = load_user_settings();
  if (!user) return report(user.status());
  if (!flags.was_set("model") && !user->model.empty()) model_dir = user->model;
  if (!flags.was_set("backend") && !user->backend.empty()) backend_spec = user->backend;
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
    if (format != CodeOutput::kText) {
      nlohmann::json arr = nlohmann::json::array();
      for (const auto& t : *all)
        arr.push_back({{"session_id", t.id}, {"workspace", t.workspace}, {"created", t.created},
                       {"updated", t.updated}, {"messages", t.messages.size()}});
      std::printf("%s\n", arr.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
      return 0;
    }
    for (const auto& t : *all)
      std::printf("%s  %s  %zu messages\n", t.id.c_str(), terminal_safe(t.workspace).c_str(), t.messages.size());
    return 0;
  }
  bool headless = flags.was_set("prompt");
  if (!first_task.empty() && !isatty(0)) {
    prompt = first_task;
    headless = true;
  }
  // Headless runs (-p, or a task piped on stdin) cancel cleanly on Ctrl-C from
  // here on (exit 130); the REPL arms its own guard per task.
  std::optional<InterruptGuard> guard;
  if (headless || !isatty(0)) guard.emplace();
  // Workspace: the project the current directory belongs to, unless given.
  std::string start_dir;
  if (!flags.was_set("workspace")) {
    std::error_code ec;
    std::filesystem::path here = std::filesystem::current_path(ec);
    if (!ec) {
      std::filesystem::path root = find_project_root(here);
      workspace = root.string();
      start_dir = here.lexically_relative(root).generic_string();
      if (start_dir == ".") start_dir.clear();
    }
  }
  if (prompt == "-") {
    prompt.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  }
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
    if (model_dir.empty()) return report(Status::InvalidArgument(kNoModelHelp), "v4rt code --help");
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
  o.user_permission_mode = user->mode;
  // The user's rules join the command line's (deny wins over ask over allow whatever their source).
  o.allow = user->allow;
  o.ask = user->ask;
  o.deny = user->deny;
  o.allow.insert(o.allow.end(), allow.begin(), allow.end());
  o.ask.insert(o.ask.end(), ask.begin(), ask.end());
  o.deny.insert(o.deny.end(), deny.begin(), deny.end());
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
  for (const auto& p : plugins) o.plugins.push_back(p);
  o.mcp_config = mcp_config;
  o.budget.max_steps = max_steps;
  o.budget.max_tokens_per_turn = max_turn_tokens;
  o.budget.max_total_tokens = max_total_tokens;
  o.budget.max_wall_s = max_wall_s;
  o.start_dir = start_dir;
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
  if (interactive) a.set_approver(terminal_approver());
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
      return run_code_repl(a, color, first_task);
    }
  }
  auto renderer = make_code_renderer(format, color);
  // The init event: what a script needs to follow up on this run (--resume ID).
  agents::AgentEvent init;
  init.kind = agents::AgentEvent::Kind::kStart;
  nlohmann::json tool_names = nlohmann::json::array();
  for (const auto& n : a.registry().names()) tool_names.push_back(n);
  init.extra = {{"session_id", a.session_id()},
                {"model", backend_spec == "local" ? model_dir : backend->describe()},
                {"backend", backend_spec.substr(0, backend_spec.find(':'))},
                {"workspace", a.workspace_root().string()},
                {"cwd", start_dir.empty() ? "." : start_dir},
                {"tools", tool_names},
                {"permission_mode", std::string(tools::permission_mode_name(a.policy().mode()))},
                {"resumed", a.resumed()}};
  renderer->on_event(init);
  auto r = a.run_task(prompt, renderer.get(), guard->token());
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
