#include "tools/confined_fs.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <deque>
#include <filesystem>
#include <fstream>
#include <optional>
#include <system_error>

#include "tools/workspace.h"

namespace v4rt::tools {

namespace fs = std::filesystem;

namespace {

// Linux's own limit for one path walk is 40 symlinks.
constexpr int kMaxSymlinkHops = 40;

std::string errno_text(int e) { return std::error_code(e, std::generic_category()).message(); }

Status refuse(const Workspace& ws, std::string_view user_path, const std::string& why) {
  return Status::InvalidArgument("path '" + std::string(user_path) + "' refused: " + why +
                                 "; use a path relative to the workspace root " + ws.root().string());
}

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : "/") + n;
  return out.empty() ? "." : out;
}

bool is_protected_name(std::string_view name) { return name == ".git" || name == ".v4rt"; }

// Components of an absolute path, without the leading "/" ("" parts and "."
// dropped, ".." kept: the walk resolves it against the fds it holds).
std::vector<std::string> split_raw(std::string_view p) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i <= p.size()) {
    size_t j = p.find('/', i);
    if (j == std::string_view::npos) j = p.size();
    std::string part(p.substr(i, j - i));
    if (!part.empty() && part != ".") out.push_back(std::move(part));
    i = j + 1;
  }
  return out;
}

// If abs (components of an absolute path) starts with base's components,
// the rest; else nullopt.
std::optional<std::vector<std::string>> strip_base(const std::vector<std::string>& abs, const fs::path& base) {
  std::vector<std::string> b = split_raw(base.native());
  if (abs.size() < b.size()) return std::nullopt;
  for (size_t i = 0; i < b.size(); ++i)
    if (abs[i] != b[i]) return std::nullopt;
  return std::vector<std::string>(abs.begin() + static_cast<long>(b.size()), abs.end());
}

struct WalkRequest {
  bool follow_final = true;        // resolve a symlink in the last position
  bool want_dir = false;           // the final object must be a directory
  bool allow_missing_tail = false;  // resolve(): a missing tail is appended as written
  bool create_dirs = false;        // mkdirat every missing component (callers pass directories only)
  bool for_write = false;          // refuse protected directories (.git, .v4rt) on the way
};

struct WalkOutcome {
  // fds[i] is an O_PATH fd of names[i]; the root is not in it.
  std::vector<UniqueFd> fds;
  std::vector<std::string> names;  // canonical components from the root
  bool missing = false;            // allow_missing_tail: names end with a part that does not exist
  int parent_fd(const Workspace& ws) const { return fds.size() < 2 ? ws.root_fd() : fds[fds.size() - 2].get(); }
};

