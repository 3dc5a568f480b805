// SqliteDb / SqliteStmt: move-only RAII owners of an SQLite connection and a
// prepared statement (pimpl: sqlite3.h stays out of our headers), and
// SqliteTxn, a transaction rolled back unless committed. Errors are Status
// naming the database file. A connection is used by one thread at a time.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"

namespace v4rt::sessions {

class SqliteStmt;

class SqliteDb {
 public:
  // Opens (creating when `create`) the database at `path` with WAL journaling,
  // synchronous=FULL (a commit is durable when it returns), foreign keys on
  // and a busy timeout (ms) for other processes holding the write lock.
  static Result<SqliteDb> open(const std::filesystem::path& path, bool create, int busy_timeout_ms);
  SqliteDb();
  ~SqliteDb();
  SqliteDb(SqliteDb&&) noexcept;
  SqliteDb& operator=(SqliteDb&&) noexcept;
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  Status exec(std::string_view sql);
  Result<SqliteStmt> prepare(std::string_view sql);
  int64_t last_insert_rowid() const;
  const std::filesystem::path& path() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

class SqliteStmt {
 public:
  SqliteStmt();
  ~SqliteStmt();
  SqliteStmt(SqliteStmt&&) noexcept;
  SqliteStmt& operator=(SqliteStmt&&) noexcept;
  SqliteStmt(const SqliteStmt&) = delete;
  SqliteStmt& operator=(const SqliteStmt&) = delete;

  // Parameters are 1-based, as in SQLite. Text and blobs are copied.
  SqliteStmt& bind(int i, int64_t v);
  SqliteStmt& bind(int i, std::string_view text);
  SqliteStmt& bind_blob(int i, std::string_view bytes);
  SqliteStmt& bind_null(int i);
  // true: a row is available; false: done.
  Result<bool> step();
  // Steps until done (for statements that return no rows).
  Status run();
  void reset();  // also clears bindings

  // Columns are 0-based. A returned view lives until the next step/reset.
  int64_t int64(int col) const;
  std::string_view text(int col) const;
  std::string_view blob(int col) const;
  bool is_null(int col) const;

  struct Impl;

 private:
  friend class SqliteDb;
  std::unique_ptr<Impl> impl_;
};

// BEGIN IMMEDIATE (write) or BEGIN (read) ... COMMIT; the destructor rolls back.
class SqliteTxn {
 public:
  static Result<SqliteTxn> begin(SqliteDb& db, bool write);
  SqliteTxn(SqliteTxn&& o) noexcept : db_(o.db_) { o.db_ = nullptr; }
  SqliteTxn& operator=(SqliteTxn&&) = delete;
  SqliteTxn(const SqliteTxn&) = delete;
  ~SqliteTxn();
  Status commit();

 private:
  explicit SqliteTxn(SqliteDb* db) : db_(db) {}
  SqliteDb* db_;
};

}  // namespace v4rt::sessions
