#include "tools/workspace.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "tools/confined_fs.h"

namespace v4rt::tools {

namespace fs = std::filesystem;

namespace {

// Whether openat2 works here: absent kernels say ENOSYS, seccomp filters
// (some container runtimes) EPERM or ENOSYS.
bool probe_openat2(int root_fd) {
  struct open_how how {};
  how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  long fd = ::syscall(SYS_openat2, root_fd, ".", &how, sizeof how);
  if (fd < 0) return false;
  ::close(static_cast<int>(fd));
  return true;
}

}  // namespace

Workspace::Workspace(fs::path root, fs::path given_root, UniqueFd fd, bool use_openat2, WorkspaceOptions options)
    : root_(std::move(root)),
      given_root_(std::move(given_root)),
      root_fd_(std::move(fd)),
      use_openat2_(use_openat2),
      options_(std::move(options)) {}

Workspace::Workspace(const Workspace& o)
    : root_(o.root_),
      given_root_(o.given_root_),
      root_fd_(o.root_fd_.dup()),
      use_openat2_(o.use_openat2_),
      options_(o.options_) {}

Workspace& Workspace::operator=(const Workspace& o) {
  if (this != &o) *this = Workspace(o);
  return *this;
}

Result<Workspace> Workspace::open(const fs::path& root, WorkspaceOptions options) {
  std::error_code ec;
  fs::path canon = fs::canonical(root, ec);
  auto bad = [&] {
    return Status::InvalidArgument("workspace " + root.string() +
                                   ": not an existing directory; pass --workspace DIR or cd into the project");
  };
  if (ec) return bad();
  // The root is the user's choice (trusted); from here on everything is
  // relative to this fd, so renaming or replacing the path later changes nothing.
  UniqueFd fd(::open(canon.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return bad();
  fs::path given = fs::absolute(root, ec).lexically_normal();
  if (!given.empty() && given.filename().empty()) given = given.parent_path();
  bool use2 = !options.force_walk_fallback && probe_openat2(fd.get());
  return Workspace(canon, given, std::move(fd), use2, std::move(options));
}

bool Workspace::contains(const fs::path& canonical) const {
  const std::string& r = root_.native();
  const std::string& p = canonical.native();
  if (p == r) return true;
  if (r == "/") return true;
  return p.size() > r.size() && p.compare(0, r.size(), r) == 0 && p[r.size()] == '/';
}

std::string Workspace::relative(const fs::path& abs) const {
  if (abs == root_) return ".";
  fs::path rel = abs.lexically_relative(root_);
  if (rel.empty()) return abs.string();
  return rel.generic_string();
}

Result<fs::path> Workspace::resolve(std::string_view user_path) const {
  auto rel = resolve_beneath(*this, user_path);
  if (!rel) return rel.status();
  return *rel == "." ? root_ : root_ / *rel;
}

}  // namespace v4rt::tools
