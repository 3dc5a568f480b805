#include "runtime/tokenizer/pretokenizer.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "base/utf8.h"

namespace v4rt::runtime {
namespace {

using json = nlohmann::json;
using Matches = std::vector<std::pair<size_t, size_t>>;

// DeepSeek V3/V4 pre-tokenizer, exactly as in its tokenizer.json.
constexpr std::string_view kDeepSeekDigits = "\\p{N}{1,3}";
constexpr std::string_view kDeepSeekCjk = "[\u4E00-\u9FA5\u3040-\u309F\u30A0-\u30FF]+";
constexpr std::string_view kDeepSeekMain =
    "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+|"
    " ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+";
// The regex of the ByteLevel pre-tokenizer when use_regex is true (GPT-2's).
constexpr std::string_view kByteLevelRegex =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

// ASCII character classes of the DeepSeek main regex. On ASCII, \p{L} is
// [A-Za-z], \p{N} is [0-9], \p{P}|\p{S} is the 32 printable punctuation
// characters, \s is [\t\n\v\f\r ], \p{M} is empty.
enum : uint8_t { kLetter = 1, kDigit = 2, kPunct = 4, kSpace = 8, kNewline = 16 };
struct AsciiClasses {
  uint8_t c[128] = {};
  constexpr AsciiClasses() {
    for (int i = 'A'; i <= 'Z'; ++i) c[i] = kLetter;
    for (int i = 'a'; i <= 'z'; ++i) c[i] = kLetter;
    for (int i = '0'; i <= '9'; ++i) c[i] = kDigit;
    for (int i = 33; i < 127; ++i)
      if (c[i] == 0) c[i] = kPunct;
    for (int i : {'\t', '\v', '\f', ' '}) c[i] = kSpace;
    c[static_cast<int>('\n')] = kSpace | kNewline;
    c[static_cast<int>('\r')] = kSpace | kNewline;
  }
};
constexpr AsciiClasses kAscii;

inline uint8_t cls(const char* s, size_t i, size_t end) {
  return i < end ? kAscii.c[static_cast<unsigned char>(s[i]) & 0x7F] : 0;
}

// The DeepSeek main regex, searched over an ASCII subject s[b, e) with no
// digits, emulated alternative by alternative (leftmost match, first
// alternative that matches, greedy). Emits matches and the gaps between them.
void split_main_ascii(const char* s, size_t b, size_t e, std::vector<PreToken>& out) {
  size_t gap = b;
  size_t i = b;
  auto run = [&](size_t j, uint8_t mask) {
    while (j < e && (cls(s, j, e) & mask)) ++j;
    return j;
  };
  while (i < e) {
    const uint8_t c = cls(s, i, e);
    const uint8_t nx = cls(s, i + 1, e);
    size_t m = i;  // match end; == i: no match starts here
    if ((c & kPunct) && (nx & kLetter)) {
      m = run(i + 1, kLetter);                           // [punct][A-Za-z]+
    } else if (!(c & (kNewline | kLetter | kPunct)) && (nx & kLetter)) {
      m = run(i + 1, kLetter);                           // [^\r\n L P S]?[L M]+ (with the prefix)
    } else if (c & kLetter) {
      m = run(i, kLetter);                               // ... (without it)
    } else if (s[i] == ' ' && (nx & kPunct)) {
      m = run(run(i + 1, kPunct), kNewline);             // ' ?[P S]+[\r\n]*'
    } else if (c & kPunct) {
      m = run(run(i, kPunct), kNewline);
    } else if (c & kSpace) {
      const size_t j = run(i, kSpace);
      size_t last_nl = j;
      for (size_t k = j; k > i; --k)
        if (cls(s, k - 1, e) & kNewline) { last_nl = k - 1; break; }
      if (last_nl != j) m = last_nl + 1;                 // \s*[\r\n]+
      else if (j == e) m = j;                            // \s+(?!\S) at the end
      else if (j - i >= 2) m = j - 1;                    // \s+(?!\S) before a non-space
      else m = j;                                        // \s+
    }
    if (m == i) { ++i; continue; }
    if (gap < i) out.push_back({gap, i, false});
    out.push_back({i, m, false});
    i = gap = m;
  }
  if (gap < e) out.push_back({gap, e, false});
}

// The whole DeepSeek pre-tokenizer on ASCII text[b, e): digit runs in groups
// of up to three (\p{N}{1,3}), the CJK split (a no-op on ASCII), then the main
// regex on each digit-free gap.
void split_deepseek_ascii(std::string_view text, size_t b, size_t e, std::vector<PreToken>& out) {
  const char* s = text.data();
  size_t gap = b;
  size_t i = b;
  while (i < e) {
    if (!(cls(s, i, e) & kDigit)) { ++i; continue; }
    if (gap < i) split_main_ascii(s, gap, i, out);
    size_t j = i;
    while (j < e && (cls(s, j, e) & kDigit)) ++j;
    for (size_t k = i; k < j; k += 3) out.push_back({k, std::min(k + 3, j), false});
    i = gap = j;
  }
  if (gap < e) split_main_ascii(s, gap, e, out);
}

bool all_ascii(const char* s, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, s + i, 8);
    if (w & 0x8080808080808080ull) return false;
  }
  for (; i < n; ++i)
    if (static_cast<unsigned char>(s[i]) & 0x80) return false;
  return true;
}

