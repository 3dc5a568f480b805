#include "runtime/tokenizer/tokenizer_added_vocab.h"

#include <algorithm>

#include "base/check.h"
#include "base/utf8.h"

namespace v4rt::runtime {
namespace {

// Decodes the UTF-8 character starting at s[i] (s is valid UTF-8 where this is used).
uint32_t decode_at(std::string_view s, size_t i, size_t* len) {
  const unsigned char c = static_cast<unsigned char>(s[i]);
  size_t n = utf8::sequence_length(c);
  if (i + n > s.size()) n = 1;
  uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
  for (size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  *len = n;
  return cp;
}

// Rust's char::is_whitespace (the Unicode White_Space property), used only by
// lstrip/rstrip of added tokens.
bool is_white_space(uint32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
         c == 0x3000;
}

// Approximation of Rust's char::is_alphanumeric for single_word tokens: ASCII
// letters and digits, and every non-ASCII character that is not white space.
bool is_word_char(uint32_t c) {
  if (c < 0x80) return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
  return !is_white_space(c);
}

size_t prev_char_start(std::string_view s, size_t i) {
  while (i > 0) {
    --i;
    if (!utf8::is_continuation(static_cast<unsigned char>(s[i]))) break;
  }
  return i;
}

}  // namespace

void AddedVocab::Trie::clear() {
  nodes.assign(1, Node{});
  std::fill(std::begin(first_byte), std::end(first_byte), false);
}

void AddedVocab::Trie::insert(std::string_view s, int32_t token_index) {
  if (nodes.empty()) nodes.emplace_back();
  int32_t cur = 0;
  for (char ch : s) {
    const unsigned char b = static_cast<unsigned char>(ch);
    auto& next = nodes[static_cast<size_t>(cur)].next;
    auto it = std::lower_bound(next.begin(), next.end(), std::make_pair(b, INT32_MIN));
    if (it != next.end() && it->first == b) {
      cur = it->second;
    } else {
      const int32_t created = static_cast<int32_t>(nodes.size());
      next.insert(it, {b, created});
      nodes.emplace_back();
      cur = created;
    }
  }
  nodes[static_cast<size_t>(cur)].token = token_index;
  if (!s.empty()) first_byte[static_cast<unsigned char>(s[0])] = true;
}

int32_t AddedVocab::Trie::longest_at(std::string_view text, size_t pos, size_t* len) const {
  int32_t best = -1;
  int32_t cur = 0;
  for (size_t i = pos; i < text.size(); ++i) {
    const unsigned char b = static_cast<unsigned char>(text[i]);
    const auto& next = nodes[static_cast<size_t>(cur)].next;
    auto it = std::lower_bound(next.begin(), next.end(), std::make_pair(b, INT32_MIN));
    if (it == next.end() || it->first != b) break;
    cur = it->second;
    if (nodes[static_cast<size_t>(cur)].token >= 0) {
      best = nodes[static_cast<size_t>(cur)].token;
      *len = i + 1 - pos;
    }
  }
  return best;
}

bool AddedVocab::add_with_id(AddedToken token) {
  if (token.content.empty() || token.id < 0 || by_content_.count(token.content) || by_id_.count(token.id))
    return false;
  by_content_[token.content] = tokens_.size();
  by_id_[token.id] = tokens_.size();
  id_limit_ = std::max(id_limit_, token.id + 1);
  tokens_.push_back(std::move(token));
  return true;
}

void AddedVocab::add_like_hf(AddedToken token, int32_t model_id, int32_t model_vocab_size) {
  if (token.content.empty()) return;
  if (auto it = by_content_.find(token.content); it != by_content_.end()) {
    const int32_t id = tokens_[it->second].id;
    token.id = id;
    tokens_[it->second] = std::move(token);
    return;
  }
  if (model_id >= 0) {
    token.id = model_id;
  } else if (tokens_.empty()) {
    token.id = model_vocab_size;
  } else {
    const int32_t max_id = id_limit_ - 1;
    token.id = (max_id >= model_vocab_size || model_vocab_size == 0) ? max_id + 1 : model_vocab_size;
  }
  if (auto it = by_id_.find(token.id); it != by_id_.end()) {
    // Two strings on one id (a model-vocab string re-added): the later one wins, as in a map.
    by_content_.erase(tokens_[it->second].content);
    by_content_[token.content] = it->second;
    tokens_[it->second] = std::move(token);
    return;
  }
  by_content_[token.content] = tokens_.size();
  by_id_[token.id] = tokens_.size();
  id_limit_ = std::max(id_limit_, token.id + 1);
  tokens_.push_back(std::move(token));
}

void AddedVocab::finish() {
  raw_trie_.clear();
  normalized_trie_.clear();
  for (size_t i = 0; i < tokens_.size(); ++i)
    (tokens_[i].normalized ? normalized_trie_ : raw_trie_).insert(tokens_[i].content, static_cast<int32_t>(i));
}

const AddedToken* AddedVocab::by_id(int32_t id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &tokens_[it->second];
}

std::optional<int32_t> AddedVocab::id_of(std::string_view content) const {
  auto it = by_content_.find(std::string(content));
  if (it == by_content_.end()) return std::nullopt;
  return tokens_[it->second].id;
}

// AddedVocabulary::find_matches over text (offsets + base), leftmost-longest.
void AddedVocab::find(const Trie& trie, std::string_view text, size_t base, std::vector<TextSpan>& out) const {
  size_t start_offset = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    if (!trie.first_byte[static_cast<unsigned char>(text[pos])]) { ++pos; continue; }
    size_t len = 0;
    const int32_t ti = trie.longest_at(text, pos, &len);
    if (ti < 0) { ++pos; continue; }
    const AddedToken& tok = tokens_[static_cast<size_t>(ti)];
    size_t start = pos, stop = pos + len;
    pos = stop;  // the matcher resumes after this match whatever we decide below
    if (tok.single_word) {
      size_t n = 0;
      const bool start_space = start == 0 || !is_word_char(decode_at(text, prev_char_start(text, start), &n));
      const bool stop_space = stop == text.size() || !is_word_char(decode_at(text, stop, &n));
      if (!start_space || !stop_space) continue;
    }
    if (start < start_offset) continue;
    if (tok.lstrip) {
      size_t s = start;
      while (s > start_offset) {
        const size_t p = prev_char_start(text, s);
        size_t n = 0;
        if (!is_white_space(decode_at(text, p, &n))) break;
        s = p;
      }
      start = s;
    }
    if (tok.rstrip) {
      size_t n = 0;
      while (stop < text.size() && is_white_space(decode_at(text, stop, &n))) stop += n;
      pos = std::max(pos, stop);
    }
    if (start > start_offset) out.push_back({base + start_offset, base + start, -1});
    out.push_back({base + start, base + stop, tok.id});
    start_offset = stop;
  }
  if (start_offset < text.size()) out.push_back({base + start_offset, base + text.size(), -1});
}

void AddedVocab::split(std::string_view text, std::vector<TextSpan>& out) const {
  if (text.empty()) return;
  if (tokens_.empty()) { out.push_back({0, text.size(), -1}); return; }
  std::vector<TextSpan> first;
  find(raw_trie_, text, 0, first);
  for (const TextSpan& sp : first) {
    if (sp.token >= 0 || normalized_trie_.nodes.size() <= 1) { out.push_back(sp); continue; }
    // The normalizer is the identity (tokenizer.cpp accepts no other), so
    // normalized tokens are matched in the gap as it is.
    find(normalized_trie_, text.substr(sp.begin, sp.end - sp.begin), sp.begin, out);
  }
}

void AddedVocab::split_within(std::string_view text, std::span<const ByteRange> where,
                              std::vector<TextSpan>& out) const {
  auto gap = [&out](size_t begin, size_t end) {
    if (begin >= end) return;
    if (!out.empty() && out.back().token < 0 && out.back().end == begin) out.back().end = end;
    else out.push_back({begin, end, -1});
  };
  // Ranges that touch are one range: a token may span their common edge.
  std::vector<ByteRange> merged;
  for (const ByteRange& r : where) {
    check(r.begin <= r.end && r.end <= text.size() && (merged.empty() || r.begin >= merged.back().end),
          "split_within: ranges must be sorted, disjoint and inside the text");
    if (r.begin == r.end) continue;
    if (!merged.empty() && merged.back().end == r.begin) merged.back().end = r.end;
    else merged.push_back(r);
  }
  std::vector<TextSpan> inner;
  size_t pos = 0;
  for (const ByteRange& r : merged) {
    gap(pos, r.begin);
    inner.clear();
    split(text.substr(r.begin, r.end - r.begin), inner);
    for (const TextSpan& sp : inner) {
      if (sp.token >= 0) out.push_back({r.begin + sp.begin, r.begin + sp.end, sp.token});
      else gap(r.begin + sp.begin, r.begin + sp.end);
    }
    pos = r.end;
  }
  gap(pos, text.size());
}

}  // namespace v4rt::runtime
