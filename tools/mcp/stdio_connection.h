// StdioConnection: a spawned MCP server speaking newline-delimited JSON-RPC
// on its stdin/stdout. A reader thread cuts stdout into lines and hands each
// to on_line; another keeps the last bytes of stderr (free-form logs, never
// read as an error signal) for messages. The child leads its own process
// group, gets SIGKILL when v4rt dies (PR_SET_PDEATHSIG), and the whole group
// is stopped (TERM, then KILL) on destruction.
// Thread-safe: send() may be called from any thread; on_line and on_closed
// run on the reader thread.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/status.h"

namespace v4rt::tools::mcp {

struct StdioCallbacks {
  std::function<void(std::string line)> on_line;
  std::function<void(const std::string& why)> on_closed;  // stdout ended; why describes the exit
};

class StdioConnection {
 public:
  // IoError naming argv[0] when it cannot be started.
  static Result<std::unique_ptr<StdioConnection>> start(const std::vector<std::string>& argv,
                                                        const std::optional<std::vector<std::string>>& env,
                                                        const std::filesystem::path& cwd, StdioCallbacks callbacks);
  ~StdioConnection();
  StdioConnection(const StdioConnection&) = delete;
  StdioConnection& operator=(const StdioConnection&) = delete;

  // Writes one line (it must end in '\n'). IoError once the server is gone.
  Status send(const std::string& line);
  bool alive() const { return !closed_.load(); }
  // The last stderr bytes (at most 8 KiB).
  std::string stderr_tail() const;
  pid_t pid() const { return pid_; }

 private:
  StdioConnection() = default;
  void read_stdout();
  void read_stderr();
  std::string reap_description();

  pid_t pid_ = -1;
  int in_fd_ = -1, out_fd_ = -1, err_fd_ = -1;
  StdioCallbacks cb_;
  std::atomic<bool> closed_{false};
  std::mutex write_mu_;              // guards in_fd_ writes
  mutable std::mutex err_mu_;        // guards err_tail_
  std::string err_tail_;
  std::thread out_thread_, err_thread_;
};

}  // namespace v4rt::tools::mcp
