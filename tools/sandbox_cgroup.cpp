#include "tools/sandbox_cgroup.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <chrono>
#include <cstring>
#include <sstream>
#include <thread>
#include <vector>

#include "base/file_util.h"

namespace v4rt::tools {

namespace fs = std::filesystem;

namespace {

struct Mount {
  std::string root, point, fstype, super_options;
};

std::vector<Mount> cgroup_mounts() {
  std::vector<Mount> out;
  auto text = read_file("/proc/self/mountinfo");
  if (!text) return out;
  std::istringstream in(*text);
  std::string line;
  while (std::getline(in, line)) {
    size_t dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::istringstream pre(line.substr(0, dash)), post(line.substr(dash + 3));
    std::string id, parent, dev;
    Mount m;
    std::string source;
    pre >> id >> parent >> dev >> m.root >> m.point;
    post >> m.fstype >> source >> m.super_options;
    if (m.fstype == "cgroup" || m.fstype == "cgroup2") out.push_back(m);
  }
  return out;
}

bool has_token(const std::string& list, const std::string& token, char sep) {
  std::string item;
  std::istringstream in(list);
  while (std::getline(in, item, sep))
    if (item == token || item == token + "\n") return true;
  return false;
}

// The directory of our cgroup in mount m, given its path from /proc/self/cgroup.
fs::path our_dir(const Mount& m, const std::string& path) {
  std::string rel = path;
  if (m.root != "/" && rel.rfind(m.root, 0) == 0) rel = rel.substr(m.root.size());
  return fs::path(m.point) / fs::path(rel).relative_path();
}

bool write_text(const fs::path& file, const std::string& text) {
  int fd = ::open(file.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  return ok;
}

bool subtree_has_pids(const fs::path& dir) {
  auto t = read_file(dir / "cgroup.subtree_control");
  return t && has_token(*t, "pids", ' ');
}

// Directories under which a pids cgroup may be made, best first.
std::vector<fs::path> candidate_parents() {
  std::vector<fs::path> out;
  auto self = read_file("/proc/self/cgroup");
  if (!self) return out;
  std::string v1_path, v2_path;
  bool v2_seen = false;
  std::istringstream in(*self);
  std::string line;
  while (std::getline(in, line)) {  // "id:controllers:path"
    size_t a = line.find(':'), b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    std::string controllers = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
    if (line.substr(0, a) == "0" && controllers.empty()) {
      v2_path = path;
      v2_seen = true;
    } else if (has_token(controllers, "pids", ',')) {
      v1_path = path;
    }
  }
  for (const Mount& m : cgroup_mounts()) {
    if (m.fstype == "cgroup" && !v1_path.empty() && has_token(m.super_options, "pids", ',')) {
      out.push_back(our_dir(m, v1_path));
    } else if (m.fstype == "cgroup2" && v2_seen) {
      fs::path dir = our_dir(m, v2_path);
      // cgroup v2 forbids processes in a non-root cgroup whose children have
      // controllers, so a child of our own cgroup works only at the root.
      if (dir == fs::path(m.point) && (subtree_has_pids(dir) || write_text(dir / "cgroup.subtree_control", "+pids")))
        out.push_back(dir);
      else if (dir != fs::path(m.point) && subtree_has_pids(dir.parent_path()))
        out.push_back(dir.parent_path());
    }
  }
  return out;
}

// Removes empty cgroups left by a v4rt that died without cleaning up (SIGKILL).
void remove_stale(const fs::path& parent) {
  std::error_code ec;
  const std::string prefix = "v4rt-sandbox-";
  for (const auto& e : fs::directory_iterator(parent, ec)) {
    std::string name = e.path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    long pid = std::strtol(name.c_str() + prefix.size(), nullptr, 10);
    if (pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) ::rmdir(e.path().c_str());
  }
}

}  // namespace

Result<std::unique_ptr<PidsCgroup>> PidsCgroup::create(long long max_pids) {
  std::string why = "no pids cgroup controller is mounted";
  for (const fs::path& parent : candidate_parents()) {
    remove_stale(parent);
    auto ns = std::chrono::steady_clock::now().time_since_epoch().count();
    fs::path dir = parent / ("v4rt-sandbox-" + std::to_string(::getpid()) + "-" + std::to_string(ns));
    if (::mkdir(dir.c_str(), 0755) != 0) {
      why = "cannot create " + dir.string() + ": " + std::strerror(errno);
      continue;
    }
    int fd = -1;
    if (write_text(dir / "pids.max", std::to_string(max_pids)))
      fd = ::open((dir / "cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
      why = "cannot configure " + dir.string() + ": " + std::strerror(errno);
      ::rmdir(dir.c_str());
      continue;
    }
    return std::unique_ptr<PidsCgroup>(new PidsCgroup(dir, fd));
  }
  return Status::Unsupported("no writable pids cgroup (" + why + ")");
}

void PidsCgroup::kill_all() {
  write_text(dir_ / "cgroup.kill", "1");  // cgroup v2 (Linux 5.14+): the kernel kills them all
  for (int round = 0; round < 200; ++round) {
    auto procs = read_file(dir_ / "cgroup.procs");
    if (!procs || procs->find_first_not_of(" \n") == std::string::npos) return;
    std::istringstream in(*procs);
    long pid;
    while (in >> pid)
      if (pid > 0) ::kill(static_cast<pid_t>(pid), SIGKILL);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

PidsCgroup::~PidsCgroup() {
  kill_all();
  ::close(procs_fd_);
  // Killed processes leave the cgroup once reaped (by us or by init): retry briefly.
  for (int i = 0; i < 100 && ::rmdir(dir_.c_str()) != 0 && errno == EBUSY; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
}

}  // namespace v4rt::tools
