// Subprocess: runs a program (argv, no shell of ours in between) with a
// working directory, stdin bytes, a timeout, an output cap and cancellation;
// stdout and stderr are merged in order. The child leads its own process
// group, which is killed (TERM, then KILL) on timeout, cancellation or
// destruction, so no process outlives its owner.
// BackgroundProcess: the same, detached from the caller; a reader thread keeps
// the first bytes of its output and a bounded tail (the rest is counted and
// dropped), so a job that writes forever (`yes`) cannot grow our memory.
// Both take ChildLimits, applied in the child between fork and exec: a pids
// cgroup to join and an RLIMIT_NPROC (see Sandbox for which applies when).
// Thread-safe: run_process is reentrant; a BackgroundProcess is used by one thread at a time.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "base/status.h"

namespace v4rt::tools {

// Limits the child sets on itself before exec. A limit that cannot be applied
// fails the start (the command does not run without it).
struct ChildLimits {
  long long max_processes = 0;  // RLIMIT_NPROC (soft and hard); 0: unchanged
  int cgroup_procs_fd = -1;     // open cgroup.procs the child joins ("0" = itself); -1: none; borrowed
};

struct ProcessOptions {
  std::filesystem::path cwd;             // empty: inherit
  std::string stdin_data;                // fed on stdin, then EOF
  double timeout_s = 120;                // <= 0: no timeout
  size_t max_output_bytes = 1 << 20;     // head + tail kept beyond this
  std::stop_token stop;                  // request_stop() kills the process group
  std::optional<std::vector<std::string>> env;  // KEY=VALUE list; nullopt: inherit ours
  ChildLimits limits;
};

struct BackgroundOptions {
  std::optional<std::vector<std::string>> env;  // KEY=VALUE list; nullopt: inherit ours
  ChildLimits limits;
  size_t head_bytes = 16 << 10;        // first output bytes kept
  size_t tail_bytes = 4 << 20;         // last output bytes kept; what falls between is dropped
};

struct ProcessResult {
  int exit_code = -1;       // exit status, or 128 + signal
  bool timed_out = false;
  bool cancelled = false;
  size_t dropped_bytes = 0; // output left out by the cap
  std::string output;       // stdout and stderr interleaved
  double seconds = 0;
};

// IoError if the program cannot be started (the message names argv[0]).
Result<ProcessResult> run_process(const std::vector<std::string>& argv, const ProcessOptions& options);

class BackgroundProcess {
 public:
  static Result<std::unique_ptr<BackgroundProcess>> start(const std::vector<std::string>& argv,
                                                          const std::filesystem::path& cwd,
                                                          const BackgroundOptions& options = {});
  ~BackgroundProcess();  // kills the process group, reaps it, stops the reader
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;

  bool running();
  std::optional<int> exit_code();  // set once it has ended
  // The kept output's last max_bytes (after a drop: of the tail only).
  std::string output_tail(size_t max_bytes) const;
  // The first bytes kept (at most head_bytes); meaningful when dropped_bytes() > 0.
  std::string output_head(size_t max_bytes) const;
  size_t dropped_bytes() const;  // output read and not kept
  size_t total_bytes() const;    // output read so far
  void stop();  // TERM, then KILL after a grace period; reaps
  pid_t pid() const { return pid_; }

 private:
  BackgroundProcess(pid_t pid, int out_fd, const BackgroundOptions& options);
  void reap(bool block);
  void read_loop();
  pid_t pid_;
  int out_fd_;  // read end of the output pipe, owned
  std::optional<int> exit_code_;
  const size_t head_cap_, tail_cap_;
  mutable std::mutex mu_;  // guards head_, tail_, total_, dropped_ (written by reader_)
  std::string head_, tail_;
  size_t total_ = 0, dropped_ = 0;
  std::atomic<bool> quit_{false};
  std::thread reader_;  // drains out_fd_ until EOF or quit_
};

}  // namespace v4rt::tools
