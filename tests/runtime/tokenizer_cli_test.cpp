// `v4rt tokenize` end to end: the real binary as a subprocess.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "test_util.h"

namespace v4rt::runtime {
namespace {

namespace fs = std::filesystem;
using v4rt::testing::run_command;
using v4rt::testing::shell_quote;

fs::path v3_json() { return v4rt::testing::source_dir() / "data/tokenizer/deepseek-v3/tokenizer.json"; }

std::string tokenize(const std::string& args) {
  return shell_quote(v4rt::testing::v4rt_binary().string()) + " tokenize " + args;
}

class TokenizeCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(v3_json())) GTEST_SKIP() << v3_json() << " is missing: run scripts/setup.sh";
  }
};

TEST_F(TokenizeCli, EncodeAndDecode) {
  auto r = run_command(tokenize("--tokenizer " + shell_quote(v3_json().string())),
                       "{\"text\": \"Hello world 12345 <\uFF5CUser\uFF5C>hi\\u0085 x\"}\n\n{\"text\": \"\"}\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "{\"ids\":[19923,2058,223,6895,1883,223,128803,6366,129,230,1527]}\n{\"ids\":[]}\n");
  auto d = run_command(tokenize("--decode --tokenizer " + shell_quote(v3_json().string())),
                       "{\"ids\":[19923,2058]}\n{\"ids\":[0,19923]}\n");
  ASSERT_EQ(d.exit_code, 0) << d.err;
  EXPECT_EQ(d.out, "{\"text\":\"Hello world\"}\n{\"text\":\"<\uFF5Cbegin\u2581of\u2581sentence\uFF5C>Hello\"}\n");
  auto s = run_command(tokenize("--decode --skip-special --tokenizer " + shell_quote(v3_json().string())),
                       "{\"ids\":[0,19923]}\n");
  EXPECT_EQ(s.out, "{\"text\":\"Hello\"}\n");
}

TEST_F(TokenizeCli, ModelDirectoryOfV4AddsSpecials) {
  v4rt::testing::TempDir dir;
  std::ofstream(dir.path() / "config.json") << R"({"compress_ratios": [0, 4, 128]})";
  const std::string env = "V4RT_TOKENIZER=" + shell_quote(v3_json().string()) + " ";
  auto r = run_command(env + tokenize("--model " + shell_quote(dir.path().string())), "{\"text\":\"<think>x</think>\"}\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("{\"ids\":[128821,", 0), 0u) << r.out;
  // Without the V4 config, <think> is ordinary text.
  fs::remove(dir.path() / "config.json");
  auto v3 = run_command(env + tokenize("--model " + shell_quote(dir.path().string())), "{\"text\":\"<think>\"}\n");
  ASSERT_EQ(v3.exit_code, 0) << v3.err;
  EXPECT_EQ(v3.out.find("128821"), std::string::npos) << v3.out;
}

TEST_F(TokenizeCli, Errors) {
  const std::string tok = "--tokenizer " + shell_quote(v3_json().string());
  auto bad = run_command(tokenize(tok), "{\"txt\": 1}\n");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("line 1"), std::string::npos) << bad.err;
  auto bad_id = run_command(tokenize("--decode " + tok), "{\"ids\":[999999999]}\n");
  EXPECT_EQ(bad_id.exit_code, 1);
  auto missing = run_command(tokenize("--tokenizer /nonexistent/tokenizer.json"), "");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("/nonexistent/tokenizer.json"), std::string::npos) << missing.err;
  auto usage = run_command(tokenize("--bogus"), "");
  EXPECT_EQ(usage.exit_code, 2);
  auto help = run_command(tokenize("--help"));
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("V4RT_TOKENIZER"), std::string::npos);
}

}  // namespace
}  // namespace v4rt::runtime
