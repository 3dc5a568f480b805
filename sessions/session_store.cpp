#include "sessions/session_store.h"

#include <chrono>
#include <cstring>
#include <set>
#include <unordered_set>

#include "sessions/checksum.h"
#include "sessions/fs.h"
#include "sessions/schema.h"
#include "sessions/session_store_impl.h"

namespace v4rt::sessions {

int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

uint64_t fingerprint_hash(std::string_view fingerprint) { return hash64(fingerprint, 0x76347274ULL); }

const char* point_kind_name(PointKind k) {
  switch (k) {
    case PointKind::kCache: return "cache";
    case PointKind::kTurn: return "turn";
  }
  return "?";
}

Status validate(const StoreOptions& o) {
  if (o.block_tokens <= 0 || o.block_tokens % 128 != 0)
    return Status::InvalidArgument("block_tokens must be a positive multiple of 128 (got " +
                                   std::to_string(o.block_tokens) + ")");
  if (o.gc_grace_s < 0) return Status::InvalidArgument("gc_grace_s must be >= 0");
  if (o.busy_timeout_ms < 0) return Status::InvalidArgument("busy_timeout_ms must be >= 0");
  return Status::Ok();
}

std::vector<uint64_t> SessionStore::Impl::chain(uint64_t fp_hash, std::span<const int32_t> tokens,
                                                int64_t n_blocks) const {
  std::vector<uint64_t> out;
  out.reserve(to_u64(n_blocks));
  uint64_t h = hash64(std::string_view(reinterpret_cast<const char*>(&block_tokens), 8), fp_hash);
  for (int64_t i = 0; i < n_blocks; ++i) {
    h = hash64(tokens.subspan(to_u64(i * block_tokens), to_u64(block_tokens)), h);
    out.push_back(h);
  }
  return out;
}

uint64_t SessionStore::Impl::point_key(uint64_t fp_hash, const std::vector<uint64_t>& ch,
                                       std::span<const int32_t> tokens, int64_t n) const {
  int64_t nb = n / block_tokens;
  uint64_t seed = nb == 0 ? hash64(std::string_view(reinterpret_cast<const char*>(&block_tokens), 8), fp_hash)
                          : ch[to_u64(nb - 1)];
  seed = hash64(std::string_view(reinterpret_cast<const char*>(&n), 8), seed);
  return hash64(tokens.subspan(to_u64(nb * block_tokens), to_u64(n - nb * block_tokens)), seed);
}

Result<std::vector<PrefixMatch>> SessionStore::Impl::matching_points(uint64_t fp_hash,
                                                                     std::span<const int32_t> tokens,
                                                                     size_t limit) {
  const int64_t n = static_cast<int64_t>(tokens.size());
  const std::vector<uint64_t> ch = chain(fp_hash, tokens, n / block_tokens);
  auto st = db.prepare(
      "SELECT id, n_tokens, rows_from, key FROM points WHERE fp_hash = ?1 AND n_tokens <= ?2 "
      "ORDER BY n_tokens DESC, last_use DESC");
  if (!st) return st.status();
  st->bind(1, to_i64(fp_hash)).bind(2, n);
  std::vector<PrefixMatch> out;
  while (out.size() < limit) {
    auto r = st->step();
    if (!r) return r.status();
    if (!*r) break;
    int64_t pn = st->int64(1);
    if (pn <= 0 || st->int64(2) != pn / block_tokens * block_tokens) continue;  // check() reports it
    if (to_u64(st->int64(3)) == point_key(fp_hash, ch, tokens, pn)) out.push_back({pn, st->int64(0)});
  }
  return out;
}

void SessionStore::Impl::remove_files(const std::vector<std::string>& files) const {
  for (const auto& f : files) {
    if (Status s = blocks.remove(f); !s.ok()) log(LogLevel::kWarn, s.message() + " (gc will retry)");
  }
}

Status SessionStore::Impl::delete_point(int64_t point_id, std::vector<std::string>* files) {
  auto tail = db.prepare("SELECT tail_file FROM points WHERE id = ?1");
  if (!tail) return tail.status();
  tail->bind(1, point_id);
  auto row = tail->step();
  if (!row) return row.status();
  if (!*row) return Status::Ok();
  files->emplace_back(tail->text(0));
  std::vector<int64_t> used;
  {
    auto st = db.prepare("SELECT block FROM point_blocks WHERE point = ?1");
    if (!st) return st.status();
    st->bind(1, point_id);
    for (;;) {
      auto r = st->step();
      if (!r) return r.status();
      if (!*r) break;
      used.push_back(st->int64(0));
    }
  }
  auto del = db.prepare("DELETE FROM points WHERE id = ?1");
  if (!del) return del.status();
  del->bind(1, point_id);
  V4RT_RETURN_IF_ERROR(del->run());
  auto dec = db.prepare("UPDATE blocks SET refcount = refcount - 1 WHERE hash = ?1 RETURNING refcount, file");
  if (!dec) return dec.status();
  auto drop = db.prepare("DELETE FROM blocks WHERE hash = ?1");
  if (!drop) return drop.status();
  for (int64_t h : used) {
    dec->reset();
    dec->bind(1, h);
    auto r = dec->step();
    if (!r) return r.status();
    if (*r && dec->int64(0) <= 0) {
      files->emplace_back(dec->text(1));
      V4RT_RETURN_IF_ERROR(dec->run());
      drop->reset();
      drop->bind(1, h);
      V4RT_RETURN_IF_ERROR(drop->run());
    } else if (*r) {
      V4RT_RETURN_IF_ERROR(dec->run());
    }
  }
  return Status::Ok();
}

SessionStore::SessionStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SessionStore::~SessionStore() = default;
int64_t SessionStore::block_tokens() const { return impl_->block_tokens; }
const std::filesystem::path& SessionStore::dir() const { return impl_->dir; }

Result<std::unique_ptr<SessionStore>> SessionStore::open(const std::filesystem::path& dir,
                                                        const StoreOptions& options) {
  V4RT_RETURN_IF_ERROR(validate(options));
  Fs& fs = options.fs ? *options.fs : posix_fs();
  if (!options.create_if_missing && !fs.file_size(dir / "index.db").ok())
    return Status::NotFound("no session store at " + dir.string() +
                            " (no index.db); check --store, or create one with 'v4rt generate' or 'v4rt session import'");
  V4RT_RETURN_IF_ERROR(fs.create_dirs(dir));
  auto db = SqliteDb::open(dir / "index.db", /*create=*/true, options.busy_timeout_ms);
  if (!db) return db.status();
  auto info = ensure_schema(*db, options.block_tokens);
  if (!info) return info.status();
  auto impl = std::make_unique<Impl>(dir, options, fs, std::move(*db), info->block_tokens);
  return std::unique_ptr<SessionStore>(new SessionStore(std::move(impl)));
}

namespace {

struct BlockPlan {
  uint64_t hash = 0;
  int64_t t0 = 0, t1 = 0;
  bool exists = false;      // row present at planning time
  std::string file;         // written by us (empty: not written)
  uint32_t crc = 0;
  uint64_t bytes = 0;
};

Result<bool> block_exists(SqliteDb& db, uint64_t hash) {
  auto st = db.prepare("SELECT 1 FROM blocks WHERE hash = ?1");
  if (!st) return st.status();
  st->bind(1, to_i64(hash));
  return st->step();
}

Result<int64_t> find_point(SqliteDb& db, uint64_t fp_hash, int64_t n, uint64_t key) {
  auto st = db.prepare("SELECT id FROM points WHERE fp_hash = ?1 AND n_tokens = ?2 AND key = ?3 LIMIT 1");
  if (!st) return st.status();
  st->bind(1, to_i64(fp_hash)).bind(2, n).bind(3, to_i64(key));
  auto r = st->step();
  if (!r) return r.status();
  return *r ? st->int64(0) : int64_t{0};
}

std::string_view as_bytes(std::span<const int32_t> t) {
  return std::string_view(reinterpret_cast<const char*>(t.data()), t.size() * 4);
}

// The files one save() wrote: removed when the save returns without having
// committed the index rows that name them.
class WrittenFiles {
 public:
  explicit WrittenFiles(const SessionStore::Impl& store) : store_(store) {}
  ~WrittenFiles() {
    if (!kept_) store_.remove_files(files_);
  }
  WrittenFiles(const WrittenFiles&) = delete;
  WrittenFiles& operator=(const WrittenFiles&) = delete;
  void add(std::string file) { files_.push_back(std::move(file)); }
  void keep() { kept_ = true; }

