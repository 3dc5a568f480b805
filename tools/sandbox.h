// Sandbox: how the shell tool (and anything else that runs model-written
// commands) wraps a command in bubblewrap: the whole file system read-only,
// the workspace writable, a private /tmp, /dev and /proc, its own PID and IPC
// namespaces, and no network unless allowed. probe() checks once that bwrap
// can create the namespaces here; when it cannot, the caller refuses to run
// commands unless the user explicitly chose to run them unsandboxed.
// Thread-safe (immutable after construction).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "runtime/base/status.h"

namespace v4rt::tools {

struct SandboxOptions {
  bool enabled = true;                 // false: commands run directly (--unsandboxed)
  bool allow_network = false;          // keep the host network namespace
  std::string bwrap = "bwrap";         // program name or path
  std::string shell = "/bin/bash";
  std::vector<std::filesystem::path> extra_writable;  // besides the workspace
};

class Sandbox {
 public:
  Sandbox(SandboxOptions options, std::filesystem::path workspace)
      : options_(std::move(options)), workspace_(std::move(workspace)) {}

  // Runs `bwrap --ro-bind / / --unshare-net true`. Unsupported with bwrap's own
  // message and the way out when namespaces cannot be created.
  static Status probe(const std::string& bwrap = "bwrap");

  // argv that runs `shell -c command` in cwd (inside the workspace).
  std::vector<std::string> wrap(const std::string& command, const std::filesystem::path& cwd) const;
  const SandboxOptions& options() const { return options_; }
  bool enabled() const { return options_.enabled; }

 private:
  SandboxOptions options_;
  std::filesystem::path workspace_;
};

}  // namespace v4rt::tools
