#include "tools/file_walker.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <sstream>

#include "tools/confined_fs.h"
#include "tools/glob_match.h"
#include "tools/workspace.h"

namespace v4rt::tools {

void GitignoreRules::add_file(const std::string& base, const std::string& text) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    while (!line.empty() && line.back() == ' ' && (line.size() < 2 || line[line.size() - 2] != '\\'))
      line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    Rule r;
    r.base = base;
    if (line[0] == '!') {
      r.negate = true;
      line.erase(0, 1);
    } else if (line[0] == '\\') {
      line.erase(0, 1);
    }
    if (!line.empty() && line.back() == '/') {
      r.dir_only = true;
      line.pop_back();
    }
    if (line.empty()) continue;
    if (line.find('/') != std::string::npos) {
      r.anchored = true;
      if (line[0] == '/') line.erase(0, 1);
    }
    r.pattern = line;
    rules_.push_back(std::move(r));
  }
}

bool GitignoreRules::ignored(const std::string& rel, bool is_dir) const {
  bool result = false;
  for (const Rule& r : rules_) {
    if (r.dir_only && !is_dir) continue;
    std::string sub;
    if (r.base.empty()) {
      sub = rel;
    } else {
      if (rel.size() <= r.base.size() || rel.compare(0, r.base.size(), r.base) != 0 ||
          rel[r.base.size()] != '/')
        continue;
      sub = rel.substr(r.base.size() + 1);
    }
    bool m;
    if (r.anchored) {
      m = glob_match(r.pattern, sub);
    } else {
      size_t slash = sub.rfind('/');
      m = glob_match(r.pattern, slash == std::string::npos ? sub : sub.substr(slash + 1));
    }
    if (m) result = !r.negate;
  }
  return result;
}