 private:
  const SessionStore::Impl& store_;
  std::vector<std::string> files_;
  bool kept_ = false;
};

}  // namespace

Result<SaveResult> SessionStore::save(std::string_view fingerprint, std::span<const int32_t> tokens,
                                      std::span<const float> logits, const StateSource& state,
                                      const SaveOptions& opt) {
  Impl& s = *impl_;
  const int64_t n = static_cast<int64_t>(tokens.size());
  if (n == 0) return Status::InvalidArgument("session save: no tokens to save");
  if (state.position() != n)
    return Status::InvalidArgument("session save: state position " + std::to_string(state.position()) +
                                   " differs from the " + std::to_string(n) + " tokens given");
  const int64_t B = s.block_tokens;
  const int64_t nb = n / B, rows_from = nb * B;
  const uint64_t fp = fingerprint_hash(fingerprint);
  const std::vector<uint64_t> ch = s.chain(fp, tokens, nb);
  const uint64_t key = s.point_key(fp, ch, tokens, n);
  SaveResult result;
  result.n_tokens = n;

  // A session of another model can't move to this state.
  if (!opt.session.empty()) {
    auto st = s.db.prepare("SELECT fingerprint FROM sessions WHERE name = ?1");
    if (!st) return st.status();
    st->bind(1, std::string_view(opt.session));
    auto r = st->step();
    if (!r) return r.status();
    if (*r && st->text(0) != fingerprint)
      return Status::InvalidArgument("session '" + opt.session + "' belongs to model '" + std::string(st->text(0)) +
                                     "', not to the loaded model '" + std::string(fingerprint) +
                                     "'; use another session name or load that model");
  }

  std::vector<BlockPlan> plan(to_u64(nb));
  for (int64_t i = 0; i < nb; ++i) {
    BlockPlan& b = plan[to_u64(i)];
    b.hash = ch[to_u64(i)];
    b.t0 = i * B;
    b.t1 = (i + 1) * B;
  }
  std::string tail_file;
  uint32_t tail_crc = 0;
  uint64_t tail_bytes = 0;
  // Every file this save writes is removed on any return before the commit,
  // whichever statement fails (an early return cannot skip it).
  WrittenFiles written(s);
  // Ours, made redundant by a concurrent writer (on any attempt): removed after the commit.
  std::vector<std::string> unused_files;
  auto logits_bytes = std::string_view(reinterpret_cast<const char*>(logits.data()), logits.size() * 4);

  for (int attempt = 0;; ++attempt) {
    // Phase 1 (no lock): which blocks and which point exist already?
    auto existing_point = find_point(s.db, fp, n, key);
    if (!existing_point) return existing_point.status();
    bool need_tail = *existing_point == 0 && tail_file.empty();
    int64_t to_write = 0;
    for (auto& b : plan) {
      if (!b.file.empty()) continue;
      auto e = block_exists(s.db, b.hash);
      if (!e) return e.status();
      b.exists = *e;
      if (!b.exists) ++to_write;
    }
    // Phase 2 (no lock): write missing files durably.
    int64_t done = 0;
    for (auto& b : plan) {
      if (b.exists || !b.file.empty()) continue;
      std::string payload = state.export_rows(b.t0, b.t1);
      FileHeader h{FileKind::kBlock, fp, b.hash, b.t0, b.t1};
      auto rel = s.blocks.write(h, tokens.subspan(to_u64(b.t0), to_u64(B)), payload, {}, &b.crc, &b.bytes);
      if (!rel) return rel.status();
      b.file = *rel;
      written.add(*rel);
      result.bytes_written += b.bytes;
      ++done;
      if (opt.progress && !opt.progress("save", to_u64(done), to_u64(to_write)))
        return Status::Cancelled("session save cancelled; nothing was committed");
    }
    if (need_tail) {
      std::string payload = state.export_tail(rows_from);
      FileHeader h{FileKind::kTail, fp, key, rows_from, n};
      auto rel = s.blocks.write(h, tokens.subspan(to_u64(rows_from)), payload, logits_bytes, &tail_crc, &tail_bytes);
      if (!rel) return rel.status();
      tail_file = *rel;
      written.add(*rel);
      result.bytes_written += tail_bytes;
    }

    // Phase 3: one write transaction makes everything visible at once.
    auto txn = SqliteTxn::begin(s.db, /*write=*/true);
    if (!txn) return txn.status();
    const int64_t now = now_us();
    bool vanished = false;
    for (auto& b : plan) {
      auto e = block_exists(s.db, b.hash);
      if (!e) return e.status();
      if (!*e && b.file.empty()) {  // evicted by another process since phase 1
        b.exists = false;
        vanished = true;
      }
      if (*e && !b.file.empty()) {
        unused_files.push_back(b.file);
        b.file.clear();
        b.exists = true;
      }
    }
    int64_t point_id = 0;
    if (!vanished) {
      auto ep = find_point(s.db, fp, n, key);
      if (!ep) return ep.status();
      point_id = *ep;
      if (point_id == 0 && tail_file.empty()) vanished = true;  // the point we meant to reuse was evicted
    }
    if (vanished) {
      if (attempt >= 4)
        return Status::IoError(s.dir.string() + ": session save kept racing with eviction by another "
                                                "process; retry, or raise the store budget");
      continue;  // rollback (txn destructor) and write what vanished
    }
    int64_t reused = 0, inserted = 0;
    auto ins_block = s.db.prepare(
        "INSERT INTO blocks(hash, fp_hash, t0, t1, file, bytes, crc, refcount, last_use) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, ?8)");
    if (!ins_block) return ins_block.status();
    for (auto& b : plan) {
      if (b.file.empty()) { ++reused; continue; }
      ins_block->reset();
      ins_block->bind(1, to_i64(b.hash)).bind(2, to_i64(fp)).bind(3, b.t0).bind(4, b.t1);
      ins_block->bind(5, std::string_view(b.file)).bind(6, to_i64(b.bytes)).bind(7, int64_t{b.crc}).bind(8, now);
      V4RT_RETURN_IF_ERROR(ins_block->run());
      ++inserted;
    }
    bool new_point = point_id == 0;
    if (new_point) {
      auto ins = s.db.prepare(
          "INSERT INTO points(fp_hash, n_tokens, rows_from, key, kind, tail_file, tail_bytes, tail_crc, created, "
          "last_use) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)");
      if (!ins) return ins.status();
      ins->bind(1, to_i64(fp)).bind(2, n).bind(3, rows_from).bind(4, to_i64(key));
      ins->bind(5, static_cast<int64_t>(opt.kind)).bind(6, std::string_view(tail_file));
      ins->bind(7, to_i64(tail_bytes)).bind(8, int64_t{tail_crc}).bind(9, now);
      if (Status st = ins->run(); !st.ok()) return st;
      point_id = s.db.last_insert_rowid();
      auto link = s.db.prepare("INSERT INTO point_blocks(point, idx, block) VALUES (?1, ?2, ?3)");
      if (!link) return link.status();
      auto inc = s.db.prepare("UPDATE blocks SET refcount = refcount + 1 WHERE hash = ?1");
      if (!inc) return inc.status();
      for (int64_t i = 0; i < nb; ++i) {
        link->reset();
        link->bind(1, point_id).bind(2, i).bind(3, to_i64(plan[to_u64(i)].hash));
        if (Status st = link->run(); !st.ok()) return st;
        inc->reset();
        inc->bind(1, to_i64(plan[to_u64(i)].hash));
        if (Status st = inc->run(); !st.ok()) return st;
      }
    } else if (!tail_file.empty()) {
      unused_files.push_back(tail_file);  // someone saved the same point meanwhile
    }
    {
      auto touch = s.db.prepare(
          "UPDATE blocks SET last_use = ?2 WHERE hash IN (SELECT block FROM point_blocks WHERE point = ?1)");
      if (!touch) return touch.status();
      touch->bind(1, point_id).bind(2, now);
      if (Status st = touch->run(); !st.ok()) return st;
      auto tp = s.db.prepare("UPDATE points SET last_use = ?2 WHERE id = ?1");
      if (!tp) return tp.status();
      tp->bind(1, point_id).bind(2, now);
      if (Status st = tp->run(); !st.ok()) return st;
    }
    std::vector<std::string> dead_files;
    if (!opt.session.empty()) {
      auto up = s.db.prepare(
          "INSERT INTO sessions(name, fingerprint, fp_hash, head, pinned, transcript, tokens, created, updated) "
          "VALUES (?1, ?2, ?3, ?4, COALESCE(?5, 0), COALESCE(?6, '[]'), ?7, ?8, ?8) "
          "ON CONFLICT(name) DO UPDATE SET head = excluded.head, tokens = excluded.tokens, updated = excluded.updated, "
          "pinned = COALESCE(?5, pinned), transcript = COALESCE(?6, transcript)");
      if (!up) return up.status();
      up->bind(1, std::string_view(opt.session)).bind(2, fingerprint).bind(3, to_i64(fp)).bind(4, point_id);
      if (opt.pin) up->bind(5, int64_t{*opt.pin ? 1 : 0}); else up->bind_null(5);
      if (opt.transcript_json) up->bind(6, std::string_view(*opt.transcript_json)); else up->bind_null(6);
      up->bind_blob(7, as_bytes(tokens)).bind(8, now);
      if (Status st = up->run(); !st.ok()) return st;
      auto link = s.db.prepare("INSERT OR IGNORE INTO session_points(session, point) VALUES (?1, ?2)");
      if (!link) return link.status();
      link->bind(1, std::string_view(opt.session)).bind(2, point_id);
      if (Status st = link->run(); !st.ok()) return st;
    }
    auto evicted = s.evict(point_id, &dead_files);
    if (!evicted) return evicted.status();
    V4RT_RETURN_IF_ERROR(txn->commit());
    written.keep();  // committed: from here on nothing may undo the save
    s.remove_files(unused_files);
    s.remove_files(dead_files);
    result.point_id = point_id;
    result.blocks_written = inserted;
    result.blocks_reused = reused;
    result.points_evicted = *evicted;
    return result;
  }
}

Result<PrefixMatch> SessionStore::lookup_longest_prefix(std::string_view fingerprint,
                                                        std::span<const int32_t> tokens) {
  auto matches = impl_->matching_points(fingerprint_hash(fingerprint), tokens, 1);
  if (!matches) return matches.status();
  return matches->empty() ? PrefixMatch{} : matches->front();
}

namespace {

struct BlockRef {
  uint64_t hash;
  int64_t t0, t1;
  std::string file;
  uint32_t crc;
};

}  // namespace

Result<RestoreResult> SessionStore::restore(std::string_view fingerprint, std::span<const int32_t> tokens,
                                            const PrefixMatch& match, StateSink& sink, const Progress& progress) {
  Impl& s = *impl_;
  RestoreResult out;
  s.last_bad_file.clear();
  sink.reset();
  if (match.n_tokens == 0) return out;
  const uint64_t fp = fingerprint_hash(fingerprint);
  const int64_t n = match.n_tokens;
  if (n > static_cast<int64_t>(tokens.size()))
    return Status::InvalidArgument("session restore: point covers " + std::to_string(n) + " tokens but only " +
                                   std::to_string(tokens.size()) + " were given");
  int64_t rows_from = 0;
  std::string tail_file;
  uint32_t tail_crc = 0;
  std::vector<BlockRef> refs;
  {
    auto txn = SqliteTxn::begin(s.db, /*write=*/false);  // one consistent snapshot of the index
    if (!txn) return txn.status();
    auto p = s.db.prepare("SELECT n_tokens, rows_from, key, tail_file, tail_crc FROM points WHERE id = ?1 AND fp_hash = ?2");
    if (!p) return p.status();
    p->bind(1, match.point_id).bind(2, to_i64(fp));
    auto r = p->step();
    if (!r) return r.status();
    if (!*r) return Status::NotFound("session point " + std::to_string(match.point_id) +
                                     " is gone (evicted or removed meanwhile); look the prefix up again");
    const std::vector<uint64_t> ch = s.chain(fp, tokens, n / s.block_tokens);
    if (p->int64(0) != n || to_u64(p->int64(2)) != s.point_key(fp, ch, tokens, n))
      return Status::InvalidArgument("session point " + std::to_string(match.point_id) +
                                     " does not match the given tokens");
    rows_from = p->int64(1);
    tail_file = std::string(p->text(3));
    tail_crc = static_cast<uint32_t>(p->int64(4));
    auto b = s.db.prepare(
        "SELECT b.hash, b.t0, b.t1, b.file, b.crc, pb.idx FROM point_blocks pb JOIN blocks b ON b.hash = pb.block "
        "WHERE pb.point = ?1 ORDER BY pb.idx");
    if (!b) return b.status();
    b->bind(1, match.point_id);
    for (;;) {
      auto rr = b->step();
      if (!rr) return rr.status();
      if (!*rr) break;
      refs.push_back({to_u64(b->int64(0)), b->int64(1), b->int64(2), std::string(b->text(3)),
                      static_cast<uint32_t>(b->int64(4))});
    }
    if (static_cast<int64_t>(refs.size()) * s.block_tokens != rows_from)
      return Status::Corruption(s.dir.string() + ": session point " + std::to_string(match.point_id) +
                                " lists " + std::to_string(refs.size()) + " blocks for " + std::to_string(rows_from) +
                                " tokens; run 'v4rt session check'");
    (void)txn->commit();
  }
  for (size_t i = 0; i < refs.size(); ++i) {
    const BlockRef& b = refs[i];
    if (b.t0 != static_cast<int64_t>(i) * s.block_tokens || b.t1 != b.t0 + s.block_tokens)
      return Status::Corruption(s.blocks.full_path(b.file).string() + ": block range does not follow the chain");
    FileHeader h{FileKind::kBlock, fp, b.hash, b.t0, b.t1};
    auto c = s.blocks.read(b.file, h, tokens.subspan(to_u64(b.t0), to_u64(b.t1 - b.t0)), b.crc);
    if (!c) {
      s.last_bad_file = b.file;
      return c.status();
    }
    out.bytes_read += c->bytes.size();
    if (Status st = sink.import_rows(b.t0, b.t1, c->payload()); !st.ok())
      return st.with_context(s.blocks.full_path(b.file).string());
    if (progress && !progress("restore", i + 1, refs.size() + 1)) {
      sink.reset();
      return Status::Cancelled("session restore cancelled");
    }
  }
  {
    FileHeader h{FileKind::kTail, fp, s.point_key(fp, s.chain(fp, tokens, n / s.block_tokens), tokens, n), rows_from, n};
    auto c = s.blocks.read(tail_file, h, tokens.subspan(to_u64(rows_from), to_u64(n - rows_from)), tail_crc);
    if (!c) return c.status();
    out.bytes_read += c->bytes.size();
    if (Status st = sink.import_tail(rows_from, c->payload()); !st.ok())
      return st.with_context(s.blocks.full_path(tail_file).string());
    std::string_view extra = c->extra();
    if (extra.size() % 4 != 0) return Status::Corruption(s.blocks.full_path(tail_file).string() + ": logits section is not float32");
    out.logits.resize(extra.size() / 4);
    std::memcpy(out.logits.data(), extra.data(), extra.size());
    if (progress) (void)progress("restore", refs.size() + 1, refs.size() + 1);
  }
  out.n_tokens = n;
  out.point_id = match.point_id;
  // Best effort LRU bookkeeping: a busy store must not fail a restore.
  if (auto txn = SqliteTxn::begin(s.db, /*write=*/true); txn) {
    int64_t now = now_us();
    auto t = s.db.prepare(
        "UPDATE blocks SET last_use = ?2 WHERE hash IN (SELECT block FROM point_blocks WHERE point = ?1)");
    auto tp = s.db.prepare("UPDATE points SET last_use = ?2 WHERE id = ?1");
    if (t && tp) {
      t->bind(1, match.point_id).bind(2, now);
      tp->bind(1, match.point_id).bind(2, now);
      if (t->run().ok() && tp->run().ok()) (void)txn->commit();
    }
  }
  return out;
}

Result<RestoreResult> SessionStore::restore_longest(std::string_view fingerprint, std::span<const int32_t> tokens,
                                                    StateSink& sink, const Progress& progress) {
  Impl& s = *impl_;
  std::vector<std::string> warnings;
  const uint64_t fp = fingerprint_hash(fingerprint);
  auto matched = s.matching_points(fp, tokens, SIZE_MAX);
  if (!matched) return matched.status();
  const std::vector<PrefixMatch>& candidates = *matched;
  std::unordered_set<std::string> bad_files;
  for (const PrefixMatch& m : candidates) {
    // Skip points that use a file already found bad (a longer point failed on it).
    bool skip = false;
    if (!bad_files.empty()) {
      auto q = s.db.prepare(
          "SELECT b.file FROM point_blocks pb JOIN blocks b ON b.hash = pb.block WHERE pb.point = ?1");
      if (!q) return q.status();
      q->bind(1, m.point_id);
      for (;;) {
        auto r = q->step();
        if (!r) return r.status();
        if (!*r) break;
        if (bad_files.count(std::string(q->text(0)))) { skip = true; break; }
      }
    }
    if (skip) continue;
    auto r = restore(fingerprint, tokens, m, sink, progress);
    if (r) {
      r->warnings = std::move(warnings);
      return r;
    }
    if (r.status().is_cancelled()) return r.status();
    std::string msg = r.status().message();
    warnings.push_back(msg);
    s.log(LogLevel::kWarn, "refusing cached prefix of " + std::to_string(m.n_tokens) + " tokens: " + msg);
    // Remember the offending block file so shorter points that share it are skipped.
    if (!s.last_bad_file.empty()) bad_files.insert(s.last_bad_file);
  }
  sink.reset();
  RestoreResult none;
  none.warnings = std::move(warnings);
  return none;
}

namespace {

Result<SessionInfo> read_session_row(SqliteStmt& st) {
  SessionInfo si;
  si.name = std::string(st.text(0));
  si.fingerprint = std::string(st.text(1));
  si.head_point = st.is_null(2) ? 0 : st.int64(2);
  si.pinned = st.int64(3) != 0;
  si.created_us = st.int64(4);
  si.updated_us = st.int64(5);
  si.n_tokens = static_cast<int64_t>(st.blob(6).size() / 4);
  return si;
}

Status fill_points(SqliteDb& db, SessionInfo& si) {
  auto st = db.prepare(
      "SELECT p.id, p.n_tokens, p.kind, p.created FROM points p JOIN session_points sp ON sp.point = p.id "
      "WHERE sp.session = ?1 ORDER BY p.n_tokens");
  if (!st) return st.status();
  st->bind(1, std::string_view(si.name));
  for (;;) {
    auto r = st->step();
    if (!r) return r.status();
    if (!*r) break;
    si.points.push_back({st->int64(0), st->int64(1), static_cast<PointKind>(st->int64(2)), st->int64(3)});
    if (st->int64(0) == si.head_point) si.head_tokens = st->int64(1);
  }
  auto bytes = db.prepare(
      "SELECT COALESCE((SELECT SUM(bytes) FROM blocks WHERE hash IN (SELECT pb.block FROM point_blocks pb JOIN "
      "session_points sp ON sp.point = pb.point WHERE sp.session = ?1)), 0) + COALESCE((SELECT SUM(p.tail_bytes) "
      "FROM points p JOIN session_points sp ON sp.point = p.id WHERE sp.session = ?1), 0)");
  if (!bytes) return bytes.status();
  bytes->bind(1, std::string_view(si.name));
  auto r = bytes->step();
  if (!r) return r.status();
  si.state_bytes = to_u64(bytes->int64(0));
  return Status::Ok();
}

constexpr const char* kSessionCols = "name, fingerprint, head, pinned, created, updated, tokens, transcript";

Status not_found(std::string_view name, const std::filesystem::path& dir) {
  return Status::NotFound("session '" + std::string(name) + "' not found in " + dir.string() +
                          "; run 'v4rt session list'");
}

}  // namespace

Result<std::vector<SessionInfo>> SessionStore::list() {
  Impl& s = *impl_;
  auto txn = SqliteTxn::begin(s.db, false);
  if (!txn) return txn.status();
  auto st = s.db.prepare(std::string("SELECT ") + kSessionCols + " FROM sessions ORDER BY name");
  if (!st) return st.status();
  std::vector<SessionInfo> out;
  for (;;) {
    auto r = st->step();
    if (!r) return r.status();
    if (!*r) break;
    auto si = read_session_row(*st);
    if (!si) return si.status();
    out.push_back(std::move(*si));
  }
  for (auto& si : out) V4RT_RETURN_IF_ERROR(fill_points(s.db, si));
  return out;
}

Result<SessionInfo> SessionStore::show(std::string_view name) {
  Impl& s = *impl_;
  auto txn = SqliteTxn::begin(s.db, false);
  if (!txn) return txn.status();
  auto st = s.db.prepare(std::string("SELECT ") + kSessionCols + " FROM sessions WHERE name = ?1");
  if (!st) return st.status();
  st->bind(1, name);
  auto r = st->step();
  if (!r) return r.status();
  if (!*r) return not_found(name, s.dir);
  auto si = read_session_row(*st);
  if (!si) return si.status();
  std::string_view tb = st->blob(6);
  si->tokens.resize(tb.size() / 4);
  if (!tb.empty()) std::memcpy(si->tokens.data(), tb.data(), si->tokens.size() * 4);
  si->transcript_json = std::string(st->text(7));
  V4RT_RETURN_IF_ERROR(fill_points(s.db, *si));
  return si;
}

Status SessionStore::fork(std::string_view src, std::string_view dst, std::optional<int64_t> at_tokens) {
  Impl& s = *impl_;
  if (dst.empty()) return Status::InvalidArgument("session fork: the new session name is empty");
  auto txn = SqliteTxn::begin(s.db, true);
  if (!txn) return txn.status();
  auto st = s.db.prepare(std::string("SELECT ") + kSessionCols + " FROM sessions WHERE name = ?1");
  if (!st) return st.status();
  st->bind(1, src);
  auto r = st->step();
  if (!r) return r.status();
  if (!*r) return not_found(src, s.dir);
  auto si = read_session_row(*st);
  if (!si) return si.status();
  V4RT_RETURN_IF_ERROR(fill_points(s.db, *si));
  std::string tokens(st->blob(6));
  std::string transcript(st->text(7));
  int64_t head = si->head_point;
  int64_t at = si->head_tokens;
  if (at_tokens) {
    head = 0;
    for (const auto& p : si->points)
      if (p.n_tokens == *at_tokens) head = p.id;
    if (head == 0) {
      std::string avail;
      for (const auto& p : si->points) avail += (avail.empty() ? "" : ", ") + std::to_string(p.n_tokens);
      return Status::NotFound("session '" + std::string(src) + "' has no saved point at " +
                              std::to_string(*at_tokens) + " tokens (saved points: " +
                              (avail.empty() ? "none" : avail) + ")");
    }
    at = *at_tokens;
    tokens.resize(to_u64(at) * 4);
  } else if (head == 0) {
    at = si->n_tokens;
  }
  auto exists = s.db.prepare("SELECT 1 FROM sessions WHERE name = ?1");
  if (!exists) return exists.status();
  exists->bind(1, dst);
  auto er = exists->step();
  if (!er) return er.status();
  if (*er) return Status::InvalidArgument("session '" + std::string(dst) + "' already exists; choose another name or 'v4rt session rm' it");
  auto ins = s.db.prepare(
      "INSERT INTO sessions(name, fingerprint, fp_hash, head, pinned, transcript, tokens, created, updated) "
      "SELECT ?1, fingerprint, fp_hash, ?2, 0, transcript, ?3, ?4, ?4 FROM sessions WHERE name = ?5");
  if (!ins) return ins.status();
  if (head) ins->bind(2, head); else ins->bind_null(2);
  ins->bind(1, dst).bind_blob(3, tokens).bind(4, now_us()).bind(5, src);
  V4RT_RETURN_IF_ERROR(ins->run());
  // Share every point of src up to the fork point (copy-on-write: no bytes copied).
  auto link = s.db.prepare(
      "INSERT INTO session_points(session, point) SELECT ?1, sp.point FROM session_points sp JOIN points p ON "
      "p.id = sp.point WHERE sp.session = ?2 AND p.n_tokens <= ?3");
  if (!link) return link.status();
  link->bind(1, dst).bind(2, src).bind(3, at);
  V4RT_RETURN_IF_ERROR(link->run());
  return txn->commit();
}

Status SessionStore::remove(std::string_view name) {
  Impl& s = *impl_;
  auto txn = SqliteTxn::begin(s.db, true);
  if (!txn) return txn.status();
  std::vector<int64_t> points;
  {
    auto st = s.db.prepare("SELECT point FROM session_points WHERE session = ?1");
    if (!st) return st.status();
    st->bind(1, name);
    for (;;) {
      auto r = st->step();
      if (!r) return r.status();
      if (!*r) break;
      points.push_back(st->int64(0));
    }
  }
  auto del = s.db.prepare("DELETE FROM sessions WHERE name = ?1");
  if (!del) return del.status();
  del->bind(1, name);
  V4RT_RETURN_IF_ERROR(del->run());
  auto ch = s.db.prepare("SELECT changes()");
  if (!ch) return ch.status();
  if (auto r = ch->step(); !r) return r.status();
  if (ch->int64(0) == 0) return not_found(name, s.dir);
  std::vector<std::string> files;
  auto q = s.db.prepare(
      "SELECT (SELECT count(*) FROM session_points WHERE point = ?1), kind FROM points WHERE id = ?1");
  if (!q) return q.status();
  for (int64_t id : points) {
    q->reset();
    q->bind(1, id);
    auto r = q->step();
    if (!r) return r.status();
    if (*r && q->int64(0) == 0 && q->int64(1) != static_cast<int64_t>(PointKind::kCache))
      V4RT_RETURN_IF_ERROR(s.delete_point(id, &files));
  }
  V4RT_RETURN_IF_ERROR(txn->commit());
  s.remove_files(files);
  return Status::Ok();
}

Status SessionStore::set_pinned(std::string_view name, bool pinned) {
  Impl& s = *impl_;
  auto st = s.db.prepare("UPDATE sessions SET pinned = ?2 WHERE name = ?1 RETURNING 1");
  if (!st) return st.status();
  st->bind(1, name).bind(2, int64_t{pinned ? 1 : 0});
  auto r = st->step();
  if (!r) return r.status();
  if (!*r) return not_found(name, s.dir);
  return st->run();
}

Status SessionStore::set_transcript(std::string_view name, std::string_view transcript_json) {
  Impl& s = *impl_;
  auto st = s.db.prepare("UPDATE sessions SET transcript = ?2, updated = ?3 WHERE name = ?1 RETURNING 1");
  if (!st) return st.status();
  st->bind(1, name).bind(2, transcript_json).bind(3, now_us());
  auto r = st->step();
  if (!r) return r.status();
  if (!*r) return not_found(name, s.dir);
  return st->run();
}

Result<StoreStats> SessionStore::stats() {
  Impl& s = *impl_;
  auto st = s.db.prepare(
      "SELECT (SELECT count(*) FROM blocks), (SELECT count(*) FROM points), (SELECT count(*) FROM sessions), "
      "(SELECT COALESCE(SUM(bytes), 0) FROM blocks), (SELECT COALESCE(SUM(tail_bytes), 0) FROM points)");
  if (!st) return st.status();
  if (auto r = st->step(); !r) return r.status();
  StoreStats out;
  out.blocks = st->int64(0);
  out.points = st->int64(1);
  out.sessions = st->int64(2);
  out.block_bytes = to_u64(st->int64(3));
  out.tail_bytes = to_u64(st->int64(4));
  out.block_tokens = s.block_tokens;
  return out;
}

}  // namespace v4rt::sessions
