#include "sessions/sqlite_db.h"

#include <sqlite3.h>

#include <algorithm>

namespace v4rt::sessions {

struct SqliteDb::Impl {
  sqlite3* db = nullptr;
  std::filesystem::path path;
  ~Impl() {
    if (db) sqlite3_close_v2(db);
  }
  Status error(std::string_view what) const {
    int code = sqlite3_extended_errcode(db);
    std::string msg = path.string() + ": " + std::string(what) + ": " + sqlite3_errmsg(db);
    int primary = code & 0xFF;
    if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB)
      return Status::Corruption(msg + "; the session index is damaged: run 'v4rt session check'");
    if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED)
      return Status::IoError(msg + "; another process holds the store: retry later");
    if (primary == SQLITE_FULL) return Status::ResourceExhausted(msg + "; free disk space");
    return Status::IoError(msg);
  }
};

struct SqliteStmt::Impl {
  sqlite3_stmt* stmt = nullptr;
  const SqliteDb::Impl* db = nullptr;
  ~Impl() {
    if (stmt) sqlite3_finalize(stmt);
  }
};

SqliteDb::SqliteDb() = default;
SqliteDb::~SqliteDb() = default;
SqliteDb::SqliteDb(SqliteDb&&) noexcept = default;
SqliteDb& SqliteDb::operator=(SqliteDb&&) noexcept = default;

Result<SqliteDb> SqliteDb::open(const std::filesystem::path& path, bool create, int busy_timeout_ms) {
  SqliteDb out;
  out.impl_ = std::make_unique<Impl>();
  out.impl_->path = path;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
  int rc = sqlite3_open_v2(path.c_str(), &out.impl_->db, flags, nullptr);
  if (rc != SQLITE_OK) {
    if (!out.impl_->db) return Status::ResourceExhausted(path.string() + ": out of memory opening the database");
    if (rc == SQLITE_CANTOPEN && !create)
      return Status::NotFound(path.string() + ": no session index here; check --store");
    return out.impl_->error("cannot open");
  }
  sqlite3_busy_timeout(out.impl_->db, busy_timeout_ms);
  sqlite3_extended_result_codes(out.impl_->db, 1);
  V4RT_RETURN_IF_ERROR(out.exec("PRAGMA journal_mode=WAL"));
  V4RT_RETURN_IF_ERROR(out.exec("PRAGMA synchronous=FULL"));
  V4RT_RETURN_IF_ERROR(out.exec("PRAGMA foreign_keys=ON"));
  return out;
}

Status SqliteDb::exec(std::string_view sql) {
  std::string s(sql);
  char* err = nullptr;
  int rc = sqlite3_exec(impl_->db, s.c_str(), nullptr, nullptr, &err);
  if (err) sqlite3_free(err);
  if (rc != SQLITE_OK) {
    std::string what = "statement ";
    what.append(s, 0, std::min<size_t>(s.size(), 60));
    return impl_->error(what);
  }
  return Status::Ok();
}

Result<SqliteStmt> SqliteDb::prepare(std::string_view sql) {
  SqliteStmt st;
  st.impl_ = std::make_unique<SqliteStmt::Impl>();
  st.impl_->db = impl_.get();
  int rc = sqlite3_prepare_v2(impl_->db, sql.data(), static_cast<int>(sql.size()), &st.impl_->stmt, nullptr);
  if (rc != SQLITE_OK) {
    std::string what = "prepare ";
    what.append(sql.substr(0, 60));
    return impl_->error(what);
  }
  return st;
}

int64_t SqliteDb::last_insert_rowid() const { return sqlite3_last_insert_rowid(impl_->db); }
const std::filesystem::path& SqliteDb::path() const { return impl_->path; }

SqliteStmt::SqliteStmt() = default;
SqliteStmt::~SqliteStmt() = default;
SqliteStmt::SqliteStmt(SqliteStmt&&) noexcept = default;
SqliteStmt& SqliteStmt::operator=(SqliteStmt&&) noexcept = default;

SqliteStmt& SqliteStmt::bind(int i, int64_t v) {
  sqlite3_bind_int64(impl_->stmt, i, v);
  return *this;
}
SqliteStmt& SqliteStmt::bind(int i, std::string_view text) {
  sqlite3_bind_text(impl_->stmt, i, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  return *this;
}
SqliteStmt& SqliteStmt::bind_blob(int i, std::string_view bytes) {
  sqlite3_bind_blob(impl_->stmt, i, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
  return *this;
}
SqliteStmt& SqliteStmt::bind_null(int i) {
  sqlite3_bind_null(impl_->stmt, i);
  return *this;
}

Result<bool> SqliteStmt::step() {
  int rc = sqlite3_step(impl_->stmt);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return impl_->db->error("step");
}

Status SqliteStmt::run() {
  for (;;) {
    auto r = step();
    if (!r) return r.status();
    if (!*r) return Status::Ok();
  }
}

void SqliteStmt::reset() {
  sqlite3_reset(impl_->stmt);
  sqlite3_clear_bindings(impl_->stmt);
}

int64_t SqliteStmt::int64(int col) const { return sqlite3_column_int64(impl_->stmt, col); }
std::string_view SqliteStmt::text(int col) const {
  const unsigned char* p = sqlite3_column_text(impl_->stmt, col);
  int n = sqlite3_column_bytes(impl_->stmt, col);
  return p ? std::string_view(reinterpret_cast<const char*>(p), static_cast<size_t>(n)) : std::string_view();
}
std::string_view SqliteStmt::blob(int col) const {
  const void* p = sqlite3_column_blob(impl_->stmt, col);
  int n = sqlite3_column_bytes(impl_->stmt, col);
  return p ? std::string_view(static_cast<const char*>(p), static_cast<size_t>(n)) : std::string_view();
}
bool SqliteStmt::is_null(int col) const { return sqlite3_column_type(impl_->stmt, col) == SQLITE_NULL; }

Result<SqliteTxn> SqliteTxn::begin(SqliteDb& db, bool write) {
  V4RT_RETURN_IF_ERROR(db.exec(write ? "BEGIN IMMEDIATE" : "BEGIN"));
  return SqliteTxn(&db);
}

SqliteTxn::~SqliteTxn() {
  if (db_) (void)db_->exec("ROLLBACK");
}

Status SqliteTxn::commit() {
  check(db_ != nullptr, "SqliteTxn::commit twice");
  Status s = db_->exec("COMMIT");
  if (s.ok()) db_ = nullptr;
  return s;
}

}  // namespace v4rt::sessions