// The component-by-component walk (see the header): the authority on what a
// path means. Each step opens one name with O_PATH|O_NOFOLLOW relative to the
// fd of the directory before it; symlinks are expanded here.
Result<WalkOutcome> walk(const Workspace& ws, std::string_view user_path, const std::vector<std::string>& comps,
                         const WalkRequest& req) {
  WalkOutcome out;
  std::deque<std::pair<std::string, bool>> todo;  // (name, came from a symlink's target)
  for (const auto& c : comps) todo.emplace_back(c, false);
  int hops = 0, creates = 0;
  auto cur = [&] { return out.fds.empty() ? ws.root_fd() : out.fds.back().get(); };
  while (!todo.empty()) {
    auto [name, from_link] = todo.front();
    todo.pop_front();
    if (name.empty() || name == ".") continue;
    if (name == "..") {  // only from a symlink's target: the model's own '..' are refused earlier
      if (out.names.empty()) return refuse(ws, user_path, "a symlink on the way climbs out of the workspace with '..'");
      out.fds.pop_back();
      out.names.pop_back();
      continue;
    }
    bool last = todo.empty();
    UniqueFd fd(::openat(cur(), name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (!fd.valid()) {
      int e = errno;
      if (e == ENOENT) {
        bool link_pending = from_link;
        for (const auto& t : todo) link_pending = link_pending || t.second;
        if (link_pending)
          return refuse(ws, user_path, "a symlink on the way points to something that does not exist");
        if (req.create_dirs) {
          if (req.for_write && is_protected_name(name)) return check_not_protected(name, user_path);
          if (::mkdirat(cur(), name.c_str(), 0777) != 0 && errno != EEXIST)
            return Status::IoError(std::string(user_path) + ": cannot create directory '" + join(out.names) + "/" +
                                   name + "' (" + errno_text(errno) + ")");
          if (++creates > 64 + static_cast<int>(comps.size()))
            return Status::IoError(std::string(user_path) + ": its directories keep changing while being created; retry");
          todo.emplace_front(name, from_link);  // open what was just made (or what a racer put there)
          continue;
        }
        if (req.allow_missing_tail) {
          out.names.push_back(name);
          for (auto& t : todo) out.names.push_back(t.first);
          out.missing = true;
          return out;
        }
        return Status::NotFound(std::string(user_path) + ": no such file or directory; use list or glob to find the right path");
      }
      if (e == ENOTDIR)
        return Status::InvalidArgument(std::string(user_path) + ": '" + join(out.names) +
                                       "' is not a directory, so nothing can lie under it");
      return Status::IoError(std::string(user_path) + ": cannot open '" + name + "' (" + errno_text(e) + ")");
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0)
      return Status::IoError(std::string(user_path) + ": cannot stat '" + name + "' (" + errno_text(errno) + ")");
    if (S_ISLNK(st.st_mode) && !(last && !req.follow_final)) {
      if (++hops > kMaxSymlinkHops) return refuse(ws, user_path, "too many levels of symlinks");
      char buf[4096];
      ssize_t n = ::readlinkat(fd.get(), "", buf, sizeof buf);
      if (n <= 0 || n >= static_cast<ssize_t>(sizeof buf))
        return refuse(ws, user_path, "the symlink '" + name + "' cannot be read");
      std::string target(buf, static_cast<size_t>(n));
      std::vector<std::string> tcomps = split_raw(target);
      if (target[0] == '/') {
        // Absolute: allowed only when it names a path under the root; the walk
        // restarts from the root fd (never from '/').
        auto rest = strip_base(tcomps, ws.root());
        if (!rest) rest = strip_base(tcomps, ws.given_root());
        if (!rest)
          return refuse(ws, user_path, "the symlink '" + join(out.names) + "/" + name + "' points outside the workspace (to " +
                                           target + ")");
        tcomps = std::move(*rest);
        out.fds.clear();
        out.names.clear();
      }
      for (auto it = tcomps.rbegin(); it != tcomps.rend(); ++it) todo.emplace_front(*it, true);
      continue;
    }
    if ((!last || req.want_dir || req.create_dirs) && !S_ISDIR(st.st_mode))
      return Status::InvalidArgument(std::string(user_path) + ": '" + join(out.names) + (out.names.empty() ? "" : "/") +
                                     name + "' is not a directory");
    if (req.for_write && is_protected_name(name)) return check_not_protected(name, user_path);
    out.fds.push_back(std::move(fd));
    out.names.push_back(name);
  }
  return out;
}

// openat2 beneath the root; an Opened on success, nothing when the walk must
// decide (every failure, so that messages do not depend on the kernel, and
// successes whose canonical path /proc cannot tell).
std::optional<Opened> open2(const Workspace& ws, const std::vector<std::string>& comps, int flags) {
  if (!ws.use_openat2()) return std::nullopt;
  std::string path = join(comps);
  struct open_how how {};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC | O_NOCTTY);
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  long fd = ::syscall(SYS_openat2, ws.root_fd(), path.c_str(), &how, sizeof how);
  if (fd < 0) return std::nullopt;
  Opened o;
  o.fd.reset(static_cast<int>(fd));
  // The kernel's name for what was opened; the root's canonical path must be
  // its prefix (it is not when the root was moved: then the walk decides).
  char buf[4096];
  std::string self = "/proc/self/fd/" + std::to_string(fd);
  ssize_t n = ::readlink(self.c_str(), buf, sizeof buf);
  if (n <= 0 || n >= static_cast<ssize_t>(sizeof buf)) return std::nullopt;
  std::string real(buf, static_cast<size_t>(n));
  const std::string& r = ws.root().native();
  if (real == r) {
    o.rel = ".";
  } else if (r == "/" && real.size() > 1) {
    o.rel = real.substr(1);
  } else if (real.size() > r.size() && real.compare(0, r.size(), r) == 0 && real[r.size()] == '/') {
    o.rel = real.substr(r.size() + 1);
  } else {
    return std::nullopt;
  }
  return o;
}

mode_t process_umask() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("Umask:", 0) == 0) return static_cast<mode_t>(std::strtoul(line.c_str() + 6, nullptr, 8) & 0777);
  return static_cast<mode_t>(022);  // no /proc: the usual default
}

}  // namespace

