#include "tools/sandbox.h"

#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "base/file_util.h"
#include "tools/sandbox_cgroup.h"

namespace v4rt::tools {

namespace fs = std::filesystem;

namespace {

constexpr const char* kDefaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
constexpr long long kPrivateTmpfsBytes = 512ll << 20;  // private /tmp or $HOME without prepare()

// Host files a process that is still uid 0 on the host could read (a user
// namespace keeps file ownership): hidden by binding /dev/null over them.
const char* const kSecretFiles[] = {"/etc/shadow", "/etc/shadow-", "/etc/gshadow", "/etc/gshadow-",
                                    "/etc/sudoers", "/etc/security/opasswd"};
// Directories hidden by an empty read-only tmpfs.
const char* const kSecretDirs[] = {"/home", "/root", "/run", "/etc/sudoers.d"};

// The namespace and privilege flags shared by probe() and wrap().
std::vector<std::string> isolation_flags(const std::string& bwrap, bool disable_userns, bool network) {
  std::vector<std::string> a = {bwrap,
                                "--unshare-user",
                                "--uid",
                                std::to_string(::getuid()),
                                "--gid",
                                std::to_string(::getgid())};
  if (disable_userns) a.push_back("--disable-userns");
  a.insert(a.end(), {"--cap-drop", "ALL", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
                     "--die-with-parent", "--new-session"});
  if (!network) a.push_back("--unshare-net");
  return a;
}

bool is_dir(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(fs::symlink_status(p, ec));
}

bool is_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(fs::symlink_status(p, ec));
}

fs::path canonical_or_self(const fs::path& p) {
  std::error_code ec;
  fs::path c = fs::canonical(p, ec);
  return ec ? p.lexically_normal() : c;
}

// Whether `inner` is `outer` or below it (both canonical).
bool within(const fs::path& inner, const fs::path& outer) {
  auto [o, i] = std::mismatch(outer.begin(), outer.end(), inner.begin(), inner.end());
  return o == outer.end();
}

// Tasks (threads included, as RLIMIT_NPROC counts them) whose real uid is uid.
long long count_user_tasks(uid_t uid) {
  long long n = 0;
  DIR* d = ::opendir("/proc");
  if (!d) return 0;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    auto status = read_file(std::string("/proc/") + e->d_name + "/status");
    if (!status) continue;
    size_t u = status->find("\nUid:");
    size_t t = status->find("\nThreads:");
    if (u == std::string::npos || t == std::string::npos) continue;
    if (std::strtoul(status->c_str() + u + 5, nullptr, 10) != uid) continue;
    n += std::strtoll(status->c_str() + t + 9, nullptr, 10);
  }
  ::closedir(d);
  return n;
}

bool name_allowed(const std::string& name, const std::vector<std::string>& patterns) {
  for (const auto& p : patterns) {
    if (!p.empty() && p.back() == '*') {
      if (name.compare(0, p.size() - 1, p, 0, p.size() - 1) == 0) return true;
    } else if (name == p) {
      return true;
    }
  }
  return false;
}

constexpr const char* kPrivatePrefix = "v4rt-sandbox-";

// Removes private directories left by a v4rt of ours that died without
// cleaning up (SIGKILL): "v4rt-sandbox-<pid>-XXXXXX", ours, pid gone.
void remove_stale_private_dirs(const fs::path& root) {
  std::error_code ec;
  const std::string prefix = kPrivatePrefix;
  for (const auto& e : fs::directory_iterator(root, ec)) {
    std::string name = e.path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    char* end = nullptr;
    long pid = std::strtol(name.c_str() + prefix.size(), &end, 10);
    struct stat st {};
    if (pid <= 0 || *end != '-' || ::lstat(e.path().c_str(), &st) != 0 || !S_ISDIR(st.st_mode) ||
        st.st_uid != ::getuid())
      continue;
    if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) fs::remove_all(e.path(), ec);
  }
}

}  // namespace

std::vector<std::string> sandbox_environment(const std::vector<std::string>& host_env,
                                             const std::vector<std::string>& extra_names) {
  std::vector<std::string> allowed = {"PATH", "LANG", "LANGUAGE", "LC_*", "TERM", "TZ",
                                      "USER", "LOGNAME", "SHELL", "COLORTERM"};
  allowed.insert(allowed.end(), extra_names.begin(), extra_names.end());
  std::vector<std::string> out;
  for (const auto& kv : host_env) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) continue;
    std::string name = kv.substr(0, eq);
    if (name == "HOME" || name == "TMPDIR") continue;
    if (name_allowed(name, allowed)) out.push_back(kv);
  }
  return out;
}

Sandbox::Sandbox(SandboxOptions options, fs::path workspace)
    : options_(std::move(options)), workspace_(std::move(workspace)) {}

Sandbox::~Sandbox() {
  cgroup_.reset();  // kills every process still in it first
  if (!private_dir_.empty()) {
    std::error_code ec;
    fs::remove_all(private_dir_, ec);
  }
}

