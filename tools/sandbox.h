// Sandbox: how the shell tool (and anything else that runs model-written
// commands) wraps a command in bubblewrap. Guarantees, when enabled:
//  - a new user namespace always (also as root), every capability dropped
//    (--cap-drop ALL; probe() verifies CapEff/CapPrm/CapBnd are zero inside
//    and refuses otherwise), no nested user namespaces where bwrap supports
//    --disable-userns, new PID/IPC/UTS(/cgroup) namespaces, no network unless
//    allowed, a new session (no TIOCSTI on our terminal), killed with us;
//  - the whole file system read-only; the workspace writable (read-only in
//    permission mode read-only); <workspace>/.git and /.v4rt read-only always;
//  - hidden (empty read-only tmpfs, or /dev/null over a file): /home, /root,
//    the user's $HOME, v4rt's state directory, /run (host sockets such as
//    docker.sock), /etc/shadow, /etc/gshadow, /etc/sudoers*, ssh host keys;
//  - a private writable $HOME and /tmp (a per-sandbox directory on disk after
//    prepare(), else a size-capped tmpfs per command);
//  - the environment is exactly SandboxOptions::env (bwrap is started with it
//    and --clearenv), so host secrets in our environment do not reach it;
//  - processes capped: a pids cgroup when one is writable (prepare()), else
//    RLIMIT_NPROC relative to the user's current count (not effective for
//    real root: the kernel exempts uid 0; see process_cap()).
// Thread-safe after prepare() (wrap() is const).
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "tools/subprocess.h"

namespace v4rt::tools {

class PidsCgroup;

struct SandboxOptions {
  bool enabled = true;                 // false: commands run directly (--unsandboxed)
  bool allow_network = false;          // keep the host network namespace (and /run/systemd/resolve for DNS)
  bool workspace_writable = true;      // false: permission mode read-only binds the workspace read-only
  bool disable_userns = false;         // pass --disable-userns (set from SandboxSupport)
  std::string bwrap = "bwrap";         // program name or path
  std::string shell = "/bin/bash";
  std::vector<std::filesystem::path> extra_writable;  // bound read-write (settings sandbox.writable)
  // Shown read-only even where a hidden directory covers them, e.g. ~/.cargo
  // (settings sandbox.readable); everything not hidden is readable already.
  std::vector<std::filesystem::path> extra_readable;
  std::vector<std::filesystem::path> hidden;  // more directories to hide (v4rt's state directory)
  std::filesystem::path home;          // the user's $HOME: hidden, the private home is mounted there
  // The environment inside, KEY=VALUE; HOME and TMPDIR are set by the sandbox.
  // Build it with sandbox_environment() (an allow-list), never from the whole host environment.
  std::vector<std::string> env;
  long long max_processes = 512;       // tasks the sandboxed commands may hold at once
  std::filesystem::path private_root;  // where prepare() makes the private home and /tmp (empty: the temp dir)
};

// The allow-listed part of host_env (KEY=VALUE entries): PATH, LANG, LC_*,
// TERM, TZ, USER, LOGNAME, SHELL, plus extra_names (exact names, or a prefix
// ending in '*'). HOME and TMPDIR are left out (the sandbox sets its own).
std::vector<std::string> sandbox_environment(const std::vector<std::string>& host_env,
                                             const std::vector<std::string>& extra_names);

// What the installed bwrap can do (from probe()).
struct SandboxSupport {
  bool disable_userns = false;  // --disable-userns (bwrap >= 0.8)
};

// One command, ready for run_process / BackgroundProcess::start.
struct SandboxedCommand {
  std::vector<std::string> argv;
  std::optional<std::vector<std::string>> env;  // nullopt: inherit (unsandboxed only)
  ChildLimits limits;                           // borrows the sandbox's cgroup fd
};

class Sandbox {
 public:
  Sandbox(SandboxOptions options, std::filesystem::path workspace);
  ~Sandbox();  // kills what is left in its cgroup, removes it and the private directories
  Sandbox(const Sandbox&) = delete;
  Sandbox& operator=(const Sandbox&) = delete;

  // Runs a command in a sandbox with the same isolation as wrap() and checks
  // that it is in a user namespace with zero effective, permitted and bounding
  // capabilities. Unsupported (bwrap's message and the way out) otherwise.
  static Result<SandboxSupport> detect(const std::string& bwrap = "bwrap");
  static Status probe(const std::string& bwrap = "bwrap");

  // Makes the private home and /tmp on disk (kept across the commands of this
  // sandbox) and the pids cgroup where possible. Optional: without it wrap()
  // uses a tmpfs per command and RLIMIT_NPROC only. IoError if the directories
  // cannot be made.
  Status prepare();

  // The command `shell -c command` in cwd (inside the workspace).
  SandboxedCommand wrap(const std::string& command, const std::filesystem::path& cwd) const;
  const SandboxOptions& options() const { return options_; }
  bool enabled() const { return options_.enabled; }
  // How the number of processes is capped, for messages and tests:
  // "cgroup <dir> (pids.max N)", "RLIMIT_NPROC (N above the current count)" or "" (none).
  std::string process_cap() const;

 private:
  SandboxOptions options_;
  std::filesystem::path workspace_;
  std::filesystem::path private_dir_;  // after prepare(): holds home/ and tmp/
  std::unique_ptr<PidsCgroup> cgroup_;
};

}  // namespace v4rt::tools
