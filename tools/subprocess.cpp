#include "tools/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

namespace v4rt::tools {

namespace {

using Clock = std::chrono::steady_clock;

int decode_status(int st) {
  if (WIFEXITED(st)) return WEXITSTATUS(st);
  if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
  return -1;
}

int make_memfd(const char* name, const std::string& content) {
  int fd = memfd_create(name, MFD_CLOEXEC);
  if (fd < 0) return -1;
  size_t off = 0;
  while (off < content.size()) {
    ssize_t n = ::write(fd, content.data() + off, content.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      return -1;
    }
    off += static_cast<size_t>(n);
  }
  ::lseek(fd, 0, SEEK_SET);
  return fd;
}

// Forks and execs argv with stdin from in_fd and stdout+stderr to out_fd,
// the environment env (null: ours) and the limits applied first. Returns the
// pid or -1 (errno set). The child leads a new process group; a failure in
// the child (a limit, chdir, exec) sends its errno through err_pipe_w.
pid_t spawn(const std::vector<std::string>& argv, const std::filesystem::path& cwd, int in_fd,
            int out_fd, int err_pipe_w, const std::vector<std::string>* env, const ChildLimits& limits) {
  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  std::vector<char*> cenv;
  if (env) {
    for (const auto& e : *env) cenv.push_back(const_cast<char*>(e.c_str()));
    cenv.push_back(nullptr);
  }
  std::string cwd_s = cwd.string();
  pid_t pid = ::fork();
  if (pid != 0) return pid;
  // Child: only async-signal-safe calls from here on.
  auto fail = [&](int e) {
    (void)!::write(err_pipe_w, &e, sizeof e);
    ::_exit(127);
  };
  ::setpgid(0, 0);
  ::signal(SIGPIPE, SIG_DFL);
  ::signal(SIGINT, SIG_DFL);
  // Join the cgroup before anything else runs, so every descendant is counted.
  if (limits.cgroup_procs_fd >= 0 && ::write(limits.cgroup_procs_fd, "0", 1) != 1) fail(errno);
  if (limits.max_processes > 0) {
    rlimit rl{static_cast<rlim_t>(limits.max_processes), static_cast<rlim_t>(limits.max_processes)};
    if (::setrlimit(RLIMIT_NPROC, &rl) != 0) fail(errno);
  }
  ::dup2(in_fd, 0);
  ::dup2(out_fd, 1);
  ::dup2(out_fd, 2);
  if (!cwd_s.empty() && ::chdir(cwd_s.c_str()) != 0) fail(errno);
  // execvpe searches our PATH, not the child's: the program is found as the caller expects.
  if (env) ::execvpe(cargv[0], cargv.data(), cenv.data());
  else ::execvp(cargv[0], cargv.data());
  fail(errno);
  return -1;  // not reached
}

// Waits for the exec to succeed (the CLOEXEC pipe closes) or fail (errno arrives).
int exec_errno(int err_pipe_r) {
  int e = 0;
  ssize_t n;
  do n = ::read(err_pipe_r, &e, sizeof e);
  while (n < 0 && errno == EINTR);
  return n == static_cast<ssize_t>(sizeof e) ? e : 0;
}

// Terminates the group led by pid (TERM, a grace period, KILL) and reaps pid.
void kill_group(pid_t pid, int* status) {
  ::kill(-pid, SIGTERM);
  for (int i = 0; i < 20; ++i) {
    pid_t r = ::waitpid(pid, status, WNOHANG);
    if (r == pid || r < 0) {
      ::kill(-pid, SIGKILL);  // stragglers of the group
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ::kill(-pid, SIGKILL);
  ::waitpid(pid, status, 0);
}

class OutputCap {
 public:
  explicit OutputCap(size_t cap) : head_cap_(cap - cap / 3), tail_cap_(cap / 3) {}
  void add(const char* p, size_t n) {
    size_t take = std::min(n, head_cap_ - std::min(head_cap_, head_.size()));
    head_.append(p, take);
    p += take;
    n -= take;
    if (n == 0) return;
    tail_.append(p, n);
    if (tail_.size() > 2 * tail_cap_ + 4096) trim();
  }
  std::string finish(size_t* dropped) {
    trim();
    *dropped = dropped_;
    if (dropped_ == 0) return head_ + tail_;
    return head_ + "\n[... " + std::to_string(dropped_) + " bytes of output left out ...]\n" + tail_;
  }

 private:
  void trim() {
    if (tail_.size() > tail_cap_) {
      dropped_ += tail_.size() - tail_cap_;
      tail_.erase(0, tail_.size() - tail_cap_);
    }
  }
  size_t head_cap_, tail_cap_;
  std::string head_, tail_;
  size_t dropped_ = 0;
};

}  // namespace

Result<ProcessResult> run_process(const std::vector<std::string>& argv, const ProcessOptions& options) {
  if (argv.empty()) return Status::InvalidArgument("run_process: empty argv");
  int in_fd = make_memfd("v4rt-stdin", options.stdin_data);
  if (in_fd < 0) return Status::IoError("cannot create stdin buffer for " + argv[0] + ": " + std::strerror(errno));
  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
    ::close(in_fd);
    return Status::IoError("pipe: " + std::string(std::strerror(errno)));
  }
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    ::close(in_fd);
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    return Status::IoError("pipe: " + std::string(std::strerror(errno)));
  }
  auto t0 = Clock::now();
  pid_t pid = spawn(argv, options.cwd, in_fd, out_pipe[1], err_pipe[1], options.env ? &*options.env : nullptr,
                    options.limits);
  ::close(in_fd);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (pid < 0) {
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    return Status::IoError("cannot fork to run " + argv[0] + ": " + std::strerror(errno));
  }
  ::setpgid(pid, pid);  // also from the parent, so kill(-pid) works at once
  int e = exec_errno(err_pipe[0]);
  ::close(err_pipe[0]);
  if (e != 0) {
    ::close(out_pipe[0]);
    int st;
    ::waitpid(pid, &st, 0);
    return Status::IoError("cannot run '" + argv[0] + "': " + std::strerror(e) +
                           "; check that it is installed and on PATH");
  }

