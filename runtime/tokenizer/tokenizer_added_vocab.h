// AddedVocab: the "added_tokens" of a tokenizer.json (special tokens such as
// <｜User｜> and other added strings) and how `tokenizers` finds them in text:
// leftmost-longest matching, first among tokens with normalized=false on the
// raw text, then among normalized ones in the gaps; single_word, lstrip and
// rstrip as there. Ids are assigned as `tokenizers` assigns them on load.
// Thread-safe: immutable after construction; split() may run concurrently.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace v4rt::runtime {

struct AddedToken {
  std::string content;
  int32_t id = -1;
  bool special = false;
  bool single_word = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = false;
};

// A span of text: an added token (token >= 0) or a gap to pre-tokenize (-1).
struct TextSpan {
  size_t begin = 0;
  size_t end = 0;
  int32_t token = -1;
};

// A byte range [begin, end) of a text.
struct ByteRange {
  size_t begin = 0;
  size_t end = 0;
};

class AddedVocab {
 public:
  // Adds a token with a fixed id (replacing nothing: returns false if the
  // content or the id is already taken).
  bool add_with_id(AddedToken token);
  // Adds a token the way `tokenizers` does on load: the id of the same string
  // in the model vocab (model_id >= 0), else the next id after the model vocab
  // and the added tokens so far.
  void add_like_hf(AddedToken token, int32_t model_id, int32_t model_vocab_size);
  // Rebuilds the matchers; call after the last add.
  void finish();

  // Cuts text into added tokens and gaps, in order; gaps are never empty.
  void split(std::string_view text, std::vector<TextSpan>& out) const;
  // The same, but added tokens are looked for only inside `where` (sorted,
  // disjoint ranges of text); a token is never matched across a range's
  // edge (ranges that touch count as one). Everything else is gap, and
  // neighbouring gaps are one span, so the pre-tokenizer sees the text
  // between matched tokens whole, as split() would give it.
  // Requires (checked): ranges sorted, disjoint, within text.
  void split_within(std::string_view text, std::span<const ByteRange> where, std::vector<TextSpan>& out) const;

  const AddedToken* by_id(int32_t id) const;
  std::optional<int32_t> id_of(std::string_view content) const;
  int32_t id_limit() const { return id_limit_; }
  const std::vector<AddedToken>& tokens() const { return tokens_; }

 private:
  struct Trie {
    struct Node {
      std::vector<std::pair<unsigned char, int32_t>> next;  // sorted by byte
      int32_t token = -1;                                    // index into tokens_
    };
    std::vector<Node> nodes;
    bool first_byte[256] = {};
    void clear();
    void insert(std::string_view s, int32_t token_index);
    // Longest token starting at text[pos]: its index and length, or -1.
    int32_t longest_at(std::string_view text, size_t pos, size_t* len) const;
  };
  void find(const Trie& trie, std::string_view text, size_t base, std::vector<TextSpan>& out) const;

  std::vector<AddedToken> tokens_;
  std::unordered_map<std::string, size_t> by_content_;  // -> index into tokens_
  std::unordered_map<int32_t, size_t> by_id_;           // -> index into tokens_
  int32_t id_limit_ = 0;
  Trie raw_trie_, normalized_trie_;
};

}  // namespace v4rt::runtime