// Regex escape for a Split {"String": ...} pattern: ASCII punctuation gets a backslash.
std::string escape_literal(std::string_view lit) {
  std::string out;
  for (char ch : lit) {
    unsigned char u = static_cast<unsigned char>(ch);
    if (u < 0x80 && (kAscii.c[u] & kPunct)) out += '\\';
    out += ch;
  }
  return out;
}

}  // namespace

Status PreTokenizer::add_steps(const json& j, std::vector<Step>& steps, int depth) {
  if (j.is_null()) return Status::Ok();
  if (!j.is_object() || !j.contains("type") || !j["type"].is_string())
    return Status::InvalidArgument("pre_tokenizer: expected an object with a string \"type\"");
  if (depth > 16) return Status::InvalidArgument("pre_tokenizer: Sequence nested more than 16 deep");
  const std::string type = j["type"].get<std::string>();
  if (type == "Sequence") {
    if (!j.contains("pretokenizers") || !j["pretokenizers"].is_array())
      return Status::InvalidArgument("pre_tokenizer Sequence: missing array \"pretokenizers\"");
    for (const json& sub : j["pretokenizers"]) V4RT_RETURN_IF_ERROR(add_steps(sub, steps, depth + 1));
    return Status::Ok();
  }
  Step step;
  if (type == "ByteLevel") {
    step.byte_level = true;
    auto flag = [&](const char* key, bool dflt) {
      return j.contains(key) && j[key].is_boolean() ? j[key].get<bool>() : dflt;
    };
    step.add_prefix_space = flag("add_prefix_space", true);
    if (flag("use_regex", true)) {
      Result<TokenizerRegex> re = TokenizerRegex::compile(kByteLevelRegex);
      if (!re) return re.status();
      step.regex.push_back(std::move(*re));
    }
    steps.push_back(std::move(step));
    return Status::Ok();
  }
  if (type == "Split") {
    const json* pat = j.contains("pattern") ? &j["pattern"] : nullptr;
    std::string regex;
    if (pat && pat->is_object() && pat->contains("Regex") && (*pat)["Regex"].is_string()) {
      regex = (*pat)["Regex"].get<std::string>();
    } else if (pat && pat->is_object() && pat->contains("String") && (*pat)["String"].is_string()) {
      regex = escape_literal((*pat)["String"].get<std::string>());
    } else {
      return Status::InvalidArgument("pre_tokenizer Split: \"pattern\" must be {\"Regex\": S} or {\"String\": S}");
    }
    if (!utf8::is_valid(regex)) return Status::InvalidArgument("pre_tokenizer Split: pattern is not valid UTF-8");
    Result<TokenizerRegex> re = TokenizerRegex::compile(regex);
    if (!re) return re.status().with_context("pre_tokenizer Split");
    step.regex.push_back(std::move(*re));
    const std::string behavior = j.contains("behavior") && j["behavior"].is_string()
                                     ? j["behavior"].get<std::string>() : "";
    if (behavior == "Removed") step.behavior = Behavior::kRemoved;
    else if (behavior == "Isolated") step.behavior = Behavior::kIsolated;
    else if (behavior == "MergedWithPrevious") step.behavior = Behavior::kMergedWithPrevious;
    else if (behavior == "MergedWithNext") step.behavior = Behavior::kMergedWithNext;
    else if (behavior == "Contiguous") step.behavior = Behavior::kContiguous;
    else return Status::InvalidArgument("pre_tokenizer Split: unknown behavior '" + behavior +
                                        "' (expected Removed, Isolated, MergedWithPrevious, MergedWithNext or Contiguous)");
    step.invert = j.contains("invert") && j["invert"].is_boolean() && j["invert"].get<bool>();
    steps.push_back(std::move(step));
    return Status::Ok();
  }
  return Status::Unsupported("pre_tokenizer type '" + type +
                             "' is not supported by v4rt (supported: Sequence, Split, ByteLevel)");
}

