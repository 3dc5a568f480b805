#include "tools/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>

#include "tools/text_lines.h"
#include "tools/workspace.h"

namespace v4rt::tools {

namespace {

// The path as written, normalised ("./a//b" -> "a/b"), for may_read.
std::string lexical_rel(const Workspace& ws, std::string_view path) {
  auto comps = split_workspace_path(ws, path);
  if (!comps || comps->empty()) return ".";
  std::string out;
  for (const auto& c : *comps) out += (out.empty() ? "" : "/") + c;
  return out;
}

bool allowed(const MayRead& may_read, const std::string& rel) { return !may_read || may_read(rel); }

// Checks what fd is and reads it as text.
Result<std::string> read_checked(int fd, std::string_view display) {
  std::string d(display);
  struct stat st {};
  if (::fstat(fd, &st) != 0) return Status::IoError(d + ": cannot stat");
  if (S_ISDIR(st.st_mode)) return Status::InvalidArgument(d + ": is a directory; use list to see its entries");
  if (!S_ISREG(st.st_mode))
    return Status::InvalidArgument(d + ": not a regular file (a device, FIFO or socket); the file tools read files only");
  if (static_cast<size_t>(st.st_size) > kMaxTextFileBytes)
    return Status::ResourceExhausted(d + ": " + std::to_string(st.st_size) + " bytes is over the " +
                                     std::to_string(kMaxTextFileBytes >> 20) +
                                     " MiB limit of the file tools; use grep or shell (head, sed -n) on it");
  auto text = read_all(fd, display);
  if (!text) return text.status();
  if (text->size() > kMaxTextFileBytes)
    return Status::ResourceExhausted(d + ": grew over the " + std::to_string(kMaxTextFileBytes >> 20) +
                                     " MiB limit of the file tools while being read");
  if (looks_binary(*text))
    return Status::InvalidArgument(d + ": looks like a binary file (NUL bytes); the file tools handle text only");
  return text;
}

Status symlink_refusal(int dir_fd, const std::string& name, std::string_view display) {
  auto target = read_link_at(dir_fd, name);
  return Status::InvalidArgument(std::string(display) + " is a symlink" +
                                 (target ? " (to " + *target + ")" : std::string()) +
                                 "; file tools do not write through symlinks: change the file it points to by "
                                 "its own path, or replace the link itself with shell");
}

}  // namespace

Status read_refused(std::string_view display) {
  return Status::InvalidArgument(std::string(display) +
                                 ": reading it is denied by a permission rule; do without it or ask the user");
}

Result<TextFile> read_text_file(const Workspace& ws, std::string_view path, const MayRead& may_read) {
  if (!allowed(may_read, lexical_rel(ws, path))) return read_refused(path);
  // O_NONBLOCK: a FIFO planted by a command must not hang the tool.
  auto o = open_beneath(ws, path, O_RDONLY | O_NONBLOCK);
  if (!o) return o.status();
  if (!allowed(may_read, o->rel)) return read_refused(path);
  auto text = read_checked(o->fd.get(), path);
  if (!text) return text.status();
  return TextFile{std::move(*text), o->rel};
}

Result<TextFile> read_text_file_for_edit(const Workspace& ws, std::string_view path, const MayRead& may_read) {
  if (!allowed(may_read, lexical_rel(ws, path))) return read_refused(path);
  auto p = open_parent_beneath(ws, path, /*create_dirs=*/false, /*for_write=*/true);
  if (!p) return p.status();
  std::string rel = p->rel();
  if (!allowed(may_read, rel)) return read_refused(path);
  auto info = stat_entry(p->dir.get(), p->name);
  if (!info) return info.status();
  if (!info->exists)
    return Status::NotFound(std::string(path) + ": no such file; use list or glob to find the right path, or write to create it");
  if (S_ISLNK(info->mode)) return symlink_refusal(p->dir.get(), p->name, path);
  UniqueFd fd(::openat(p->dir.get(), p->name.c_str(), O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY));
  if (!fd.valid()) return Status::IoError(std::string(path) + ": cannot open it (it changed while being opened?); retry");
  auto text = read_checked(fd.get(), path);
  if (!text) return text.status();
  return TextFile{std::move(*text), rel};
}

Result<EntryInfo> inspect_write_target(const ParentDir& target, std::string_view display) {
  auto info = stat_entry(target.dir.get(), target.name);
  if (!info) return info.status();
  if (!info->exists) return info;
  if (S_ISLNK(info->mode)) return symlink_refusal(target.dir.get(), target.name, display);
  if (S_ISDIR(info->mode)) return Status::InvalidArgument(std::string(display) + ": is a directory; choose a file path");
  if (!S_ISREG(info->mode))
    return Status::InvalidArgument(std::string(display) + ": not a regular file (a device, FIFO or socket); refused");
  return info;
}

Result<WriteResult> write_text_file(const Workspace& ws, std::string_view path, std::string_view content) {
  auto p = open_parent_beneath(ws, path, /*create_dirs=*/true, /*for_write=*/true);
  if (!p) return p.status();
  auto info = inspect_write_target(*p, path);
  if (!info) return info.status();
  TempOwner owner;
  mode_t mode = new_file_mode();
  if (info->exists) {
    owner = {true, info->uid, info->gid};
    mode = info->mode & 07777;
  }
  auto tmp = create_temp_file(p->dir.get(), content, mode, owner, path);
  if (!tmp) return tmp.status();
  // renameat replaces whatever is at the name now; were it swapped for a
  // symlink meanwhile, the link itself is replaced, never its target.
  Status st = rename_in_dir(p->dir.get(), *tmp, p->name, path);
  if (!st.ok()) {
    (void)unlink_in_dir(p->dir.get(), *tmp, path);
    return st;
  }
  return WriteResult{!info->exists, p->rel()};
}

}  // namespace v4rt::tools
