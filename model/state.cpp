// State (spec §4.1): construction, reset, copy, and the versioned
// little-endian serialization used by the session store.
#include <algorithm>
#include <bit>
#include <cstring>
#include <string>

#include "model/config.h"
#include "model/state.h"
#include "model/state_impl.h"

namespace v4rt::model {
namespace {

static_assert(std::endian::native == std::endian::little, "state serialization assumes a little-endian host");

constexpr char kRowsMagic[4] = {'V', '4', 'S', 'R'};
constexpr char kTailMagic[4] = {'V', '4', 'S', 'T'};

class Writer {
 public:
  void raw(const void* p, size_t n) { s_.append(static_cast<const char*>(p), n); }
  void u32(uint32_t v) { raw(&v, 4); }
  void i64(int64_t v) { raw(&v, 8); }
  void bytes(const uint8_t* p, size_t n) {
    i64(static_cast<int64_t>(n));
    raw(p, n);
  }
  template <typename T>
  void vec(const std::vector<T>& v) {
    i64(static_cast<int64_t>(v.size()));
    raw(v.data(), v.size() * sizeof(T));
  }
  std::string take() { return std::move(s_); }

 private:
  std::string s_;
};

class Reader {
 public:
  Reader(std::string_view s, const char* what) : s_(s), what_(what) {}
  bool raw(void* p, size_t n) {
    if (s_.size() - pos_ < n) return false;
    if (n == 0) return true;  // p may be null (an empty vector's data()): memcpy's arguments must not be
    std::memcpy(p, s_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  bool u32(uint32_t& v) { return raw(&v, 4); }
  bool i64(int64_t& v) { return raw(&v, 8); }
  // Reads a length-prefixed byte run; appends to out.
  bool append(std::vector<uint8_t>& out, int64_t expect) {
    int64_t n;
    if (!i64(n) || n != expect || static_cast<uint64_t>(n) > s_.size() - pos_) return false;
    out.insert(out.end(), s_.begin() + static_cast<std::ptrdiff_t>(pos_), s_.begin() + static_cast<std::ptrdiff_t>(pos_ + n));
    pos_ += static_cast<size_t>(n);
    return true;
  }
  template <typename T>
  bool vec(std::vector<T>& v, int64_t expect) {
    int64_t n;
    if (!i64(n) || n != expect || static_cast<uint64_t>(n) * sizeof(T) > s_.size() - pos_) return false;
    v.resize(static_cast<size_t>(n));
    return raw(v.data(), v.size() * sizeof(T));
  }
  bool done() const { return pos_ == s_.size(); }
  Status corrupt(const std::string& detail) const {
    return Status::Corruption(std::string("saved model state (") + what_ + ") is damaged or from another model: " +
                              detail + "; discard the session and re-run the prompt");
  }

 private:
  std::string_view s_;
  size_t pos_ = 0;
  const char* what_;
};

int64_t entries_before(const LayerState& l, int64_t t) { return l.ratio > 0 ? t / l.ratio : 0; }

}  // namespace

State::State(const Config& cfg) : impl_(std::make_unique<Impl>()) {
  Impl& s = *impl_;
  s.window = cfg.window_size;
  s.hc_width = int64_t{cfg.hc_mult} * cfg.dim;
  s.has_mtp = cfg.n_mtp_layers > 0;
  const int n = cfg.n_layers + cfg.n_mtp_layers;
  s.layers.resize(static_cast<size_t>(n));
  for (int l = 0; l < n; ++l) {
    LayerState& ls = s.layers[static_cast<size_t>(l)];
    ls.ratio = l < static_cast<int>(cfg.compress_ratios.size()) ? cfg.compress_ratios[static_cast<size_t>(l)] : 0;
    ls.kv = KvCodec{cfg.head_dim - cfg.rope_head_dim, cfg.rope_head_dim};
    if (ls.ratio == 4) {
      ls.idx = IdxCodec{cfg.index_head_dim};
      ls.comp_state.init(8, 2 * int64_t{cfg.head_dim});
      ls.idx_state.init(8, 2 * int64_t{cfg.index_head_dim});
    } else if (ls.ratio > 0) {
      ls.comp_state.init(ls.ratio, cfg.head_dim);
    }
  }
  reset();
}

State::~State() = default;
State::State(const State& o) : impl_(std::make_unique<Impl>(*o.impl_)) {}
State& State::operator=(const State& o) {
  if (this != &o) *impl_ = *o.impl_;
  return *this;
}

int64_t State::position() const { return impl_->position; }

void State::reserve_tokens(int64_t tokens) {
  for (LayerState& ls : impl_->layers) {
    if (ls.ratio <= 0) continue;
    const auto entries = static_cast<size_t>(tokens / ls.ratio + 1);
    ls.comp.reserve(entries * static_cast<size_t>(ls.kv.bytes()));
    if (ls.idx.bytes() > 0) ls.keys.reserve(entries * static_cast<size_t>(ls.idx.bytes()));
  }
}

void State::remember() {
  Impl& s = *impl_;
  saved_sizes_.clear();
  std::vector<std::vector<uint8_t>> comp(s.layers.size()), keys(s.layers.size());
  for (size_t i = 0; i < s.layers.size(); ++i) {
    saved_sizes_.push_back(s.layers[i].comp.size());
    saved_sizes_.push_back(s.layers[i].keys.size());
    comp[i].swap(s.layers[i].comp);
    keys[i].swap(s.layers[i].keys);
  }
  if (saved_) *saved_ = s;
  else saved_ = std::make_unique<Impl>(s);
  for (size_t i = 0; i < s.layers.size(); ++i) {
    comp[i].swap(s.layers[i].comp);
    keys[i].swap(s.layers[i].keys);
  }
}

bool State::rollback() {
  if (!saved_) return false;
  Impl& s = *impl_;
  std::vector<std::vector<uint8_t>> comp(s.layers.size()), keys(s.layers.size());
  for (size_t i = 0; i < s.layers.size(); ++i) {
    comp[i].swap(s.layers[i].comp);
    keys[i].swap(s.layers[i].keys);
    comp[i].resize(std::min(comp[i].size(), saved_sizes_[2 * i]));
    keys[i].resize(std::min(keys[i].size(), saved_sizes_[2 * i + 1]));
  }
  s = *saved_;
  for (size_t i = 0; i < s.layers.size(); ++i) {
    comp[i].swap(s.layers[i].comp);
    keys[i].swap(s.layers[i].keys);
  }
  return true;
}

void State::reset() {
  saved_.reset();
  Impl& s = *impl_;
  s.position = 0;
  s.mtp_position = 0;
  for (LayerState& l : s.layers) {
    l.ring.assign(static_cast<size_t>(s.window * l.kv.bytes()), 0);
    l.comp.clear();
    l.keys.clear();
    if (l.comp_state.slots) l.comp_state.reset();
    if (l.idx_state.slots) l.idx_state.reset();
  }
  s.hidden.clear();
  s.ids.clear();
}

uint64_t State::memory_bytes() const {
  const Impl& s = *impl_;
  uint64_t n = sizeof(Impl);
  for (const LayerState& l : s.layers)
    n += l.ring.capacity() + l.comp.capacity() + l.keys.capacity() +
         4 * (l.comp_state.kv.capacity() + l.comp_state.score.capacity() + l.idx_state.kv.capacity() +
              l.idx_state.score.capacity());
  n += 4 * (s.hidden.capacity() + s.ids.capacity());
  return n;
}

std::string State::export_rows(int64_t t0, int64_t t1) const {
  const Impl& s = *impl_;
  Writer w;
  w.raw(kRowsMagic, 4);
  w.u32(kStateFormatVersion);
  w.i64(t0);
  w.i64(t1);
  w.u32(static_cast<uint32_t>(s.layers.size()));
  for (const LayerState& l : s.layers) {
    const int64_t b0 = entries_before(l, t0), b1 = entries_before(l, t1);
    w.u32(static_cast<uint32_t>(l.ratio));
    w.bytes(l.comp.data() + b0 * l.kv.bytes(), static_cast<size_t>((b1 - b0) * (l.ratio ? l.kv.bytes() : 0)));
    const int64_t ib = l.ratio == 4 ? l.idx.bytes() : 0;
    w.bytes(l.keys.data() + b0 * ib, static_cast<size_t>((b1 - b0) * ib));
  }
  return w.take();
}

Status State::import_rows(int64_t t0, int64_t t1, std::string_view bytes) {
  Impl& s = *impl_;
  if (t0 < 0 || t1 < t0 || t0 % kRowGranularity != 0 || t1 % kRowGranularity != 0)
    return Status::InvalidArgument("import_rows: [" + std::to_string(t0) + ", " + std::to_string(t1) +
                                   ") must be ordered multiples of " + std::to_string(kRowGranularity));
  Reader r(bytes, "rows");
  char magic[4];
  uint32_t version = 0, nl = 0;
  int64_t a = 0, b = 0;
  if (!r.raw(magic, 4) || std::memcmp(magic, kRowsMagic, 4) != 0) return r.corrupt("bad magic");
  if (!r.u32(version) || version != kStateFormatVersion)
    return r.corrupt("format version " + std::to_string(version) + ", this build reads " +
                     std::to_string(kStateFormatVersion));
  if (!r.i64(a) || !r.i64(b) || a != t0 || b != t1) return r.corrupt("the rows are for another token range");
  if (!r.u32(nl) || nl != s.layers.size()) return r.corrupt("layer count differs");
  for (const LayerState& l : s.layers)
    if (l.n_comp() != entries_before(l, t0) && l.ratio > 0)
      return Status::InvalidArgument("import_rows must be called in order from token 0; the state holds rows up to another token");
  for (LayerState& l : s.layers) {
    uint32_t ratio = 0;
    if (!r.u32(ratio) || static_cast<int>(ratio) != l.ratio) return r.corrupt("compress ratio differs");
    const int64_t n = entries_before(l, t1) - entries_before(l, t0);
    if (!r.append(l.comp, n * (l.ratio ? l.kv.bytes() : 0))) return r.corrupt("compressed entries truncated");
    if (!r.append(l.keys, n * (l.ratio == 4 ? l.idx.bytes() : 0))) return r.corrupt("indexer keys truncated");
  }
  if (!r.done()) return r.corrupt("trailing bytes");
  return Status::Ok();
}

std::string State::export_tail(int64_t rows_from) const {
  const Impl& s = *impl_;
  Writer w;
  w.raw(kTailMagic, 4);
  w.u32(kStateFormatVersion);
  w.i64(s.position);
  w.i64(rows_from);
  w.i64(s.window);
  w.i64(s.hc_width);
  w.u32(static_cast<uint32_t>(s.layers.size()));
  for (const LayerState& l : s.layers) {
    w.u32(static_cast<uint32_t>(l.ratio));
    w.vec(l.ring);
    w.vec(l.comp_state.kv);
    w.vec(l.comp_state.score);
    w.vec(l.idx_state.kv);
    w.vec(l.idx_state.score);
    const int64_t b0 = entries_before(l, rows_from);
    const int64_t kb = l.ratio ? l.kv.bytes() : 0, ib = l.ratio == 4 ? l.idx.bytes() : 0;
    w.bytes(l.comp.data() + b0 * kb, l.comp.size() - static_cast<size_t>(b0 * kb));
    w.bytes(l.keys.data() + b0 * ib, l.keys.size() - static_cast<size_t>(b0 * ib));
  }
  w.vec(s.hidden);
  w.vec(s.ids);
  w.i64(s.mtp_position);
  return w.take();
}

Status State::import_tail(int64_t rows_from, std::string_view bytes) {
  Impl fresh = *impl_;
  Impl& s = fresh;
  Reader r(bytes, "tail");
  char magic[4];
  uint32_t version = 0, nl = 0;
  int64_t pos = 0, from = 0, window = 0, width = 0;
  if (!r.raw(magic, 4) || std::memcmp(magic, kTailMagic, 4) != 0) return r.corrupt("bad magic");
  if (!r.u32(version) || version != kStateFormatVersion)
    return r.corrupt("format version " + std::to_string(version) + ", this build reads " +
                     std::to_string(kStateFormatVersion));
  if (!r.i64(pos) || !r.i64(from) || from != rows_from || pos < rows_from) return r.corrupt("positions differ");
  if (!r.i64(window) || window != s.window || !r.i64(width) || width != s.hc_width)
    return r.corrupt("window or hidden width differs");
  if (!r.u32(nl) || nl != s.layers.size()) return r.corrupt("layer count differs");
  for (LayerState& l : s.layers) {
    if (l.ratio > 0 && l.n_comp() != entries_before(l, rows_from))
      return Status::InvalidArgument("import_tail(" + std::to_string(rows_from) +
                                     "): import the rows [0, rows_from) first");
    uint32_t ratio = 0;
    if (!r.u32(ratio) || static_cast<int>(ratio) != l.ratio) return r.corrupt("compress ratio differs");
    if (!r.vec(l.ring, static_cast<int64_t>(l.ring.size())) ||
        !r.vec(l.comp_state.kv, static_cast<int64_t>(l.comp_state.kv.size())) ||
        !r.vec(l.comp_state.score, static_cast<int64_t>(l.comp_state.score.size())) ||
        !r.vec(l.idx_state.kv, static_cast<int64_t>(l.idx_state.kv.size())) ||
        !r.vec(l.idx_state.score, static_cast<int64_t>(l.idx_state.score.size())))
      return r.corrupt("window or compressor state truncated");
    const int64_t n = entries_before(l, pos) - entries_before(l, rows_from);
    if (!r.append(l.comp, n * (l.ratio ? l.kv.bytes() : 0))) return r.corrupt("compressed entries truncated");
    if (!r.append(l.keys, n * (l.ratio == 4 ? l.idx.bytes() : 0))) return r.corrupt("indexer keys truncated");
  }
  int64_t hn = 0;
  {
    // hidden/ids are empty or window-sized.
    Reader probe = r;
    if (!probe.i64(hn)) return r.corrupt("hidden state truncated");
  }
  if (hn != 0 && hn != window * width) return r.corrupt("hidden state size differs");
  if (!r.vec(s.hidden, hn) || !r.vec(s.ids, hn ? window : 0)) return r.corrupt("hidden state truncated");
  if (!r.i64(s.mtp_position) || s.mtp_position < 0 || s.mtp_position > pos) return r.corrupt("bad MTP position");
  if (!r.done()) return r.corrupt("trailing bytes");
  s.position = pos;
  *impl_ = std::move(fresh);
  return Status::Ok();
}

}  // namespace v4rt::model
