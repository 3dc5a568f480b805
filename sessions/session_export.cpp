// SessionStore::export_session / import_session: one portable file per session.
//
// Layout: "V4RTSXP1", u32 version, u64 manifest length, manifest (JSON),
// u32 CRC32C of the manifest, then the block and tail files named by the
// manifest, byte for byte (each carries its own header and checksum).
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <map>

#include "sessions/block_store.h"
#include "sessions/checksum.h"
#include "sessions/fs.h"
#include "sessions/session_store.h"
#include "sessions/session_store_impl.h"

namespace v4rt::sessions {
namespace {

constexpr char kMagic[8] = {'V', '4', 'R', 'T', 'S', 'X', 'P', '1'};
constexpr uint32_t kExportVersion = 1;

template <typename T>
void put(std::string& out, T v) {
  char buf[sizeof(T)];
  std::memcpy(buf, &v, sizeof(T));
  out.append(buf, sizeof(T));
}

// Serves save() from the files of an export.
class ExportedState final : public StateSource {
 public:
  ExportedState(int64_t n, const std::map<int64_t, std::string_view>* rows, std::string_view tail)
      : n_(n), rows_(rows), tail_(tail) {}
  int64_t position() const override { return n_; }
  std::string export_rows(int64_t t0, int64_t) const override { return std::string(rows_->at(t0)); }
  std::string export_tail(int64_t) const override { return std::string(tail_); }