  ProcessResult r;
  OutputCap cap(std::max<size_t>(options.max_output_bytes, 64));
  bool exited = false;
  int status = 0;
  Clock::time_point exit_seen{};
  char buf[65536];
  for (;;) {
    pollfd pfd{out_pipe[0], POLLIN, 0};
    int pr = ::poll(&pfd, 1, 100);
    if (pr > 0) {
      ssize_t n = ::read(out_pipe[0], buf, sizeof buf);
      if (n > 0) {
        cap.add(buf, static_cast<size_t>(n));
        continue;
      }
      if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) break;  // EOF
    }
    if (!exited) {
      pid_t w = ::waitpid(pid, &status, WNOHANG);
      if (w == pid) {
        exited = true;
        exit_seen = Clock::now();
      }
    } else if (Clock::now() - exit_seen > std::chrono::milliseconds(500)) {
      break;  // a leftover grandchild holds the pipe open: stop reading
    }
    double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
    if (!exited && options.timeout_s > 0 && elapsed > options.timeout_s) {
      r.timed_out = true;
      break;
    }
    if (!exited && options.stop.stop_requested()) {
      r.cancelled = true;
      break;
    }
  }
  ::close(out_pipe[0]);
  // Output closed: wait for the exit itself, still under the timeout and cancellation.
  while (!exited && !r.timed_out && !r.cancelled) {
    pid_t w = ::waitpid(pid, &status, WNOHANG);
    if (w == pid) {
      exited = true;
      break;
    }
    double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
    if (options.timeout_s > 0 && elapsed > options.timeout_s) r.timed_out = true;
    else if (options.stop.stop_requested()) r.cancelled = true;
    else std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (!exited) {
    kill_group(pid, &status);
  } else {
    ::kill(-pid, SIGKILL);  // leftover background children of the command
  }
  r.exit_code = decode_status(status);
  r.output = cap.finish(&r.dropped_bytes);
  r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return r;
}

Result<std::unique_ptr<BackgroundProcess>> BackgroundProcess::start(const std::vector<std::string>& argv,
                                                                    const std::filesystem::path& cwd,
                                                                    const BackgroundOptions& options) {
  if (argv.empty()) return Status::InvalidArgument("BackgroundProcess: empty argv");
  int out_pipe[2] = {-1, -1};
  int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  int err_pipe[2];
  if (null_fd < 0 || ::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0) {
    int e = errno;
    if (out_pipe[0] >= 0) {
      ::close(out_pipe[0]);
      ::close(out_pipe[1]);
    }
    if (null_fd >= 0) ::close(null_fd);
    return Status::IoError("cannot set up a background job: " + std::string(std::strerror(e)));
  }
  pid_t pid = spawn(argv, cwd, null_fd, out_pipe[1], err_pipe[1], options.env ? &*options.env : nullptr,
                    options.limits);
  ::close(null_fd);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (pid < 0) {
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    return Status::IoError("cannot fork for a background job: " + std::string(std::strerror(errno)));
  }
  ::setpgid(pid, pid);
  int e = exec_errno(err_pipe[0]);
  ::close(err_pipe[0]);
  if (e != 0) {
    ::close(out_pipe[0]);
    int st;
    ::waitpid(pid, &st, 0);
    return Status::IoError("cannot run '" + argv[0] + "': " + std::strerror(e));
  }
  return std::unique_ptr<BackgroundProcess>(new BackgroundProcess(pid, out_pipe[0], options));
}

BackgroundProcess::BackgroundProcess(pid_t pid, int out_fd, const BackgroundOptions& options)
    : pid_(pid), out_fd_(out_fd), head_cap_(options.head_bytes), tail_cap_(std::max<size_t>(options.tail_bytes, 1)) {
  reader_ = std::thread([this] { read_loop(); });
}

void BackgroundProcess::read_loop() {
  std::vector<char> buf(65536);
  while (!quit_.load()) {
    pollfd pfd{out_fd_, POLLIN, 0};
    int pr = ::poll(&pfd, 1, 100);
    if (pr <= 0) continue;  // timeout (check quit_) or EINTR
    ssize_t n = ::read(out_fd_, buf.data(), buf.size());
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) return;  // EOF: every writer has gone
    std::lock_guard<std::mutex> lock(mu_);
    const char* p = buf.data();
    size_t len = static_cast<size_t>(n);
    total_ += len;
    size_t take = std::min(len, head_cap_ - std::min(head_cap_, head_.size()));
    head_.append(p, take);
    tail_.append(p + take, len - take);
    // Invariant after this: tail_.size() <= 2 * tail_cap_; memory stays O(head + tail caps).
    if (tail_.size() > 2 * tail_cap_) {
      size_t cut = tail_.size() - tail_cap_;
      dropped_ += cut;
      tail_.erase(0, cut);
    }
  }
}
BackgroundProcess::~BackgroundProcess() {
  stop();
  quit_.store(true);  // a descendant that left the group may still hold the pipe open
  reader_.join();
  ::close(out_fd_);
}