bool is_protected_path(std::string_view rel) {
  for (const auto& part : split_raw(rel))
    if (is_protected_name(part)) return true;
  return false;
}

Status check_not_protected(std::string_view rel, std::string_view display) {
  if (!is_protected_path(rel)) return Status::Ok();
  return Status::InvalidArgument(std::string(display) +
                                 " is protected: v4rt's and git's configuration (.git/, .v4rt/) cannot be changed "
                                 "by tools; ask the user to make this change");
}

Result<std::vector<std::string>> split_workspace_path(const Workspace& ws, std::string_view user_path) {
  if (user_path.find('\0') != std::string_view::npos) return refuse(ws, user_path, "it contains a NUL byte");
  std::vector<std::string> parts = split_raw(user_path);
  for (const auto& p : parts)
    if (p == "..") return refuse(ws, user_path, "'..' components are not allowed");
  if (!user_path.empty() && user_path[0] == '/') {
    auto rest = strip_base(parts, ws.root());
    if (!rest) rest = strip_base(parts, ws.given_root());
    if (!rest) return refuse(ws, user_path, "it is an absolute path outside the workspace");
    parts = std::move(*rest);
  }
  return parts;
}

Result<Opened> open_beneath(const Workspace& ws, std::string_view user_path, int flags) {
  auto comps = split_workspace_path(ws, user_path);
  if (!comps) return comps.status();
  if (auto o = open2(ws, *comps, flags)) return std::move(*o);
  WalkRequest req;
  req.follow_final = (flags & O_NOFOLLOW) == 0;
  req.want_dir = (flags & O_DIRECTORY) != 0;
  auto w = walk(ws, user_path, *comps, req);
  if (!w) return w.status();
  Opened o;
  o.rel = join(w->names);
  if (flags & O_PATH) {
    o.fd = w->fds.empty() ? UniqueFd(::fcntl(ws.root_fd(), F_DUPFD_CLOEXEC, 0)) : std::move(w->fds.back());
  } else if (w->names.empty()) {
    o.fd.reset(::openat(ws.root_fd(), ".", flags | O_CLOEXEC | O_NOCTTY));
  } else {
    // Re-open the last name from its parent's fd without following: if it was
    // swapped for a symlink since the walk looked at it, this fails (ELOOP).
    o.fd.reset(::openat(w->parent_fd(ws), w->names.back().c_str(), flags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY));
  }
  if (!o.fd.valid()) {
    int e = errno;
    if (e == ELOOP)
      return Status::InvalidArgument(std::string(user_path) + " is a symlink" +
                                     ((flags & O_NOFOLLOW) ? "" : " that changed while it was being opened; retry"));
    if (e == EISDIR) return Status::InvalidArgument(std::string(user_path) + ": is a directory");
    return Status::IoError(std::string(user_path) + ": cannot open (" + errno_text(e) + ")");
  }
  return o;
}

Result<ParentDir> open_parent_beneath(const Workspace& ws, std::string_view user_path, bool create_dirs,
                                      bool for_write) {
  auto comps = split_workspace_path(ws, user_path);
  if (!comps) return comps.status();
  if (comps->empty())
    return Status::InvalidArgument("path '" + std::string(user_path) + "' is the workspace root; name a file in it");
  if (for_write) V4RT_RETURN_IF_ERROR(check_not_protected(join(*comps), user_path));
  ParentDir p;
  p.name = comps->back();
  comps->pop_back();
  if (auto o = open2(ws, *comps, O_PATH | O_DIRECTORY)) {
    if (for_write) V4RT_RETURN_IF_ERROR(check_not_protected(o->rel, user_path));
    p.dir = std::move(o->fd);
    p.dir_rel = o->rel;
    return p;
  }
  WalkRequest req;
  req.want_dir = true;
  req.create_dirs = create_dirs;
  req.for_write = for_write;
  auto w = walk(ws, user_path, *comps, req);
  if (!w) return w.status();
  p.dir_rel = join(w->names);
  p.dir = w->fds.empty() ? UniqueFd(::fcntl(ws.root_fd(), F_DUPFD_CLOEXEC, 0)) : std::move(w->fds.back());
  if (!p.dir.valid()) return Status::IoError(std::string(user_path) + ": cannot open its directory");
  return p;
}

