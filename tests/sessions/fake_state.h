// FakeState: a stand-in for model::State with the same serialization
// contract (rows of [t0, t1) depend on every token up to t1; the tail holds a
// 128-token ring, the rows after rows_from and the position), so the store is
// tested on real byte payloads without a model. FakeSink records what a
// restore imports. Test helper; not thread-safe.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "sessions/session_store.h"

namespace v4rt::sessions::testing {

inline uint64_t mix(uint64_t h, int32_t t) {
  h ^= static_cast<uint64_t>(static_cast<uint32_t>(t)) + 0x9E3779B97F4A7C15ULL + (h << 6) + (h >> 2);
  h *= 0xff51afd7ed558ccdULL;
  return h ^ (h >> 29);
}

class FakeState final : public StateSource {
 public:
  explicit FakeState(int bytes_per_token = 32) : bpt_(bytes_per_token) {}
  void feed(std::span<const int32_t> tokens) {
    for (int32_t t : tokens) {
      uint64_t prev = hashes_.empty() ? 7 : hashes_.back();
      hashes_.push_back(mix(prev, t));
    }
  }
  int64_t position() const override { return static_cast<int64_t>(hashes_.size()); }
  std::string row(int64_t t) const {
    std::string out(static_cast<size_t>(bpt_), '\0');
    uint64_t h = hashes_[static_cast<size_t>(t)];
    for (int i = 0; i < bpt_; ++i) {
      out[static_cast<size_t>(i)] = static_cast<char>(h >> ((i % 8) * 8));
      if (i % 8 == 7) h = mix(h, i);
    }
    return out;
  }
  std::string export_rows(int64_t t0, int64_t t1) const override {
    std::string out;
    for (int64_t t = t0; t < t1; ++t) out += row(t);
    return out;
  }
  std::string export_tail(int64_t rows_from) const override {
    std::string out;
    int64_t p = position();
    out.append(reinterpret_cast<const char*>(&p), 8);
    for (int64_t t = std::max<int64_t>(0, p - 128); t < p; ++t)
      out.append(reinterpret_cast<const char*>(&hashes_[static_cast<size_t>(t)]), 8);
    out += export_rows(rows_from, p);
    return out;
  }

 private:
  int bpt_;
  std::vector<uint64_t> hashes_;
};

class FakeSink final : public StateSink {
 public:
  void reset() override {
    rows.clear();
    tail.clear();
    next_row = 0;
    rows_from = -1;
  }
  Status import_rows(int64_t t0, int64_t t1, std::string_view bytes) override {
    if (t0 != next_row) return Status::Internal("import_rows out of order");
    rows += bytes;
    next_row = t1;
    return Status::Ok();
  }
  Status import_tail(int64_t from, std::string_view bytes) override {
    if (from != next_row) return Status::Internal("import_tail at the wrong row");
    rows_from = from;
    tail = std::string(bytes);
    return Status::Ok();
  }
  // Equal to exporting `state` (which must be at the restored position)?
  bool equals(const FakeState& state) const {
    return rows_from >= 0 && rows == state.export_rows(0, rows_from) && tail == state.export_tail(rows_from);
  }
  std::string rows, tail;
  int64_t next_row = 0, rows_from = -1;
};

inline std::vector<int32_t> make_tokens(size_t n, uint32_t seed) {
  std::vector<int32_t> t(n);
  uint64_t h = seed * 2654435761ULL + 1;
  for (auto& x : t) {
    h = mix(h, 1);
    x = static_cast<int32_t>(h % 129280);
  }
  return t;
}

inline FakeState state_for(std::span<const int32_t> tokens, int bpt = 32) {
  FakeState s(bpt);
  s.feed(tokens);
  return s;
}

}  // namespace v4rt::sessions::testing
