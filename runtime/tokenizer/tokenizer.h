// Tokenizer: a Hugging Face tokenizer.json (byte-level BPE, Split/ByteLevel
// pre-tokenizers, added tokens, ByteLevel decoder) that encodes and decodes as
// the Rust `tokenizers` engine does, checked id for id against it
// (tests/runtime/tokenizer_parity_test.cpp). encode() matches special tokens
// written in the text as added tokens; nothing is added around the text (HF's
// add_special_tokens=false). encode_literal() and encode_structured() are for
// text that is not ours (tool results, files, documents, the user's task):
// there special-token text is split into ordinary pieces, so it cannot forge
// a turn. docs/tokenizer.md has the details.
//
// Invalid UTF-8 (HF cannot see it: its bindings take strings): every byte that
// is not part of a well-formed UTF-8 sequence becomes a piece of its own and
// is encoded as its byte token, so decode(encode(x)) == x for any bytes.
//
// Thread-safe: immutable after load(); encode/decode may run concurrently.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "runtime/tokenizer/bpe.h"
#include "runtime/tokenizer/pretokenizer.h"
#include "runtime/tokenizer/tokenizer_added_vocab.h"

namespace v4rt::runtime {

// The tokens DeepSeek-V4 has beyond V3's tokenizer.json (spec §6.1).
struct V4SpecialToken {
  std::string_view content;
  int32_t id;
};
std::span<const V4SpecialToken> v4_special_tokens();

class PieceCache;  // tokenizer.cpp: ids of the pieces seen in one encode() call

class Tokenizer {
 public:
  // Loads tokenizer.json. With add_v4_specials, the V4 tokens of
  // v4_special_tokens() are added where the file has neither their string nor
  // their id (so a V4 checkpoint's own file keeps precedence).
  // Errors: IoError / NotFound for the file, InvalidArgument for malformed
  // JSON naming the key, Unsupported for features v4rt does not implement.
  static Result<std::unique_ptr<Tokenizer>> load(const std::filesystem::path& tokenizer_json,
                                                 bool add_v4_specials);
  // The same from the file's bytes; `name` is used in messages.
  static Result<std::unique_ptr<Tokenizer>> from_json_text(std::string_view json_text, bool add_v4_specials,
                                                           std::string_view name = "tokenizer.json");

  std::vector<int32_t> encode(std::string_view text) const;
  // Appends to `out` (lets callers reuse a buffer).
  void encode(std::string_view text, std::vector<int32_t>& out) const;
  // Same ids with the fast pre-tokenizer path off (tests: fast == slow).
  std::vector<int32_t> encode_without_fast_path(std::string_view text) const;

  // Literal mode: no added token (special or not) is matched; its text is
  // encoded as ordinary BPE pieces like any other bytes, so the result holds
  // no added-token id and decode(encode_literal(x)) == x. Equals encode(x)
  // when x contains no added-token text. Like HF's split_special_tokens=True,
  // but for every added token: DeepSeek marks <｜User｜> and <｜Assistant｜>
  // special=false, and HF's flag splits only special=true tokens.
  std::vector<int32_t> encode_literal(std::string_view text) const;
  // Added tokens are matched only inside `structure` (sorted, disjoint byte
  // ranges of text: what the chat encoder wrote itself); the rest of the text
  // is literal. The pre-tokenizer still sees the text between matched tokens
  // whole, across range edges, so when every added token that encode(text)
  // matches lies inside `structure` the ids equal encode(text): ordinary
  // prompts keep their ids and cached prefixes. Requires (checked): ranges
  // sorted, disjoint, within text.
  std::vector<int32_t> encode_structured(std::string_view text, std::span<const ByteRange> structure) const;

  // The bytes the ids stand for (ByteLevel decoder; added tokens as their
  // text). Raw bytes: a prefix of a multi-byte character may end the result,
  // which a streaming caller completes with the next ids; HF's decode would
  // show U+FFFD there. Unknown ids are skipped, as HF does.
  std::string decode(std::span<const int32_t> ids, bool skip_special_tokens = false) const;

  // Id of a token string: an added token, else a vocabulary entry (in the
  // byte alphabet, e.g. "Ġthe").
  std::optional<int32_t> token_id(std::string_view token) const;
  // The token's string (added token content or vocabulary entry); empty if unknown.
  // Valid while *this lives.
  std::string_view token_text(int32_t id) const;
  // One past the largest id (model vocab and added tokens).
  int vocab_size() const;
  bool is_special(int32_t id) const;

 private:
  Tokenizer() = default;
  // structure == nullptr: added tokens matched anywhere (encode()).
  void encode_impl(std::string_view text, std::vector<int32_t>& out, PreTokenizer::Path path,
                   const std::span<const ByteRange>* structure = nullptr) const;
  void encode_gap(std::string_view text, size_t begin, size_t end, std::vector<int32_t>& out,
                  PreTokenizer::Path path, PieceCache* cache) const;

  Bpe bpe_;
  PreTokenizer pre_;
  AddedVocab added_;
  bool byte_level_decoder_ = true;  // else: tokens joined by ' ' (no decoder)
};

// Where the tokenizer of a model directory comes from.
struct TokenizerSource {
  std::filesystem::path path;    // DIR/tokenizer.json if present, else the fallback
  bool add_v4_specials = false;  // DIR/config.json has "compress_ratios" (a V4 model)
};
// Requires: fallback is the tokenizer to use when DIR has none (may be empty:
// then NotFound when DIR has none). InvalidArgument if DIR/config.json is not JSON.
Result<TokenizerSource> locate_tokenizer(const std::filesystem::path& model_dir,
                                         const std::filesystem::path& fallback);

}  // namespace v4rt::runtime
