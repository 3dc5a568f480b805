// libFuzzer target for the confinement layer (tools/confined_fs.h). The input
// is lines: "d NAME" makes a directory, "f NAME" a file, "l NAME\tTARGET" a
// symlink with any target (names are relative, without '..'); every other line
// is a path the model might write (at most 4 per input). Each path goes
// through open_beneath (with and without following the last symlink) and
// resolve_beneath in both modes (openat2 and the forced walk), and through
// open_parent_beneath (creating directories) and read_text_file in one mode
// each. Invariants, besides ASan/UBSan: whatever is opened lies
// under the root (the kernel's name for the fd, /proc/self/fd); its canonical
// path names that same object (dev/ino); both modes agree; the directory
// beside the root, holding a secret, never changes.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tools/confined_fs.h"
#include "tools/file_io.h"
#include "tools/workspace.h"

namespace {

namespace fs = std::filesystem;
using v4rt::tools::Workspace;

struct Fixture {
  fs::path base, root, outside;
  std::unique_ptr<Workspace> fast, walk;
  Fixture() {
    // tmpfs when there is one: the target is file-system bound.
    std::error_code ec;
    char tmpl_shm[] = "/dev/shm/v4rt-fuzz-path-XXXXXX";
    char tmpl_tmp[] = "/tmp/v4rt-fuzz-path-XXXXXX";
    char* tmpl = fs::is_directory("/dev/shm", ec) && ::access("/dev/shm", W_OK) == 0 ? tmpl_shm : tmpl_tmp;
    base = fs::canonical(::mkdtemp(tmpl));
    root = base / "root";
    outside = base / "outside";
    fs::create_directories(root);
    fs::create_directories(outside);
    std::ofstream(outside / "secret") << "SECRET";
    auto a = Workspace::open(root);
    v4rt::tools::WorkspaceOptions o;
    o.force_walk_fallback = true;
    auto b = Workspace::open(root, o);
    if (!a.ok() || !b.ok()) std::abort();
    fast = std::make_unique<Workspace>(std::move(*a));
    walk = std::make_unique<Workspace>(std::move(*b));
  }
  ~Fixture() {  // runs at a normal exit (the ctest replay): leave no temporary tree behind
    fast.reset();
    walk.reset();
    std::error_code ec;
    fs::remove_all(base, ec);
  }
};

Fixture& fixture() {
  static Fixture f;  // one temporary tree per fuzzing process
  return f;
}

void check(bool ok, const char* what, const std::string& path) {
  if (ok) return;
  std::fprintf(stderr, "invariant broken: %s (path '%s')\n", what, path.c_str());
  std::abort();
}

// A layout name: relative, no '..', no NUL, short, and nothing on its way
// (nor itself) an existing symlink: the harness must not create anything
// outside the root by following one.
bool safe_name(const fs::path& root, const std::string& n) {
  if (n.empty() || n.size() > 64 || n[0] == '/' || n.find('\0') != std::string::npos) return false;
  fs::path acc = root;
  std::error_code ec;
  for (const auto& part : fs::path(n)) {
    if (part == "..") return false;
    acc /= part;
    if (fs::is_symlink(fs::symlink_status(acc, ec))) return false;
  }
  return true;
}

bool under_root(const Fixture& f, int fd) {
  char buf[4096];
  std::string self = "/proc/self/fd/" + std::to_string(fd);
  ssize_t n = ::readlink(self.c_str(), buf, sizeof buf);
  if (n <= 0) return false;
  std::string real(buf, static_cast<size_t>(n));
  const std::string& r = f.root.native();
  return real == r || (real.size() > r.size() && real.compare(0, r.size(), r) == 0 && real[r.size()] == '/');
}

// What an open gave: dev/ino of the object, or nothing.
struct Seen {
  bool ok = false;
  dev_t dev = 0;
  ino_t ino = 0;
  std::string rel;
};

Seen open_and_check(const Fixture& f, const Workspace& ws, const std::string& path, int flags) {
  Seen s;
  auto o = v4rt::tools::open_beneath(ws, path, flags);
  if (!o.ok()) return s;
  check(under_root(f, o->fd.get()), "an opened fd lies outside the root", path);
  struct stat st {};
  check(::fstat(o->fd.get(), &st) == 0, "fstat of an opened fd", path);
  // The canonical path names the same object, reached without following
  // anything (O_NOFOLLOW on the last part; earlier parts are real directories).
  struct stat by_rel {};
  std::string full = o->rel == "." ? f.root.string() : (f.root / o->rel).string();
  check(::fstatat(AT_FDCWD, full.c_str(), &by_rel, AT_SYMLINK_NOFOLLOW) == 0, "canonical path exists", path);
  check(by_rel.st_dev == st.st_dev && by_rel.st_ino == st.st_ino, "canonical path names the opened object", path);
  s.ok = true;
  s.dev = st.st_dev;
  s.ino = st.st_ino;
  s.rel = o->rel;
  return s;
}

void reset(const Fixture& f) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(f.root, ec)) fs::remove_all(e.path(), ec);
}

