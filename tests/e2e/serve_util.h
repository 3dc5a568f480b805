// Helpers for the `v4rt serve` end-to-end tests: a tiny checkpoint, the real
// server as a subprocess on 127.0.0.1 with an ephemeral port, and raw-socket
// HTTP for what a client library hides (disconnects, SSE framing).
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "test_util.h"

namespace v4rt::testing::serve {

namespace fs = std::filesystem;

inline std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// `v4rt model init --preset tiny` into dir/tiny; empty path (and the reason) on failure.
inline fs::path make_tiny_checkpoint(const fs::path& dir, std::string* why) {
  fs::path ckpt = dir / "tiny";
  auto r = run_command(shell_quote(v4rt_binary().string()) + " model init --preset tiny --seed 1 --quiet --out " +
                       shell_quote(ckpt.string()));
  if (r.exit_code != 0) {
    *why = r.err;
    return {};
  }
  return ckpt;
}

// The real `v4rt serve` as a child process; SIGKILLed on destruction if still running.
class ServeProcess {
 public:
  ServeProcess() = default;
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;
  ~ServeProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }

  // Starts `v4rt serve --port 0 ARGS...`, waits for its "listening on" line.
  bool start(const std::vector<std::string>& args, const fs::path& log, std::string* why) {
    log_ = log;
    std::vector<std::string> argv = {v4rt_binary().string(), "serve", "--port", "0"};
    argv.insert(argv.end(), args.begin(), args.end());
    pid_ = ::fork();
    if (pid_ == 0) {
      int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      if (fd >= 0) {
        ::dup2(fd, 2);
        ::dup2(fd, 1);
      }
      std::vector<char*> cargv;
      for (auto& a : argv) cargv.push_back(a.data());
      cargv.push_back(nullptr);
      ::execv(cargv[0], cargv.data());
      _exit(127);
    }
    const std::string marker = "listening on http://127.0.0.1:";
    for (int i = 0; i < 1200; ++i) {
      std::string text = read_text(log);
      size_t at = text.find(marker);
      if (at != std::string::npos) {
        port_ = std::atoi(text.c_str() + at + marker.size());
        return port_ > 0;
      }
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        *why = "v4rt serve exited early: " + text;
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    *why = "v4rt serve did not report its port within 60 s: " + read_text(log);
    return false;
  }

  // SIGTERM, then the exit code (-1: not exited within `timeout_s`, then SIGKILL).
  int terminate(int timeout_s = 60) {
    if (pid_ <= 0) return -1;
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < timeout_s * 20; ++i) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return -1;
  }

  int port() const { return port_; }
  std::string log() const { return read_text(log_); }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  fs::path log_;
};

// A plain TCP connection to 127.0.0.1:port.
class RawConnection {
 public:
  explicit RawConnection(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
    timeval tv{30, 0};
    if (fd_ >= 0) ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~RawConnection() { close(); }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;
  bool ok() const { return fd_ >= 0; }
  bool send_all(const std::string& s) {
    size_t off = 0;
    while (off < s.size()) {
      ssize_t n = ::send(fd_, s.data() + off, s.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<size_t>(n);
    }
    return true;
  }
  // Reads until `needle` appears (or EOF / timeout); returns what was read.
  std::string read_until(const std::string& needle) {
    std::string got;
    char buf[4096];
    while (got.find(needle) == std::string::npos) {
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) break;
      got.append(buf, static_cast<size_t>(n));
    }
    return got;
  }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

inline std::string http_post(const std::string& path, const std::string& body, const std::string& extra_headers = "") {
  return "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n" + extra_headers + "\r\n" + body;
}

// The JSON payloads of an SSE body ("data: X" lines), in order; fails the test on bad framing.
inline std::vector<std::string> sse_data(const std::string& body) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t end = body.find("\n\n", pos);
    EXPECT_NE(end, std::string::npos) << "an SSE event does not end with a blank line: " << body.substr(pos);
    if (end == std::string::npos) break;
    std::string event = body.substr(pos, end - pos);
    pos = end + 2;
    std::istringstream lines(event);
    std::string line;
    while (std::getline(lines, line)) {
      if (line.rfind("data: ", 0) == 0) out.push_back(line.substr(6));
      else EXPECT_TRUE(line.rfind("event: ", 0) == 0 || line.rfind(":", 0) == 0) << "unexpected SSE line: " << line;
    }
  }
  return out;
}

}  // namespace v4rt::testing::serve
