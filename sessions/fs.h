// Fs: the file-system operations the session store uses for block and tail
// files (SQLite does its own I/O). posix_fs() is the real one; FaultFs wraps
// another Fs and fails every operation from the n-th on, for fault-injection
// tests (style.md §9). Implementations are thread-safe; a WritableFile is
// used by one thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace v4rt::sessions {

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

struct FaultOptions {
  int64_t fail_from_op = 0;  // 1-based index of the first failing operation; 0: never fail
};

// Fails every operation from the fail_from_op-th on with IoError. A failing
// append first writes half of its data (a torn write).
class FaultFs final : public Fs {
 public:
  FaultFs(Fs& base, FaultOptions options) : base_(base), options_(options) {}
  bool fired() const { return fired_; }
  int64_t ops() const { return ops_; }

  Result<std::unique_ptr<WritableFile>> create(const std::filesystem::path& path) override;
  Result<std::string> read(const std::filesystem::path& path) override;
  Result<uint64_t> file_size(const std::filesystem::path& path) override;
  Status rename(const std::filesystem::path& from, const std::filesystem::path& to) override;
  Status remove(const std::filesystem::path& path) override;
  Status create_dirs(const std::filesystem::path& dir) override;
  Status sync_dir(const std::filesystem::path& dir) override;
  Result<std::vector<DirEntry>> list_files(const std::filesystem::path& dir) override;

  // Counts one operation; returns the injected error when it must fail.
  Status tick(std::string_view what);

 private:
  Fs& base_;
  FaultOptions options_;
  int64_t ops_ = 0;    // not atomic: FaultFs is for single-threaded tests
  bool fired_ = false;
};

}  // namespace v4rt::sessions
