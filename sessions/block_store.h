// BlockStore: the block and tail files of a session store, on an Fs.
// A file is self-describing and checksummed: header (magic, kind, model
// fingerprint hash, key, token range), the token ids it covers, the payload
// (state bytes), an extra section (tail: next-token logits) and a CRC32C of
// all of it. Files are written durably under a unique name (tmp + fsync +
// rename + fsync dir) and never modified afterwards. Thread-safe (stateless
// apart from the borrowed Fs).
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

#include "base/status.h"

namespace v4rt {
class Fs;  // base/fs.h
}  // namespace v4rt

namespace v4rt::sessions {

using v4rt::Fs;

enum class FileKind : uint32_t { kBlock = 1, kTail = 2 };

// What a file claims to be; a read checks it against what the index expects.
struct FileHeader {
  FileKind kind = FileKind::kBlock;
  uint64_t fp_hash = 0;  // model fingerprint hash
  uint64_t key = 0;      // block: chain hash; tail: point key
  int64_t t0 = 0;        // block: first token; tail: rows_from
  int64_t t1 = 0;        // block: end token; tail: n_tokens
};

struct FileContents {
  FileHeader header;
  std::string bytes;  // the whole file; the views below point into it (valid while *this lives)
  std::span<const int32_t> tokens() const;
  std::string_view payload() const { return std::string_view(bytes).substr(payload_offset_, payload_len_); }
  std::string_view extra() const { return std::string_view(bytes).substr(extra_offset_, extra_len_); }
  uint32_t crc = 0;

 private:
  friend class BlockStore;
  size_t tokens_offset_ = 0, n_tokens_ = 0;
  size_t payload_offset_ = 0, payload_len_ = 0;
  size_t extra_offset_ = 0, extra_len_ = 0;
};

class BlockStore {
 public:
  BlockStore(Fs& fs, std::filesystem::path root) : fs_(fs), root_(std::move(root)) {}

  // Encodes and writes durably; returns the file name relative to root and
  // fills *crc and *bytes. `tokens` are the ids of [t0, t1) (block) or
  // [rows_from, n_tokens) (tail).
  Result<std::string> write(const FileHeader& h, std::span<const int32_t> tokens, std::string_view payload,
                            std::string_view extra, uint32_t* crc, uint64_t* bytes) const;
  // Reads `rel` and verifies size, checksum and that the header equals
  // `expect` and the tokens equal `expect_tokens`. Corruption otherwise,
  // naming the file, the fault and the next step.
  Result<FileContents> read(const std::string& rel, const FileHeader& expect,
                            std::span<const int32_t> expect_tokens, uint32_t expect_crc) const;
  // Reads and verifies only the file's own checksum and framing (no expectations).
  Result<FileContents> read_any(const std::string& rel) const;
  Status remove(const std::string& rel) const;
  std::filesystem::path full_path(const std::string& rel) const { return root_ / rel; }
  const std::filesystem::path& root() const { return root_; }

  static std::string encode(const FileHeader& h, std::span<const int32_t> tokens, std::string_view payload,
                            std::string_view extra);
  // Parses and verifies framing + checksum of an encoded file; `name` is used in messages.
  static Result<FileContents> decode(std::string bytes, const std::string& name);

 private:
  Fs& fs_;
  std::filesystem::path root_;
};

}  // namespace v4rt::sessions
