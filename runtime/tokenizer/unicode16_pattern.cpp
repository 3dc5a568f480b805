#include "runtime/tokenizer/unicode16_pattern.h"

#include <cstdint>
#include <cstdio>
#include <span>

namespace v4rt::runtime {
namespace {

struct CodePointRange {
  uint32_t first;
  uint32_t last;  // inclusive
};
struct ClassDelta {
  std::string_view name;  // short category name ("L", "Mn"), or "d", "w" for \d, \w
  std::span<const CodePointRange> add;
  std::span<const CodePointRange> remove;
};

#include "runtime/tokenizer/unicode16_delta.inc"

// Short name of each general category, with the long names Oniguruma also
// accepts (Unicode's PropertyValueAliases.txt), in Oniguruma's loose form:
// lower case, without ' ', '-', '_'.
struct Alias {
  std::string_view loose;
  std::string_view name;
};
constexpr Alias kAliases[] = {
    {"l", "L"}, {"letter", "L"}, {"lc", "LC"}, {"casedletter", "LC"},
    {"lu", "Lu"}, {"uppercaseletter", "Lu"}, {"ll", "Ll"}, {"lowercaseletter", "Ll"},
    {"lt", "Lt"}, {"titlecaseletter", "Lt"}, {"lm", "Lm"}, {"modifierletter", "Lm"},
    {"lo", "Lo"}, {"otherletter", "Lo"},
    {"m", "M"}, {"mark", "M"}, {"combiningmark", "M"}, {"mn", "Mn"}, {"nonspacingmark", "Mn"},
    {"mc", "Mc"}, {"spacingmark", "Mc"}, {"me", "Me"}, {"enclosingmark", "Me"},
    {"n", "N"}, {"number", "N"}, {"nd", "Nd"}, {"decimalnumber", "Nd"},
    {"nl", "Nl"}, {"letternumber", "Nl"}, {"no", "No"}, {"othernumber", "No"},
    {"p", "P"}, {"punctuation", "P"}, {"pc", "Pc"}, {"connectorpunctuation", "Pc"},
    {"pd", "Pd"}, {"dashpunctuation", "Pd"}, {"ps", "Ps"}, {"openpunctuation", "Ps"},
    {"pe", "Pe"}, {"closepunctuation", "Pe"}, {"pi", "Pi"}, {"initialpunctuation", "Pi"},
    {"pf", "Pf"}, {"finalpunctuation", "Pf"}, {"po", "Po"}, {"otherpunctuation", "Po"},
    {"s", "S"}, {"symbol", "S"}, {"sm", "Sm"}, {"mathsymbol", "Sm"}, {"sc", "Sc"}, {"currencysymbol", "Sc"},
    {"sk", "Sk"}, {"modifiersymbol", "Sk"}, {"so", "So"}, {"othersymbol", "So"},
    {"z", "Z"}, {"separator", "Z"}, {"zs", "Zs"}, {"spaceseparator", "Zs"},
    {"zl", "Zl"}, {"lineseparator", "Zl"}, {"zp", "Zp"}, {"paragraphseparator", "Zp"},
    {"c", "C"}, {"other", "C"}, {"cc", "Cc"}, {"control", "Cc"}, {"cf", "Cf"}, {"format", "Cf"},
    {"cs", "Cs"}, {"surrogate", "Cs"}, {"co", "Co"}, {"privateuse", "Co"}, {"cn", "Cn"}, {"unassigned", "Cn"},
};

const ClassDelta* find_delta(std::string_view name) {
  for (const ClassDelta& d : kUnicode16Delta)
    if (d.name == name) return &d;
  return nullptr;
}

// The delta of a \p{...} body (without the '^'), or null when it names no
// general category or the category did not change.
const ClassDelta* category_delta(std::string_view body) {
  std::string loose;
  for (char ch : body) {
    if (ch == ' ' || ch == '-' || ch == '_') continue;
    loose += (ch >= 'A' && ch <= 'Z') ? static_cast<char>(ch - 'A' + 'a') : ch;
  }
  for (const Alias& a : kAliases)
    if (a.loose == loose) return find_delta(a.name);
  return nullptr;
}

void append_ranges(std::string& out, std::span<const CodePointRange> ranges) {
  char buf[32];
  for (const CodePointRange& r : ranges) {
    const auto first = static_cast<unsigned>(r.first), last = static_cast<unsigned>(r.last);
    if (first == last) std::snprintf(buf, sizeof buf, "\\x{%X}", first);
    else std::snprintf(buf, sizeof buf, "\\x{%X}-\\x{%X}", first, last);
    out += buf;
  }
}

// [class+add&&[^remove]], with '^' after '[' when negated.
void append_widened(std::string& out, std::string_view cls, const ClassDelta& d, bool negated) {
  out += negated ? "[^" : "[";
  out += cls;
  append_ranges(out, d.add);
  if (!d.remove.empty()) {
    out += "&&[^";
    append_ranges(out, d.remove);
    out += ']';
  }
  out += ']';
}

// Outside brackets only: (?:(?![remove])ESC|[add]) for a positive escape,
// (?:(?![add])ESC|[remove]) for a negated one (ESC: \w or \W as written).
void append_grouped(std::string& out, std::string_view esc, const ClassDelta& d, bool negated) {
  const std::span<const CodePointRange> excluded = negated ? d.add : d.remove;
  const std::span<const CodePointRange> included = negated ? d.remove : d.add;
  out += "(?:";
  if (!excluded.empty()) {
    out += "(?![";
    append_ranges(out, excluded);
    out += "])";
  }
  out += esc;
  if (!included.empty()) {
    out += "|[";
    append_ranges(out, included);
    out += ']';
  }
  out += ')';
}

}  // namespace

std::string widen_to_unicode16(std::string_view pattern) {
  std::string out;
  out.reserve(pattern.size());
  int depth = 0;               // bracket nesting: 0 outside any [...]
  bool class_start = false;    // right after '[' or '[^': a ']' here is literal
  size_t i = 0;
  while (i < pattern.size()) {
    const char ch = pattern[i];
    if (ch != '\\' || i + 1 == pattern.size()) {
      if (depth == 0 && pattern.substr(i, 3) == "(?#") {  // a comment: copied to its ')'
        const size_t close = pattern.find(')', i);
        const size_t n = close == std::string_view::npos ? pattern.size() - i : close + 1 - i;
        out.append(pattern.substr(i, n));
        i += n;
        continue;
      }
      out += ch;
      ++i;
      if (ch == '[') {
        ++depth;
        class_start = true;
        if (i < pattern.size() && pattern[i] == '^') out += pattern[i++];
      } else if (ch == ']' && depth > 0 && !class_start) {
        --depth;
      } else {
        class_start = false;
      }
      continue;
    }
    class_start = false;
    const char e = pattern[i + 1];
    if (e == 'd' || e == 'D' || e == 'w' || e == 'W') {
      const char lower = e == 'D' ? 'd' : e == 'W' ? 'w' : e;
      const bool negated = e != lower;
      if (const ClassDelta* d = find_delta(std::string_view(&lower, 1))) {
        if (lower == 'w' && depth == 0) {
          // Outside brackets Oniguruma's \w also matches the Latin-1 digits
          // U+00B2 U+00B3 U+00B9 U+00BC-U+00BE, and [\w] does not (HF's engine
          // alike): keep the bare escape and add/remove around it.
          append_grouped(out, pattern.substr(i, 2), *d, negated);
        } else {
          const std::string cls = {'\\', lower};
          append_widened(out, cls, *d, negated);
        }
      } else {
        out.append(pattern.substr(i, 2));
      }
      i += 2;
      continue;
    }
    if ((e == 'p' || e == 'P') && i + 2 < pattern.size() && pattern[i + 2] == '{') {
      const size_t close = pattern.find('}', i + 3);
      if (close != std::string_view::npos) {
        std::string_view body = pattern.substr(i + 3, close - (i + 3));
        bool negated = e == 'P';
        if (!body.empty() && body.front() == '^') {
          body.remove_prefix(1);
          negated = !negated;
        }
        if (const ClassDelta* d = category_delta(body)) {
          append_widened(out, "\\p{" + std::string(body) + "}", *d, negated);
          i = close + 1;
          continue;
        }
      }
    }
    // Any other escape: the backslash and the byte after it, unchanged (so
    // "\\p{L}" stays a literal backslash before "p{L}", and "\\[" opens nothing).
    out.append(pattern.substr(i, 2));
    i += 2;
  }
  return out;
}

}  // namespace v4rt::runtime
