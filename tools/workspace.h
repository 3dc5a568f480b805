// Workspace: the directory the agent may touch, and the one place that turns a
// path written by the model into a real path. Every file tool resolves through
// it. Refused: '..' components, absolute paths outside the root, symlinks (at
// any depth) whose target lies outside, /proc and /dev tricks (they are
// outside). The check uses canonical paths, so it sees through symlinks that
// exist when it runs (a concurrent process swapping a directory for a symlink
// afterwards is out of scope: the shell sandbox is the second wall).
// Thread-safe (immutable after open).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "runtime/base/status.h"

namespace v4rt::tools {

class Workspace {
 public:
  // root must be an existing directory; it is canonicalised.
  static Result<Workspace> open(const std::filesystem::path& root);

  const std::filesystem::path& root() const { return root_; }

  // Resolves a model-given path ("" or "." is the root). The result is
  // canonical and inside root. For a path that does not exist yet (write), its
  // nearest existing ancestor is canonicalised and must be inside root.
  Result<std::filesystem::path> resolve(std::string_view user_path) const;
  // Path of abs relative to the root, as the model should write it ("." for the root).
  std::string relative(const std::filesystem::path& abs) const;
  // Whether a canonical absolute path lies inside the root (or is the root).
  bool contains(const std::filesystem::path& canonical) const;

 private:
  explicit Workspace(std::filesystem::path root) : root_(std::move(root)) {}
  std::filesystem::path root_;
};

}  // namespace v4rt::tools
