// Tokenizer unit tests on the real DeepSeek V3 tokenizer.json (skipped when
// scripts/setup.sh has not fetched it) and on small hand-made files.
#include "runtime/tokenizer/tokenizer.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>

#include "test_util.h"

namespace v4rt::runtime {
namespace {

std::filesystem::path v3_path() {
  return v4rt::testing::source_dir() / "data/tokenizer/deepseek-v3/tokenizer.json";
}

class DeepSeekTokenizer : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!std::filesystem::exists(v3_path())) return;
    auto t = Tokenizer::load(v3_path(), false);
    ASSERT_TRUE(t.ok()) << t.status().to_string();
    v3_ = std::move(*t).release();
    auto t4 = Tokenizer::load(v3_path(), true);
    ASSERT_TRUE(t4.ok()) << t4.status().to_string();
    v4_ = std::move(*t4).release();
  }
  static void TearDownTestSuite() {
    delete v3_;
    delete v4_;
    v3_ = v4_ = nullptr;
  }
  void SetUp() override {
    if (!v3_) GTEST_SKIP() << v3_path() << " is missing: run scripts/setup.sh";
  }
  static const Tokenizer* v3_;
  static const Tokenizer* v4_;
};
const Tokenizer* DeepSeekTokenizer::v3_ = nullptr;
const Tokenizer* DeepSeekTokenizer::v4_ = nullptr;

// Ids checked against Hugging Face tokenizers 0.23.2 (npm) on the same file.
TEST_F(DeepSeekTokenizer, KnownIds) {
  EXPECT_EQ(v3_->encode("Hello world 12345 <\uFF5CUser\uFF5C>hi\u0085 x"),
            (std::vector<int32_t>{19923, 2058, 223, 6895, 1883, 223, 128803, 6366, 129, 230, 1527}));
}

// Characters assigned after Unicode 14 (libonig 6.9.8's tables) get their
// Unicode 16 classes, as in HF's engine: e.g. U+1FA77 is a symbol, so " 🩷"
// is one piece (" ?[\p{P}\p{S}]+"), not ' ' + a character of no class.
// Ids checked against Hugging Face tokenizers 0.23.2 (npm) on the same file.
TEST_F(DeepSeekTokenizer, PostUnicode14CharactersKnownIds) {
  const std::pair<const char*, std::vector<int32_t>> cases[] = {
      {"I \U0001FA77 you", {43, 7351, 105, 118, 440}},            // So, Unicode 15.0
      {"Hello, \U0001FADA!", {19923, 14, 7351, 107, 251, 3}},    // So, 15.0
      {" \u2427", {1327, 241, 103}},                             // So, 16.0
      {" \u1C89", {8751, 113, 234}},                             // Lu, 16.0
      {" \U00031350", {86387, 112, 238, 241}},                   // Lo, 15.0 (CJK Ext. H)
      {" \u1B4E", {8751, 258, 239}},                             // Po, 16.0
  };
  for (const auto& [text, ids] : cases) {
    EXPECT_EQ(v3_->encode(text), ids) << text;
    EXPECT_EQ(v3_->encode_without_fast_path(text), ids) << text;
  }
}

TEST_F(DeepSeekTokenizer, SpecialTokens) {
  EXPECT_EQ(v3_->token_id("<\uFF5Cbegin\u2581of\u2581sentence\uFF5C>"), 0);
  EXPECT_EQ(v3_->token_id("<\uFF5CUser\uFF5C>"), 128803);
  EXPECT_EQ(v3_->token_id("<\uFF5CAssistant\uFF5C>"), 128804);
  EXPECT_FALSE(v3_->token_id("<think>").has_value());
  EXPECT_EQ(v3_->vocab_size(), 128815);
  for (const V4SpecialToken& s : v4_special_tokens()) {
    EXPECT_EQ(v4_->token_id(s.content), s.id) << s.content;
    EXPECT_EQ(v4_->token_text(s.id), s.content);
    std::string text = "a";
    text.append(s.content).append("b");
    EXPECT_EQ(v4_->encode(text).at(1), s.id) << s.content;
  }
  EXPECT_EQ(v4_->vocab_size(), 128846);
  // "<｜DSML｜invoke": '<' is text, then the DSML marker, then text.
  auto ids = v4_->encode("<\uFF5CDSML\uFF5Cinvoke name=\"x\">");
  ASSERT_GE(ids.size(), 3u);
  EXPECT_EQ(ids[1], 128825);
  EXPECT_EQ(v4_->decode(ids), "<\uFF5CDSML\uFF5Cinvoke name=\"x\">");
}

