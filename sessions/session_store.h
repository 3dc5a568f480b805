// SessionStore: persistent compressed-KV sessions (architecture.md, issue #4).
//
// A store is a directory: index.db (SQLite, WAL) plus blocks/ and tails/.
// The append-only part of a model state (compressed KV rows, indexer keys) is
// kept in blocks of block_tokens tokens, keyed by a hash chain over the model
// fingerprint and every token up to the block's end, so sequences that share a
// prefix share its blocks. A saved *point* (the state after n tokens) is the
// blocks covering [0, rows_from) plus a *tail* file (everything else, and the
// next-token logits), rows_from = n rounded down to block_tokens. Named
// *sessions* own points, a token list and a transcript (JSON); anonymous
// points form the prefix cache.
//
// Safety: a file is written and fsynced before the index commit that makes it
// visible; every file is checksummed and checked against the index on read;
// a bad block or tail is refused and lookups fall back to a shorter prefix.
// Thread-safety: a SessionStore is used by one thread at a time; several
// SessionStore objects (threads or processes) may share one directory (SQLite
// locking serialises index writes).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/progress.h"
#include "base/status.h"

namespace v4rt {
class Fs;  // base/fs.h
}  // namespace v4rt

namespace v4rt::sessions {

using v4rt::Fs;

// Where save() reads a state from (runtime/state_adapters.h adapts model::State). The
// contract is model::State's: rows of [t0, t1) with t0, t1 multiples of 128,
// and the tail holding everything else at position().
class StateSource {
 public:
  virtual ~StateSource() = default;
  virtual int64_t position() const = 0;
  virtual std::string export_rows(int64_t t0, int64_t t1) const = 0;
  virtual std::string export_tail(int64_t rows_from) const = 0;
};

// Where restore() writes a state to: reset(), then import_rows in order from
// 0, then import_tail.
class StateSink {
 public:
  virtual ~StateSink() = default;
  virtual void reset() = 0;
  virtual Status import_rows(int64_t t0, int64_t t1, std::string_view bytes) = 0;
  virtual Status import_tail(int64_t rows_from, std::string_view bytes) = 0;
};

struct StoreOptions {
  // Tokens per block (multiple of 128). Used only when the store is created;
  // an existing store keeps its own (see docs/sessions.md for the choice).
  int64_t block_tokens = 1024;
  uint64_t budget_bytes = 0;   // bytes of blocks + tails before LRU eviction; 0: unlimited
  int64_t gc_grace_s = 3600;   // gc keeps unreferenced files younger than this (a concurrent save may own them)
  int busy_timeout_ms = 60000; // wait for another process's write lock
  bool create_if_missing = true;  // false: a directory without a store is NotFound
  Fs* fs = nullptr;            // borrowed; nullptr: the real file system
  LogSink* log = nullptr;      // borrowed; optional
};
Status validate(const StoreOptions& o);

// What a point was saved as. The engine saves anonymous prefix-cache points
// (kCache: after a prefill and every save_every_tokens of a long one) and a
// named session's point at each turn end (kTurn). Stored as an integer; 1 was
// a periodic-checkpoint kind that nothing wrote and is not used.
enum class PointKind { kCache = 0, kTurn = 2 };
const char* point_kind_name(PointKind k);

struct SaveOptions {
  std::string session;                         // empty: an anonymous prefix-cache point
  std::optional<std::string> transcript_json;  // session: replaces its transcript when set
  std::optional<bool> pin;                     // session: sets pinned when set
  PointKind kind = PointKind::kTurn;
  Progress progress;                           // phase "save", done/total blocks
};

struct SaveResult {
  int64_t point_id = 0;
  int64_t n_tokens = 0;
  int64_t blocks_written = 0;
  int64_t blocks_reused = 0;
  uint64_t bytes_written = 0;
  int64_t points_evicted = 0;
};

struct PrefixMatch {
  int64_t n_tokens = 0;  // 0: nothing cached for this sequence
  int64_t point_id = 0;
};

struct RestoreResult {
  int64_t n_tokens = 0;  // tokens restored (0: nothing; the sink was reset)
  int64_t point_id = 0;
  std::vector<float> logits;  // next-token logits saved with the point (may be empty)
  uint64_t bytes_read = 0;
  std::vector<std::string> warnings;  // points refused on the way (corrupt/missing files)
};

struct PointInfo {
  int64_t id = 0;
  int64_t n_tokens = 0;
  PointKind kind = PointKind::kTurn;
  int64_t created_us = 0;
};

struct SessionInfo {
  std::string name;
  std::string fingerprint;
  int64_t n_tokens = 0;     // tokens of the session
  int64_t head_tokens = 0;  // tokens covered by its head state (0: none, e.g. evicted)
  int64_t head_point = 0;
  bool pinned = false;
  int64_t created_us = 0, updated_us = 0;
  uint64_t state_bytes = 0;  // blocks + tails its points reference (shared ones included)
  std::vector<PointInfo> points;
  std::vector<int32_t> tokens;  // filled by show()
  std::string transcript_json;  // filled by show()
};

struct StoreStats {
  int64_t blocks = 0, points = 0, sessions = 0;
  uint64_t block_bytes = 0, tail_bytes = 0;
  int64_t block_tokens = 0;
};

struct CheckReport {
  std::vector<std::string> problems;  // empty: consistent
  int64_t blocks = 0, points = 0, sessions = 0;
  int64_t orphan_files = 0;  // files no index row names (left by a crash; gc removes them)
  uint64_t orphan_bytes = 0;
  bool ok() const { return problems.empty(); }
};

struct GcOptions {
  std::optional<int64_t> grace_s;  // override StoreOptions::gc_grace_s
  bool repair = false;             // verify every file and drop points whose files are bad
  bool vacuum = true;              // compact the index file
};
struct GcResult {
  int64_t files_removed = 0;
  uint64_t bytes_freed = 0;
  int64_t points_dropped = 0;  // repair/eviction
};

class SessionStore {
 public:
  // Opens or creates the store in `dir`. Refuses a newer format (Unsupported).
  static Result<std::unique_ptr<SessionStore>> open(const std::filesystem::path& dir, const StoreOptions& options);
  ~SessionStore();
  SessionStore(const SessionStore&) = delete;
  SessionStore& operator=(const SessionStore&) = delete;

