// `v4rt model inspect` end to end: the real binary on the tiny golden
// checkpoints, on config-only directories (V4-Flash / V4-Pro) and on a
// checkpoint whose weights do not match its config.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "test_util.h"

namespace v4rt::testing {
namespace {

namespace fs = std::filesystem;

CommandResult inspect(const std::string& args) {
  return run_command(shell_quote(v4rt_binary().string()) + " model inspect " + args);
}

fs::path tiny(const char* variant) {
  fs::path g = golden_dir();
  return g.empty() ? fs::path() : g / "v4-tiny/tiny" / variant;
}

bool has(const std::string& s, const std::string& needle) { return s.find(needle) != std::string::npos; }

TEST(CliModelInspectTest, TinyFp8Checkpoint) {
  if (tiny("fp8").empty()) GTEST_SKIP() << "golden data absent (V4RT_GOLDEN_DIR)";
  CommandResult r = inspect(shell_quote(tiny("fp8").string()));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(has(r.out, "6 layers + 1 MTP")) << r.out;
  EXPECT_TRUE(has(r.out, "3 SWA, 2 CSA (ratio 4, indexer), 2 HCA (ratio 128)")) << r.out;
  EXPECT_TRUE(has(r.out, "163 B bf16")) << r.out;
  EXPECT_TRUE(has(r.out, "F8_E4M3      60 tensors")) << r.out;
  EXPECT_TRUE(has(r.out, "I8          168 tensors")) << r.out;
  EXPECT_TRUE(has(r.out, "check       ok: all 585 tensors")) << r.out;
}

TEST(CliModelInspectTest, TinyBf16CheckpointJson) {
  if (tiny("bf16").empty()) GTEST_SKIP() << "golden data absent (V4RT_GOLDEN_DIR)";
  CommandResult r = inspect("--json " + shell_quote(tiny("bf16").string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  EXPECT_EQ(j["weights"]["tensors"], 357);
  EXPECT_EQ(j["weights"]["tensor_bytes"], 19604432);
  EXPECT_EQ(j["weights"]["by_dtype"]["BF16"]["count"], 289);
  EXPECT_EQ(j["check"]["ok"], true);
  EXPECT_EQ(j["config"]["fp8_weights"], false);
  EXPECT_EQ(j["config"]["layers"][1]["type"], "CSA");
}

TEST(CliModelInspectTest, ConfigOnlyFlashAndPro) {
  TempDir dir;
  fs::create_directories(dir.path() / "flash");
  fs::create_directories(dir.path() / "pro");
  fs::copy_file(source_dir() / "tests/data/configs/v4-flash.json", dir.path() / "flash/config.json");
  fs::copy_file(source_dir() / "tests/data/configs/v4-pro.json", dir.path() / "pro/config.json");
  CommandResult r = inspect(shell_quote((dir.path() / "flash").string()));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(has(r.out, "6880 B bf16")) << r.out;
  EXPECT_TRUE(has(r.out, "3 SWA, 21 CSA")) << r.out;
  EXPECT_TRUE(has(r.out, "weights     absent")) << r.out;
  EXPECT_TRUE(has(r.out, "69187 tensors expected")) << r.out;
  r = inspect("--json " + shell_quote((dir.path() / "pro").string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  EXPECT_EQ(j["weights_present"], false);
  EXPECT_EQ(j["config"]["kv_bytes_per_token_bf16"], 9848.0);
  EXPECT_EQ(j["config"]["n_csa_layers"], 30);
  EXPECT_EQ(j["config"]["n_hca_layers"], 31);
}

TEST(CliModelInspectTest, ReportsMissingAndMismatchedTensors) {
  if (tiny("fp8").empty()) GTEST_SKIP() << "golden data absent (V4RT_GOLDEN_DIR)";
  TempDir dir;  // the fp8 config over the bf16 weights
  fs::copy_file(tiny("fp8") / "config.json", dir.path() / "config.json");
  for (const char* f : {"model.safetensors.index.json", "model-00001-of-00002.safetensors",
                        "model-00002-of-00002.safetensors"})
    fs::create_symlink(tiny("bf16") / f, dir.path() / f);
  CommandResult r = inspect(shell_quote(dir.path().string()));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(has(r.out, "FAILED: 228 of 585 needed tensors missing, 228 with the wrong dtype or shape")) << r.out;
  EXPECT_TRUE(has(r.out, "missing     layers.0.attn.wq_a.scale (F8_E8M0 [1, 2])")) << r.out;
  EXPECT_TRUE(has(r.out, "expected I8 [128, 128], found BF16 [128, 256]")) << r.out;
  EXPECT_TRUE(has(r.err, "does not match its config.json")) << r.err;
}

TEST(CliModelInspectTest, Errors) {
  CommandResult r = inspect("");
  EXPECT_EQ(r.exit_code, 2);
  TempDir dir;
  r = inspect(shell_quote(dir.path().string()));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(has(r.err, "no config.json")) << r.err;
  r = run_command(shell_quote(v4rt_binary().string()) + " model frobnicate");
  EXPECT_EQ(r.exit_code, 2);
  r = inspect("--help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(has(r.out, "--json")) << r.out;
}

}  // namespace
}  // namespace v4rt::testing