TEST_F(DeepSeekTokenizer, DecodeSkipsSpecialOnRequest) {
  std::vector<int32_t> ids = v3_->encode("<\uFF5Cbegin\u2581of\u2581sentence\uFF5C>Hi");
  ASSERT_EQ(ids.front(), 0);
  EXPECT_EQ(v3_->decode(ids, true), "Hi");
  EXPECT_EQ(v3_->decode(ids), "<\uFF5Cbegin\u2581of\u2581sentence\uFF5C>Hi");
  std::vector<int32_t> unknown = {-5, 999999, ids.back()};
  EXPECT_EQ(v3_->decode(unknown), "Hi");
}

TEST_F(DeepSeekTokenizer, InvalidUtf8RoundTrips) {
  const std::string cases[] = {
      std::string("\xff\xfe abc \xc3", 8),   std::string("caf\xc3\xa9\x80\x80 x", 9),
      std::string("\xed\xa0\x80 surrogate", 13), std::string("\xf4\x90\x80\x80 big", 8),
      std::string("\xc0\xaf overlong", 11), std::string("ok\x00nul", 6)};
  for (const std::string& s : cases) EXPECT_EQ(v3_->decode(v3_->encode(s)), s);
}

TEST_F(DeepSeekTokenizer, EmptyAndWhitespace) {
  EXPECT_TRUE(v3_->encode("").empty());
  for (const char* s : {" ", "\n", "   \n\n  \t", "\r\n"}) EXPECT_EQ(v3_->decode(v3_->encode(s)), s);
}

TEST_F(DeepSeekTokenizer, ConcurrentEncodeIsConsistent) {
  std::string text;
  for (int i = 0; i < 200; ++i)
    text += "int f" + std::to_string(i) + "(void) { return x * 42; } // \u00e9t\u00e9 \U0001F600\U0001D400\n";
  const std::vector<int32_t> want = v3_->encode(text);
  std::vector<std::thread> threads;
  std::vector<int> ok(4, 0);
  // Odd threads take the Oniguruma path, even ones the fast path (non-BMP
  // characters there also ask Oniguruma): both share the compiled regexes.
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] { ok[t] = (t % 2 ? v3_->encode_without_fast_path(text) : v3_->encode(text)) == want; });
  for (auto& th : threads) th.join();
  for (int t = 0; t < 4; ++t) EXPECT_TRUE(ok[t]);
}

TEST_F(DeepSeekTokenizer, FastPathEqualsRegexOnSources) {
  // Every file of the checkout under runtime/, model/ and tests/: fast == regex-only.
  int files = 0;
  for (const char* dir : {"runtime", "model", "tests/runtime", "agents"}) {
    std::error_code ec;
    for (auto& e : std::filesystem::recursive_directory_iterator(v4rt::testing::source_dir() / dir, ec)) {
      if (!e.is_regular_file()) continue;
      std::ifstream in(e.path(), std::ios::binary);
      std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      ASSERT_EQ(v3_->encode(s), v3_->encode_without_fast_path(s)) << e.path();
      ASSERT_EQ(v3_->decode(v3_->encode(s)), s) << e.path();
      ++files;
    }
  }
  EXPECT_GT(files, 5);
}