Result<SandboxSupport> Sandbox::detect(const std::string& bwrap) {
  ProcessOptions po;
  po.timeout_s = 20;
  po.max_output_bytes = 64 << 10;
  po.env = std::vector<std::string>{kDefaultPath};
  auto help = run_process({bwrap, "--help"}, po);
  if (!help.ok())
    return Status::Unsupported("shell sandbox unavailable: " + help.status().message() +
                               "; install bubblewrap, or pass --unsandboxed to run shell commands "
                               "without a sandbox (at your own risk)");
  SandboxSupport support;
  support.disable_userns = help->output.find("--disable-userns") != std::string::npos;
  std::vector<std::string> argv = isolation_flags(bwrap, support.disable_userns, false);
  argv.insert(argv.end(), {"--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "--", "/bin/cat",
                           "/proc/self/status", "/proc/self/uid_map"});
  auto r = run_process(argv, po);
  if (!r.ok())
    return Status::Unsupported("shell sandbox unavailable: " + r.status().message() +
                               "; install bubblewrap, or pass --unsandboxed to run shell commands "
                               "without a sandbox (at your own risk)");
  std::string msg = r->output;
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  if (r->exit_code != 0)
    return Status::Unsupported("shell sandbox unavailable: bwrap cannot create a user namespace here (" + msg +
                               "); enable unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1 "
                               "or user.max_user_namespaces > 0), or pass --unsandboxed to run shell commands "
                               "without a sandbox (at your own risk)");
  // Every capability set must be empty inside; a full uid map means no user namespace.
  std::istringstream in(r->output);
  std::string line, caps_left;
  bool own_userns = false, caps_seen = false;
  while (std::getline(in, line)) {
    for (const char* key : {"CapEff:", "CapPrm:", "CapBnd:"}) {
      if (line.rfind(key, 0) != 0) continue;
      caps_seen = true;
      std::string hex = line.substr(std::strlen(key));
      if (std::strtoull(hex.c_str(), nullptr, 16) != 0) caps_left += " " + line;
    }
    std::istringstream map(line);
    unsigned long long inside, outside, count;
    if (line.find(':') == std::string::npos && (map >> inside >> outside >> count)) own_userns = count < 4294967295ull;
  }
  if (!caps_seen || !own_userns || !caps_left.empty())
    return Status::Unsupported(
        "shell sandbox unavailable: bwrap did not give an unprivileged user namespace (" +
        std::string(!own_userns ? "no user namespace" : caps_left.empty() ? "capabilities unknown"
                                                                          : "capabilities left:" + caps_left) +
        "); use a bubblewrap that supports --unshare-user here, or pass --unsandboxed to run shell commands "
        "without a sandbox (at your own risk)");
  return support;
}

Status Sandbox::probe(const std::string& bwrap) {
  auto r = detect(bwrap);
  return r.ok() ? Status::Ok() : r.status();
}

Status Sandbox::prepare() {
  if (!options_.enabled || !private_dir_.empty()) return Status::Ok();
  std::error_code ec;
  fs::path root = options_.private_root.empty() ? fs::temp_directory_path(ec) : options_.private_root;
  if (ec) root = "/tmp";
  remove_stale_private_dirs(root);
  std::string tmpl = (root / (kPrivatePrefix + std::to_string(::getpid()) + "-XXXXXX")).string();
  if (!::mkdtemp(tmpl.data()))
    return Status::IoError("cannot create the sandbox's private directory in " + root.string() + ": " +
                           std::strerror(errno) + "; set TMPDIR to a writable directory");
  private_dir_ = tmpl;
  if (::mkdir((private_dir_ / "home").c_str(), 0700) != 0 || ::mkdir((private_dir_ / "tmp").c_str(), 0700) != 0 ||
      ::chmod((private_dir_ / "tmp").c_str(), 01777) != 0)
    return Status::IoError("cannot create " + private_dir_.string() + "/{home,tmp}: " + std::strerror(errno));
  auto cg = PidsCgroup::create(options_.max_processes);
  if (cg.ok()) cgroup_ = std::move(*cg);
  return Status::Ok();
}

std::string Sandbox::process_cap() const {
  if (!options_.enabled) return "";
  if (cgroup_) return "cgroup " + cgroup_->dir().string() + " (pids.max " + std::to_string(options_.max_processes) + ")";
  if (::getuid() != 0)
    return "RLIMIT_NPROC (" + std::to_string(options_.max_processes) + " above the user's current count)";
  return "";
}

