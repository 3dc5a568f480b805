// The session index schema (SQLite), its format version and migrations.
// Not thread-safe (operates on one connection).
#pragma once

#include <cstdint>

#include "base/status.h"

namespace v4rt::sessions {

class SqliteDb;

// Version of the store layout (schema + block/tail file format + hashes).
// A store written by a newer v4rt is refused, never guessed at.
inline constexpr int64_t kStoreFormatVersion = 1;

struct SchemaInfo {
  int64_t format_version = 0;
  int64_t block_tokens = 0;  // fixed when the store is created
};

// Creates the schema in an empty database (recording block_tokens), migrates
// an older one, refuses a newer one (Unsupported). Returns what the store holds.
Result<SchemaInfo> ensure_schema(SqliteDb& db, int64_t block_tokens_if_new);

}  // namespace v4rt::sessions
