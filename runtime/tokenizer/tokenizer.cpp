#include "runtime/tokenizer/tokenizer.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <algorithm>
#include <array>
#include <cstring>

#include <nlohmann/json.hpp>

#include "base/file_util.h"
#include "base/utf8.h"

namespace v4rt::runtime {
namespace {

using json = nlohmann::json;

constexpr V4SpecialToken kV4Specials[] = {
    {"<think>", 128821},
    {"</think>", 128822},
    {"\uFF5CDSML\uFF5C", 128825},
    {"<\uFF5Clatest_reminder\uFF5C>", 128828},
    {"<\uFF5Caction\uFF5C>", 128829},
    {"<\uFF5Cquery\uFF5C>", 128830},
    {"<\uFF5Cauthority\uFF5C>", 128831},
    {"<\uFF5Cdomain\uFF5C>", 128832},
    {"<\uFF5Ctitle\uFF5C>", 128836},
    {"<\uFF5Cread_url\uFF5C>", 128845},
};

// Pieces are cached per encode() call once the text is this long: source
// code repeats its words, and a lookup is much cheaper than BPE.
constexpr size_t kCacheMinText = 512;

Status check_identity_normalizer(const json& n, int depth) {
  if (n.is_null()) return Status::Ok();
  if (depth < 16 && n.is_object() && n.contains("type") && n["type"] == "Sequence" && n.contains("normalizers") &&
      n["normalizers"].is_array()) {
    for (const json& sub : n["normalizers"]) V4RT_RETURN_IF_ERROR(check_identity_normalizer(sub, depth + 1));
    return Status::Ok();
  }
  const std::string type = n.is_object() && n.contains("type") && n["type"].is_string() ? n["type"].get<std::string>() : "?";
  return Status::Unsupported("tokenizer.json: normalizer '" + type +
                             "' is not supported (v4rt supports none, or an empty Sequence)");
}

bool flag(const json& obj, const char* key) {
  return obj.contains(key) && obj[key].is_boolean() && obj[key].get<bool>();
}

// The byte each character of GPT-2's alphabet stands for, by code point (-1: none).
std::array<int16_t, 324> inverse_alphabet() {
  std::array<int16_t, 324> inv;
  inv.fill(-1);
  const auto& alpha = Bpe::byte_alphabet();
  for (int b = 0; b < 256; ++b) {
    const std::string& s = alpha[b];
    uint32_t cp = s.size() == 1 ? static_cast<unsigned char>(s[0])
                                : ((static_cast<unsigned char>(s[0]) & 0x1F) << 6) | (static_cast<unsigned char>(s[1]) & 0x3F);
    inv[cp] = static_cast<int16_t>(b);
  }
  return inv;
}

// ByteLevel decoder on one token: each character back to its byte, or the
// token's own bytes when a character is outside the alphabet (as HF does).
void byte_level_decode(std::string_view tok, const std::array<int16_t, 324>& inv, std::string& out) {
  const size_t mark = out.size();
  for (size_t i = 0; i < tok.size();) {
    const unsigned char c = static_cast<unsigned char>(tok[i]);
    uint32_t cp;
    size_t n;
    if (c < 0x80) { cp = c; n = 1; }
    else if ((c & 0xE0) == 0xC0 && i + 1 < tok.size()) {
      cp = ((c & 0x1F) << 6) | (static_cast<unsigned char>(tok[i + 1]) & 0x3F);
      n = 2;
    } else { cp = 0xFFFFFFFF; n = 1; }
    if (cp >= inv.size() || inv[cp] < 0) {
      out.resize(mark);
      out += tok;
      return;
    }
    out += static_cast<char>(inv[cp]);
    i += n;
  }
}

}  // namespace

// Ids of the pieces seen so far in one encode() call: a flat open-addressing
// table keyed by the piece's bytes (views into the caller's text).
class PieceCache {
 public:
  PieceCache() : slots_(1024), mask_(1023) {}
  // The cached ids of `piece`, or nullptr.
  const int32_t* find(std::string_view piece, uint64_t h, uint32_t* n) const {
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (!s.data) return nullptr;
      if (s.hash == h && s.len == piece.size() && std::memcmp(s.data, piece.data(), piece.size()) == 0) {
        *n = s.n;
        return ids_.data() + s.off;
      }
    }
  }
  void insert(std::string_view piece, uint64_t h, std::span<const int32_t> ids) {
    if ((used_ + 1) * 2 > slots_.size()) grow();
    place(Slot{piece.data(), h, static_cast<uint32_t>(piece.size()), static_cast<uint32_t>(ids_.size()),
               static_cast<uint32_t>(ids.size())});
    ids_.insert(ids_.end(), ids.begin(), ids.end());
    ++used_;
  }
  static uint64_t hash(std::string_view s) {
    uint64_t h = 0xcbf29ce484222325ull ^ s.size();
    size_t i = 0;
    for (; i + 8 <= s.size(); i += 8) {
      uint64_t w;
      std::memcpy(&w, s.data() + i, 8);
      h = (h ^ w) * 0x100000001b3ull;
      h ^= h >> 29;
    }
    for (; i < s.size(); ++i) h = (h ^ static_cast<unsigned char>(s[i])) * 0x100000001b3ull;
    return h ^ (h >> 32);
  }