namespace {

// Reads `name` in dir_fd as a small text file (a .gitignore): no symlink
// followed, a FIFO not waited on; anything odd reads as empty.
std::string slurp_at(int dir_fd, const char* name) {
  UniqueFd fd(::openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
  if (!fd.valid()) return {};
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > (1 << 20)) return {};
  auto text = read_all(fd.get(), name);
  return text ? *text : std::string();
}

// Reads a workspace file (through the confinement layer) as a small text file.
std::string slurp_beneath(const Workspace& ws, const std::string& rel) {
  auto o = open_beneath(ws, rel, O_RDONLY | O_NONBLOCK);
  if (!o) return {};
  struct stat st {};
  if (::fstat(o->fd.get(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > (1 << 20)) return {};
  auto text = read_all(o->fd.get(), rel);
  return text ? *text : std::string();
}

int64_t mtime_ns_of(const struct stat& st) {
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
}

struct Walker {
  const Workspace& ws;
  const WalkOptions& options;
  GitignoreRules rules;
  std::vector<std::pair<std::string, int64_t>> found;
  bool truncated = false;

  bool may_read(const std::string& rel) const { return !options.may_read || options.may_read(rel); }

  // Adds one file; false once the cap is reached.
  bool add(std::string rel, int64_t mtime) {
    found.emplace_back(std::move(rel), mtime);
    if (found.size() >= options.max_files) {
      truncated = true;
      return false;
    }
    return true;
  }

  // dir_fd: an O_RDONLY fd of the directory drel ("" for the root).
  Status walk_dir(int dir_fd, const std::string& drel, bool first, int depth) {
    if (options.stop.stop_requested()) return Status::Cancelled("file walk cancelled");
    if (depth > options.max_depth || truncated) return Status::Ok();
    if (!first && options.respect_gitignore) {
      std::string gi = slurp_at(dir_fd, ".gitignore");
      if (!gi.empty()) rules.add_file(drel, gi);
    }
    struct Entry {
      std::string name;
      unsigned char type;
    };
    std::vector<Entry> entries;
    {
      int dup_fd = ::fcntl(dir_fd, F_DUPFD_CLOEXEC, 0);
      if (dup_fd < 0) return Status::Ok();
      DIR* d = ::fdopendir(dup_fd);
      if (!d) {
        ::close(dup_fd);
        return Status::Ok();
      }
      while (struct dirent* e = ::readdir(d)) {
        std::string name = e->d_name;
        if (name == "." || name == ".." || name == ".git") continue;
        entries.push_back({std::move(name), e->d_type});
      }
      ::closedir(d);
    }
    std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.name < b.name; });
    for (const Entry& e : entries) {
      if (options.stop.stop_requested()) return Status::Cancelled("file walk cancelled");
      std::string rel = drel.empty() ? e.name : drel + "/" + e.name;
      struct stat st {};
      if (::fstatat(dir_fd, e.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
      bool is_dir = S_ISDIR(st.st_mode);
      if (options.respect_gitignore && rules.ignored(rel, is_dir)) continue;
      if (is_dir) {
        // O_NOFOLLOW|O_DIRECTORY from the parent's fd: swapped for a symlink
        // since the fstatat, it fails and is skipped.
        UniqueFd sub(::openat(dir_fd, e.name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!sub.valid()) continue;
        V4RT_RETURN_IF_ERROR(walk_dir(sub.get(), rel, false, depth + 1));
        if (truncated) return Status::Ok();
      } else if (S_ISREG(st.st_mode)) {
        if (!may_read(rel)) continue;
        if (!add(rel, mtime_ns_of(st))) return Status::Ok();
      } else if (S_ISLNK(st.st_mode)) {
        // Listed only when it resolves to a regular file inside the workspace.
        auto o = open_beneath(ws, rel, O_PATH);
        if (!o) continue;
        struct stat tst {};
        if (::fstat(o->fd.get(), &tst) != 0 || !S_ISREG(tst.st_mode)) continue;
        if (!may_read(rel) || !may_read(o->rel)) continue;
        if (!add(rel, mtime_ns_of(tst))) return Status::Ok();
      }
    }
    return Status::Ok();
  }
};

WalkResult finish(std::vector<std::pair<std::string, int64_t>> found, bool truncated) {
  std::sort(found.begin(), found.end());
  WalkResult out;
  out.truncated = truncated;
  for (auto& [f, t] : found) {
    out.files.push_back(std::move(f));
    out.mtime_ns.push_back(t);
  }
  return out;
}

}  // namespace

Result<WalkResult> walk_files(const Workspace& ws, std::string_view start, const WalkOptions& options) {
  Walker w{ws, options, {}, {}, false};
  auto o = open_beneath(ws, start, O_PATH);
  if (!o) return o.status();
  struct stat st {};
  if (::fstat(o->fd.get(), &st) != 0) return Status::IoError(std::string(start) + ": cannot stat");
  std::string srel = o->rel == "." ? "" : o->rel;
  if (!S_ISDIR(st.st_mode)) {
    if (S_ISREG(st.st_mode) && w.may_read(srel)) w.add(srel, mtime_ns_of(st));
    return finish(std::move(w.found), false);
  }
  if (options.respect_gitignore) {
    w.rules.add_file("", slurp_beneath(ws, ".git/info/exclude"));
    w.rules.add_file("", slurp_beneath(ws, ".gitignore"));
    // .gitignore files of the directories between the root and start.
    if (!srel.empty()) {
      std::string acc;
      for (const auto& part : std::filesystem::path(srel)) {
        acc = acc.empty() ? part.string() : acc + "/" + part.string();
        if (w.rules.ignored(acc, true)) return WalkResult{};  // start itself is ignored
        w.rules.add_file(acc, slurp_beneath(ws, acc + "/.gitignore"));
      }
    }
  }
  // Re-open the directory that was resolved (not its path again) for reading.
  UniqueFd dir(::openat(o->fd.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir.valid()) return Status::IoError(std::string(start) + ": cannot open the directory");
  V4RT_RETURN_IF_ERROR(w.walk_dir(dir.get(), srel, true, 0));
  return finish(std::move(w.found), w.truncated);
}

Result<WalkResult> walk_files(const std::filesystem::path& root, const std::filesystem::path& start,
                              const WalkOptions& options) {
  auto ws = Workspace::open(root);
  if (!ws) return ws.status();
  std::string rel = ws->relative(start.lexically_normal());
  return walk_files(*ws, rel, options);
}

}  // namespace v4rt::tools
