#include "tools/mcp/stdio_connection.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "tools/mcp/jsonrpc.h"

namespace v4rt::tools::mcp {

namespace {

constexpr size_t kStderrTail = 8 << 10;

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

}  // namespace

Result<std::unique_ptr<StdioConnection>> StdioConnection::start(const std::vector<std::string>& argv,
                                                               const std::optional<std::vector<std::string>>& env,
                                                               const std::filesystem::path& cwd,
                                                               StdioCallbacks callbacks) {
  if (argv.empty()) return Status::InvalidArgument("MCP server: empty command");
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) != 0) return Status::IoError("MCP server: pipe: " + std::string(strerror(errno)));
  if (pipe2(out, O_CLOEXEC) != 0) {
    ::close(in[0]), ::close(in[1]);
    return Status::IoError("MCP server: pipe: " + std::string(strerror(errno)));
  }
  if (pipe2(err, O_CLOEXEC) != 0) {
    ::close(in[0]), ::close(in[1]), ::close(out[0]), ::close(out[1]);
    return Status::IoError("MCP server: pipe: " + std::string(strerror(errno)));
  }
  // Everything the child needs is built before fork (only async-signal-safe calls after).
  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  std::vector<char*> cenv;
  if (env) {
    for (const auto& e : *env) cenv.push_back(const_cast<char*>(e.c_str()));
    cenv.push_back(nullptr);
  }
  std::string dir = cwd.string();
  int exec_err[2];
  if (pipe2(exec_err, O_CLOEXEC) != 0) {
    for (int fd : {in[0], in[1], out[0], out[1], err[0], err[1]}) ::close(fd);
    return Status::IoError("MCP server: pipe: " + std::string(strerror(errno)));
  }
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    for (int fd : {in[0], in[1], out[0], out[1], err[0], err[1], exec_err[0], exec_err[1]}) ::close(fd);
    return Status::IoError("MCP server: fork: " + std::string(strerror(errno)));
  }
  if (pid == 0) {
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    if (!dir.empty() && chdir(dir.c_str()) != 0) {
      int e = errno;
      (void)!write(exec_err[1], &e, sizeof e);
      _exit(127);
    }
    signal(SIGPIPE, SIG_DFL);
    if (env) execvpe(cargv[0], cargv.data(), cenv.data());
    else execvp(cargv[0], cargv.data());
    int e = errno;
    (void)!write(exec_err[1], &e, sizeof e);
    _exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  ::close(exec_err[1]);
  int child_errno = 0;
  ssize_t n = read(exec_err[0], &child_errno, sizeof child_errno);
  ::close(exec_err[0]);
  if (n == sizeof child_errno) {
    ::close(in[1]), ::close(out[0]), ::close(err[0]);
    waitpid(pid, nullptr, 0);
    return Status::IoError("MCP server: cannot start '" + argv[0] + "': " + strerror(child_errno) +
                           "; check \"command\" in mcpServers");
  }
  std::unique_ptr<StdioConnection> c(new StdioConnection());
  c->pid_ = pid;
  c->in_fd_ = in[1];
  c->out_fd_ = out[0];
  c->err_fd_ = err[0];
  c->cb_ = std::move(callbacks);
  c->out_thread_ = std::thread([p = c.get()] { p->read_stdout(); });
  c->err_thread_ = std::thread([p = c.get()] { p->read_stderr(); });
  return c;
}

StdioConnection::~StdioConnection() {
  {
    std::lock_guard<std::mutex> lock(write_mu_);
    close_fd(in_fd_);  // EOF on stdin: a polite server exits
  }
  if (pid_ > 0) {
    kill(-pid_, SIGTERM);
    bool reaped = false;
    for (int i = 0; i < 20 && !reaped; ++i) {
      reaped = waitpid(pid_, nullptr, WNOHANG) == pid_;
      if (!reaped) std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    kill(-pid_, SIGKILL);  // what is left of the group
    if (!reaped) waitpid(pid_, nullptr, 0);
  }
  if (out_thread_.joinable()) out_thread_.join();
  if (err_thread_.joinable()) err_thread_.join();
  close_fd(out_fd_);
  close_fd(err_fd_);
}

Status StdioConnection::send(const std::string& line) {
  std::lock_guard<std::mutex> lock(write_mu_);
  if (closed_.load() || in_fd_ < 0) return Status::IoError("MCP server is not running");
  size_t off = 0;
  // A server that died makes write() raise SIGPIPE: block it on this thread
  // and consume a pending one, so v4rt gets EPIPE instead of dying.
  sigset_t pipe_set, old;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
  Status status = Status::Ok();
  while (off < line.size()) {
    ssize_t w = ::write(in_fd_, line.data() + off, line.size() - off);
    if (w < 0) {
      if (errno == EINTR) continue;
      status = Status::IoError("MCP server: write to its stdin failed: " + std::string(strerror(errno)));
      break;
    }
    off += static_cast<size_t>(w);
  }
  if (!status.ok()) {
    struct timespec zero {};
    while (sigtimedwait(&pipe_set, nullptr, &zero) == SIGPIPE) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  return status;
}

std::string StdioConnection::stderr_tail() const {
  std::lock_guard<std::mutex> lock(err_mu_);
  return err_tail_;
}

void StdioConnection::read_stdout() {
  LineBuffer lines;
  char buf[65536];
  for (;;) {
    ssize_t n = read(out_fd_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    std::vector<std::string> got;
    (void)lines.feed(std::string_view(buf, static_cast<size_t>(n)), &got);  // an overlong line is dropped
    for (auto& l : got)
      if (cb_.on_line) cb_.on_line(std::move(l));
  }
  closed_.store(true);
  if (cb_.on_closed) cb_.on_closed(reap_description());
}

void StdioConnection::read_stderr() {
  char buf[4096];
  for (;;) {
    ssize_t n = read(err_fd_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    std::lock_guard<std::mutex> lock(err_mu_);
    err_tail_.append(buf, static_cast<size_t>(n));
    if (err_tail_.size() > kStderrTail) err_tail_.erase(0, err_tail_.size() - kStderrTail);
  }
}

std::string StdioConnection::reap_description() {
  // The server closed stdout: it has exited or is about to.
  // Looked at without reaping (WNOWAIT): the destructor reaps.
  for (int i = 0; i < 40; ++i) {
    siginfo_t info{};
    if (waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid_) {
      if (info.si_code == CLD_EXITED) return "exited with status " + std::to_string(info.si_status);
      return "was killed by signal " + std::to_string(info.si_status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  return "closed its stdout";
}

}  // namespace v4rt::tools::mcp
