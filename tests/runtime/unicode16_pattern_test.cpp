// widen_to_unicode16: the rewrite itself, and the classes that compiled
// TokenizerRegex patterns give characters assigned after Unicode 14 (Debian
// 12's libonig tables) up to Unicode 16 (the tables of tokenizers@0.23.2's
// Oniguruma). tokenizer_parity_test.cpp compares all code points with HF's
// engine itself; this file needs neither node nor the tokenizer data.
#include "runtime/tokenizer/unicode16_pattern.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "runtime/tokenizer/tokenizer_regex.h"

namespace v4rt::runtime {
namespace {

std::string utf8(uint32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else if (cp < 0x800) {
    s += static_cast<char>(0xC0 | (cp >> 6));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    s += static_cast<char>(0xE0 | (cp >> 12));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    s += static_cast<char>(0xF0 | (cp >> 18));
    s += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return s;
}

// Whether the compiled `pattern` matches the character `cp` (a whole match).
bool in_class(const char* pattern, uint32_t cp) {
  auto re = TokenizerRegex::compile(std::string("(?:") + pattern + ")\\z");
  EXPECT_TRUE(re.ok()) << pattern << ": " << re.status().to_string();
  return re.ok() && re->matches_prefix(utf8(cp));
}

TEST(TokenizerUnicode16, RewritesGeneralCategories) {
  EXPECT_EQ(widen_to_unicode16("\\p{No}"), "[\\p{No}\\x{1D2C0}-\\x{1D2D3}]");
  EXPECT_EQ(widen_to_unicode16("\\P{Pd}+"), "[^\\p{Pd}\\x{10D6E}]+");
  EXPECT_EQ(widen_to_unicode16("\\p{^Sm}"), "[^\\p{Sm}\\x{10D8E}-\\x{10D8F}]");
  EXPECT_EQ(widen_to_unicode16("\\p{Dash_Punctuation}"), "[\\p{Dash_Punctuation}\\x{10D6E}]");
  EXPECT_EQ(widen_to_unicode16("\\p{dash punctuation}"), "[\\p{dash punctuation}\\x{10D6E}]");
  EXPECT_EQ(widen_to_unicode16("[^\\s\\p{Pd}]"), "[^\\s[\\p{Pd}\\x{10D6E}]]");
  // U+1171E is Mn in Unicode 14.0 and Mc in 16.0, so it leaves \p{Mn}.
  const std::string mn = widen_to_unicode16("\\p{Mn}");
  EXPECT_EQ(mn.rfind("[\\p{Mn}\\x{897}", 0), 0u) << mn;
  EXPECT_NE(mn.find("&&[^\\x{1171E}]]"), std::string::npos) << mn;
  // Categories without changes since Unicode 14 stay as written.
  EXPECT_EQ(widen_to_unicode16("\\p{Lt}\\p{Zs}\\p{Pi}"), "\\p{Lt}\\p{Zs}\\p{Pi}");
}

TEST(TokenizerUnicode16, LeavesOtherSyntaxAlone) {
  for (const char* p : {"\\\\p{L}", "\\p{Han}", "\\p{Alpha}", "[[:alpha:]]", "\\s+(?!\\S)|\\s+",
                        "(?#\\w\\p{L})x", "\\x{41}\\u0041", "[\\[\\]]", "'s|'t|'re", "\\pL"}) {
    EXPECT_EQ(widen_to_unicode16(p), p);
  }
  // A ']' right after '[' is a literal: the class stays open for \w.
  EXPECT_EQ(widen_to_unicode16("[]\\w]").rfind("[][\\w\\x{897}", 0), 0u);
}

TEST(TokenizerUnicode16, WordEscapeKeepsOnigurumaForms) {
  // Oniguruma's bare \w matches U+00B2 (superscript two), [\w] does not; HF's
  // engine does the same, so \w stays bare outside brackets.
  EXPECT_EQ(widen_to_unicode16("\\w+").rfind("(?:\\w|[\\x{897}", 0), 0u);
  EXPECT_EQ(widen_to_unicode16("\\W").rfind("(?:(?![\\x{897}", 0), 0u);
  EXPECT_EQ(widen_to_unicode16("[\\w-]").rfind("[[\\w\\x{897}", 0), 0u);
  EXPECT_TRUE(in_class("\\w", 0xB2));
  EXPECT_FALSE(in_class("[\\w]", 0xB2));
  EXPECT_FALSE(in_class("\\W", 0xB2));
}

TEST(TokenizerUnicode16, NewCharactersGetUnicode16Classes) {
  struct Case {
    uint32_t cp;
    std::vector<const char*> in;      // classes it must match
    std::vector<const char*> not_in;  // classes it must not match
  };
  const Case cases[] = {
      // 🩷 (So, Unicode 15.0): a symbol, so no longer the prefix of a letter run.
      {0x1FA77, {"\\p{S}", "\\p{So}", "[\\p{P}\\p{S}]"}, {"\\p{Cn}", "\\p{L}", "[^\r\n\\p{L}\\p{P}\\p{S}]"}},
      {0x1FADA, {"\\p{S}", "\\p{So}"}, {"\\p{Cn}", "\\p{C}"}},                 // 🫚 (So, 15.0)
      {0x2427, {"\\p{S}", "\\p{So}"}, {"\\p{Cn}"}},                            // (So, 16.0)
      {0x1C89, {"\\p{L}", "\\p{Lu}", "\\p{LC}", "\\w", "[\\w]"}, {"\\p{Cn}", "\\W", "\\P{L}", "[^\\p{L}]"}},
      {0x31350, {"\\p{L}", "\\p{Lo}", "\\p{Letter}"}, {"\\p{Cn}"}},             // CJK Ext. H (15.0)
      {0x0897, {"\\p{M}", "\\p{Mn}", "\\w"}, {"\\p{Cn}", "\\p{L}"}},            // (Mn, 16.0)
      {0x10D40, {"\\p{N}", "\\p{Nd}", "\\d", "\\w"}, {"\\p{Cn}", "\\D"}},        // Garay digit (16.0)
      {0x1D2C0, {"\\p{N}", "\\p{No}"}, {"\\p{Cn}", "\\d"}},                     // Kaktovik numeral (15.0)
      {0x1B4E, {"\\p{P}", "\\p{Po}"}, {"\\p{Cn}"}},                            // (Po, 16.0)
      {0x13439, {"\\p{C}", "\\p{Cf}"}, {"\\p{Cn}"}},                           // (Cf, 15.0)
      {0x1171E, {"\\p{M}", "\\p{Mc}"}, {"\\p{Mn}", "\\P{M}"}},                  // Mn in 14.0, Mc in 16.0
      {0x20C1, {"\\p{Cn}", "\\p{C}"}, {"\\p{S}", "\\p{Sc}"}},                   // Unicode 17.0 only
      {0x0041, {"\\p{L}", "\\p{Lu}", "\\w"}, {"\\p{Cn}", "\\p{Ll}"}},            // unchanged
  };
  for (const Case& c : cases) {
    for (const char* cls : c.in) EXPECT_TRUE(in_class(cls, c.cp)) << std::hex << "U+" << c.cp << " " << cls;
    for (const char* cls : c.not_in) EXPECT_FALSE(in_class(cls, c.cp)) << std::hex << "U+" << c.cp << " " << cls;
  }
}

}  // namespace
}  // namespace v4rt::runtime
