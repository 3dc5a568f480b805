// Fs: the file-system operations behind durable writes, as an interface so
// that a caller can inject faults (sessions::FaultFs, style.md §9). posix_fs()
// is the real one; write_file_durable() is the one atomic, durable file
// writer (base/file_util.h's write_file_atomic is it on posix_fs()).
// tools/confined_fs keeps its own writer on purpose: it writes through a
// directory fd so that a path cannot be redirected by symlinks between the
// check and the write (docs/security.md). Implementations are thread-safe; a
// WritableFile is used by one thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace v4rt {

class WritableFile {
 public:
  virtual ~WritableFile() = default;
  virtual Status append(std::string_view data) = 0;
  virtual Status sync() = 0;   // fdatasync/fsync: the bytes are durable when ok
  virtual Status close() = 0;  // idempotent; the destructor closes too
};

struct DirEntry {
  std::filesystem::path path;  // full path
  uint64_t size_bytes = 0;
  int64_t mtime_s = 0;  // seconds since the epoch
  bool is_dir = false;
};

class Fs {
 public:
  virtual ~Fs() = default;
  // Creates (or truncates) `path` for writing.
  virtual Result<std::unique_ptr<WritableFile>> create(const std::filesystem::path& path) = 0;
  virtual Result<std::string> read(const std::filesystem::path& path) = 0;
  virtual Result<uint64_t> file_size(const std::filesystem::path& path) = 0;
  virtual Status rename(const std::filesystem::path& from, const std::filesystem::path& to) = 0;
  virtual Status remove(const std::filesystem::path& path) = 0;  // ok if absent
  virtual Status create_dirs(const std::filesystem::path& dir) = 0;
  virtual Status sync_dir(const std::filesystem::path& dir) = 0;
  // Recursive listing of files (not directories) below `dir`.
  virtual Result<std::vector<DirEntry>> list_files(const std::filesystem::path& dir) = 0;
};

// The real file system. The returned object lives for the whole program.
Fs& posix_fs();

// Writes `data` to `path` durably: create tmp, append, fsync, close, rename,
// fsync the directory. Readers never see a partial file under `path`.
Status write_file_durable(Fs& fs, const std::filesystem::path& path, std::string_view data);
// The same for data given in pieces (written in order, not concatenated in memory).
Status write_file_durable(Fs& fs, const std::filesystem::path& path, std::span<const std::string_view> pieces);

}  // namespace v4rt
