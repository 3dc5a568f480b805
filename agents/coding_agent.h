// CodingAgent: one `v4rt code` session: the workspace, its built-in tools, the
// permission policy (project file + flags), the shell sandbox, hooks, the
// repository context prefix, the conversation and its transcript file, and
// the agent loop that runs tasks in it. The CLI (headless and REPL) is a thin
// layer over this. Not thread-safe: one task at a time.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "agents/agent_loop.h"
#include "agents/model_backend.h"
#include "agents/repo_context.h"
#include "agents/transcript_store.h"
#include "base/status.h"
#include "tools/file_memory.h"
#include "tools/hooks.h"
#include "tools/permission_policy.h"
#include "tools/sandbox.h"
#include "tools/tool_registry.h"
#include "tools/workspace.h"

namespace v4rt::agents {

struct CodingAgentOptions {
  std::filesystem::path workspace;          // the repository (required)
  std::filesystem::path state_dir;          // transcripts go to state_dir/sessions (required)
  std::string permission_mode;              // "" = project file, else user_permission_mode, else workspace-write
  std::string user_permission_mode;         // the user's settings file (under the project file)
  std::vector<std::string> allow, ask, deny;  // rules from the command line (after the project file)
  bool unsandboxed = false;                 // run shell commands without bwrap (explicit opt-in)
  bool allow_network = false;               // sandboxed commands keep the network
  std::filesystem::path home;               // the user's $HOME (hidden in the sandbox; "~/" in settings paths)
  std::vector<std::string> host_env;        // KEY=VALUE; the sandbox keeps only its allow-list of it
  int64_t repo_context_tokens = 32000;      // 0: no repository prefix
  bool thinking = true;                     // thinking mode (reasoning kept across turns with tools)
  int64_t context_limit_tokens = 0;         // compaction threshold base (0: no automatic compaction)
  bool compact = true;                      // automatic compaction (--no-compact turns it off)
  std::string resume_id;                    // continue this session
  bool continue_latest = false;             // continue the latest session of this workspace
  Budget budget;
  size_t max_tool_output_bytes = 30000;
  std::vector<std::string> only_tools;      // non-empty: keep just these built-in tools
  // Workspace-relative directory the user started in (a subdirectory of the
  // project root): shell commands run there by default. "" or ".": the root.
  std::string start_dir;
};

class CodingAgent {
 public:
  // backend is borrowed. Errors: bad workspace, bad project file or rules,
  // unknown session.
  static Result<std::unique_ptr<CodingAgent>> create(const CodingAgentOptions& options, ModelBackend& backend);

  // Appends the task as a user message and runs the loop; saves the transcript.
  Result<RunSummary> run_task(const std::string& task, AgentObserver* observer, std::stop_token stop = {});
  void set_approver(Approver approver);

  // Compacts now (/compact); returns what was done ("" if nothing to do).
  std::string compact_now();
  Status save();
  // New session id with a copy of this conversation (/fork); this agent continues in the fork.
  Result<std::string> fork();
  // Switches to another saved session (/resume).
  Status resume(const std::string& id);
  // Saves this session and starts a new, empty one with the same system
  // message (/clear); returns the new id.
  Result<std::string> clear();
  // The model backend in words (/model).
  std::string backend_description() const { return backend_ ? backend_->describe() : std::string(); }

  const std::string& session_id() const { return transcript_.id; }
  const TranscriptStore& transcripts() const { return store_; }
  const RepoContext& repo_context() const { return repo_; }
  std::string sandbox_warning() const { return sandbox_warning_; }
  // Lines for the user (stderr): project settings left out because they are
  // not approved, sandbox limits that could not be set up. Not yet escaped for a terminal.
  const std::vector<std::string>& warnings() const { return warnings_; }
  const tools::Sandbox* sandbox() const { return sandbox_.get(); }
  const tools::ToolRegistry& registry() const { return registry_; }
  const nlohmann::ordered_json& messages() const { return transcript_.messages; }
  const tools::PermissionPolicy& policy() const { return policy_; }
  const std::filesystem::path& workspace_root() const { return workspace_.root(); }
  // Whether this session was continued (--resume/--continue) rather than started.
  bool resumed() const { return resumed_; }

 private:
  explicit CodingAgent(tools::Workspace ws, TranscriptStore store)
      : workspace_(std::move(ws)), store_(std::move(store)) {}
  void build_loop(ModelBackend& backend);

  tools::Workspace workspace_;
  TranscriptStore store_;
  CodingAgentOptions options_;
  tools::FileMemory memory_;
  // Declared before registry_: the tools (and their background jobs) are
  // destroyed first, then the sandbox removes its cgroup and private dirs.
  std::unique_ptr<tools::Sandbox> sandbox_;
  tools::ToolRegistry registry_;
  tools::PermissionPolicy policy_;
  tools::Hooks hooks_;
  std::string sandbox_warning_;
  std::vector<std::string> warnings_;
  RepoContext repo_;
  Transcript transcript_;
  Approver approver_;
  std::unique_ptr<AgentLoop> loop_;
  ModelBackend* backend_ = nullptr;
  bool resumed_ = false;
};

// A saved session belongs to the workspace it ran in: its tools' paths and
// commands mean something only there. InvalidArgument naming both workspaces
// when `transcript_workspace` is not `workspace_root`.
Status check_session_workspace(const std::string& id, const std::string& transcript_workspace,
                               const std::filesystem::path& workspace_root);

// The bytes of <workspace_root>/.v4rt/settings.json when it exists and is not
// approved in state_dir (what an approval prompt shows and then approves);
// nullopt when absent or approved. IoError when it exists but cannot be read.
Result<std::optional<std::string>> unapproved_project_settings(const std::filesystem::path& workspace_root,
                                                               const std::filesystem::path& state_dir);

// The fixed instructions of the coding agent (no dates or ids: the prompt
// prefix must be identical from run to run to be reused from the cache).
std::string coding_instructions(const std::string& workspace_root, const std::string& extra);

}  // namespace v4rt::agents
