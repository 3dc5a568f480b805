// walk_files: lists the files under a directory of the workspace the way git
// sees them: .git is skipped, .gitignore rules (root and nested, plus
// .git/info/exclude) are honoured, symlinks are not followed. Paths come back
// relative to the workspace root, '/'-separated, sorted.
// Thread-safe (no shared state).
#pragma once

#include <cstddef>
#include <filesystem>
#include <stop_token>
#include <string>
#include <vector>

#include "runtime/base/status.h"

namespace v4rt::tools {

struct WalkOptions {
  bool respect_gitignore = true;
  size_t max_files = 200000;   // stop (truncated = true) after this many
  std::stop_token stop;        // checked per directory
};

struct WalkResult {
  std::vector<std::string> files;  // relative to root, sorted
  bool truncated = false;
};

// root: the workspace root (canonical); start: a directory inside it (canonical).
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
