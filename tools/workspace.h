// Workspace: the directory the agent may touch. It holds an fd of the root
// directory, opened once; every file tool reaches files through
// tools/confined_fs.h, which opens relative to that fd (openat2 with
// RESOLVE_BENEATH, or a component-by-component O_NOFOLLOW walk), so the check
// that a path stays inside and the open are one operation. Races are in scope:
// a concurrent process (the sandboxed shell, a background job) swapping
// directories and symlinks cannot make a tool read or write outside the root.
// Refused: '..' components written by the model, absolute paths outside the
// root, symlinks (at any depth) whose target leaves the root, /proc magic
// links. Symlinks inside the root that point inside keep working for reads.
// resolve() and relative() give canonical paths for messages, permission
// rules and file memory keys; nothing may open a file by the path resolve()
// returns (that would re-open the check-then-use race).
// Thread-safe (immutable after open; copies hold their own dup of the fd).
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "tools/unique_fd.h"

namespace v4rt::tools {

struct WorkspaceOptions {
  // Tests only: never use openat2, always the component-by-component walk
  // (both must give the same answers; the tests run each twice).
  bool force_walk_fallback = false;
  // Tests only: called before each mutating step of a multi-file change
  // (apply_patch's commit); returning an error makes that step fail.
  std::function<Status(std::string_view step)> fault_injector;
};

class Workspace {
 public:
  // root must be an existing directory; it is canonicalised and opened.
  static Result<Workspace> open(const std::filesystem::path& root, WorkspaceOptions options = {});

  Workspace(const Workspace& o);
  Workspace& operator=(const Workspace& o);
  Workspace(Workspace&&) noexcept = default;
  Workspace& operator=(Workspace&&) noexcept = default;

  const std::filesystem::path& root() const { return root_; }
  // O_PATH|O_DIRECTORY fd of the root; valid while *this lives.
  int root_fd() const { return root_fd_.get(); }
  // Whether opens try openat2 first (the kernel has it and it is not forced off).
  bool use_openat2() const { return use_openat2_; }
  const WorkspaceOptions& options() const { return options_; }

  // Resolves a model-given path ("" or "." is the root) through the confined
  // walk: the result is canonical and inside root. A path that does not exist
  // yet (write) resolves as far as it exists, then as written. For messages
  // and permission subjects only: never open the result.
  Result<std::filesystem::path> resolve(std::string_view user_path) const;
  // Path of abs relative to the root, as the model should write it ("." for the root).
  std::string relative(const std::filesystem::path& abs) const;
  // Whether a canonical absolute path lies inside the root (or is the root).
  bool contains(const std::filesystem::path& canonical) const;
  // The root as the caller named it in open() (lexically normal, absolute);
  // absolute model paths under it are accepted like those under root().
  const std::filesystem::path& given_root() const { return given_root_; }

 private:
  Workspace(std::filesystem::path root, std::filesystem::path given_root, UniqueFd fd, bool use_openat2,
            WorkspaceOptions options);
  std::filesystem::path root_;
  std::filesystem::path given_root_;
  UniqueFd root_fd_;
  bool use_openat2_ = false;
  WorkspaceOptions options_;
};

}  // namespace v4rt::tools
