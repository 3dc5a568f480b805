#include "agents/coding_agent.h"

#include <algorithm>

#include "agents/code_settings.h"
#include "agents/compaction.h"
#include "agents/project_trust.h"
#include "base/file_util.h"
#include "tools/builtin_tools.h"
#include "tools/file_io.h"

namespace v4rt::agents {

namespace fs = std::filesystem;

Result<std::optional<std::string>> unapproved_project_settings(const fs::path& workspace_root,
                                                               const fs::path& state_dir) {
  fs::path file = workspace_root / ".v4rt" / "settings.json";
  std::error_code ec;
  if (!fs::exists(file, ec)) return std::optional<std::string>();
  auto text = read_file(file);
  if (!text) return text.status();
  if (ProjectTrust::in_state_dir(state_dir).is_trusted(workspace_root, *text)) return std::optional<std::string>();
  return std::optional<std::string>(std::move(*text));
}

std::string coding_instructions(const std::string& root, const std::string& extra) {
  std::string s =
      "You are v4rt code, a coding agent. You work in the repository at " + root +
      " (the workspace). Use the tools to explore the code (list, glob, grep, read), change it (edit, write, "
      "apply_patch) and run commands such as builds and tests (shell). Paths are relative to the workspace root; "
      "nothing outside it can be read or written. Read a file before editing it, make small focused changes, run "
      "the tests after changing code, and fix what fails. When a tool returns an error, read the message and "
      "adjust. When the task is done, answer with a short summary of what you changed, without tool calls.";
  if (!extra.empty()) s += "\n\n" + extra;
  return s;
}

namespace {

// AGENTS.md and CLAUDE.md from the start directory up to the project root,
// nearest first, read through the workspace's confinement (a symlink out is
// refused) and the read path rules (a denied file stays out).
std::string project_instructions(const tools::Workspace& ws, const std::string& start_dir,
                                 const tools::PermissionPolicy& policy) {
  constexpr size_t kMaxBytes = 32 * 1024;
  std::string out;
  fs::path dir = start_dir.empty() ? fs::path(".") : fs::path(start_dir).lexically_normal();
  for (int depth = 0; depth < 64; ++depth) {
    for (const char* name : {"AGENTS.md", "CLAUDE.md"}) {
      std::string rel = dir == "." ? std::string(name) : (dir / name).generic_string();
      auto f = tools::read_text_file(ws, rel, [&policy](const std::string& p) { return policy.may_read(p); });
      if (!f) continue;  // absent, unreadable or refused
      std::string text = f->text.size() > kMaxBytes ? f->text.substr(0, kMaxBytes) + "\n[... cut at 32 KiB]" : f->text;
      out += "### " + f->rel + "\n" + text + (text.empty() || text.back() != '\n' ? "\n" : "") + "\n";
    }
    if (dir == "." || dir.empty()) break;
    dir = dir.parent_path();
    if (dir.empty()) dir = ".";
  }
  if (out.empty()) return out;
  return "Project instructions from the repository's AGENTS.md / CLAUDE.md files (the nearest first: where they "
         "disagree, the nearer one wins; the user's requests win over both):\n\n" + out;
}

}  // namespace

Status check_session_workspace(const std::string& id, const std::string& transcript_workspace,
                               const fs::path& workspace_root) {
  std::error_code ec;
  fs::path theirs = fs::weakly_canonical(transcript_workspace, ec);
  if (ec) theirs = transcript_workspace;
  if (theirs == workspace_root) return Status::Ok();
  return Status::InvalidArgument("session " + id + " belongs to the workspace " + transcript_workspace +
                                 ", not to this one (" + workspace_root.string() +
                                 "); its tool calls name paths and commands of that repository. Resume it there "
                                 "(v4rt code --workspace " + transcript_workspace + " --resume " + id +
                                 "), or start a new session here");
}

Result<std::unique_ptr<CodingAgent>> CodingAgent::create(const CodingAgentOptions& options, ModelBackend& backend) {
  auto ws = tools::Workspace::open(options.workspace);
  if (!ws) return ws.status();
  std::unique_ptr<CodingAgent> a(new CodingAgent(*ws, TranscriptStore(options.state_dir / "sessions")));
  a->options_ = options;
  a->backend_ = &backend;
  // Policy: the user's default mode, the project file (in full only when
  // approved), then the command line.
  if (!options.user_permission_mode.empty()) {
    auto m = tools::parse_permission_mode(options.user_permission_mode);
    if (!m) return m.status().with_context("user settings permissions.mode");
    a->policy_.set_mode(*m);
  }
  CodeSettings settings;
  fs::path settings_file = a->workspace_.root() / ".v4rt" / "settings.json";
  std::error_code ec;
  if (fs::exists(settings_file, ec)) {
    auto text = read_file(settings_file);
    if (!text) return text.status();
    bool trusted = ProjectTrust::in_state_dir(options.state_dir).is_trusted(a->workspace_.root(), *text);
    std::vector<std::string> ignored;
    V4RT_RETURN_IF_ERROR(apply_code_settings(*text, settings_file.string(), trusted, a->policy_, a->hooks_, settings,
                                             &ignored));
    if (!ignored.empty()) {
      std::string list;
      for (const auto& i : ignored) list += (list.empty() ? "" : ", ") + i;
      a->warnings_.push_back(settings_file.string() +
                             " is not approved (new, or changed since you approved it); ignored until you approve "
                             "it: " + list + ". Its deny and ask rules apply. Review the file, then run "
                             "`v4rt code --trust-project` (or answer the prompt on a terminal) to approve it.");
    }
  }
  if (!options.permission_mode.empty()) {
    auto m = tools::parse_permission_mode(options.permission_mode);
    if (!m) return m.status();
    a->policy_.set_mode(*m);
  }
  const std::pair<const std::vector<std::string>*, tools::Decision> lists[] = {
      {&options.allow, tools::Decision::kAllow}, {&options.ask, tools::Decision::kAsk},
      {&options.deny, tools::Decision::kDeny}};
  for (const auto& [list, action] : lists)
    for (const auto& text : *list) {
      auto r = tools::parse_rule(text, action);
      if (!r) return r.status();
      a->policy_.add_rule(*r);
    }
  // Sandbox: checked once, up front; it must know the final mode.
  tools::SandboxOptions so;
  so.enabled = !options.unsandboxed;
  so.allow_network = options.allow_network || settings.sandbox_network;
  so.workspace_writable = a->policy_.mode() != tools::PermissionMode::kReadOnly;
  so.home = options.home;
  so.hidden = {options.state_dir};
  so.env = tools::sandbox_environment(options.host_env, settings.sandbox_env);
  so.max_processes = settings.sandbox_max_processes > 0 ? settings.sandbox_max_processes : kDefaultSandboxMaxProcesses;
  auto expand = [&](const std::string& p) {
    return p.rfind("~/", 0) == 0 ? options.home / p.substr(2) : fs::path(p);
  };
  for (const auto& p : settings.sandbox_writable) so.extra_writable.push_back(expand(p));
  for (const auto& p : settings.sandbox_readable) so.extra_readable.push_back(expand(p));
  tools::BuiltinToolsOptions bo;
  if (so.enabled) {
    auto support = tools::Sandbox::detect(so.bwrap);
    if (!support.ok()) {
      a->sandbox_warning_ = support.status().message();
      bo.shell_options.unavailable_reason = support.status().message();
    } else {
      so.disable_userns = support->disable_userns;
    }
  }
  a->sandbox_ = std::make_unique<tools::Sandbox>(so, a->workspace_.root());
  if (so.enabled && a->sandbox_warning_.empty()) {
    if (Status s = a->sandbox_->prepare(); !s.ok())
      a->warnings_.push_back("sandbox: " + s.message() + "; $HOME and /tmp inside are a fresh tmpfs per command");
    if (a->sandbox_->process_cap().empty())
      a->warnings_.push_back(
          "sandbox: no process cap (running as root without a writable pids cgroup; RLIMIT_NPROC does not "
          "bind root): a fork bomb is stopped only by the command timeout");
  }
  V4RT_RETURN_IF_ERROR(tools::register_builtin_tools(a->registry_, a->sandbox_.get(), bo));
  if (!options.only_tools.empty()) {
    for (const auto& name : options.only_tools)
      if (!a->registry_.find(name))
        return Status::InvalidArgument("--tools: no tool named '" + name + "'; known: read, write, edit, "
                                       "apply_patch, list, glob, grep, shell, job, todo");
    for (const auto& name : a->registry_.names())
      if (std::find(options.only_tools.begin(), options.only_tools.end(), name) == options.only_tools.end())
        V4RT_RETURN_IF_ERROR(a->registry_.remove(name));
  }
  // Conversation: resumed, or new with the repository prefix.
  if (!options.resume_id.empty() || options.continue_latest) {
    auto t = options.resume_id.empty() ? a->store_.latest(a->workspace_.root().string())
                                       : a->store_.load(options.resume_id);
    if (!t) return t.status();
    V4RT_RETURN_IF_ERROR(check_session_workspace(t->id, t->workspace, a->workspace_.root()));
    a->transcript_ = std::move(*t);
    a->resumed_ = true;
  } else {
    RepoContextOptions ro;
    ro.budget_tokens = options.repo_context_tokens;
    auto repo = render_repo_context(a->workspace_, ro);
    if (!repo) return repo.status();
    a->repo_ = std::move(*repo);
    std::string content = coding_instructions(a->workspace_.root().string(), settings.instructions);
    if (!options.start_dir.empty() && options.start_dir != ".")
      content += "\n\nThe user started you in the subdirectory " + options.start_dir +
                 " of the workspace: shell commands run there unless you pass cwd; file tool paths stay relative "
                 "to the workspace root.";
    if (std::string pi = project_instructions(a->workspace_, options.start_dir, a->policy_); !pi.empty())
      content += "\n\n" + pi;
    if (!a->repo_.text.empty()) content += "\n\n" + a->repo_.text;
    a->transcript_.id = TranscriptStore::new_id();
    a->transcript_.workspace = a->workspace_.root().string();
    a->transcript_.messages = nlohmann::ordered_json::array();
    a->transcript_.messages.push_back(make_system_message(content, a->registry_));
  }
  a->build_loop(backend);
  return a;
}

void CodingAgent::build_loop(ModelBackend& backend) {
  tools::ToolContext base;
  base.workspace = &workspace_;
  base.memory = &memory_;
  base.max_output_bytes = options_.max_tool_output_bytes;
  AgentOptions ao;
  ao.chat.thinking_mode = options_.thinking ? parsers::ThinkingMode::kThinking : parsers::ThinkingMode::kChat;
  ao.max_tool_output_bytes = options_.max_tool_output_bytes;
  ao.context_limit_tokens = options_.compact ? options_.context_limit_tokens : 0;
  if (options_.start_dir != ".") ao.default_cwd = options_.start_dir;
  loop_ = std::make_unique<AgentLoop>(backend, registry_, base, policy_, sandbox_.get(), &hooks_, approver_, ao);
  if (options_.compact) loop_->set_compactor([](nlohmann::ordered_json& m) { return compact_messages(m); });
}

void CodingAgent::set_approver(Approver approver) {
  approver_ = std::move(approver);
  build_loop(*backend_);
}

Result<RunSummary> CodingAgent::run_task(const std::string& task, AgentObserver* observer, std::stop_token stop) {
  nlohmann::ordered_json um = nlohmann::ordered_json::object();
  um["role"] = "user";
  um["content"] = task;
  transcript_.messages.push_back(um);
  auto r = loop_->run(transcript_.messages, options_.budget, observer, stop);
  Status saved = save();
  if (!r) return r.status();
  if (!saved.ok()) return saved;
  return r;
}

std::string CodingAgent::compact_now() { return compact_messages(transcript_.messages); }

Status CodingAgent::save() { return store_.save(transcript_); }

Result<std::string> CodingAgent::fork() {
  V4RT_RETURN_IF_ERROR(save());
  Transcript copy = transcript_;
  copy.id = TranscriptStore::new_id();
  copy.created = 0;
  V4RT_RETURN_IF_ERROR(store_.save(copy));
  transcript_ = std::move(copy);
  return transcript_.id;
}

Result<std::string> CodingAgent::clear() {
  V4RT_RETURN_IF_ERROR(save());
  Transcript fresh;
  fresh.id = TranscriptStore::new_id();
  fresh.workspace = transcript_.workspace;
  fresh.messages = nlohmann::ordered_json::array();
  if (!transcript_.messages.empty() && transcript_.messages[0].value("role", "") == "system")
    fresh.messages.push_back(transcript_.messages[0]);
  transcript_ = std::move(fresh);
  memory_.clear();
  return transcript_.id;
}

Status CodingAgent::resume(const std::string& id) {
  auto t = store_.load(id);
  if (!t) return t.status();
  V4RT_RETURN_IF_ERROR(check_session_workspace(t->id, t->workspace, workspace_.root()));
  V4RT_RETURN_IF_ERROR(save());
  transcript_ = std::move(*t);
  memory_.clear();
  return Status::Ok();
}

}  // namespace v4rt::agents
