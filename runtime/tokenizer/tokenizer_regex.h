// TokenizerRegex: one compiled Oniguruma pattern, used by the tokenizer's Split
// pre-tokenizers exactly as Hugging Face `tokenizers` uses it (UTF-8 encoding,
// Oniguruma syntax, no options), so Unicode classes such as \s, \p{L}, \p{N}
// mean what they mean there (e.g. U+0085 is \s). General categories, \d and \w
// are first widened to Unicode 16.0, the tables of the Oniguruma in
// tokenizers@0.23.2 (widen_to_unicode16, runtime/tokenizer/unicode16_pattern.h).
// Thread-safe: a compiled pattern is immutable; concurrent searches are fine.
#pragma once

#include <cstddef>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

struct re_pattern_buffer;  // Oniguruma's regex_t; kept out of this header.

namespace v4rt::runtime {

class TokenizerRegex {
 public:
  // Compiles `pattern`. InvalidArgument (with Oniguruma's message) if it does not compile.
  static Result<TokenizerRegex> compile(std::string_view pattern);

  TokenizerRegex(TokenizerRegex&& other) noexcept;
  TokenizerRegex& operator=(TokenizerRegex&& other) noexcept;
  TokenizerRegex(const TokenizerRegex&) = delete;
  TokenizerRegex& operator=(const TokenizerRegex&) = delete;
  ~TokenizerRegex();

  // Appends the [begin, end) byte offsets of every non-overlapping match in
  // `subject` (left to right, as the Rust `onig` crate's find_iter: an empty
  // match right after the previous match is skipped by one character).
  // Requires: subject is valid UTF-8.
  void find_all(std::string_view subject, std::vector<std::pair<size_t, size_t>>& out) const;

  // Whether the pattern matches a prefix of `subject` (anchored at offset 0).
  bool matches_prefix(std::string_view subject) const;

 private:
  explicit TokenizerRegex(re_pattern_buffer* re) : re_(re) {}
  re_pattern_buffer* re_ = nullptr;  // owned
};

}  // namespace v4rt::runtime