Result<PreTokenizer> PreTokenizer::from_json(const json& j) {
  PreTokenizer p;
  V4RT_RETURN_IF_ERROR(add_steps(j, p.steps_, 0));
  // Recognise DeepSeek's exact configuration for the fast path.
  if (j.is_object() && j.value("type", json()) == "Sequence" && p.steps_.size() == 4) {
    const json& seq = j["pretokenizers"];
    auto regex_is = [&](size_t i, std::string_view want) {
      const json& s = seq[i];
      return s.value("type", json()) == "Split" && s.contains("pattern") && s["pattern"].is_object() &&
             s["pattern"].value("Regex", json()) == want && !p.steps_[i].invert &&
             p.steps_[i].behavior == Behavior::kIsolated;
    };
    p.deepseek_fast_path_ = seq.size() == 4 && regex_is(0, kDeepSeekDigits) && regex_is(1, kDeepSeekCjk) &&
                            regex_is(2, kDeepSeekMain) && p.steps_[3].byte_level &&
                            !p.steps_[3].add_prefix_space && p.steps_[3].regex.empty();
    if (p.deepseek_fast_path_) V4RT_RETURN_IF_ERROR(p.build_unicode_classes());
  }
  return p;
}

void PreTokenizer::apply_step(const Step& step, std::string_view text, const PreToken& piece,
                              std::vector<PreToken>& out, Scratch& scratch) const {
  PreToken pc = piece;
  if (step.byte_level && step.add_prefix_space && !pc.prefix_space &&
      (pc.begin == pc.end || text[pc.begin] != ' '))
    pc.prefix_space = true;
  if (step.regex.empty()) { out.push_back(pc); return; }

  // The subject: the piece's bytes, after its virtual ' ' if it has one.
  std::string_view subject = text.substr(pc.begin, pc.end - pc.begin);
  if (pc.prefix_space) {
    scratch.with_space.assign(1, ' ');
    scratch.with_space += subject;
    subject = scratch.with_space;
  }
  Matches& matches = scratch.matches;
  matches.clear();
  step.regex.front().find_all(subject, matches);

  // (offsets, is_match) in order, as `tokenizers`' Pattern::find_matches.
  auto& spans = scratch.spans;
  spans.clear();
  if (subject.empty()) spans.push_back({{0, 0}, false});
  size_t prev = 0;
  for (auto [s, e] : matches) {
    if (prev != s) spans.push_back({{prev, s}, false});
    spans.push_back({{s, e}, true});
    prev = e;
  }
  if (prev != subject.size() && !subject.empty()) spans.push_back({{prev, subject.size()}, false});
  if (step.invert)
    for (auto& sp : spans) sp.second = !sp.second;

  // (offsets, remove) after the behaviour, as NormalizedString::split.
  auto& kept = scratch.kept;
  kept.clear();
  switch (step.behavior) {
    case Behavior::kIsolated:
      for (auto& sp : spans) kept.push_back({sp.first, false});
      break;
    case Behavior::kRemoved:
      kept = spans;
      break;
    case Behavior::kContiguous: {
      bool prev_match = false;
      for (auto& sp : spans) {
        if (sp.second == prev_match && !kept.empty()) kept.back().first.second = sp.first.second;
        else kept.push_back({sp.first, false});
        prev_match = sp.second;
      }
      break;
    }
    case Behavior::kMergedWithPrevious: {
      bool prev_match = false;
      for (auto& sp : spans) {
        if (sp.second && !prev_match && !kept.empty()) kept.back().first.second = sp.first.second;
        else kept.push_back({sp.first, false});
        prev_match = sp.second;
      }
      break;
    }
    case Behavior::kMergedWithNext: {
      bool prev_match = false;
      for (auto it = spans.rbegin(); it != spans.rend(); ++it) {
        if (it->second && !prev_match && !kept.empty()) kept.back().first.first = it->first.first;
        else kept.push_back({it->first, false});
        prev_match = it->second;
      }
      std::reverse(kept.begin(), kept.end());
      break;
    }
  }
  for (auto& [off, remove] : kept) {
    if (remove || off.first == off.second) continue;
    if (!pc.prefix_space) {
      out.push_back({pc.begin + off.first, pc.begin + off.second, false});
    } else if (off.first == 0) {
      out.push_back({pc.begin, pc.begin + off.second - 1, true});
    } else {
      out.push_back({pc.begin + off.first - 1, pc.begin + off.second - 1, false});
    }
  }
}