 private:
  struct Slot {
    const char* data = nullptr;
    uint64_t hash = 0;
    uint32_t len = 0, off = 0, n = 0;
  };
  void place(const Slot& slot) {
    for (size_t i = slot.hash & mask_;; i = (i + 1) & mask_)
      if (!slots_[i].data) { slots_[i] = slot; return; }
  }
  void grow() {
    std::vector<Slot> old;
    old.swap(slots_);
    slots_.assign(old.size() * 2, Slot{});
    mask_ = slots_.size() - 1;
    for (const Slot& s : old)
      if (s.data) place(s);
  }
  std::vector<Slot> slots_;
  size_t mask_;
  size_t used_ = 0;
  std::vector<int32_t> ids_;
};


std::span<const V4SpecialToken> v4_special_tokens() { return kV4Specials; }

Result<std::unique_ptr<Tokenizer>> Tokenizer::load(const std::filesystem::path& tokenizer_json,
                                                   bool add_v4_specials) {
  std::error_code ec;
  if (!std::filesystem::exists(tokenizer_json, ec))
    return Status::NotFound(tokenizer_json.string() +
                            ": no such tokenizer file; pass --tokenizer PATH or run scripts/setup.sh to fetch the default one");
  Result<std::unique_ptr<Tokenizer>> t = [&]() -> Result<std::unique_ptr<Tokenizer>> {
    Result<std::string> text = read_file(tokenizer_json);
    if (!text) return text.status();
    return from_json_text(*text, add_v4_specials, tokenizer_json.string());
  }();
#if defined(__GLIBC__)
  // The parsed JSON document (~10x the 8 MB file) is gone; hand its pages back
  // instead of keeping them in the heap for the life of the process.
  malloc_trim(0);
#endif
  return t;
}

