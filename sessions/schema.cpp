#include "sessions/schema.h"

#include <charconv>
#include <string>

#include "sessions/sqlite_db.h"

namespace v4rt::sessions {
namespace {

// Hashes are 64-bit values stored as SQLite INTEGER (two's complement).
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE IF NOT EXISTS meta(
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL);
-- One row per stored block: the append-only state rows produced by tokens [t0, t1).
-- hash: chain hash over the model fingerprint and every token up to t1.
-- refcount: number of points rows (point_blocks) that use the block.
CREATE TABLE IF NOT EXISTS blocks(
  hash INTEGER PRIMARY KEY,
  fp_hash INTEGER NOT NULL,
  t0 INTEGER NOT NULL,
  t1 INTEGER NOT NULL,
  file TEXT NOT NULL,
  bytes INTEGER NOT NULL,
  crc INTEGER NOT NULL,
  refcount INTEGER NOT NULL,
  last_use INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS blocks_lru ON blocks(last_use, t0);
-- A saved point: the state after n_tokens tokens = blocks [0, rows_from) + tail.
-- kind: 0 cache (anonymous), 1 checkpoint (mid-prefill), 2 turn (turn end / explicit save).
CREATE TABLE IF NOT EXISTS points(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  fp_hash INTEGER NOT NULL,
  n_tokens INTEGER NOT NULL,
  rows_from INTEGER NOT NULL,
  key INTEGER NOT NULL,
  kind INTEGER NOT NULL,
  tail_file TEXT NOT NULL,
  tail_bytes INTEGER NOT NULL,
  tail_crc INTEGER NOT NULL,
  created INTEGER NOT NULL,
  last_use INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS points_lookup ON points(fp_hash, n_tokens);
CREATE TABLE IF NOT EXISTS point_blocks(
  point INTEGER NOT NULL REFERENCES points(id) ON DELETE CASCADE,
  idx INTEGER NOT NULL,
  block INTEGER NOT NULL REFERENCES blocks(hash),
  PRIMARY KEY(point, idx));
CREATE INDEX IF NOT EXISTS point_blocks_block ON point_blocks(block);
CREATE TABLE IF NOT EXISTS sessions(
  name TEXT PRIMARY KEY,
  fingerprint TEXT NOT NULL,
  fp_hash INTEGER NOT NULL,
  head INTEGER REFERENCES points(id) ON DELETE SET NULL,
  pinned INTEGER NOT NULL DEFAULT 0,
  transcript TEXT NOT NULL DEFAULT '[]',
  tokens BLOB NOT NULL,
  created INTEGER NOT NULL,
  updated INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS session_points(
  session TEXT NOT NULL REFERENCES sessions(name) ON DELETE CASCADE ON UPDATE CASCADE,
  point INTEGER NOT NULL REFERENCES points(id) ON DELETE CASCADE,
  PRIMARY KEY(session, point));
CREATE INDEX IF NOT EXISTS session_points_point ON session_points(point);
)sql";

Result<std::string> meta_get(SqliteDb& db, const char* key) {
  auto st = db.prepare("SELECT value FROM meta WHERE key = ?1");
  if (!st) return st.status();
  st->bind(1, std::string_view(key));
  auto row = st->step();
  if (!row) return row.status();
  if (!*row) return Status::NotFound(std::string("meta key ") + key);
  return std::string(st->text(0));
}

Result<int64_t> parse_int(const std::string& s, const SqliteDb& db, const char* key) {
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size())
    return Status::Corruption(db.path().string() + ": meta '" + key + "' is not an integer ('" + s +
                              "'); the store is damaged: move it aside and start a new one");
  return v;
}

}  // namespace

Result<SchemaInfo> ensure_schema(SqliteDb& db, int64_t block_tokens_if_new) {
  auto txn = SqliteTxn::begin(db, /*write=*/true);
  if (!txn) return txn.status();
  // Does meta exist at all? (a database made by someone else has other tables)
  auto has_meta = db.prepare("SELECT count(*) FROM sqlite_master WHERE type='table' AND name='meta'");
  if (!has_meta) return has_meta.status();
  auto r = has_meta->step();
  if (!r) return r.status();
  bool fresh = has_meta->int64(0) == 0;
  if (fresh) {
    auto any = db.prepare("SELECT count(*) FROM sqlite_master WHERE type='table'");
    if (!any) return any.status();
    if (auto rr = any->step(); !rr) return rr.status();
    if (any->int64(0) != 0)
      return Status::InvalidArgument(db.path().string() +
                                     ": is an SQLite database but not a v4rt session store; choose another --store");
    V4RT_RETURN_IF_ERROR(db.exec(kSchemaV1));
    auto ins = db.prepare("INSERT INTO meta(key, value) VALUES ('format_version', ?1), ('block_tokens', ?2)");
    if (!ins) return ins.status();
    ins->bind(1, std::to_string(kStoreFormatVersion)).bind(2, std::to_string(block_tokens_if_new));
    V4RT_RETURN_IF_ERROR(ins->run());
    V4RT_RETURN_IF_ERROR(txn->commit());
    return SchemaInfo{kStoreFormatVersion, block_tokens_if_new};
  }
  auto v = meta_get(db, "format_version");
  if (!v) return Status::Corruption(db.path().string() + ": no format_version in meta; the store is damaged");
  auto version = parse_int(*v, db, "format_version");
  if (!version) return version.status();
  if (*version > kStoreFormatVersion)
    return Status::Unsupported(db.path().string() + ": session store format version " + std::to_string(*version) +
                               " is newer than this v4rt supports (" + std::to_string(kStoreFormatVersion) +
                               "); upgrade v4rt or use another --store");
  if (*version < 1)
    return Status::Corruption(db.path().string() + ": invalid format_version " + std::to_string(*version));
  // Migrations from older versions go here, one step per version, inside this transaction.
  auto bt = meta_get(db, "block_tokens");
  if (!bt) return Status::Corruption(db.path().string() + ": no block_tokens in meta; the store is damaged");
  auto block_tokens = parse_int(*bt, db, "block_tokens");
  if (!block_tokens) return block_tokens.status();
  if (*block_tokens <= 0 || *block_tokens % 128 != 0)
    return Status::Corruption(db.path().string() + ": block_tokens " + std::to_string(*block_tokens) +
                              " is not a positive multiple of 128; the store is damaged");
  V4RT_RETURN_IF_ERROR(txn->commit());
  return SchemaInfo{*version, *block_tokens};
}

}  // namespace v4rt::sessions