  int64_t block_tokens() const;
  const std::filesystem::path& dir() const;

  // Saves the state after `tokens` (Requires: state.position() == tokens.size() > 0),
  // writing only blocks not yet stored. `logits`: the next-token logits (may be
  // empty). With options.session, the session is created or moved to this point;
  // a session of another model fingerprint is InvalidArgument.
  Result<SaveResult> save(std::string_view fingerprint, std::span<const int32_t> tokens,
                          std::span<const float> logits, const StateSource& state, const SaveOptions& options);

  // The longest saved point whose tokens are a prefix of `tokens` (index only, no file reads).
  Result<PrefixMatch> lookup_longest_prefix(std::string_view fingerprint, std::span<const int32_t> tokens);
  // Restores `match` into `sink`, verifying every file. Corruption when a file is bad.
  Result<RestoreResult> restore(std::string_view fingerprint, std::span<const int32_t> tokens,
                                const PrefixMatch& match, StateSink& sink, const Progress& progress = {});
  // lookup + restore, falling back to shorter prefixes past bad files (never
  // wrong state); n_tokens 0 when nothing usable is cached.
  Result<RestoreResult> restore_longest(std::string_view fingerprint, std::span<const int32_t> tokens,
                                        StateSink& sink, const Progress& progress = {});

  Result<std::vector<SessionInfo>> list();
  // NotFound naming the session when absent.
  Result<SessionInfo> show(std::string_view name);
  // Copy-on-write fork at a saved point of `src` (default: its head); blocks are shared.
  Status fork(std::string_view src, std::string_view dst, std::optional<int64_t> at_tokens = std::nullopt);
  Status remove(std::string_view name);
  Status set_pinned(std::string_view name, bool pinned);
  Status set_transcript(std::string_view name, std::string_view transcript_json);

  Result<StoreStats> stats();
  // Evicts least-recently-used unpinned blocks until under the budget.
  Result<int64_t> enforce_budget();
  Result<GcResult> gc(const GcOptions& options = {});
  // Integrity check: index consistency, refcounts, every file present with
  // the recorded size; with verify_files, every checksum and header too.
  Result<CheckReport> check(bool verify_files = true);

  // One portable file with the session's points, blocks, tails, tokens and transcript.
  Status export_session(std::string_view name, const std::filesystem::path& file);
  // Imports a file made by export_session as `name` (empty: the exported name).
  Status import_session(const std::filesystem::path& file, std::string_view name = {});

  struct Impl;  // sessions/session_store_impl.h; named by the helpers of the store's .cpp files

 private:
  explicit SessionStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Hash of a model fingerprint string as stored in block headers.
uint64_t fingerprint_hash(std::string_view fingerprint);

}  // namespace v4rt::sessions