Result<std::unique_ptr<Tokenizer>> Tokenizer::from_json_text(std::string_view json_text, bool add_v4_specials,
                                                             std::string_view name) {
  const std::string where(name);
  json j = json::parse(json_text.begin(), json_text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    return Status::InvalidArgument(where + ": not a JSON object; is this a Hugging Face tokenizer.json?");
  if (!j.contains("model")) return Status::InvalidArgument(where + ": missing key \"model\"");

  std::unique_ptr<Tokenizer> t(new Tokenizer());
  Result<Bpe> bpe = Bpe::from_json(j["model"]);
  if (!bpe) return bpe.status().with_context(where);
  t->bpe_ = std::move(*bpe);

  Result<PreTokenizer> pre = PreTokenizer::from_json(j.contains("pre_tokenizer") ? j["pre_tokenizer"] : json());
  if (!pre) return pre.status().with_context(where);
  t->pre_ = std::move(*pre);

  if (j.contains("normalizer")) {
    if (Status s = check_identity_normalizer(j["normalizer"], 0); !s.ok()) return s.with_context(where);
  }

  const json dec = j.contains("decoder") ? j["decoder"] : json();
  if (dec.is_null()) {
    t->byte_level_decoder_ = false;
  } else if (!(dec.is_object() && dec.contains("type") && dec["type"] == "ByteLevel")) {
    return Status::Unsupported(where + ": decoder " + dec.dump().substr(0, 80) +
                               " is not supported (v4rt supports ByteLevel or none)");
  }

  int32_t model_vocab_size = 0;
  for (int32_t id = 0; id < t->bpe_.id_limit(); ++id)
    if (!t->bpe_.token(id).empty()) ++model_vocab_size;
  if (j.contains("added_tokens") && !j["added_tokens"].is_null()) {
    const json& list = j["added_tokens"];
    if (!list.is_array()) return Status::InvalidArgument(where + ": \"added_tokens\" must be an array");
    for (size_t i = 0; i < list.size(); ++i) {
      const json& a = list[i];
      if (!a.is_object() || !a.contains("content") || !a["content"].is_string())
        return Status::InvalidArgument(where + ": added_tokens[" + std::to_string(i) + "] has no string \"content\"");
      AddedToken tok;
      tok.content = a["content"].get<std::string>();
      tok.special = flag(a, "special");
      tok.single_word = flag(a, "single_word");
      tok.lstrip = flag(a, "lstrip");
      tok.rstrip = flag(a, "rstrip");
      tok.normalized = a.contains("normalized") && a["normalized"].is_boolean() ? a["normalized"].get<bool>() : !tok.special;
      t->added_.add_like_hf(std::move(tok), t->bpe_.id(a["content"].get<std::string>()), model_vocab_size);
    }
  }
  if (add_v4_specials) {
    for (const V4SpecialToken& v : kV4Specials) {
      if (t->added_.id_of(v.content) || t->bpe_.id(v.content) >= 0) continue;
      if (t->added_.by_id(v.id) || !t->bpe_.token(v.id).empty()) continue;
      AddedToken tok;
      tok.content = std::string(v.content);
      tok.id = v.id;
      (void)t->added_.add_with_id(std::move(tok));
    }
  }
  t->added_.finish();
  return t;
}

void Tokenizer::encode_gap(std::string_view text, size_t begin, size_t end, std::vector<int32_t>& out,
                           PreTokenizer::Path path, PieceCache* cache) const {
  std::vector<PreToken> pieces;
  const bool use_cache = cache != nullptr;
  size_t i = begin;
  while (i < end) {
    const size_t valid = utf8::valid_prefix(text.substr(i, end - i));
    if (valid > 0) {
      const std::string_view run = text.substr(i, valid);
      pieces.clear();
      pre_.split(run, pieces, path);
      for (const PreToken& p : pieces) {
        const std::string_view piece = run.substr(p.begin, p.end - p.begin);
        if (!use_cache || p.prefix_space) {
          bpe_.encode(piece, p.prefix_space, out);
          continue;
        }
        const uint64_t h = PieceCache::hash(piece);
        uint32_t n = 0;
        if (const int32_t* ids = cache->find(piece, h, &n)) {
          out.insert(out.end(), ids, ids + n);
        } else {
          const size_t mark = out.size();
          bpe_.encode(piece, false, out);
          cache->insert(piece, h, std::span<const int32_t>(out).subspan(mark));
        }
      }
      i += valid;
    }
    if (i < end) {  // one byte that is not well-formed UTF-8: its own piece
      bpe_.encode(text.substr(i, 1), false, out);
      ++i;
    }
  }
}

void Tokenizer::encode_impl(std::string_view text, std::vector<int32_t>& out, PreTokenizer::Path path,
                            const std::span<const ByteRange>* structure) const {
  std::vector<TextSpan> spans;
  if (structure == nullptr) added_.split(text, spans);
  else added_.split_within(text, *structure, spans);
  std::optional<PieceCache> cache;
  if (text.size() >= kCacheMinText) cache.emplace();
  for (const TextSpan& sp : spans) {
    if (sp.token >= 0) out.push_back(sp.token);
    else encode_gap(text, sp.begin, sp.end, out, path, cache ? &*cache : nullptr);
  }
}

std::vector<int32_t> Tokenizer::encode(std::string_view text) const {
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 4);
  encode_impl(text, out, PreTokenizer::Path::kFast);
  return out;
}

