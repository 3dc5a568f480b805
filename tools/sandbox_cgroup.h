// PidsCgroup: a pids cgroup of our own that sandboxed commands join, so that
// all of them together (a fork bomb included) hold at most max_pids tasks.
// Made below the pids hierarchy we run in: cgroup v1 (a "pids" controller
// mount) or cgroup v2 (our cgroup or its parent has "pids" in
// cgroup.subtree_control, or we are at the root and may enable it). Needs
// write access there: root, or a delegated subtree (systemd user services).
// Destruction kills every process left in it and removes it.
// Thread-safe after creation (procs_fd() is read-only).
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "base/status.h"

namespace v4rt::tools {

class PidsCgroup {
 public:
  // Unsupported (saying why) when no writable pids controller is found.
  static Result<std::unique_ptr<PidsCgroup>> create(long long max_pids);
  ~PidsCgroup();
  PidsCgroup(const PidsCgroup&) = delete;
  PidsCgroup& operator=(const PidsCgroup&) = delete;

  // cgroup.procs opened for writing: a child writes "0" to it to join (ChildLimits).
  int procs_fd() const { return procs_fd_; }
  const std::filesystem::path& dir() const { return dir_; }
  // Kills every process in the cgroup (SIGKILL) and waits until it is empty (bounded).
  void kill_all();

 private:
  PidsCgroup(std::filesystem::path dir, int procs_fd) : dir_(std::move(dir)), procs_fd_(procs_fd) {}
  std::filesystem::path dir_;
  int procs_fd_;
};

}  // namespace v4rt::tools
