// SessionStore::Impl: state and helpers shared by session_store.cpp,
// store_maintenance.cpp (eviction, gc, check) and session_export.cpp.
// Internal to sessions/. Not thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "sessions/block_store.h"
#include "sessions/session_store.h"
#include "sessions/sqlite_db.h"

namespace v4rt::sessions {

struct SessionStore::Impl {
  std::filesystem::path dir;
  StoreOptions options;
  Fs* fs = nullptr;
  SqliteDb db;
  BlockStore blocks;
  int64_t block_tokens = 0;
  std::string last_bad_file;  // block file that made the last restore() fail (empty: none or not a block)

  Impl(std::filesystem::path d, const StoreOptions& o, Fs& f, SqliteDb database, int64_t bt)
      : dir(std::move(d)), options(o), fs(&f), db(std::move(database)), blocks(f, dir), block_tokens(bt) {}

  void log(LogLevel level, const std::string& msg) const {
    if (options.log) options.log->log(level, "sessions", msg);
  }

  // Chain hashes of the full blocks of `tokens`: out[i] covers tokens [0, (i+1)*B).
  std::vector<uint64_t> chain(uint64_t fp_hash, std::span<const int32_t> tokens, int64_t n_blocks) const;
  // Key of a point after n tokens given the chain (hash of the tail tokens after the last block).
  uint64_t point_key(uint64_t fp_hash, const std::vector<uint64_t>& chain, std::span<const int32_t> tokens,
                     int64_t n) const;
  // Saved points whose tokens are a prefix of `tokens`, longest first (most
  // recently used first among equals); stops after `limit` matches.
  Result<std::vector<PrefixMatch>> matching_points(uint64_t fp_hash, std::span<const int32_t> tokens,
                                                   size_t limit);

  // Deletes a point row (and its links), decrementing block refcounts; blocks
  // that reach 0 are deleted. Files to unlink after commit go to *files.
  // Requires: inside a write transaction.
  Status delete_point(int64_t point_id, std::vector<std::string>* files);
  // Evicts until under budget, never touching `protect_point` or pinned sessions' points.
  // Requires: inside a write transaction.
  Result<int64_t> evict(int64_t protect_point, std::vector<std::string>* files);
  // Unlinks files after a commit; failures only logged (gc finds leftovers).
  void remove_files(const std::vector<std::string>& files) const;
};

int64_t now_us();
inline int64_t to_i64(uint64_t v) { return static_cast<int64_t>(v); }
inline uint64_t to_u64(int64_t v) { return static_cast<uint64_t>(v); }

}  // namespace v4rt::sessions
