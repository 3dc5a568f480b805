// Helpers shared by the test suites: golden-data location, temporary
// directories, running the v4rt binary as a real subprocess, a loopback
// listener.
#pragma once

#include <filesystem>
#include <string>

namespace v4rt::testing {

// ../shared/golden (empty path if absent; tests then GTEST_SKIP with a message).
std::filesystem::path golden_dir();
// Path of the built v4rt executable.
std::filesystem::path v4rt_binary();
std::filesystem::path source_dir();

// A TCP listener on 127.0.0.1 at an ephemeral port (what a sandboxed command
// must not reach without network), closed on destruction.
class LoopbackListener {
 public:
  LoopbackListener();
  ~LoopbackListener();
  LoopbackListener(const LoopbackListener&) = delete;
  LoopbackListener& operator=(const LoopbackListener&) = delete;
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// A fresh directory under $TMPDIR removed (recursively) on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};
// Runs `command` with /bin/sh -c, feeding `input` on stdin; captures both streams.
CommandResult run_command(const std::string& command, const std::string& input = "");
// Single-quotes a string for /bin/sh.
std::string shell_quote(const std::string& s);

}  // namespace v4rt::testing
