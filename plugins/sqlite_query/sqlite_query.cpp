// sqlite_query: a v4rt tool plugin that runs one read-only SQL statement
// against an SQLite database file of the workspace. The template to copy for
// a new plugin (docs/tools-sdk.md):
//   - the file is opened by the host through its confinement layer
//     (Call::open_read), so the model cannot reach a database outside the
//     workspace or one a read deny rule hides;
//   - SQLite opens that descriptor read-only and immutable; ATTACH, extension
//     loading and every statement that could write are refused;
//   - rows and bytes are capped, and a long query stops on Ctrl-C or after
//     its time budget.
#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "v4rt_plugin.hpp"

namespace {

using v4rt_plugin_sdk::Call;
using v4rt_plugin_sdk::Error;

constexpr long long kDefaultRows = 100;
constexpr long long kMaxRows = 1000;
constexpr size_t kMaxCellBytes = 2000;
constexpr auto kTimeBudget = std::chrono::seconds(10);

struct Fd {
  int fd;
  ~Fd() { close(fd); }
};
struct Db {
  sqlite3* db = nullptr;
  ~Db() { sqlite3_close_v2(db); }
};
struct Stmt {
  sqlite3_stmt* st = nullptr;
  ~Stmt() { sqlite3_finalize(st); }
};

struct Progress {
  Call* call;
  std::chrono::steady_clock::time_point deadline;
  bool timed_out = false;
};

int on_progress(void* p) {
  auto* pr = static_cast<Progress*>(p);
  if (pr->call->cancelled()) return 1;
  if (std::chrono::steady_clock::now() <= pr->deadline) return 0;
  pr->timed_out = true;
  return 1;
}

// Refuses everything that could reach another file or change anything.
int authorize(void*, int action, const char*, const char*, const char*, const char*) {
  switch (action) {
    case SQLITE_ATTACH:
    case SQLITE_DETACH:
      return SQLITE_DENY;
    default:
      return SQLITE_OK;
  }
}

std::string cell(sqlite3_stmt* st, int i) {
  switch (sqlite3_column_type(st, i)) {
    case SQLITE_NULL: return "NULL";
    case SQLITE_BLOB: return "<blob " + std::to_string(sqlite3_column_bytes(st, i)) + " bytes>";
    default: {
      const auto* t = reinterpret_cast<const char*>(sqlite3_column_text(st, i));
      std::string s = t ? std::string(t, sqlite3_column_bytes(st, i)) : std::string();
      for (char& c : s)
        if (c == '\t' || c == '\n' || c == '\r') c = ' ';
      if (s.size() > kMaxCellBytes) s = s.substr(0, kMaxCellBytes) + "...";
      return s;
    }
  }
}

std::string run_query(const nlohmann::json& args, Call& call) {
  std::string path = v4rt_plugin_sdk::arg_string(args, "database");
  std::string sql = v4rt_plugin_sdk::arg_string(args, "sql");
  long long max_rows = v4rt_plugin_sdk::arg_int_or(args, "max_rows", kDefaultRows);
  if (max_rows < 1 || max_rows > kMaxRows)
    throw Error{V4RT_STATUS_INVALID_ARGUMENT, "max_rows must be between 1 and " + std::to_string(kMaxRows)};
  Fd fd{call.open_read(path)};  // confined by the host; throws with its message
  // The descriptor is what the host checked: open it, never the path again.
  std::string uri = "file:/proc/self/fd/" + std::to_string(fd.fd) + "?mode=ro&immutable=1";
  Db db;
  if (sqlite3_open_v2(uri.c_str(), &db.db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, nullptr) !=
      SQLITE_OK)
    throw Error{V4RT_STATUS_IO_ERROR, path + ": cannot open as an SQLite database: " +
                                          (db.db ? sqlite3_errmsg(db.db) : "out of memory")};
  sqlite3_limit(db.db, SQLITE_LIMIT_ATTACHED, 0);
  sqlite3_set_authorizer(db.db, &authorize, nullptr);
  Progress progress{&call, std::chrono::steady_clock::now() + kTimeBudget};
  sqlite3_progress_handler(db.db, 1000, &on_progress, &progress);
  Stmt st;
  const char* tail = nullptr;
  if (sqlite3_prepare_v2(db.db, sql.c_str(), static_cast<int>(sql.size()), &st.st, &tail) != SQLITE_OK)
    throw Error{V4RT_STATUS_INVALID_ARGUMENT, std::string("SQL error: ") + sqlite3_errmsg(db.db)};
  if (!st.st) throw Error{V4RT_STATUS_INVALID_ARGUMENT, "sql holds no statement"};
  for (const char* p = tail; p && *p; ++p)
    if (*p != ' ' && *p != '\n' && *p != '\t' && *p != '\r' && *p != ';')
      throw Error{V4RT_STATUS_INVALID_ARGUMENT, "sql must be one statement; run the others in separate calls"};
  if (!sqlite3_stmt_readonly(st.st))
    throw Error{V4RT_STATUS_INVALID_ARGUMENT, "only read-only statements (SELECT, read-only PRAGMA) are allowed"};
  int cols = sqlite3_column_count(st.st);
  std::string header;
  for (int i = 0; i < cols; ++i) header += (i ? "\t" : "") + std::string(sqlite3_column_name(st.st, i));
  if (cols > 0 && !call.write(header + "\n")) return "";
  long long rows = 0;
  bool more = false;
  for (;;) {
    int rc = sqlite3_step(st.st);
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) {
      if (rc == SQLITE_INTERRUPT)
        throw Error{progress.timed_out ? V4RT_STATUS_RESOURCE_EXHAUSTED : V4RT_STATUS_CANCELLED,
                    progress.timed_out ? "query ran past its 10 s budget; add a LIMIT or a narrower WHERE"
                                       : "query cancelled"};
      throw Error{V4RT_STATUS_INVALID_ARGUMENT, std::string("SQL error: ") + sqlite3_errmsg(db.db)};
    }
    if (rows == max_rows) {
      more = true;
      break;
    }
    std::string line;
    for (int i = 0; i < cols; ++i) line += (i ? "\t" : "") + cell(st.st, i);
    if (!call.write(line + "\n")) return "";  // output cap reached: the host notes the cut
    ++rows;
  }
  return "(" + std::to_string(rows) + (rows == 1 ? " row" : " rows") +
         (more ? "; more rows exist: raise max_rows or add a LIMIT/WHERE)" : ")");
}

std::unique_ptr<v4rt_plugin_sdk::Plugin> make_plugin() {
  auto p = std::make_unique<v4rt_plugin_sdk::Plugin>("sqlite", "1.0.0");
  p->add({"sqlite_query",
          "Run one read-only SQL statement (SELECT or a read-only PRAGMA) against an SQLite database file in the "
          "workspace. Returns a tab-separated table with a header line. Use max_rows (default 100, at most 1000) "
          "and LIMIT for big tables; the file is never modified.",
          {{"type", "object"},
           {"properties",
            {{"database", {{"type", "string"}, {"description", "path of the database file, relative to the workspace"}}},
             {"sql", {{"type", "string"}, {"description", "one read-only SQL statement"}}},
             {"max_rows", {{"type", "integer"}, {"description", "rows to return (1-1000, default 100)"}}}}},
           {"required", {"database", "sql"}}},
          V4RT_TOOL_KIND_READ, "database", &run_query});
  return p;
}

}  // namespace

V4RT_PLUGIN_ENTRY(make_plugin)