 private:
  int64_t n_;
  const std::map<int64_t, std::string_view>* rows_;
  std::string_view tail_;
};

}  // namespace

Status SessionStore::export_session(std::string_view name, const std::filesystem::path& file) {
  Impl& s = *impl_;
  auto si = show(name);
  if (!si) return si.status();
  if (si->points.empty())
    return Status::NotFound("session '" + std::string(name) +
                            "' has no saved state to export (evicted or never saved); continue it to save one");
  const uint64_t fp = fingerprint_hash(si->fingerprint);
  const int64_t B = s.block_tokens;
  nlohmann::json manifest;
  manifest["format"] = kExportVersion;
  manifest["block_tokens"] = B;
  manifest["name"] = si->name;
  manifest["fingerprint"] = si->fingerprint;
  manifest["pinned"] = si->pinned;
  manifest["transcript"] = si->transcript_json;
  manifest["tokens"] = si->tokens;
  std::string body;
  nlohmann::json files = nlohmann::json::array();
  auto add_file = [&](const std::string& bytes) {
    files.push_back(bytes.size());
    body += bytes;
    return files.size() - 1;
  };
  std::map<int64_t, size_t> block_file;  // t0 -> file index
  nlohmann::json points = nlohmann::json::array();
  const auto ch = s.chain(fp, si->tokens, static_cast<int64_t>(si->tokens.size()) / B);
  for (const auto& p : si->points) {
    if (p.n_tokens > static_cast<int64_t>(si->tokens.size())) continue;
    // The point's files, verified against the session's tokens.
    auto q = s.db.prepare("SELECT rows_from, key, tail_file, tail_crc FROM points WHERE id = ?1");
    if (!q) return q.status();
    q->bind(1, p.id);
    auto r = q->step();
    if (!r) return r.status();
    if (!*r) continue;
    if (to_u64(q->int64(1)) != s.point_key(fp, ch, si->tokens, p.n_tokens)) continue;  // not on this token path
    int64_t rows_from = q->int64(0);
    std::string tail_rel(q->text(2));
    uint32_t tail_crc = static_cast<uint32_t>(q->int64(3));
    auto bl = s.db.prepare(
        "SELECT b.hash, b.t0, b.t1, b.file, b.crc FROM point_blocks pb JOIN blocks b ON b.hash = pb.block "
        "WHERE pb.point = ?1 ORDER BY pb.idx");
    if (!bl) return bl.status();
    bl->bind(1, p.id);
    for (;;) {
      auto br = bl->step();
      if (!br) return br.status();
      if (!*br) break;
      int64_t t0 = bl->int64(1);
      if (block_file.count(t0)) continue;
      FileHeader h{FileKind::kBlock, fp, to_u64(bl->int64(0)), t0, bl->int64(2)};
      auto c = s.blocks.read(std::string(bl->text(3)), h,
                             std::span(si->tokens).subspan(to_u64(t0), to_u64(B)), static_cast<uint32_t>(bl->int64(4)));
      if (!c) return c.status();
      block_file[t0] = add_file(c->bytes);
    }
    FileHeader th{FileKind::kTail, fp, to_u64(q->int64(1)), rows_from, p.n_tokens};
    auto c = s.blocks.read(tail_rel, th, std::span(si->tokens).subspan(to_u64(rows_from), to_u64(p.n_tokens - rows_from)),
                           tail_crc);
    if (!c) return c.status();
    points.push_back({{"n_tokens", p.n_tokens}, {"kind", static_cast<int>(p.kind)}, {"tail", add_file(c->bytes)},
                      {"head", p.id == si->head_point}});
  }
  nlohmann::json blocks = nlohmann::json::array();
  for (const auto& [t0, idx] : block_file) blocks.push_back({{"t0", t0}, {"file", idx}});
  manifest["points"] = points;
  manifest["blocks"] = blocks;
  manifest["files"] = files;
  std::string m = manifest.dump();
  std::string out(kMagic, 8);
  put<uint32_t>(out, kExportVersion);
  put<uint64_t>(out, m.size());
  out += m;
  put<uint32_t>(out, crc32c(m));
  out += body;
  return write_file_durable(*s.fs, file, out);
}

Status SessionStore::import_session(const std::filesystem::path& file, std::string_view name) {
  Impl& s = *impl_;
  const std::string where = file.string();
  auto bytes = s.fs->read(file);
  if (!bytes) return bytes.status();
  const std::string& in = *bytes;
  auto bad = [&](const std::string& why) {
    return Status::Corruption(where + ": " + why + "; not a complete 'v4rt session export' file");
  };
  if (in.size() < 24 || std::memcmp(in.data(), kMagic, 8) != 0) return bad("bad magic");
  uint32_t version;
  uint64_t mlen;
  std::memcpy(&version, in.data() + 8, 4);
  std::memcpy(&mlen, in.data() + 12, 8);
  if (version != kExportVersion)
    return Status::Unsupported(where + ": export format " + std::to_string(version) + " is not supported (" +
                               std::to_string(kExportVersion) + " is); use a matching v4rt");
  if (mlen > in.size() - 24) return bad("truncated manifest");
  std::string_view mtext(in.data() + 20, mlen);
  uint32_t mcrc;
  std::memcpy(&mcrc, in.data() + 20 + mlen, 4);
  if (mcrc != crc32c(mtext)) return bad("manifest checksum mismatch");
  nlohmann::json m = nlohmann::json::parse(mtext, nullptr, false);
  if (m.is_discarded() || !m.is_object()) return bad("manifest is not JSON");
  std::string session;
  std::string fingerprint, transcript;
  std::vector<int32_t> tokens;
  std::vector<uint64_t> sizes;
  bool pinned = false;
  int64_t block_tokens = 0;
  // Manifest fields (json's typed getters throw on a wrong type: caught here, at our call).
  try {
    session = name.empty() ? m.at("name").get<std::string>() : std::string(name);
    fingerprint = m.at("fingerprint").get<std::string>();
    transcript = m.at("transcript").get<std::string>();
    tokens = m.at("tokens").get<std::vector<int32_t>>();
    sizes = m.at("files").get<std::vector<uint64_t>>();
    pinned = m.at("pinned").get<bool>();
    block_tokens = m.at("block_tokens").get<int64_t>();
  } catch (const nlohmann::json::exception& e) {
    return bad(std::string("manifest: ") + e.what());
  }
  if (block_tokens != s.block_tokens)
    return Status::Unsupported(where + ": exported from a store with " + std::to_string(block_tokens) +
                               "-token blocks, this store uses " + std::to_string(s.block_tokens) +
                               "; import into a store created with --block-tokens " + std::to_string(block_tokens));
  // Slice and verify every file.
  std::vector<FileContents> files;
  size_t off = 24 + mlen;
  for (uint64_t size : sizes) {
    if (size > in.size() - off) return bad("truncated file section");
    auto c = BlockStore::decode(in.substr(off, size), where + " (file " + std::to_string(files.size()) + ")");
    if (!c) return c.status();
    if (c->header.fp_hash != fingerprint_hash(fingerprint)) return bad("a file belongs to another model");
    files.push_back(std::move(*c));
    off += size;
  }
  if (off != in.size()) return bad("trailing bytes");
  std::map<int64_t, std::string_view> rows;
  try {
    for (const auto& b : m.at("blocks")) {
      int64_t t0 = b.at("t0").get<int64_t>();
      size_t idx = b.at("file").get<size_t>();
      if (idx >= files.size() || files[idx].header.kind != FileKind::kBlock || files[idx].header.t0 != t0 ||
          t0 < 0 || t0 + block_tokens > static_cast<int64_t>(tokens.size()) ||
          std::memcmp(files[idx].tokens().data(), tokens.data() + t0, to_u64(block_tokens) * 4) != 0)
        return bad("block at " + std::to_string(t0) + " does not match the session tokens");
      rows[t0] = files[idx].payload();
    }
    {
      auto exists = show(session);
      if (exists.ok())
        return Status::InvalidArgument("session '" + session + "' already exists in " + s.dir.string() +
                                       "; import under another name (--name) or remove it first");
    }
    struct P { int64_t n; PointKind kind; size_t tail; bool head; };
    std::vector<P> points;
    for (const auto& p : m.at("points")) {
      P x{p.at("n_tokens").get<int64_t>(), static_cast<PointKind>(p.at("kind").get<int>()), p.at("tail").get<size_t>(),
          p.at("head").get<bool>()};
      if (x.n <= 0 || x.n > static_cast<int64_t>(tokens.size()) || x.tail >= files.size() ||
          files[x.tail].header.kind != FileKind::kTail || files[x.tail].header.t1 != x.n)
        return bad("point of " + std::to_string(x.n) + " tokens is inconsistent");
      for (int64_t t0 = 0; t0 < x.n / block_tokens * block_tokens; t0 += block_tokens)
        if (!rows.count(t0)) return bad("point of " + std::to_string(x.n) + " tokens lacks its block at " + std::to_string(t0));
      points.push_back(x);
    }
    if (points.empty()) return bad("no saved points");
    // The head last, so the session ends at it.
    std::stable_sort(points.begin(), points.end(), [](const P& a, const P& b) { return a.head < b.head || (a.head == b.head && a.n < b.n); });
    for (const P& p : points) {
      std::string_view extra = files[p.tail].extra();
      std::vector<float> logits(extra.size() / 4);
      if (!logits.empty()) std::memcpy(logits.data(), extra.data(), logits.size() * 4);
      ExportedState src(p.n, &rows, files[p.tail].payload());
      SaveOptions so;
      so.session = session;
      so.kind = p.kind;
      so.transcript_json = transcript;
      so.pin = pinned;
      auto r = save(fingerprint, std::span(tokens).first(to_u64(p.n)), logits, src, so);
      if (!r) return r.status().with_context("importing " + where);
    }
  } catch (const nlohmann::json::exception& e) {
    return bad(std::string("manifest: ") + e.what());
  }
  return Status::Ok();
}

}  // namespace v4rt::sessions
