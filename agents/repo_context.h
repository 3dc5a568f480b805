// Repository-wide context for the coding agent: the repository's text files
// rendered into one block that goes at the start of the conversation, where
// the engine's session cache keeps its KV: the second task on an unchanged
// repository starts without prefilling it again. Files: tracked by git (or,
// outside git, every file not .gitignore'd), binaries and huge files skipped,
// least recently modified first (ties by path) so that an edit invalidates as
// little of the cached prefix as possible; files are added until the token
// budget (estimated as bytes / 4) is spent. Thread-safe (no shared state).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "tools/workspace.h"

namespace v4rt::agents {

struct RepoContextOptions {
  int64_t budget_tokens = 32000;     // estimated tokens for all files together
  size_t max_file_bytes = 256 << 10;  // larger files are listed but not included
};

struct RepoContext {
  std::string text;                 // "" when no file fits
  std::vector<std::string> included;
  std::vector<std::string> left_out;  // over budget, binary or too large
  int64_t estimated_tokens = 0;
};

// argv for running git on a repository the model may have written to: the
// repository's own .git/config must not make v4rt run code. Overrides (from
// the command line, which beats every config file): no fsmonitor, hooks from
// /dev/null, no untracked cache, no external diff or textconv, cat as pager,
// no credential helper or askpass, no transport protocols, no editor.
// The user's global and system config still apply (the user is trusted).
std::vector<std::string> safe_git_argv(const std::vector<std::string>& args);

Result<RepoContext> render_repo_context(const tools::Workspace& workspace, const RepoContextOptions& options);

}  // namespace v4rt::agents
