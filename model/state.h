// State: everything one sequence needs to continue (spec §4.1): per layer the
// sliding-window ring, the compressed KV entries and indexer keys (kept in
// their quantized form: FP8 + ue8m0 per 64 for non-rope dims, FP4 + ue8m0 per
// 32 for indexer keys), the compressors' partial windows, the MTP's window,
// the last hidden hc state and the position. Memory grows with the used
// length. Copyable (fork) and serializable (sessions/). Not thread-safe.
//
// Serialization contract used by sessions/ (stable per kStateFormatVersion):
//  - rows: the append-only part (compressed KV entries + indexer keys of all
//    layers) produced by tokens [t0, t1), t0 and t1 multiples of kRowGranularity.
//    import_rows must be called in order starting at 0.
//  - tail: everything else at position() (rings, compressor partials, MTP
//    window, last hidden state, rows produced by tokens [rows_from, position())).
//  restore = import_rows for [0, rows_from) then import_tail(rows_from, tail):
//  the state then equals the one that was exported, bit for bit.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace v4rt::model {

struct Config;

inline constexpr uint32_t kStateFormatVersion = 1;
inline constexpr int64_t kRowGranularity = 128;  // lcm of the compress ratios

class State {
 public:
  explicit State(const Config& config);
  ~State();
  State(const State&);
  State& operator=(const State&);

  int64_t position() const;
  void reset();  // back to position 0, compressor states re-initialised (kv 0, score -inf)
  std::unique_ptr<State> clone() const { return std::make_unique<State>(*this); }
  // Bytes currently held (grows with position).
  uint64_t memory_bytes() const;
  // Makes room for the append-only rows of a sequence of `tokens` tokens in
  // one allocation per layer, so a long prefill grows its KV without the
  // doubling slack and the old+new copy of a reallocation (the memory peak).
  void reserve_tokens(int64_t tokens);

  std::string export_rows(int64_t t0, int64_t t1) const;
  Status import_rows(int64_t t0, int64_t t1, std::string_view bytes);
  std::string export_tail(int64_t rows_from) const;
  Status import_tail(int64_t rows_from, std::string_view bytes);

  // Cheap undo for speculative decoding (MTP drafts): remember() saves the
  // fixed-size parts (rings, compressor partials, MTP window, position) and
  // the lengths of the append-only parts; rollback() restores the state as it
  // was at remember(), bit for bit, without copying the growing KV (unlike a
  // full copy, O(1) in the context length). rollback() without a prior
  // remember() is a no-op returning false.
  void remember();
  bool rollback();

  // Internal layout, owned by model/ (defined in model/state_impl.h).
  struct Impl;
  Impl& impl() { return *impl_; }
  const Impl& impl() const { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
  std::unique_ptr<Impl> saved_;  // remember(): Impl without the append-only rows
  std::vector<size_t> saved_sizes_;
};

}  // namespace v4rt::model
