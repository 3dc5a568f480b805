// SessionStore maintenance: LRU eviction under the byte budget, gc and the
// integrity check.
#include <chrono>
#include <cstring>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "sessions/fs.h"
#include "sessions/session_store.h"
#include "sessions/session_store_impl.h"

namespace v4rt::sessions {
namespace {

Result<uint64_t> total_bytes(SqliteDb& db) {
  auto st = db.prepare(
      "SELECT (SELECT COALESCE(SUM(bytes), 0) FROM blocks) + (SELECT COALESCE(SUM(tail_bytes), 0) FROM points)");
  if (!st) return st.status();
  if (auto r = st->step(); !r) return r.status();
  return to_u64(st->int64(0));
}

// Points of pinned sessions (and the protected one) are never evicted.
constexpr const char* kProtectedPoints =
    "(SELECT sp.point FROM session_points sp JOIN sessions s ON s.name = sp.session WHERE s.pinned = 1 "
    "UNION SELECT ?1)";

}  // namespace

Result<int64_t> SessionStore::Impl::evict(int64_t protect_point, std::vector<std::string>* files) {
  if (options.budget_bytes == 0) return int64_t{0};
  auto total = total_bytes(db);
  if (!total) return total.status();
  int64_t dropped = 0;
  while (*total > options.budget_bytes) {
    // The least recently used block not needed by a protected point; deeper blocks first on ties.
    auto blk = db.prepare(std::string("SELECT hash FROM blocks WHERE hash NOT IN (SELECT block FROM point_blocks "
                                      "WHERE point IN ") + kProtectedPoints + ") ORDER BY last_use, t0 DESC LIMIT 1");
    if (!blk) return blk.status();
    blk->bind(1, protect_point);
    auto r = blk->step();
    if (!r) return r.status();
    std::vector<int64_t> victims;
    if (*r) {
      int64_t hash = blk->int64(0);
      auto users = db.prepare("SELECT DISTINCT point FROM point_blocks WHERE block = ?1");
      if (!users) return users.status();
      users->bind(1, hash);
      for (;;) {
        auto u = users->step();
        if (!u) return u.status();
        if (!*u) break;
        victims.push_back(users->int64(0));
      }
      if (victims.empty()) {  // an unreferenced row: drop it directly
        auto f = db.prepare("DELETE FROM blocks WHERE hash = ?1 RETURNING file");
        if (!f) return f.status();
        f->bind(1, hash);
        if (auto fr = f->step(); !fr) return fr.status();
        files->emplace_back(f->text(0));
        V4RT_RETURN_IF_ERROR(f->run());
      }
    } else {
      auto pt = db.prepare(std::string("SELECT id FROM points WHERE id NOT IN ") + kProtectedPoints +
                           " ORDER BY last_use LIMIT 1");
      if (!pt) return pt.status();
      pt->bind(1, protect_point);
      auto pr = pt->step();
      if (!pr) return pr.status();
      if (!*pr) {
        log(LogLevel::kWarn, "store " + dir.string() + " is over its budget (" + std::to_string(*total) + " > " +
                                 std::to_string(options.budget_bytes) +
                                 " bytes) but everything left is pinned; unpin sessions or raise the budget");
        break;
      }
      victims.push_back(pt->int64(0));
    }
    for (int64_t id : victims) {
      V4RT_RETURN_IF_ERROR(delete_point(id, files));
      ++dropped;
    }
    total = total_bytes(db);
    if (!total) return total.status();
  }
  return dropped;
}

Result<int64_t> SessionStore::enforce_budget() {
  Impl& s = *impl_;
  auto txn = SqliteTxn::begin(s.db, true);
  if (!txn) return txn.status();
  std::vector<std::string> files;
  auto n = s.evict(0, &files);
  if (!n) return n.status();
  V4RT_RETURN_IF_ERROR(txn->commit());
  s.remove_files(files);
  return n;
}

namespace {

struct IndexFiles {
  std::unordered_set<std::string> referenced;
};

Result<IndexFiles> referenced_files(SqliteDb& db) {
  IndexFiles out;
  for (const char* sql : {"SELECT file FROM blocks", "SELECT tail_file FROM points"}) {
    auto st = db.prepare(sql);
    if (!st) return st.status();
    for (;;) {
      auto r = st->step();
      if (!r) return r.status();
      if (!*r) break;
      out.referenced.insert(std::string(st->text(0)));
    }
  }
  return out;
}

Result<std::vector<DirEntry>> store_files(Fs& fs, const std::filesystem::path& dir) {
  std::vector<DirEntry> all;
  for (const char* sub : {"blocks", "tails"}) {
    auto l = fs.list_files(dir / sub);
    if (!l) return l.status();
    all.insert(all.end(), l->begin(), l->end());
  }
  return all;
}

std::string rel_path(const std::filesystem::path& dir, const std::filesystem::path& p) {
  return p.lexically_relative(dir).generic_string();
}

}  // namespace

Result<CheckReport> SessionStore::check(bool verify_files) {
  Impl& s = *impl_;
  CheckReport rep;
  auto txn = SqliteTxn::begin(s.db, false);
  if (!txn) return txn.status();
  auto problem = [&](std::string p) { rep.problems.push_back(std::move(p)); };
  {
    auto st = s.db.prepare("PRAGMA integrity_check");
    if (!st) return st.status();
    for (;;) {
      auto r = st->step();
      if (!r) return r.status();
      if (!*r) break;
      if (st->text(0) != "ok") problem("index.db: " + std::string(st->text(0)));
    }
  }
  // Blocks: file present, size as recorded, refcount = uses; with verify_files the header and checksum.
  struct BlockRow { int64_t t0, t1, fp; };
  std::unordered_map<int64_t, BlockRow> block_rows;
  {
    auto st = s.db.prepare(
        "SELECT hash, fp_hash, t0, t1, file, bytes, crc, refcount, "
        "(SELECT count(*) FROM point_blocks WHERE block = blocks.hash) FROM blocks");
    if (!st) return st.status();
    for (;;) {
      auto r = st->step();
      if (!r) return r.status();
      if (!*r) break;
      ++rep.blocks;
      int64_t hash = st->int64(0);
      std::string file(st->text(4));
      block_rows[hash] = {st->int64(2), st->int64(3), st->int64(1)};
      if (st->int64(7) != st->int64(8))
        problem("block " + file + ": refcount " + std::to_string(st->int64(7)) + " but " +
                std::to_string(st->int64(8)) + " points use it");
      if (st->int64(3) - st->int64(2) != s.block_tokens || st->int64(2) % s.block_tokens != 0)
        problem("block " + file + ": token range [" + std::to_string(st->int64(2)) + ", " +
                std::to_string(st->int64(3)) + ") is not a block");
      if (verify_files) {
        FileHeader h{FileKind::kBlock, to_u64(st->int64(1)), to_u64(hash), st->int64(2), st->int64(3)};
        auto c = s.blocks.read_any(file);
        if (!c) {
          problem(c.status().message());
        } else if (c->header.kind != h.kind || c->header.fp_hash != h.fp_hash || c->header.key != h.key ||
                   c->header.t0 != h.t0 || c->header.t1 != h.t1 ||
                   c->crc != static_cast<uint32_t>(st->int64(6)) || c->bytes.size() != to_u64(st->int64(5))) {
          problem(s.blocks.full_path(file).string() + ": header, size or checksum differs from the index");
        }
      } else {
        auto size = s.fs->file_size(s.blocks.full_path(file));
        if (!size) problem(size.status().message());
        else if (*size != to_u64(st->int64(5)))
          problem(s.blocks.full_path(file).string() + ": size " + std::to_string(*size) + ", index says " +
                  std::to_string(st->int64(5)));
      }
    }
  }
  // Points: blocks tile [0, rows_from) in order; tail present and valid.
  {
    auto st = s.db.prepare("SELECT id, fp_hash, n_tokens, rows_from, key, tail_file, tail_bytes, tail_crc FROM points");
    if (!st) return st.status();
    auto pb = s.db.prepare("SELECT idx, block FROM point_blocks WHERE point = ?1 ORDER BY idx");
    if (!pb) return pb.status();
    for (;;) {
      auto r = st->step();
      if (!r) return r.status();
      if (!*r) break;
      ++rep.points;
      int64_t id = st->int64(0), n = st->int64(2), rows_from = st->int64(3);
      std::string name = "point " + std::to_string(id);
      if (rows_from != n / s.block_tokens * s.block_tokens) problem(name + ": rows_from does not match n_tokens");
      pb->reset();
      pb->bind(1, id);
      int64_t expect = 0;
      for (;;) {
        auto br = pb->step();
        if (!br) return br.status();
        if (!*br) break;
        auto it = block_rows.find(pb->int64(1));
        if (pb->int64(0) != expect) problem(name + ": block list has a gap at " + std::to_string(expect));
        if (it == block_rows.end()) problem(name + ": uses a block missing from the index");
        else if (it->second.t0 != expect * s.block_tokens || it->second.fp != st->int64(1))
          problem(name + ": block " + std::to_string(expect) + " is out of place or of another model");
        ++expect;
      }
      if (expect * s.block_tokens != rows_from) problem(name + ": blocks cover " + std::to_string(expect * s.block_tokens) +
                                                        " tokens, rows_from is " + std::to_string(rows_from));
      std::string tail(st->text(5));
      if (verify_files) {
        auto c = s.blocks.read_any(tail);
        if (!c) problem(c.status().message());
        else if (c->header.kind != FileKind::kTail || c->header.key != to_u64(st->int64(4)) ||
                 c->header.t0 != rows_from || c->header.t1 != n || c->header.fp_hash != to_u64(st->int64(1)) ||
                 c->crc != static_cast<uint32_t>(st->int64(7)) || c->bytes.size() != to_u64(st->int64(6)))
          problem(s.blocks.full_path(tail).string() + ": header, size or checksum differs from the index");
      } else {
        auto size = s.fs->file_size(s.blocks.full_path(tail));
        if (!size) problem(size.status().message());
        else if (*size != to_u64(st->int64(6))) problem(s.blocks.full_path(tail).string() + ": wrong size");
      }
    }
  }
  // Sessions: the head is one of its points and covers a prefix of its tokens.
  {
    auto st = s.db.prepare(
        "SELECT s.name, s.head, length(s.tokens), p.n_tokens, "
        "(SELECT count(*) FROM session_points sp WHERE sp.session = s.name AND sp.point = s.head), "
        "s.tokens, p.key, s.fp_hash, p.fp_hash FROM sessions s LEFT JOIN points p ON p.id = s.head");
    if (!st) return st.status();
    for (;;) {
      auto r = st->step();
      if (!r) return r.status();
      if (!*r) break;
      ++rep.sessions;
      std::string name = "session '" + std::string(st->text(0)) + "'";
      if (st->int64(2) % 4 != 0) problem(name + ": token list is not int32");
      if (!st->is_null(1)) {
        if (st->is_null(3)) problem(name + ": head point missing");
        else if (st->int64(3) * 4 > st->int64(2)) problem(name + ": head covers more tokens than the session has");
        else if (st->int64(2) % 4 == 0) {
          // The head state must be the state of a prefix of the session's own tokens.
          std::string_view blob = st->blob(5);
          std::vector<int32_t> toks(blob.size() / 4);
          if (!toks.empty()) std::memcpy(toks.data(), blob.data(), blob.size());
          int64_t n = st->int64(3);
          uint64_t fp = to_u64(st->int64(7));
          if (st->int64(8) != st->int64(7) ||
              to_u64(st->int64(6)) != s.point_key(fp, s.chain(fp, toks, n / s.block_tokens), toks, n))
            problem(name + ": head point is not a state of the session's tokens");
        }
        if (st->int64(4) != 1) problem(name + ": head point is not linked to the session");
      }
    }
  }
  // Orphan files: expected after a crash between a file write and its commit.
  auto refs = referenced_files(s.db);
  if (!refs) return refs.status();
  auto files = store_files(*s.fs, s.dir);
  if (!files) return files.status();
  for (const auto& f : *files) {
    if (!refs->referenced.count(rel_path(s.dir, f.path))) {
      ++rep.orphan_files;
      rep.orphan_bytes += f.size_bytes;
    }
  }
  return rep;
}

Result<GcResult> SessionStore::gc(const GcOptions& options) {
  Impl& s = *impl_;
  GcResult out;
  std::vector<std::string> files;
  {
    auto txn = SqliteTxn::begin(s.db, true);
    if (!txn) return txn.status();
    // Unreferenced block rows (should not exist; harmless to drop).
    {
      auto st = s.db.prepare("DELETE FROM blocks WHERE refcount <= 0 AND hash NOT IN (SELECT block FROM point_blocks) RETURNING file");
      if (!st) return st.status();
      for (;;) {
        auto r = st->step();
        if (!r) return r.status();
        if (!*r) break;
        files.emplace_back(st->text(0));
      }
    }
    if (options.repair) {
      // Drop every point that uses a bad block or has a bad tail.
      std::set<int64_t> bad_points;
      auto bl = s.db.prepare("SELECT hash, fp_hash, t0, t1, file, crc FROM blocks");
      if (!bl) return bl.status();
      std::vector<int64_t> bad_blocks;
      for (;;) {
        auto r = bl->step();
        if (!r) return r.status();
        if (!*r) break;
        auto c = s.blocks.read_any(std::string(bl->text(4)));
        if (!c || c->header.key != to_u64(bl->int64(0)) || c->header.fp_hash != to_u64(bl->int64(1)) ||
            c->header.t0 != bl->int64(2) || c->header.t1 != bl->int64(3) ||
            c->crc != static_cast<uint32_t>(bl->int64(5)))
          bad_blocks.push_back(bl->int64(0));
      }
      auto users = s.db.prepare("SELECT point FROM point_blocks WHERE block = ?1");
      if (!users) return users.status();
      for (int64_t h : bad_blocks) {
        users->reset();
        users->bind(1, h);
        for (;;) {
          auto r = users->step();
          if (!r) return r.status();
          if (!*r) break;
          bad_points.insert(users->int64(0));
        }
      }
      auto pts = s.db.prepare("SELECT id, tail_file, tail_crc, key FROM points");
      if (!pts) return pts.status();
      for (;;) {
        auto r = pts->step();
        if (!r) return r.status();
        if (!*r) break;
        auto c = s.blocks.read_any(std::string(pts->text(1)));
        if (!c || c->crc != static_cast<uint32_t>(pts->int64(2)) || c->header.key != to_u64(pts->int64(3)))
          bad_points.insert(pts->int64(0));
      }
      for (int64_t id : bad_points) {
        V4RT_RETURN_IF_ERROR(s.delete_point(id, &files));
        ++out.points_dropped;
      }
      // Bad blocks no point uses any more are gone with their points; drop leftovers.
      auto drop = s.db.prepare("DELETE FROM blocks WHERE hash = ?1 AND refcount <= 0 RETURNING file");
      if (!drop) return drop.status();
      for (int64_t h : bad_blocks) {
        drop->reset();
        drop->bind(1, h);
        auto r = drop->step();
        if (!r) return r.status();
        if (*r) files.emplace_back(drop->text(0));
        V4RT_RETURN_IF_ERROR(drop->run());
      }
    }
    auto ev = s.evict(0, &files);
    if (!ev) return ev.status();
    out.points_dropped += *ev;
    V4RT_RETURN_IF_ERROR(txn->commit());
  }
  for (const auto& f : files) {
    auto size = s.fs->file_size(s.blocks.full_path(f));
    if (s.blocks.remove(f).ok() && size) {
      ++out.files_removed;
      out.bytes_freed += *size;
    }
  }
  // Files no index row names and older than the grace period (younger ones may
  // belong to a save in progress in another process).
  int64_t grace = options.grace_s.value_or(s.options.gc_grace_s);
  int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(
                      std::chrono::system_clock::now().time_since_epoch()).count();
  auto refs = referenced_files(s.db);
  if (!refs) return refs.status();
  auto all = store_files(*s.fs, s.dir);
  if (!all) return all.status();
  for (const auto& f : *all) {
    if (refs->referenced.count(rel_path(s.dir, f.path))) continue;
    if (now_s - f.mtime_s < grace) continue;
    if (s.fs->remove(f.path).ok()) {
      ++out.files_removed;
      out.bytes_freed += f.size_bytes;
    }
  }
  if (options.vacuum) {
    V4RT_RETURN_IF_ERROR(s.db.exec("PRAGMA wal_checkpoint(TRUNCATE)"));
    V4RT_RETURN_IF_ERROR(s.db.exec("VACUUM"));
  }
  return out;
}

}  // namespace v4rt::sessions
