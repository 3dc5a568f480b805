// MappedFile: a read-only memory mapping of a whole file (RAII: unmapped and
// closed on destruction). Move-only. The bytes are immutable while it lives;
// reading them is thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>

#include "base/status.h"

namespace v4rt::model {

class MappedFile {
 public:
  // Maps `path` read-only. An empty file maps to an empty span. Errors name the path.
  static Result<std::unique_ptr<MappedFile>> open(const std::filesystem::path& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;

  // Valid while *this lives.
  std::span<const uint8_t> bytes() const { return {data_, size_}; }
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::filesystem::path& path() const { return path_; }

  // Unmaps the whole pages inside [p, p + n) of a mapping made by open(): they
  // stop counting as this process's memory and are read back from the file
  // (page cache) when touched again; the bytes never change. For tables read
  // at a few random rows (the token embedding), whose pages fault-around and
  // readahead would otherwise keep resident. Best effort: errors are ignored.
  static void drop_pages(const void* p, size_t n);

 private:
  MappedFile() = default;
  void release();

  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  std::filesystem::path path_;
};

}  // namespace v4rt::model