void check_outside(const Fixture& f, const std::string& path) {
  size_t n = 0;
  std::error_code ec;
  for (auto it = fs::directory_iterator(f.outside, ec); it != fs::directory_iterator(); it.increment(ec)) ++n;
  check(n == 1, "the directory beside the root changed", path);
  std::ifstream in(f.outside / "secret");
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  check(s == "SECRET", "the secret beside the root changed", path);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 2048) return 0;
  Fixture& f = fixture();
  reset(f);
  std::string input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> paths;
  size_t start = 0;
  int ops = 0;
  while (start <= input.size() && ops < 16) {
    size_t nl = input.find('\n', start);
    if (nl == std::string::npos) nl = input.size();
    std::string line = input.substr(start, nl - start);
    start = nl + 1;
    ++ops;
    std::error_code ec;
    if (line.size() > 2 && line[1] == ' ' && (line[0] == 'd' || line[0] == 'f' || line[0] == 'l')) {
      std::string rest = line.substr(2);
      if (line[0] == 'l') {
        size_t tab = rest.find('\t');
        if (tab == std::string::npos) continue;
        std::string name = rest.substr(0, tab), target = rest.substr(tab + 1);
        if (!safe_name(f.root, name) || target.empty() || target.find('\0') != std::string::npos) continue;
        fs::create_symlink(target, f.root / name, ec);
      } else if (safe_name(f.root, rest)) {
        if (line[0] == 'd') fs::create_directories(f.root / rest, ec);
        else std::ofstream(f.root / rest) << "x";
      }
    } else if (paths.size() < 4) {
      paths.push_back(line);
    }
  }
  for (const std::string& p : paths) {
    for (int flags : {O_PATH, O_PATH | O_NOFOLLOW}) {
      Seen a = open_and_check(f, *f.fast, p, flags);
      Seen b = open_and_check(f, *f.walk, p, flags);
      check(a.ok == b.ok, "openat2 and the walk disagree on success", p);
      if (a.ok) {
        check(a.dev == b.dev && a.ino == b.ino, "openat2 and the walk opened different objects", p);
        check(a.rel == b.rel, "openat2 and the walk disagree on the canonical path", p);
      }
    }
    auto r1 = v4rt::tools::resolve_beneath(*f.fast, p);
    auto r2 = v4rt::tools::resolve_beneath(*f.walk, p);
    check(r1.ok() == r2.ok(), "resolve differs between workspaces", p);
    if (r1.ok()) {
      check(*r1 == *r2, "resolve differs between workspaces", p);
      for (const auto& part : fs::path(*r1)) check(part != "..", "resolve gave a path with '..'", p);
    }
    // Writes' parent directories (creating them) in one mode and a read in the
    // other, alternating with the input (both modes agree on opens above).
    const Workspace& wa = size % 2 ? *f.fast : *f.walk;
    const Workspace& wb = size % 2 ? *f.walk : *f.fast;
    auto parent = v4rt::tools::open_parent_beneath(wa, p, /*create_dirs=*/true, /*for_write=*/true);
    if (parent.ok()) {
      check(under_root(f, parent->dir.get()), "a parent directory lies outside the root", p);
      check(!v4rt::tools::is_protected_path(parent->rel()), "a protected path passed the write check", p);
    }
    (void)v4rt::tools::read_text_file(wb, p, {});
  }
  check_outside(f, input);
  return 0;
}