void PreTokenizer::split_regex(std::string_view text, size_t begin, size_t end, std::vector<PreToken>& out,
                               Scratch& scratch) const {
  std::vector<PreToken>& cur = scratch.cur;
  std::vector<PreToken>& next = scratch.next;
  cur.assign(1, PreToken{begin, end, false});
  for (const Step& step : steps_) {
    next.clear();
    for (const PreToken& piece : cur) apply_step(step, text, piece, next, scratch);
    cur.swap(next);
  }
  for (const PreToken& p : cur)
    if (p.begin != p.end || p.prefix_space) out.push_back(p);
}

void PreTokenizer::split(std::string_view text, std::vector<PreToken>& out, Path path) const {
  if (text.empty()) return;
  Scratch scratch;
  if (!deepseek_fast_path_ || path == Path::kRegexOnly) {
    split_regex(text, 0, text.size(), out, scratch);
    return;
  }
  // Cut at each line start whose first byte is ASCII and not \s: no match of
  // the DeepSeek regexes crosses "\n" followed by a non-space (the only
  // alternatives that contain a newline end with it, and the lookahead
  // (?!\S) sees the same answer there), so the parts split independently.
  // Runs of ASCII parts take the ASCII scanner; the others the code-point one.
  const char* s = text.data();
  const size_t n = text.size();
  size_t start = 0;
  bool start_ascii = true;
  size_t i = 0;
  while (i < n) {
    size_t line_end = i;
    for (;;) {
      const void* nl = std::memchr(s + line_end, '\n', n - line_end);
      if (!nl) { line_end = n; break; }
      line_end = static_cast<size_t>(static_cast<const char*>(nl) - s) + 1;
      if (line_end == n) break;
      unsigned char c = static_cast<unsigned char>(s[line_end]);
      if (c < 0x80 && !(kAscii.c[c] & kSpace)) break;
    }
    const bool ascii = all_ascii(s + i, line_end - i);
    if (i == start) {
      start_ascii = ascii;
    } else if (ascii != start_ascii) {
      if (start_ascii) split_deepseek_ascii(text, start, i, out);
      else split_deepseek_unicode(text, start, i, out, scratch);
      start = i;
      start_ascii = ascii;
    }
    i = line_end;
  }
  if (start_ascii) split_deepseek_ascii(text, start, n, out);
  else split_deepseek_unicode(text, start, n, out, scratch);
}

namespace {

enum : uint16_t {
  uLetter = 1, uNumber = 2, uPunct = 4, uSpace = 8, uNewline = 16, uMark = 32, uCjk = 64,
  uAsciiPunct = 128, uAsciiLetter = 256, uAsciiSpace = 512,
};

}  // namespace

Status PreTokenizer::build_unicode_classes() {
  for (std::string_view pat : {"\\p{L}", "\\p{M}", "\\p{N}", "[\\p{P}\\p{S}]", "\\s"}) {
    Result<TokenizerRegex> re = TokenizerRegex::compile(pat);
    if (!re) return re.status();
    class_re_.push_back(std::move(*re));
  }
  bmp_class_.assign(0x10000, 0);
  for (uint32_t cp = 0; cp < 0x10000; ++cp)
    if (cp < 0xD800 || cp > 0xDFFF) bmp_class_[cp] = unicode_class_slow(cp);
  return Status::Ok();
}

uint16_t PreTokenizer::unicode_class_slow(uint32_t cp) const {
  char buf[4];
  const std::string_view ch(buf, utf8::encode(cp, buf));
  uint16_t c = 0;
  if (class_re_[0].matches_prefix(ch)) c |= uLetter;
  if (class_re_[1].matches_prefix(ch)) c |= uMark;
  if (class_re_[2].matches_prefix(ch)) c |= uNumber;
  if (class_re_[3].matches_prefix(ch)) c |= uPunct;
  if (class_re_[4].matches_prefix(ch)) c |= uSpace;
  if (steps_[1].regex.front().matches_prefix(ch)) c |= uCjk;  // the CJK split's own class
  if (cp == '\r' || cp == '\n') c |= uNewline;
  if (cp < 0x80 && (kAscii.c[cp] & kPunct)) c |= uAsciiPunct;
  if (cp < 0x80 && (kAscii.c[cp] & kLetter)) c |= uAsciiLetter;
  if (cp == ' ') c |= uAsciiSpace;
  return c;
}

uint16_t PreTokenizer::unicode_class(uint32_t cp) const {
  return cp < 0x10000 ? bmp_class_[cp] : unicode_class_slow(cp);
}

