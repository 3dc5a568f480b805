// End to end: `v4rt model init` -> `v4rt generate` (text, --json, --session,
// --max-tokens 0) -> `v4rt bench`, as real subprocesses.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "test_util.h"

namespace v4rt {
namespace {

namespace fs = std::filesystem;
using v4rt::testing::run_command;
using v4rt::testing::shell_quote;

std::string v4rt_cmd() { return shell_quote(v4rt::testing::v4rt_binary().string()); }

bool have_v3_tokenizer() {
  return fs::exists(v4rt::testing::source_dir() / "data/tokenizer/deepseek-v3/tokenizer.json");
}

std::string tok_flag() {
  return " --tokenizer " +
         shell_quote((v4rt::testing::source_dir() / "data/tokenizer/deepseek-v3/tokenizer.json").string());
}

std::vector<nlohmann::json> json_lines(const std::string& out) {
  std::vector<nlohmann::json> v;
  size_t p = 0;
  while (p < out.size()) {
    size_t e = out.find('\n', p);
    if (e == std::string::npos) e = out.size();
    if (e > p) v.push_back(nlohmann::json::parse(out.substr(p, e - p)));
    p = e + 1;
  }
  return v;
}

class CliGenerateTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!have_v3_tokenizer()) return;
    dir_ = new v4rt::testing::TempDir();
    auto r = run_command(v4rt_cmd() + " model init --preset tiny --format fp8 --seed 3 --quiet --out " +
                         shell_quote((dir_->path() / "m").string()) + tok_flag());
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  void SetUp() override {
    if (!have_v3_tokenizer()) GTEST_SKIP() << "data/tokenizer/deepseek-v3/tokenizer.json absent (run scripts/setup.sh)";
  }
  static std::string model() { return shell_quote((dir_->path() / "m").string()); }
  static std::string store() { return shell_quote((dir_->path() / "store").string()); }
  static v4rt::testing::TempDir* dir_;
};
v4rt::testing::TempDir* CliGenerateTest::dir_ = nullptr;

TEST_F(CliGenerateTest, ModelInitWritesTheHuggingFaceLayout) {
  fs::path m = dir_->path() / "m";
  for (const char* f : {"config.json", "model.safetensors.index.json", "model-00001-of-00002.safetensors",
                        "model-00002-of-00002.safetensors", "tokenizer.json", "tokenizer_config.json"})
    EXPECT_TRUE(fs::exists(m / f)) << f;
  auto r = run_command(v4rt_cmd() + " model inspect " + model());
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
}

TEST_F(CliGenerateTest, GenerateStreamsTextAndJsonReportsCounts) {
  auto text = run_command(v4rt_cmd() + " generate --no-store --quiet --model " + model() +
                          " --prompt 'Hello there' --max-tokens 12 --temperature 0 --ignore-eos");
  ASSERT_EQ(text.exit_code, 0) << text.err;
  auto js = run_command(v4rt_cmd() + " generate --no-store --quiet --json --model " + model() +
                        " --prompt 'Hello there' --max-tokens 12 --temperature 0 --ignore-eos");
  ASSERT_EQ(js.exit_code, 0) << js.err;
  auto lines = json_lines(js.out);
  ASSERT_FALSE(lines.empty());
  const auto& res = lines.back();
  EXPECT_EQ(res["type"], "result");
  EXPECT_EQ(res["generated_tokens"], 12);
  EXPECT_EQ(res["prompt_tokens"].get<int>(), res["prefilled_tokens"].get<int>());
  std::string streamed;
  for (size_t i = 0; i + 1 < lines.size(); ++i) {
    EXPECT_EQ(lines[i]["type"], "token");
    streamed += lines[i]["text"].get<std::string>();
  }
  EXPECT_EQ(streamed, res["text"].get<std::string>());
  // stdout is raw bytes (no trailing newline off a TTY); JSON replaces invalid UTF-8
  // (random weights emit partial byte sequences) with U+FFFD, so compare after the same replacement.
  std::string as_json = nlohmann::json(text.out).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  EXPECT_EQ(nlohmann::json::parse(as_json).get<std::string>(), res["text"].get<std::string>());
}