void BackgroundProcess::reap(bool block) {
  if (exit_code_) return;
  int st;
  pid_t r = ::waitpid(pid_, &st, block ? 0 : WNOHANG);
  if (r == pid_) exit_code_ = decode_status(st);
  else if (r < 0) exit_code_ = -1;
}

bool BackgroundProcess::running() {
  reap(false);
  return !exit_code_;
}

std::optional<int> BackgroundProcess::exit_code() {
  reap(false);
  return exit_code_;
}

std::string BackgroundProcess::output_tail(size_t max_bytes) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (dropped_ == 0 && tail_.size() < max_bytes) {
    std::string all = head_ + tail_;
    return all.substr(all.size() - std::min(all.size(), max_bytes));
  }
  return tail_.substr(tail_.size() - std::min(tail_.size(), max_bytes));
}

std::string BackgroundProcess::output_head(size_t max_bytes) const {
  std::lock_guard<std::mutex> lock(mu_);
  return head_.substr(0, max_bytes);
}

size_t BackgroundProcess::dropped_bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return dropped_ + (tail_.size() > tail_cap_ ? tail_.size() - tail_cap_ : 0);
}

size_t BackgroundProcess::total_bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return total_;
}

void BackgroundProcess::stop() {
  if (exit_code_) {
    ::kill(-pid_, SIGKILL);  // children it left behind
    return;
  }
  reap(false);
  if (exit_code_) return;
  int st = 0;
  kill_group(pid_, &st);
  exit_code_ = decode_status(st);
}

}  // namespace v4rt::tools
