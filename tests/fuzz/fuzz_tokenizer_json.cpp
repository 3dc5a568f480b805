// libFuzzer target: tokenizer.json loading and encoding of arbitrary bytes.
// Input "T<text>": <text> is encoded by a small built-in byte-level tokenizer
// with DeepSeek's pre-tokenizer and a few added tokens; decode(encode(x)) must
// give x back and the ASCII fast path must agree with the regex path; literal
// and structured encoding hold their invariants (no added id in literal mode,
// whole-text structure == encode, bytes back).
// Any other input: "<json>\0<text>", the JSON loaded as a tokenizer.json
// (errors are fine; crashes are not) and, if it loads, <text> encoded and decoded.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "runtime/tokenizer/tokenizer.h"

namespace {

std::unique_ptr<v4rt::runtime::Tokenizer> make_builtin() {
  using nlohmann::json;
  json vocab = json::object();
  const auto& alpha = v4rt::runtime::Bpe::byte_alphabet();
  for (int b = 0; b < 256; ++b) vocab[alpha[b]] = b;
  vocab["Ġt"] = 256;
  vocab["he"] = 257;
  vocab["Ġthe"] = 258;
  vocab["12"] = 259;
  json j = {
      {"added_tokens", json::array({{{"id", 300}, {"content", "<\uFF5CUser\uFF5C>"}, {"special", true}, {"normalized", false}},
                                    {{"id", 301}, {"content", "<think>"}, {"special", false}, {"normalized", true}}})},
      {"normalizer", nullptr},
      {"pre_tokenizer",
       {{"type", "Sequence"},
        {"pretokenizers",
         json::array({{{"type", "Split"}, {"pattern", {{"Regex", "\\p{N}{1,3}"}}}, {"behavior", "Isolated"}, {"invert", false}},
                      {{"type", "Split"},
                       {"pattern", {{"Regex", "[\u4E00-\u9FA5\u3040-\u309F\u30A0-\u30FF]+"}}},
                       {"behavior", "Isolated"},
                       {"invert", false}},
                      {{"type", "Split"},
                       {"pattern",
                        {{"Regex",
                          "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+|"
                          " ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+"}}},
                       {"behavior", "Isolated"},
                       {"invert", false}},
                      {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", false}}})}}},
      {"decoder", {{"type", "ByteLevel"}}},
      {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", json::array({"Ġ t", "h e", "Ġt he", "1 2"})}}}};
  auto t = v4rt::runtime::Tokenizer::from_json_text(j.dump(), false, "builtin");
  if (!t.ok()) std::abort();
  return std::move(*t);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  if (!in.empty() && in[0] == 'T') {
    static const std::unique_ptr<v4rt::runtime::Tokenizer> builtin = make_builtin();
    const std::string_view text = in.substr(1);
    const std::vector<int32_t> ids = builtin->encode(text);
    if (builtin->decode(ids) != text) std::abort();
    if (builtin->encode_without_fast_path(text) != ids) std::abort();
    // Literal mode: no added-token id (300, 301), the same bytes back.
    const std::vector<int32_t> literal = builtin->encode_literal(text);
    for (int32_t id : literal)
      if (id >= 300) std::abort();
    if (builtin->decode(literal) != text) std::abort();
    // Structured: the whole text as structure is encode(); cut into pieces
    // that touch, too (touching ranges are one).
    const v4rt::runtime::ByteRange whole[] = {{0, text.size()}};
    if (builtin->encode_structured(text, whole) != ids) std::abort();
    const size_t cut = text.size() / 3;
    const v4rt::runtime::ByteRange halves[] = {{0, cut}, {cut, text.size()}};
    if (builtin->encode_structured(text, halves) != ids) std::abort();
    // Only the first third as structure: still the same bytes back.
    const v4rt::runtime::ByteRange head[] = {{0, cut}};
    if (builtin->decode(builtin->encode_structured(text, head)) != text) std::abort();
    return 0;
  }
  const size_t nul = in.find('\0');
  const std::string_view json_text = in.substr(0, nul);
  const std::string_view text = nul == std::string_view::npos ? std::string_view() : in.substr(nul + 1);
  auto t = v4rt::runtime::Tokenizer::from_json_text(json_text, (size & 1) != 0, "fuzz");
  if (!t.ok()) return 0;
  const std::vector<int32_t> ids = (*t)->encode(text);
  (void)(*t)->decode(ids);
  (void)(*t)->token_id(text);
  return 0;
}