SandboxedCommand Sandbox::wrap(const std::string& command, const fs::path& cwd) const {
  SandboxedCommand out;
  if (!options_.enabled) {
    out.argv = {options_.shell, "-c", command};
    return out;
  }
  const fs::path ws = canonical_or_self(workspace_);
  fs::path home = options_.home.is_absolute() && options_.home != "/" ? canonical_or_self(options_.home) : fs::path();
  const fs::path home_inside = home.empty() ? fs::path("/tmp/home") : home;
  std::vector<std::string>& a = out.argv;
  a = isolation_flags(options_.bwrap, options_.disable_userns, options_.allow_network);
  a.insert(a.end(), {"--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"});

  // 1. Hide secrets. State directories that hold the workspace are hidden
  // first (the workspace bind shows through); the others after it (so a state
  // directory inside the workspace stays hidden).
  std::vector<fs::path> hide_before, hide_after, remount;
  for (const char* d : kSecretDirs) hide_before.push_back(canonical_or_self(d));  // e.g. /home -> /usr/home
  if (!home.empty()) hide_before.push_back(home);
  for (const auto& h : options_.hidden) {
    fs::path c = canonical_or_self(h);
    (within(ws, c) ? hide_before : hide_after).push_back(c);
  }
  auto hide_dir = [&](const fs::path& d) {
    if (!is_dir(d)) return;
    a.insert(a.end(), {"--tmpfs", d.string()});
    remount.push_back(d);
  };
  for (const auto& d : hide_before) hide_dir(d);
  for (const char* f : kSecretFiles)
    if (is_file(f)) a.insert(a.end(), {"--ro-bind", "/dev/null", f});
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/etc/ssh", ec)) {
    std::string name = e.path().filename().string();
    if (name.rfind("ssh_host_", 0) == 0 && name.size() > 4 && name.compare(name.size() - 4, 4, ".pub") != 0 &&
        is_file(e.path()))
      a.insert(a.end(), {"--ro-bind", "/dev/null", e.path().string()});
  }
  if (options_.allow_network)  // DNS through systemd-resolved or resolvconf lives under /run
    a.insert(a.end(), {"--ro-bind-try", "/run/systemd/resolve", "/run/systemd/resolve", "--ro-bind-try",
                       "/run/resolvconf", "/run/resolvconf"});

  // 2. Private writable /tmp and $HOME.
  if (!private_dir_.empty()) {
    a.insert(a.end(), {"--bind", (private_dir_ / "tmp").string(), "/tmp"});
    if (home.empty()) a.insert(a.end(), {"--bind", (private_dir_ / "home").string(), home_inside.string()});
  } else {
    a.insert(a.end(), {"--size", std::to_string(kPrivateTmpfsBytes), "--tmpfs", "/tmp"});
  }
  if (!home.empty()) {
    if (!private_dir_.empty()) a.insert(a.end(), {"--bind", (private_dir_ / "home").string(), home.string()});
    else a.insert(a.end(), {"--size", std::to_string(kPrivateTmpfsBytes), "--tmpfs", home.string()});
  } else if (private_dir_.empty()) {
    a.insert(a.end(), {"--dir", home_inside.string()});
  }

  // 3. What the user chose to show, the workspace, its trusted parts, extra writable paths.
  std::vector<fs::path> on_top = {home_inside, "/tmp", ws};
  for (const auto& p : options_.extra_readable) {
    fs::path c = canonical_or_self(p);
    a.insert(a.end(), {"--ro-bind-try", c.string(), c.string()});
    on_top.push_back(c);
  }
  a.insert(a.end(), {options_.workspace_writable ? "--bind" : "--ro-bind", ws.string(), ws.string()});
  // .git and .v4rt stay read-only even in a writable workspace: hooks and
  // config there run code the next time the user (or v4rt) uses them. When
  // absent they may be created (git init works); see docs/security.md.
  for (const char* trusted : {".git", ".v4rt"}) {
    fs::path p = ws / trusted;
    if (is_dir(p) || is_file(p)) a.insert(a.end(), {"--ro-bind", p.string(), p.string()});
  }
  for (const auto& p : options_.extra_writable) {
    fs::path c = canonical_or_self(p);
    a.insert(a.end(), {"--bind-try", c.string(), c.string()});
    on_top.push_back(c);
  }
  for (const auto& d : hide_after) hide_dir(d);
  // 4. The hiding tmpfs mounts become read-only (none has anything mounted at the same place).
  for (const auto& d : remount)
    if (std::find(on_top.begin(), on_top.end(), d) == on_top.end()) a.insert(a.end(), {"--remount-ro", d.string()});

  // 5. The environment: exactly the allow-listed one, for bwrap and the command.
  std::vector<std::string> env;
  bool has_path = false;
  for (const auto& kv : options_.env) {
    if (kv.rfind("HOME=", 0) == 0 || kv.rfind("TMPDIR=", 0) == 0) continue;
    has_path = has_path || kv.rfind("PATH=", 0) == 0;
    env.push_back(kv);
  }
  if (!has_path) env.push_back(kDefaultPath);
  env.push_back("HOME=" + home_inside.string());
  env.push_back("TMPDIR=/tmp");
  a.push_back("--clearenv");
  for (const auto& kv : env) {
    size_t eq = kv.find('=');
    a.insert(a.end(), {"--setenv", kv.substr(0, eq), kv.substr(eq + 1)});
  }
  a.insert(a.end(), {"--chdir", cwd.string(), "--", options_.shell, "-c", command});
  out.env = std::move(env);

  // 6. Process cap: the cgroup when we have one; RLIMIT_NPROC works for non-root only.
  if (cgroup_) out.limits.cgroup_procs_fd = cgroup_->procs_fd();
  if (::getuid() != 0) out.limits.max_processes = count_user_tasks(::getuid()) + options_.max_processes;
  return out;
}

}  // namespace v4rt::tools