Result<std::string> resolve_beneath(const Workspace& ws, std::string_view user_path) {
  auto comps = split_workspace_path(ws, user_path);
  if (!comps) return comps.status();
  WalkRequest req;
  req.allow_missing_tail = true;
  auto w = walk(ws, user_path, *comps, req);
  if (!w) return w.status();
  return join(w->names);
}

Result<EntryInfo> stat_entry(int dir_fd, const std::string& name) {
  struct stat st {};
  EntryInfo info;
  if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return info;
    return Status::IoError(name + ": cannot stat (" + errno_text(errno) + ")");
  }
  info.exists = true;
  info.mode = st.st_mode;
  info.uid = st.st_uid;
  info.gid = st.st_gid;
  info.size = st.st_size;
  return info;
}

Result<std::string> read_link_at(int dir_fd, const std::string& name) {
  char buf[4096];
  ssize_t n = ::readlinkat(dir_fd, name.c_str(), buf, sizeof buf);
  if (n < 0 || n >= static_cast<ssize_t>(sizeof buf))
    return Status::IoError(name + ": cannot read the symlink (" + errno_text(errno) + ")");
  return std::string(buf, static_cast<size_t>(n));
}

Result<std::string> create_temp_file(int dir_fd, std::string_view content, mode_t mode, TempOwner owner,
                                     std::string_view display) {
  std::string d(display);
  UniqueFd fd;
  std::string name;
  for (int attempt = 0; attempt < 16 && !fd.valid(); ++attempt) {
    unsigned char rnd[12];
    if (::getrandom(rnd, sizeof rnd, 0) != static_cast<ssize_t>(sizeof rnd))
      return Status::IoError(d + ": no random bytes for a temporary file name (" + errno_text(errno) + ")");
    static const char kHex[] = "0123456789abcdef";
    name = ".v4rt-tmp-";
    for (unsigned char c : rnd) {
      name += kHex[c >> 4];
      name += kHex[c & 15];
    }
    // O_EXCL|O_NOFOLLOW: a file or symlink planted under this name is never
    // opened; we draw another name.
    fd.reset(::openat(dir_fd, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd.valid() && errno != EEXIST)
      return Status::IoError(d + ": cannot create a temporary file in its directory (" + errno_text(errno) + ")");
  }
  if (!fd.valid()) return Status::IoError(d + ": cannot create a temporary file in its directory (names taken)");
  auto fail = [&](const std::string& what) {
    int e = errno;
    ::unlinkat(dir_fd, name.c_str(), 0);
    return Status::IoError(d + ": " + what + " (" + errno_text(e) + "); nothing was changed");
  };
  size_t off = 0;
  while (off < content.size()) {
    ssize_t n = ::write(fd.get(), content.data() + off, content.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("cannot write the new content");
    }
    off += static_cast<size_t>(n);
  }
  if (owner.set) (void)!::fchown(fd.get(), owner.uid, owner.gid);  // keeps the owner when we may (root)
  if (::fchmod(fd.get(), mode & 07777) != 0) return fail("cannot set its permissions");
  if (::fsync(fd.get()) != 0) return fail("cannot flush the new content to disk");
  if (::close(fd.release()) != 0) return fail("cannot close the new content");
  return name;
}

Status rename_in_dir(int dir_fd, const std::string& from, const std::string& to, std::string_view display) {
  if (::renameat(dir_fd, from.c_str(), dir_fd, to.c_str()) != 0)
    return Status::IoError(std::string(display) + ": cannot move the new content into place (" + errno_text(errno) + ")");
  UniqueFd d(::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (d.valid()) (void)::fsync(d.get());  // the rename itself is durable once the directory is
  return Status::Ok();
}

Status unlink_in_dir(int dir_fd, const std::string& name, std::string_view display) {
  if (::unlinkat(dir_fd, name.c_str(), 0) != 0)
    return Status::IoError(std::string(display) + ": cannot delete (" + errno_text(errno) + ")");
  return Status::Ok();
}

Result<std::string> read_all(int fd, std::string_view display) {
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::IoError(std::string(display) + ": cannot read (" + errno_text(errno) + ")");
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

mode_t new_file_mode() { return static_cast<mode_t>(0666 & ~process_umask()); }

}  // namespace v4rt::tools