// The DeepSeek main regex over code points [a, z) of scratch.cls, alternative
// by alternative, as split_main_ascii does over bytes.
void PreTokenizer::split3_unicode(size_t a, size_t z, const Scratch& scratch, std::vector<PreToken>& out) const {
  const std::vector<uint16_t>& c = scratch.cls;
  const std::vector<size_t>& off = scratch.off;
  auto cl = [&](size_t k) -> uint16_t { return k < z ? c[k] : 0; };
  auto run = [&](size_t j, uint16_t mask) {
    while (j < z && (c[j] & mask)) ++j;
    return j;
  };
  size_t gap = a, k = a;
  while (k < z) {
    const uint16_t C = cl(k), nx = cl(k + 1);
    size_t m = k;
    if ((C & uAsciiPunct) && (nx & uAsciiLetter)) {
      m = run(k + 1, uAsciiLetter);                          // [ASCII punct][A-Za-z]+
    } else if (!(C & (uNewline | uLetter | uPunct)) && (nx & (uLetter | uMark))) {
      m = run(k + 1, uLetter | uMark);                       // [^\r\n L P S]?[L M]+ with the prefix
    } else if (C & (uLetter | uMark)) {
      m = run(k, uLetter | uMark);                           // ... without it
    } else if ((C & uAsciiSpace) && (nx & uPunct)) {
      m = run(run(k + 1, uPunct), uNewline);                 // ' ?[P S]+[\r\n]*'
    } else if (C & uPunct) {
      m = run(run(k, uPunct), uNewline);
    } else if (C & uSpace) {
      const size_t j = run(k, uSpace);
      size_t last_nl = j;
      for (size_t t = j; t > k; --t)
        if (c[t - 1] & uNewline) { last_nl = t - 1; break; }
      if (last_nl != j) m = last_nl + 1;                     // \s*[\r\n]+
      else if (j == z) m = j;                                // \s+(?!\S) at the end
      else if (j - k >= 2) m = j - 1;                        // \s+(?!\S) before a non-space
      else m = j;                                            // \s+
    }
    if (m == k) { ++k; continue; }
    if (gap < k) out.push_back({off[gap], off[k], false});
    out.push_back({off[k], off[m], false});
    k = gap = m;
  }
  if (gap < z) out.push_back({off[gap], off[z], false});
}

void PreTokenizer::split_deepseek_unicode(std::string_view text, size_t begin, size_t end,
                                          std::vector<PreToken>& out, Scratch& scratch) const {
  std::vector<size_t>& off = scratch.off;
  std::vector<uint16_t>& cls = scratch.cls;
  off.clear();
  cls.clear();
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  for (size_t i = begin; i < end;) {
    const unsigned char b = p[i];
    uint32_t cp;
    size_t len;
    if (b < 0x80) { cp = b; len = 1; }
    else if (b < 0xE0) { cp = ((b & 0x1Fu) << 6) | (p[i + 1] & 0x3Fu); len = 2; }
    else if (b < 0xF0) { cp = ((b & 0x0Fu) << 12) | ((p[i + 1] & 0x3Fu) << 6) | (p[i + 2] & 0x3Fu); len = 3; }
    else {
      cp = ((b & 0x07u) << 18) | ((p[i + 1] & 0x3Fu) << 12) | ((p[i + 2] & 0x3Fu) << 6) | (p[i + 3] & 0x3Fu);
      len = 4;
    }
    off.push_back(i);
    cls.push_back(unicode_class(cp));
    i += len;
  }
  off.push_back(end);
  const size_t n = cls.size();
  // Split 2 (the CJK class, isolated) on one piece of split 1, then split 3 on each part.
  auto split2 = [&](size_t a, size_t z) {
    size_t gap = a, k = a;
    while (k < z) {
      if (!(cls[k] & uCjk)) { ++k; continue; }
      if (gap < k) split3_unicode(gap, k, scratch, out);
      size_t j = k;
      while (j < z && (cls[j] & uCjk)) ++j;
      split3_unicode(k, j, scratch, out);
      k = gap = j;
    }
    if (gap < z) split3_unicode(gap, z, scratch, out);
  };
  // Split 1: \p{N}{1,3}, isolated.
  size_t gap = 0, k = 0;
  while (k < n) {
    if (!(cls[k] & uNumber)) { ++k; continue; }
    if (gap < k) split2(gap, k);
    size_t j = k;
    while (j < n && (cls[j] & uNumber)) ++j;
    for (size_t t = k; t < j; t += 3) split2(t, std::min(t + 3, j));
    k = gap = j;
  }
  if (gap < n) split2(gap, n);
}

}  // namespace v4rt::runtime
