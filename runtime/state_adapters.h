// model::State seen through the session store's interfaces: StateSnapshot
// reads a State for SessionStore::save, StateRestorer writes one in
// SessionStore::restore. This is the one place where the model's per-sequence
// state meets the store, so sessions/ knows nothing of model/ (it sees only
// StateSource/StateSink and bytes). Each adapter borrows its State (which must
// outlive it) and is used by one thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "model/state.h"
#include "sessions/session_store.h"

namespace v4rt::runtime {

class StateSnapshot final : public sessions::StateSource {
 public:
  explicit StateSnapshot(const model::State& state) : state_(state) {}
  int64_t position() const override { return state_.position(); }
  std::string export_rows(int64_t t0, int64_t t1) const override { return state_.export_rows(t0, t1); }
  std::string export_tail(int64_t rows_from) const override { return state_.export_tail(rows_from); }

 private:
  const model::State& state_;
};

class StateRestorer final : public sessions::StateSink {
 public:
  explicit StateRestorer(model::State& state) : state_(state) {}
  void reset() override { state_.reset(); }
  Status import_rows(int64_t t0, int64_t t1, std::string_view bytes) override {
    return state_.import_rows(t0, t1, bytes);
  }
  Status import_tail(int64_t rows_from, std::string_view bytes) override {
    return state_.import_tail(rows_from, bytes);
  }

 private:
  model::State& state_;
};

}  // namespace v4rt::runtime