TEST_F(CliGenerateTest, SessionContinuesAndPrefillOnlySaves) {
  std::string base = v4rt_cmd() + " generate --quiet --json --temperature 0 --ignore-eos --model " + model() +
                     " --store " + store();
  auto first = run_command(base + " --session s --prompt 'The first turn of a conversation.' --max-tokens 0");
  ASSERT_EQ(first.exit_code, 0) << first.err;
  auto r1 = json_lines(first.out).back();
  EXPECT_EQ(r1["generated_tokens"], 0);
  EXPECT_EQ(r1["saved_points"], 1);
  auto second = run_command(base + " --session s --prompt ' And a second one.' --max-tokens 5");
  ASSERT_EQ(second.exit_code, 0) << second.err;
  auto r2 = json_lines(second.out).back();
  EXPECT_EQ(r2["reused_tokens"].get<int>(), r1["prompt_tokens"].get<int>()) << "the whole first turn is restored";
  EXPECT_GT(r2["prompt_tokens"].get<int>(), r1["prompt_tokens"].get<int>());
  EXPECT_EQ(r2["generated_tokens"], 5);
  // --session without a store is a usage error.
  auto bad = run_command(v4rt_cmd() + " generate --no-store --session s --model " + model() + " --prompt x");
  EXPECT_EQ(bad.exit_code, 2);
}

// Issue 17, bug 7: on a fresh machine `session list` is an empty list (exit
// 0); `session export NAME out.file` with a bare relative name succeeds.
TEST_F(CliGenerateTest, SessionListOnAFreshMachineAndExportToABareName) {
  fs::path fresh = dir_->path() / "fresh-xdg";
  auto list = run_command("env -u V4RT_STORE XDG_DATA_HOME=" + shell_quote(fresh.string()) + " " + v4rt_cmd() +
                          " session list --json");
  ASSERT_EQ(list.exit_code, 0) << list.err;
  auto j = nlohmann::json::parse(list.out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << list.out;
  EXPECT_EQ(j["sessions"], nlohmann::json::array());
  fs::path st = dir_->path() / "export-store";
  auto gen = run_command(v4rt_cmd() + " generate --quiet --temperature 0 --model " + model() + " --store " +
                         shell_quote(st.string()) + " --session ex --prompt 'To export.' --max-tokens 0");
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  fs::path out_dir = dir_->path() / "export-out";
  fs::create_directories(out_dir);
  auto ex = run_command("cd " + shell_quote(out_dir.string()) + " && " + v4rt_cmd() + " session export ex out.v4rtsession --store " +
                        shell_quote(st.string()));
  EXPECT_EQ(ex.exit_code, 0) << ex.err;
  EXPECT_TRUE(fs::exists(out_dir / "out.v4rtsession"));
}

TEST_F(CliGenerateTest, BenchReportsSpeedsMemoryAndMtp) {
  auto r = run_command(v4rt_cmd() + " bench --json --model " + model() + " --prompt-tokens 200 --gen-tokens 8");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_GT(j["prefill_tok_s"].get<double>(), 0);
  EXPECT_GT(j["decode_tok_s"].get<double>(), 0);
  EXPECT_GT(j["peak_rss_bytes"].get<double>(), 0);
  EXPECT_GT(j["kv_bytes_per_token_measured"].get<double>(), 0);
  EXPECT_TRUE(j["mtp_greedy_identical"].get<bool>());
}

TEST_F(CliGenerateTest, UsageErrorsExitTwo) {
  EXPECT_EQ(run_command(v4rt_cmd() + " generate --prompt x").exit_code, 2);  // no --model
  EXPECT_EQ(run_command(v4rt_cmd() + " generate --model " + model() + " --prompt x --top-p 2").exit_code, 2);
  auto h = run_command(v4rt_cmd() + " generate --help");
  EXPECT_EQ(h.exit_code, 0);
  EXPECT_NE(h.out.find("--session"), std::string::npos);
}

}  // namespace
}  // namespace v4rt
