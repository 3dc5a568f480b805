#include "sessions/block_store.h"

#include <cstring>
#include <random>

#include "sessions/checksum.h"
#include "sessions/fs.h"

namespace v4rt::sessions {
namespace {

constexpr char kMagic[8] = {'V', '4', 'R', 'T', 'B', 'L', 'K', '1'};
constexpr uint32_t kFileFormat = 1;
// magic, format, kind, fp_hash, key, t0, t1, n_tokens, payload_len, extra_len
constexpr size_t kHeaderBytes = 8 + 4 + 4 + 8 * 7;
constexpr size_t kTrailerBytes = 4;

template <typename T>
void put(std::string& out, T v) {
  char buf[sizeof(T)];
  std::memcpy(buf, &v, sizeof(T));  // little-endian hosts only (x86-64, aarch64)
  out.append(buf, sizeof(T));
}
template <typename T>
T get(const std::string& in, size_t& off) {
  T v;
  std::memcpy(&v, in.data() + off, sizeof(T));
  off += sizeof(T);
  return v;
}

const char* kind_name(FileKind k) { return k == FileKind::kBlock ? "block" : "tail"; }

std::string random_suffix() {
  std::random_device rd;
  uint64_t r = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  char buf[17];
  return std::string(hex64(r, buf));
}

}  // namespace

std::span<const int32_t> FileContents::tokens() const {
  return {reinterpret_cast<const int32_t*>(bytes.data() + tokens_offset_), n_tokens_};
}

namespace {

std::string encode_header(const FileHeader& h, size_t n_tokens, size_t payload, size_t extra) {
  std::string out;
  out.append(kMagic, 8);
  put<uint32_t>(out, kFileFormat);
  put<uint32_t>(out, static_cast<uint32_t>(h.kind));
  put<uint64_t>(out, h.fp_hash);
  put<uint64_t>(out, h.key);
  put<int64_t>(out, h.t0);
  put<int64_t>(out, h.t1);
  put<uint64_t>(out, n_tokens);
  put<uint64_t>(out, payload);
  put<uint64_t>(out, extra);
  return out;
}

}  // namespace

std::string BlockStore::encode(const FileHeader& h, std::span<const int32_t> tokens, std::string_view payload,
                               std::string_view extra) {
  std::string out = encode_header(h, tokens.size(), payload.size(), extra.size());
  out.append(reinterpret_cast<const char*>(tokens.data()), tokens.size() * 4);
  out.append(payload);
  out.append(extra);
  put<uint32_t>(out, crc32c(out));
  return out;
}

Result<FileContents> BlockStore::decode(std::string bytes, const std::string& name) {
  auto corrupt = [&](const std::string& fault) {
    return Status::Corruption(name + ": " + fault +
                              "; the file is damaged: it will not be used (run 'v4rt session check', then "
                              "'v4rt session gc' to drop it)");
  };
  if (bytes.size() < kHeaderBytes + kTrailerBytes)
    return corrupt("truncated (" + std::to_string(bytes.size()) + " bytes, shorter than a header)");
  if (std::memcmp(bytes.data(), kMagic, 8) != 0) return corrupt("bad magic, not a v4rt block file");
  FileContents c;
  size_t off = 8;
  uint32_t format = get<uint32_t>(bytes, off);
  if (format != kFileFormat)
    return Status::Unsupported(name + ": block file format " + std::to_string(format) + " is not supported (" +
                               std::to_string(kFileFormat) + " is); upgrade v4rt");
  uint32_t kind = get<uint32_t>(bytes, off);
  if (kind != 1 && kind != 2) return corrupt("unknown file kind " + std::to_string(kind));
  c.header.kind = static_cast<FileKind>(kind);
  c.header.fp_hash = get<uint64_t>(bytes, off);
  c.header.key = get<uint64_t>(bytes, off);
  c.header.t0 = get<int64_t>(bytes, off);
  c.header.t1 = get<int64_t>(bytes, off);
  uint64_t n_tokens = get<uint64_t>(bytes, off);
  uint64_t payload_len = get<uint64_t>(bytes, off);
  uint64_t extra_len = get<uint64_t>(bytes, off);
  // Overflow-safe size check: each part is bounded by the file size first.
  uint64_t avail = bytes.size() - kHeaderBytes - kTrailerBytes;
  if (n_tokens > avail / 4 || payload_len > avail || extra_len > avail ||
      n_tokens * 4 + payload_len + extra_len != avail)
    return corrupt("truncated or wrong length (" + std::to_string(bytes.size()) + " bytes, header says " +
                   std::to_string(kHeaderBytes + n_tokens * 4 + payload_len + extra_len + kTrailerBytes) + ")");
  size_t body = bytes.size() - kTrailerBytes;
  size_t toff = body;
  uint32_t stored_crc = get<uint32_t>(bytes, toff);
  uint32_t actual = crc32c(std::string_view(bytes.data(), body));
  if (stored_crc != actual) return corrupt("checksum mismatch");
  c.crc = actual;
  c.tokens_offset_ = kHeaderBytes;
  c.n_tokens_ = n_tokens;
  c.bytes = std::move(bytes);
  c.payload_offset_ = kHeaderBytes + n_tokens * 4;
  c.payload_len_ = payload_len;
  c.extra_offset_ = c.payload_offset_ + payload_len;
  c.extra_len_ = extra_len;
  return c;
}

Result<std::string> BlockStore::write(const FileHeader& h, std::span<const int32_t> tokens, std::string_view payload,
                                      std::string_view extra, uint32_t* crc, uint64_t* bytes) const {
  char buf[17];
  std::string rel;
  if (h.kind == FileKind::kBlock) {
    std::string hex(hex64(h.key, buf));
    rel = "blocks/" + hex.substr(0, 2) + "/" + hex + "-" + random_suffix() + ".blk";
  } else {
    rel = "tails/" + random_suffix() + ".tail";
  }
  // Streamed in pieces: the payload (megabytes) is not copied into one buffer.
  std::string header = encode_header(h, tokens.size(), payload.size(), extra.size());
  std::string_view toks(reinterpret_cast<const char*>(tokens.data()), tokens.size() * 4);
  uint32_t c = crc32c(header);
  c = crc32c(toks, c);
  c = crc32c(payload, c);
  c = crc32c(extra, c);
  std::string trailer;
  put<uint32_t>(trailer, c);
  const std::string_view pieces[] = {header, toks, payload, extra, trailer};
  std::filesystem::path full = root_ / rel;
  V4RT_RETURN_IF_ERROR(fs_.create_dirs(full.parent_path()));
  V4RT_RETURN_IF_ERROR(write_file_durable(fs_, full, pieces));
  *crc = c;
  *bytes = header.size() + toks.size() + payload.size() + extra.size() + trailer.size();
  return rel;
}

Result<FileContents> BlockStore::read_any(const std::string& rel) const {
  auto data = fs_.read(root_ / rel);
  if (!data) {
    if (data.status().is_not_found())
      return Status::Corruption((root_ / rel).string() +
                                ": file is missing; it will not be used (run 'v4rt session gc' to drop its index rows)");
    return data.status();
  }
  return decode(std::move(*data), (root_ / rel).string());
}

Result<FileContents> BlockStore::read(const std::string& rel, const FileHeader& expect,
                                      std::span<const int32_t> expect_tokens, uint32_t expect_crc) const {
  auto c = read_any(rel);
  if (!c) return c.status();
  std::string name = (root_ / rel).string();
  auto refuse = [&](const std::string& fault) {
    return Status::Corruption(name + ": " + fault + "; refusing this " + kind_name(expect.kind) +
                              " (run 'v4rt session check')");
  };
  const FileHeader& h = c->header;
  if (h.kind != expect.kind) return refuse(std::string("is a ") + kind_name(h.kind) + " file");
  if (h.fp_hash != expect.fp_hash) return refuse("was written for another model (fingerprint differs)");
  if (h.key != expect.key || h.t0 != expect.t0 || h.t1 != expect.t1)
    return refuse("holds another token range or key than the index says");
  if (c->crc != expect_crc) return refuse("checksum differs from the one recorded in the index");
  auto toks = c->tokens();
  if (toks.size() != expect_tokens.size() ||
      std::memcmp(toks.data(), expect_tokens.data(), toks.size() * 4) != 0)
    return refuse("token ids differ from the requested prefix (hash collision)");
  return c;
}

Status BlockStore::remove(const std::string& rel) const { return fs_.remove(root_ / rel); }

}  // namespace v4rt::sessions
