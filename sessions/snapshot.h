// Adapters between model::State and the session store: StateSnapshot reads a
// State for SessionStore::save, StateRestorer writes one in
// SessionStore::restore. sessions/ depends on model/ only through State's
// serialization contract (model/state.h). Each adapter borrows its State
// (which must outlive it) and is used by one thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "sessions/session_store.h"

namespace v4rt::model {
class State;
}

namespace v4rt::sessions {

class StateSnapshot final : public StateSource {
 public:
  explicit StateSnapshot(const model::State& state) : state_(state) {}
  int64_t position() const override;
  std::string export_rows(int64_t t0, int64_t t1) const override;
  std::string export_tail(int64_t rows_from) const override;

 private:
  const model::State& state_;
};

class StateRestorer final : public StateSink {
 public:
  explicit StateRestorer(model::State& state) : state_(state) {}
  void reset() override;
  Status import_rows(int64_t t0, int64_t t1, std::string_view bytes) override;
  Status import_tail(int64_t rows_from, std::string_view bytes) override;

 private:
  model::State& state_;
};

}  // namespace v4rt::sessions
