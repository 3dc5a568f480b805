#include "runtime/tokenizer/bpe.h"

#include <algorithm>
#include <bit>
#include <queue>
#include <utility>

#include <nlohmann/json.hpp>

#include "base/utf8.h"

namespace v4rt::runtime {
namespace {

using json = nlohmann::json;

// Ids above this are rejected: they would make the id-indexed tables huge.
constexpr int64_t kMaxId = 1 << 21;
// Pieces up to this many symbols merge by rescanning (fast for short words);
// longer ones use a heap, as `tokenizers` does for every word.
constexpr size_t kSmallWord = 48;

}  // namespace

const std::array<std::string, 256>& Bpe::byte_alphabet() {
  // GPT-2's bytes_to_unicode(): printable Latin-1 bytes stand for themselves,
  // the other 68 bytes for U+0100 upwards in byte order. Immutable once built.
  static const std::array<std::string, 256> table = [] {
    std::array<std::string, 256> t;
    uint32_t next = 256;
    for (uint32_t b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
      utf8::append(t[b], printable ? b : next++);
    }
    return t;
  }();
  return table;
}

Result<Bpe> Bpe::from_json(const json& model) {
  if (!model.is_object()) return Status::InvalidArgument("tokenizer.json: \"model\" must be an object");
  const std::string type = model.contains("type") && model["type"].is_string() ? model["type"].get<std::string>() : "BPE";
  if (type != "BPE")
    return Status::Unsupported("tokenizer.json: model type '" + type + "' is not supported (v4rt implements BPE)");
  auto nonnull = [&](const char* key) { return model.contains(key) && !model[key].is_null(); };
  if (nonnull("dropout") && !(model["dropout"].is_number() && model["dropout"].get<double>() == 0.0))
    return Status::Unsupported("tokenizer.json: BPE \"dropout\" is not supported; set it to null");
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"})
    if (nonnull(key) && !(model[key].is_string() && model[key].get<std::string>().empty()))
      return Status::Unsupported(std::string("tokenizer.json: BPE \"") + key + "\" is not supported; set it to null");
  if (model.contains("byte_fallback") && model["byte_fallback"].is_boolean() && model["byte_fallback"].get<bool>())
    return Status::Unsupported("tokenizer.json: BPE \"byte_fallback\" is not supported (v4rt implements byte-level BPE)");
  if (nonnull("unk_token"))
    return Status::Unsupported("tokenizer.json: BPE \"unk_token\" is not supported (byte-level BPE needs none)");

  Bpe bpe;
  bpe.ignore_merges_ = model.contains("ignore_merges") && model["ignore_merges"].is_boolean() &&
                       model["ignore_merges"].get<bool>();
  if (!model.contains("vocab") || !model["vocab"].is_object())
    return Status::InvalidArgument("tokenizer.json: model \"vocab\" must be an object {token: id}");
  bpe.vocab_.reserve(model["vocab"].size());
  for (const auto& [tok, idv] : model["vocab"].items()) {
    if (!idv.is_number_integer() || idv.get<int64_t>() < 0 || idv.get<int64_t>() >= kMaxId)
      return Status::InvalidArgument("tokenizer.json: vocab entry '" + tok + "' has an id that is not an integer in [0, 2^21)");
    const int32_t id = static_cast<int32_t>(idv.get<int64_t>());
    bpe.vocab_[tok] = id;
    if (static_cast<size_t>(id) >= bpe.tokens_.size()) bpe.tokens_.resize(static_cast<size_t>(id) + 1);
    bpe.tokens_[static_cast<size_t>(id)] = tok;
  }

  if (!model.contains("merges") || !model["merges"].is_array())
    return Status::InvalidArgument("tokenizer.json: model \"merges\" must be an array");
  const json& merges = model["merges"];
  size_t cap = 16;
  while (cap < merges.size() * 2 + 16) cap *= 2;
  bpe.merge_slots_.assign(cap, MergeSlot{});
  bpe.merge_mask_ = cap - 1;
  bpe.merge_shift_ = 64 - std::countr_zero(cap);
  std::string joined;
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const json& m = merges[rank];
    std::string_view a, b;
    if (m.is_string()) {
      const std::string& s = m.get_ref<const std::string&>();
      const size_t sp = s.find(' ');
      if (sp == std::string::npos)
        return Status::InvalidArgument("tokenizer.json: merge " + std::to_string(rank) + " '" + s + "' is not 'A B'");
      a = std::string_view(s).substr(0, sp);
      b = std::string_view(s).substr(sp + 1);
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      a = m[0].get_ref<const std::string&>();
      b = m[1].get_ref<const std::string&>();
    } else {
      return Status::InvalidArgument("tokenizer.json: merge " + std::to_string(rank) + " is neither 'A B' nor [A, B]");
    }
    joined.assign(a).append(b);
    const int32_t ia = bpe.id(a), ib = bpe.id(b), inew = bpe.id(joined);
    if (ia < 0 || ib < 0 || inew < 0)
      return Status::InvalidArgument("tokenizer.json: merge " + std::to_string(rank) + " ('" + std::string(a) + "', '" +
                                     std::string(b) + "') uses a token that is not in the vocab");
    bpe.insert_merge(pair_key(ia, ib), Merge{static_cast<int32_t>(rank), inew});
  }
  for (int b = 0; b < 256; ++b) bpe.byte_id_[b] = bpe.id(byte_alphabet()[b]);
  return bpe;
}