TEST_F(DeepSeekTokenizer, FastPathEqualsRegexOnRandomAscii) {
  // All 128 ASCII characters, biased towards the ones the regex alternatives
  // care about (letters, digits, punctuation, each kind of space, CR/LF).
  std::mt19937 rng(7);
  const std::string hot = "aZ09 .,;:!?'\"()[]{}<>/\\-_=+*&|^~`@#$%\t\n\r\v\f  \n\n  ";
  for (int i = 0; i < 20000; ++i) {
    std::string s;
    const int len = static_cast<int>(rng() % 40) + 1;
    for (int k = 0; k < len; ++k)
      s += rng() % 3 == 0 ? static_cast<char>(rng() % 128) : hot[rng() % hot.size()];
    ASSERT_EQ(v3_->encode(s), v3_->encode_without_fast_path(s)) << ::testing::PrintToString(s);
  }
}

TEST_F(DeepSeekTokenizer, FastPathEqualsRegexOnRandomUnicode) {
  // Code points from blocks with letters, marks, digits of many scripts,
  // punctuation, symbols, every kind of space, CJK/kana, emoji, unassigned.
  std::mt19937 rng(11);
  const std::vector<std::pair<uint32_t, uint32_t>> ranges = {
      {0x20, 0x7E}, {0x09, 0x0D}, {0x80, 0x24F}, {0x300, 0x36F}, {0x370, 0x52F}, {0x590, 0x6FF}, {0x900, 0x9FF},
      {0xE00, 0xE7F}, {0x1680, 0x1680}, {0x2000, 0x206F}, {0x2070, 0x218F}, {0x2460, 0x24FF}, {0x3000, 0x30FF},
      {0x4E00, 0x4E20}, {0x9FA0, 0x9FB0}, {0xAC00, 0xAC20}, {0xFF00, 0xFFEF}, {0x1D400, 0x1D7FF},
      {0x1F300, 0x1FAFF}, {0x10FFF0, 0x10FFFF}, {0x0378, 0x0379}, {0x85, 0x85}, {0xA0, 0xA0}, {0x2028, 0x2029},
      // blocks with characters assigned after Unicode 14 (classes from unicode16_delta.inc)
      {0x1C80, 0x1C8F}, {0x2420, 0x242F}, {0xA7C0, 0xA7DF}, {0x10D40, 0x10D8F}, {0x1CC00, 0x1CCFF},
      {0x31340, 0x31360}};
  auto append = [](std::string& s, uint32_t cp) {
    char buf[4];
    int n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    if (n == 1) buf[0] = static_cast<char>(cp);
    else {
      for (int i = n - 1; i > 0; --i, cp >>= 6) buf[i] = static_cast<char>(0x80 | (cp & 0x3F));
      buf[0] = static_cast<char>((n == 2 ? 0xC0 : n == 3 ? 0xE0 : 0xF0) | cp);
    }
    s.append(buf, static_cast<size_t>(n));
  };
  for (int i = 0; i < 20000; ++i) {
    std::string s;
    const int len = static_cast<int>(rng() % 30) + 1;
    for (int k = 0; k < len; ++k) {
      const auto& r = ranges[rng() % ranges.size()];
      uint32_t cp = r.first + rng() % (r.second - r.first + 1);
      if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;
      append(s, cp);
    }
    ASSERT_EQ(v3_->encode(s), v3_->encode_without_fast_path(s)) << ::testing::PrintToString(s);
  }
}

// A minimal byte-level BPE tokenizer.json for error-path tests.
std::string tiny_json(const std::string& extra_pre = "null") {
  return R"({"added_tokens":[{"id":5,"content":"<s>","special":true,"normalized":false}],
  "normalizer":null,"pre_tokenizer":)" + extra_pre + R"(,"decoder":{"type":"ByteLevel"},
  "model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2,"Ġ":3,"Ġab":4},"merges":["a b","Ġ ab"]}})";
}

