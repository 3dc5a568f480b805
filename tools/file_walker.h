// walk_files: lists the files under a directory of the workspace the way git
// sees them: .git is skipped, .gitignore rules (root and nested, plus
// .git/info/exclude) are honoured. The walk holds directory fds: each
// subdirectory is opened with openat(O_NOFOLLOW | O_DIRECTORY) from its
// parent's fd, so a directory swapped for a symlink mid-walk is skipped, not
// followed. Symlinked directories are not entered; a symlink to a file is
// listed only when it resolves (through the confinement layer) to a regular
// file inside the workspace. Paths come back relative to the workspace root,
// '/'-separated, sorted. Cancellable: stop is checked per directory and entry.
// Thread-safe (no shared state).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "tools/file_io.h"

namespace v4rt::tools {

class Workspace;

struct WalkOptions {
  bool respect_gitignore = true;
  size_t max_files = 200000;   // stop (truncated = true) after this many
  std::stop_token stop;        // checked per directory and per entry
  MayRead may_read;            // files it refuses are left out silently (empty: all)
  int max_depth = 256;         // directories deeper than this are not entered
};

struct WalkResult {
  std::vector<std::string> files;  // relative to root, sorted
  std::vector<int64_t> mtime_ns;   // modification time of files[i] (a symlink: of its target)
  bool truncated = false;
};

// start: a directory or file of the workspace as the model wrote it ("." for
// the root), opened through the confinement layer.
Result<WalkResult> walk_files(const Workspace& ws, std::string_view start, const WalkOptions& options);
// root: a workspace root; start: a directory inside it (absolute). Opens a
// Workspace on root and walks start through it.
Result<WalkResult> walk_files(const std::filesystem::path& root, const std::filesystem::path& start,
                              const WalkOptions& options);

// One parsed .gitignore file, exposed for tests.
class GitignoreRules {
 public:
  // base: the directory of the .gitignore relative to the root ("" for the root).
  void add_file(const std::string& base, const std::string& text);
  // rel: path relative to the root. Last matching rule wins; negations re-include.
  bool ignored(const std::string& rel, bool is_dir) const;

 private:
  struct Rule {
    std::string base, pattern;
    bool negate = false, dir_only = false, anchored = false;
  };
  std::vector<Rule> rules_;
};

}  // namespace v4rt::tools