void Tokenizer::encode(std::string_view text, std::vector<int32_t>& out) const {
  encode_impl(text, out, PreTokenizer::Path::kFast);
}

std::vector<int32_t> Tokenizer::encode_without_fast_path(std::string_view text) const {
  std::vector<int32_t> out;
  encode_impl(text, out, PreTokenizer::Path::kRegexOnly);
  return out;
}

std::vector<int32_t> Tokenizer::encode_literal(std::string_view text) const {
  return encode_structured(text, {});
}

std::vector<int32_t> Tokenizer::encode_structured(std::string_view text, std::span<const ByteRange> structure) const {
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 4);
  encode_impl(text, out, PreTokenizer::Path::kFast, &structure);
  return out;
}

std::string Tokenizer::decode(std::span<const int32_t> ids, bool skip_special_tokens) const {
  static const std::array<int16_t, 324> inv = inverse_alphabet();  // immutable table
  std::string out;
  bool first = true;
  for (int32_t id : ids) {
    const AddedToken* added = added_.by_id(id);
    if (added && added->special && skip_special_tokens) continue;
    const std::string_view tok = added ? std::string_view(added->content) : bpe_.token(id);
    if (tok.empty()) continue;
    if (byte_level_decoder_) {
      byte_level_decode(tok, inv, out);
    } else {
      if (!first) out += ' ';
      out += tok;
    }
    first = false;
  }
  return out;
}

std::optional<int32_t> Tokenizer::token_id(std::string_view token) const {
  if (auto id = added_.id_of(token)) return id;
  const int32_t id = bpe_.id(token);
  if (id >= 0) return id;
  return std::nullopt;
}

std::string_view Tokenizer::token_text(int32_t id) const {
  if (const AddedToken* a = added_.by_id(id)) return a->content;
  return bpe_.token(id);
}

int Tokenizer::vocab_size() const { return std::max(bpe_.id_limit(), added_.id_limit()); }

bool Tokenizer::is_special(int32_t id) const {
  const AddedToken* a = added_.by_id(id);
  return a && a->special;
}

Result<TokenizerSource> locate_tokenizer(const std::filesystem::path& model_dir,
                                         const std::filesystem::path& fallback) {
  std::error_code ec;
  if (!std::filesystem::is_directory(model_dir, ec))
    return Status::NotFound(model_dir.string() + ": model directory does not exist; check --model");
  TokenizerSource src;
  const std::filesystem::path own = model_dir / "tokenizer.json";
  if (std::filesystem::exists(own, ec)) src.path = own;
  else if (!fallback.empty()) src.path = fallback;
  else
    return Status::NotFound(model_dir.string() + " has no tokenizer.json and no default tokenizer is set; pass --tokenizer PATH");
  const std::filesystem::path config = model_dir / "config.json";
  if (std::filesystem::exists(config, ec)) {
    Result<std::string> text = read_file(config);
    if (!text) return text.status();
    json c = json::parse(*text, nullptr, false);
    if (c.is_discarded() || !c.is_object())
      return Status::InvalidArgument(config.string() + ": not a JSON object; fix or remove the file");
    src.add_v4_specials = c.contains("compress_ratios");
  }
  return src;
}

}  // namespace v4rt::runtime
