// Reading and writing the text files the file tools work on, through the
// confinement layer (tools/confined_fs.h): every open is relative to the
// workspace root's fd. Reads refuse files over a size cap, non-regular files
// (FIFOs are opened non-blocking, never waited on) and binary files, with a
// message for the model. Writes create missing parent directories, replace
// the file atomically (temp file with a random name in the same directory fd,
// fsync, renameat), keep its permission bits and owner, never write through a
// symlink (one at the target is refused) and never into .git/ or .v4rt/.
// Thread-safe (no shared state).
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "tools/confined_fs.h"

namespace v4rt::tools {

class Workspace;

constexpr size_t kMaxTextFileBytes = 16u << 20;

// ToolContext::may_read: whether a read may touch a workspace-relative path;
// empty: every path.
using MayRead = std::function<bool(const std::string& rel_path)>;

struct TextFile {
  std::string text;
  std::string rel;  // canonical workspace-relative path of the file read
};

// Reads a text file; a symlink inside the workspace that points inside is
// followed. may_read is asked about the path as written and the canonical one.
// path is also how messages name the file.
Result<TextFile> read_text_file(const Workspace& ws, std::string_view path, const MayRead& may_read);

// Reads a file that is about to be changed (edit): like read_text_file, but a
// symlink is refused rather than followed and a protected path (.git/,
// .v4rt/) is refused.
Result<TextFile> read_text_file_for_edit(const Workspace& ws, std::string_view path, const MayRead& may_read);

struct WriteResult {
  bool created = false;  // the file did not exist before
  std::string rel;       // canonical workspace-relative path written
};
Result<WriteResult> write_text_file(const Workspace& ws, std::string_view path, std::string_view content);

// What lies at the target of a write (in its directory's fd): nothing, or a
// regular file (its mode and owner are kept). A symlink, a directory or a
// special file is refused with a message naming display.
Result<EntryInfo> inspect_write_target(const ParentDir& target, std::string_view display);

// The message for a path that may not be read (a permission rule denies it).
Status read_refused(std::string_view display);

}  // namespace v4rt::tools
