// PreTokenizer: the `pre_tokenizer` of a Hugging Face tokenizer.json (Split with
// a Regex or String pattern and any split behaviour, ByteLevel, or a Sequence of
// them), cutting text into the pieces that BPE then encodes one by one, with the
// results of the Rust `tokenizers` engine. Regexes run in Oniguruma, as there.
//
// For DeepSeek's pre-tokenizer (three Splits + ByteLevel without regex) a
// fast path gives the regexes' answer without running them: text is cut at
// line starts where no match can cross; ASCII parts go through a byte scanner,
// the others through the same scanner over code points whose classes come
// from Oniguruma. tests/runtime/tokenizer_test.cpp and the fuzz target check
// fast == regex (Path::kRegexOnly) on sources, random ASCII and random Unicode.
//
// Thread-safe: immutable after from_json(); split() may run concurrently.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "base/status.h"
#include "runtime/tokenizer/tokenizer_regex.h"

namespace v4rt::runtime {

// One piece of pre-tokenized text: bytes [begin, end) of the input, preceded by
// a virtual ' ' when prefix_space (ByteLevel add_prefix_space).
struct PreToken {
  size_t begin = 0;
  size_t end = 0;
  bool prefix_space = false;
};

class PreTokenizer {
 public:
  enum class Path { kFast, kRegexOnly };

  // `j` is the tokenizer.json "pre_tokenizer" value (null: no splitting).
  // Unsupported names the pre-tokenizer type that v4rt does not implement.
  static Result<PreTokenizer> from_json(const nlohmann::json& j);

  // Appends the pieces of `text` to `out`, offsets relative to text.data().
  // Requires: text is valid UTF-8. kRegexOnly disables the fast path (tests).
  void split(std::string_view text, std::vector<PreToken>& out, Path path = Path::kFast) const;

  // Whether the DeepSeek ASCII fast path applies to this configuration.
  bool has_fast_path() const { return deepseek_fast_path_; }

 private:
  enum class Behavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };
  struct Step {
    bool byte_level = false;        // else: Split
    bool add_prefix_space = false;  // ByteLevel
    std::vector<TokenizerRegex> regex;  // 0 or 1 (vector: TokenizerRegex has no empty state)
    Behavior behavior = Behavior::kIsolated;
    bool invert = false;
  };

  // Buffers reused across the pieces of one split() call.
  struct Scratch {
    std::vector<std::pair<size_t, size_t>> matches;
    std::vector<std::pair<std::pair<size_t, size_t>, bool>> spans, kept;
    std::vector<PreToken> cur, next;
    std::string with_space;
    std::vector<size_t> off;      // fast path: byte offset of each code point (+ the end)
    std::vector<uint16_t> cls;    // fast path: class bits of each code point
  };
  static Status add_steps(const nlohmann::json& j, std::vector<Step>& steps, int depth);
  void split_regex(std::string_view text, size_t begin, size_t end, std::vector<PreToken>& out,
                   Scratch& scratch) const;
  void apply_step(const Step& step, std::string_view text, const PreToken& piece, std::vector<PreToken>& out,
                  Scratch& scratch) const;

  // The fast path on non-ASCII text: the same scanner over code points whose
  // classes (\p{L}, \p{M}, \p{N}, [\p{P}\p{S}], \s, the CJK split's class)
  // come from Oniguruma itself, through TokenizerRegex (so widened to Unicode
  // 16 as the regexes are): a table for the BMP built at load, other planes
  // asked per character.
  Status build_unicode_classes();
  uint16_t unicode_class(uint32_t cp) const;
  uint16_t unicode_class_slow(uint32_t cp) const;
  void split_deepseek_unicode(std::string_view text, size_t begin, size_t end, std::vector<PreToken>& out,
                              Scratch& scratch) const;
  void split3_unicode(size_t a, size_t z, const Scratch& scratch, std::vector<PreToken>& out) const;

  std::vector<Step> steps_;
  bool deepseek_fast_path_ = false;
  std::vector<TokenizerRegex> class_re_;  // L, M, N, P|S, \s
  std::vector<uint16_t> bmp_class_;       // by code point < 0x10000
};


}  // namespace v4rt::runtime
