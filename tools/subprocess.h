// Subprocess: runs a program (argv, no shell of ours in between) with a
// working directory, stdin bytes, a timeout, an output cap and cancellation;
// stdout and stderr are merged in order. The child leads its own process
// group, which is killed (TERM, then KILL) on timeout, cancellation or
// destruction, so no process outlives its owner.
// BackgroundProcess: the same, detached from the caller, output kept in an
// anonymous memory file; status() and stop() at any time.
// Thread-safe: run_process is reentrant; a BackgroundProcess is used by one thread at a time.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "runtime/base/status.h"

namespace v4rt::tools {

struct ProcessOptions {
  std::filesystem::path cwd;             // empty: inherit
  std::string stdin_data;                // fed on stdin, then EOF
  double timeout_s = 120;                // <= 0: no timeout
  size_t max_output_bytes = 1 << 20;     // head + tail kept beyond this
  std::stop_token stop;                  // request_stop() kills the process group
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
                                                          const std::filesystem::path& cwd);
  ~BackgroundProcess();  // kills the process group and reaps it
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;

  bool running();
  std::optional<int> exit_code();  // set once it has ended
  // The output so far, cut to the last max_bytes.
  std::string output_tail(size_t max_bytes) const;
  void stop();  // TERM, then KILL after a grace period; reaps
  pid_t pid() const { return pid_; }

 private:
  BackgroundProcess(pid_t pid, int out_fd) : pid_(pid), out_fd_(out_fd) {}
  void reap(bool block);
  pid_t pid_;
  int out_fd_;
  std::optional<int> exit_code_;
};

}  // namespace v4rt::tools
