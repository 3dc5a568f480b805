// Bpe: the byte-level BPE model of a Hugging Face tokenizer.json ("model":
// {"type": "BPE", "vocab", "merges"}): bytes are mapped to GPT-2's byte
// alphabet, then the lowest-ranked adjacent pair is merged (leftmost first on
// ties) until no merge applies, exactly as `tokenizers`' BPE::merge_word.
// Thread-safe: immutable after from_json(); encode() may run concurrently.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "base/status.h"

namespace v4rt::runtime {

class Bpe {
 public:
  // `model` is the tokenizer.json "model" value. InvalidArgument names the
  // key at fault; Unsupported for BPE options v4rt does not implement.
  static Result<Bpe> from_json(const nlohmann::json& model);

  // Appends the ids of one pre-tokenized piece (raw bytes; a virtual ' ' first
  // when prefix_space). Bytes whose symbol is not in the vocabulary are
  // dropped, as `tokenizers` does when the model has no unk_token.
  void encode(std::string_view piece, bool prefix_space, std::vector<int32_t>& out) const;

  // The vocabulary entry (in the byte alphabet, e.g. "Ġthe"); empty if none.
  std::string_view token(int32_t id) const;
  // Id of a vocabulary entry, or -1.
  int32_t id(std::string_view token) const;
  // One past the largest id in the vocabulary.
  int32_t id_limit() const { return static_cast<int32_t>(tokens_.size()); }

  // GPT-2's byte alphabet: the character (UTF-8) that stands for each byte.
  static const std::array<std::string, 256>& byte_alphabet();

 private:
  struct Merge {
    int32_t rank;
    int32_t new_id;
  };
  static uint64_t pair_key(int32_t a, int32_t b) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
  }
  void merge_small(std::vector<int32_t>& syms) const;
  void merge_heap(std::vector<int32_t>& syms) const;

  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>> vocab_;
  std::vector<std::string> tokens_;                // by id; empty where no token
  // (left id, right id) -> merge, open addressing (a lookup is one probe
  // sequence in a flat array; BPE is bound by these lookups).
  struct MergeSlot {
    uint64_t key = kEmpty;
    Merge merge{};
  };
  static constexpr uint64_t kEmpty = ~0ull;
  const Merge* find_merge(int32_t a, int32_t b) const {
    const uint64_t key = pair_key(a, b);
    for (size_t i = (key * 0x9E3779B97F4A7C15ull) >> merge_shift_;; i = (i + 1) & merge_mask_) {
      const MergeSlot& s = merge_slots_[i];
      if (s.key == key) return &s.merge;
      if (s.key == kEmpty) return nullptr;
    }
  }
  void insert_merge(uint64_t key, Merge m);
  std::vector<MergeSlot> merge_slots_;
  size_t merge_mask_ = 0;
  int merge_shift_ = 64;
  std::array<int32_t, 256> byte_id_{};              // id of each byte's symbol, -1 if none
  bool ignore_merges_ = false;
};

}  // namespace v4rt::runtime
