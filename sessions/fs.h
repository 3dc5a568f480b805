// FaultFs: an Fs (base/fs.h) that fails every operation from the n-th on,
// for the session store's fault-injection tests (style.md §9). The session
// store does its block and tail file I/O through an Fs (SQLite does its own).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/fs.h"
#include "base/status.h"

namespace v4rt::sessions {

using v4rt::DirEntry;
using v4rt::Fs;
using v4rt::posix_fs;
using v4rt::WritableFile;
using v4rt::write_file_durable;

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
