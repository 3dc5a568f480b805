// Confined file system access: the one way the file tools (read, write, edit,
// apply_patch, list, glob, grep, the file walker) reach files. Every access is
// an open relative to the workspace root's directory fd, and the check that
// the object lies inside the workspace is that same open, not a path string
// checked beforehand:
//   - openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS) where the kernel has it;
//   - otherwise (ENOSYS, or EPERM from a seccomp filter), and whenever openat2
//     refuses (an absolute symlink, a '..' that would climb out, a magic link),
//     a component-by-component walk: openat(O_PATH | O_NOFOLLOW) per component
//     from the fd of the directory before it; a symlink is read (readlinkat)
//     and resolved here against the fds already held, with a hop limit. Its
//     target may use '..' as long as that stays inside, and may be absolute if
//     it names a path under the root; anything else is refused.
// A concurrent process that swaps directories and symlinks cannot redirect an
// access outside: each step starts from an fd that is already inside.
// Writes go to a temporary file created with O_CREAT|O_EXCL|O_NOFOLLOW (random
// name) in the target's directory fd, fsynced, then renamed with renameat in
// that same directory fd; writes never go through a symlink (one at the
// target is refused), and never into .git/ or .v4rt/ (protected paths).
// Thread-safe (no shared state besides the immutable Workspace).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "tools/unique_fd.h"

namespace v4rt::tools {

class Workspace;

// An object opened inside the workspace.
struct Opened {
  UniqueFd fd;
  std::string rel;  // its canonical path relative to the root ("." for the root)
};

// The directory that holds a path's last component, and that component.
struct ParentDir {
  UniqueFd dir;          // O_PATH|O_DIRECTORY fd of the directory, inside the workspace
  std::string dir_rel;   // canonical path of that directory ("." for the root)
  std::string name;      // the last component (never empty, '.' or '..')
  std::string rel() const { return dir_rel == "." ? name : dir_rel + "/" + name; }
};

// Splits a model-given path into components relative to the root: '.' and
// empty parts dropped; '..', NUL bytes and absolute paths not under the root
// refused (InvalidArgument naming the path). "" and "." give no components.
Result<std::vector<std::string>> split_workspace_path(const Workspace& ws, std::string_view user_path);

// Opens user_path beneath the root with the given open(2) flags (O_CLOEXEC and
// O_NOCTTY are added). A symlink as the last component is followed when it
// stays inside, unless flags hold O_NOFOLLOW (with O_PATH: the link itself).
// Errors: NotFound, InvalidArgument (escapes, not a directory, loops), IoError.
Result<Opened> open_beneath(const Workspace& ws, std::string_view user_path, int flags);

// Opens the directory that would hold user_path, creating missing directories
// (mkdirat, 0777 less umask) when create_dirs. The last component itself is
// not looked at. When for_write, a parent inside .git/ or .v4rt/ is refused
// before anything is created.
Result<ParentDir> open_parent_beneath(const Workspace& ws, std::string_view user_path, bool create_dirs,
                                      bool for_write);

// Resolves user_path without opening it for I/O: its canonical path relative to
// the root. A missing tail is allowed (appended as written) unless it lies
// behind a dangling symlink.
Result<std::string> resolve_beneath(const Workspace& ws, std::string_view user_path);

// Whether a workspace-relative path lies in, or is, .git or .v4rt (any
// component equal to either, case-sensitive).
bool is_protected_path(std::string_view rel);
// InvalidArgument for the model when rel is protected; display names it.
Status check_not_protected(std::string_view rel, std::string_view display);

// What lstat says about `name` in dir (no symlink followed).
struct EntryInfo {
  bool exists = false;
  mode_t mode = 0;  // st_mode
  uid_t uid = 0;
  gid_t gid = 0;
  int64_t size = 0;
};
Result<EntryInfo> stat_entry(int dir_fd, const std::string& name);
// The target text of the symlink `name` in dir.
Result<std::string> read_link_at(int dir_fd, const std::string& name);

// Creates a temporary file in dir (random name, O_CREAT|O_EXCL|O_NOFOLLOW, so a
// planted file or symlink of that name is never used), writes content, sets
// mode (and owner when `owner` holds one and we may), fsyncs it. Returns its
// name; the caller renames it into place or removes it.
// Deliberately not base/fs.h's write_file_durable: that one names files by
// path, which a symlink swapped in between the check and the write could
// redirect outside the workspace; this one works only relative to dir_fd.
struct TempOwner {
  bool set = false;
  uid_t uid = 0;
  gid_t gid = 0;
};
Result<std::string> create_temp_file(int dir_fd, std::string_view content, mode_t mode, TempOwner owner,
                                     std::string_view display);
// Renames from -> to inside one directory fd (replacing to; a symlink at `to`
// is replaced, never followed). Then fsyncs the directory (best effort).
Status rename_in_dir(int dir_fd, const std::string& from, const std::string& to, std::string_view display);
// Removes the entry `name` of dir (a symlink is removed, never its target).
Status unlink_in_dir(int dir_fd, const std::string& name, std::string_view display);

// Permission bits for a new file: 0666 less the process umask (read from
// /proc/self/status; umask(2) would have to change it to read it).
mode_t new_file_mode();

// Reads all of fd (a regular file) into a string.
Result<std::string> read_all(int fd, std::string_view display);

}  // namespace v4rt::tools
