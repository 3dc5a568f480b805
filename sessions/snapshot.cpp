#include "sessions/snapshot.h"

#include "model/state.h"

namespace v4rt::sessions {

int64_t StateSnapshot::position() const { return state_.position(); }
std::string StateSnapshot::export_rows(int64_t t0, int64_t t1) const { return state_.export_rows(t0, t1); }
std::string StateSnapshot::export_tail(int64_t rows_from) const { return state_.export_tail(rows_from); }

void StateRestorer::reset() { state_.reset(); }
Status StateRestorer::import_rows(int64_t t0, int64_t t1, std::string_view bytes) {
  return state_.import_rows(t0, t1, bytes);
}
Status StateRestorer::import_tail(int64_t rows_from, std::string_view bytes) {
  return state_.import_tail(rows_from, bytes);
}

}  // namespace v4rt::sessions