void Bpe::insert_merge(uint64_t key, Merge m) {
  for (size_t i = (key * 0x9E3779B97F4A7C15ull) >> merge_shift_;; i = (i + 1) & merge_mask_) {
    MergeSlot& s = merge_slots_[i];
    if (s.key == kEmpty || s.key == key) {  // a repeated merge takes the later rank, as a map would
      s.key = key;
      s.merge = m;
      return;
    }
  }
}

std::string_view Bpe::token(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= tokens_.size()) return {};
  return tokens_[static_cast<size_t>(id)];
}

int32_t Bpe::id(std::string_view token) const {
  auto it = vocab_.find(token);
  return it == vocab_.end() ? -1 : it->second;
}

void Bpe::merge_small(std::vector<int32_t>& syms) const {
  // rank[i], id[i]: the merge of (s[i], s[i+1]); only the two pairs around a
  // merge change, so each step costs two lookups and a scan.
  int32_t s[kSmallWord], rank[kSmallWord], id[kSmallWord];
  size_t n = syms.size();
  if (n < 2) return;
  std::copy(syms.begin(), syms.end(), s);
  auto look = [&](size_t i) {
    const Merge* m = find_merge(s[i], s[i + 1]);
    rank[i] = m ? m->rank : INT32_MAX;
    id[i] = m ? m->new_id : -1;
  };
  for (size_t i = 0; i + 1 < n; ++i) look(i);
  while (n > 1) {
    size_t best = 0;
    for (size_t i = 1; i + 1 < n; ++i)
      if (rank[i] < rank[best]) best = i;
    if (rank[best] == INT32_MAX) break;
    s[best] = id[best];
    for (size_t i = best + 1; i + 1 < n; ++i) {
      s[i] = s[i + 1];
      rank[i] = rank[i + 1];
      id[i] = id[i + 1];
    }
    --n;
    if (best > 0) look(best - 1);
    if (best + 1 < n) look(best);
  }
  syms.assign(s, s + n);
}

void Bpe::merge_heap(std::vector<int32_t>& syms) const {
  const size_t n = syms.size();
  std::vector<int32_t> prev(n), next(n);
  std::vector<bool> alive(n, true);
  for (size_t i = 0; i < n; ++i) {
    prev[i] = static_cast<int32_t>(i) - 1;
    next[i] = i + 1 < n ? static_cast<int32_t>(i + 1) : -1;
  }
  struct Cand {
    int32_t rank, pos, new_id;
    bool operator>(const Cand& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  std::priority_queue<Cand, std::vector<Cand>, std::greater<Cand>> heap;
  auto push = [&](int32_t pos) {
    if (pos < 0 || next[static_cast<size_t>(pos)] < 0) return;
    const Merge* m = find_merge(syms[static_cast<size_t>(pos)], syms[static_cast<size_t>(next[static_cast<size_t>(pos)])]);
    if (m) heap.push({m->rank, pos, m->new_id});
  };
  for (size_t i = 0; i + 1 < n; ++i) push(static_cast<int32_t>(i));
  while (!heap.empty()) {
    const Cand c = heap.top();
    heap.pop();
    const size_t p = static_cast<size_t>(c.pos);
    if (!alive[p] || next[p] < 0) continue;
    const size_t q = static_cast<size_t>(next[p]);
    const Merge* m = find_merge(syms[p], syms[q]);
    if (!m || m->new_id != c.new_id || m->rank != c.rank) continue;  // stale
    syms[p] = c.new_id;
    alive[q] = false;
    next[p] = next[q];
    if (next[q] >= 0) prev[static_cast<size_t>(next[q])] = c.pos;
    push(prev[p]);
    push(c.pos);
  }
  size_t w = 0;
  for (size_t i = 0; i < n; ++i)
    if (alive[i]) syms[w++] = syms[i];
  syms.resize(w);
}

void Bpe::encode(std::string_view piece, bool prefix_space, std::vector<int32_t>& out) const {
  if (ignore_merges_) {
    std::string word = prefix_space ? byte_alphabet()[' '] : std::string();
    for (char ch : piece) word += byte_alphabet()[static_cast<unsigned char>(ch)];
    if (auto it = vocab_.find(word); it != vocab_.end()) { out.push_back(it->second); return; }
  }
  std::vector<int32_t> syms;
  syms.reserve(piece.size() + 1);
  if (prefix_space && byte_id_[' '] >= 0) syms.push_back(byte_id_[' ']);
  for (char ch : piece) {
    const int32_t id = byte_id_[static_cast<unsigned char>(ch)];
    if (id >= 0) syms.push_back(id);
  }
  if (syms.size() <= kSmallWord) merge_small(syms);
  else merge_heap(syms);
  out.insert(out.end(), syms.begin(), syms.end());
}

}  // namespace v4rt::runtime