TEST(TokenizerLoad, TinyModel) {
  auto t = Tokenizer::from_json_text(tiny_json(), false);
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  EXPECT_EQ((*t)->encode("ab ab<s>ab"), (std::vector<int32_t>{2, 4, 5, 2}));
  EXPECT_EQ((*t)->decode((*t)->encode("ab ab<s>ab")), "ab ab<s>ab");
  EXPECT_EQ((*t)->vocab_size(), 6);
  // Bytes with no symbol in the vocab are dropped, as HF does without unk_token.
  EXPECT_EQ((*t)->encode("azb"), (std::vector<int32_t>{2}));
}

TEST(TokenizerLoad, Errors) {
  struct Case { std::string json; const char* needle; };
  const Case cases[] = {
      {"not json", "not a JSON object"},
      {"{}", "missing key \"model\""},
      {R"({"model":{"type":"WordPiece"}})", "WordPiece"},
      {R"({"model":{"type":"BPE","vocab":{"a":-1},"merges":[]}})", "vocab entry 'a'"},
      {R"({"model":{"type":"BPE","vocab":{"a":0},"merges":["a a"]}})", "not in the vocab"},
      {tiny_json(R"({"type":"Split","pattern":{"Regex":"("},"behavior":"Isolated"})"), "does not compile"},
      {tiny_json(R"({"type":"Whitespace"})"), "Whitespace"},
      {tiny_json(R"({"type":"Split","pattern":{"Regex":"a"},"behavior":"Sideways"})"), "Sideways"},
  };
  for (const Case& c : cases) {
    auto t = Tokenizer::from_json_text(c.json, false, "x.json");
    ASSERT_FALSE(t.ok()) << c.json;
    EXPECT_NE(t.status().message().find(c.needle), std::string::npos) << t.status().to_string();
  }
  auto missing = Tokenizer::load("/nonexistent/tokenizer.json", false);
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(missing.status().is_not_found());
}

TEST(TokenizerLoad, SplitBehaviours) {
  // Split on "b" with each behaviour; the vocab has every piece as one symbol
  // sequence, so the ids show where the cuts are.
  auto ids = [](const char* behavior, bool invert) {
    std::string pre = std::string(R"({"type":"Split","pattern":{"String":"b"},"behavior":")") + behavior +
                      "\",\"invert\":" + (invert ? "true" : "false") + "}";
    auto t = Tokenizer::from_json_text(tiny_json(pre), false);
    EXPECT_TRUE(t.ok()) << t.status().to_string();
    return t.ok() ? (*t)->encode("abab") : std::vector<int32_t>{};
  };
  EXPECT_EQ(ids("Isolated", false), (std::vector<int32_t>{0, 1, 0, 1}));
  EXPECT_EQ(ids("Removed", false), (std::vector<int32_t>{0, 0}));
  EXPECT_EQ(ids("MergedWithPrevious", false), (std::vector<int32_t>{2, 2}));
  EXPECT_EQ(ids("MergedWithNext", false), (std::vector<int32_t>{0, 1, 0, 1}));  // a|ba|b
  EXPECT_EQ(ids("Contiguous", false), (std::vector<int32_t>{0, 1, 0, 1}));
  EXPECT_EQ(ids("Removed", true), (std::vector<int32_t>{1, 1}));
}

TEST(LocateTokenizer, ModelDirectory) {
  v4rt::testing::TempDir dir;
  auto none = locate_tokenizer(dir.path(), "/fallback.json");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->path, "/fallback.json");
  EXPECT_FALSE(none->add_v4_specials);
  std::ofstream(dir.path() / "config.json") << R"({"compress_ratios":[0,4,128]})";
  std::ofstream(dir.path() / "tokenizer.json") << "{}";
  auto v4 = locate_tokenizer(dir.path(), "/fallback.json");
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(v4->path, dir.path() / "tokenizer.json");
  EXPECT_TRUE(v4->add_v4_specials);
  std::ofstream(dir.path() / "config.json") << "{oops";
  EXPECT_FALSE(locate_tokenizer(dir.path(), "").ok());
  EXPECT_FALSE(locate_tokenizer(dir.path() / "missing", "").ok());
}

}  // namespace
}  // namespace v4rt::runtime
