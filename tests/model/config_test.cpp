#include "model/config.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "base/file_util.h"
#include "safetensors_test_util.h"
#include "test_util.h"

namespace v4rt::model {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using v4rt::testing::TempDir;

fs::path configs_dir() { return v4rt::testing::source_dir() / "tests/data/configs"; }

Config load_ok(const fs::path& p) {
  auto c = Config::load(p);
  EXPECT_TRUE(c.ok()) << c.status().to_string();
  return c.ok() ? *c : Config{};
}

json flash_json() {
  auto text = read_file(configs_dir() / "v4-flash.json");
  EXPECT_TRUE(text.ok());
  return json::parse(*text);
}

// Parses `j` as if it were /x/config.json and returns the error message.
std::string error_of(const json& j) {
  auto c = Config::parse(j.dump(), "/x/config.json");
  EXPECT_FALSE(c.ok());
  return c.ok() ? "" : c.status().message();
}

TEST(ConfigTest, LoadsFlash) {
  Config c = load_ok(configs_dir() / "v4-flash.json");
  EXPECT_EQ(c.vocab_size, 129280);
  EXPECT_EQ(c.dim, 4096);
  EXPECT_EQ(c.moe_inter_dim, 2048);
  EXPECT_EQ(c.n_layers, 43);
  EXPECT_EQ(c.n_hash_layers, 3);
  EXPECT_EQ(c.n_mtp_layers, 1);
  EXPECT_EQ(c.n_heads, 64);
  EXPECT_EQ(c.n_routed_experts, 256);
  EXPECT_EQ(c.n_activated_experts, 6);
  EXPECT_EQ(c.score_func, "sqrtsoftplus");
  EXPECT_DOUBLE_EQ(c.route_scale, 1.5);
  EXPECT_DOUBLE_EQ(c.swiglu_limit, 10.0);
  EXPECT_EQ(c.q_lora_rank, 1024);
  EXPECT_EQ(c.head_dim, 512);
  EXPECT_EQ(c.rope_head_dim, 64);
  EXPECT_EQ(c.o_groups, 8);
  EXPECT_EQ(c.o_lora_rank, 1024);
  EXPECT_EQ(c.window_size, 128);
  EXPECT_DOUBLE_EQ(c.compress_rope_theta, 160000);
  EXPECT_DOUBLE_EQ(c.rope_theta, 10000);
  EXPECT_EQ(c.original_seq_len, 65536);
  EXPECT_DOUBLE_EQ(c.rope_factor, 16);
  EXPECT_DOUBLE_EQ(c.beta_fast, 32);
  EXPECT_DOUBLE_EQ(c.beta_slow, 1);
  EXPECT_EQ(c.index_n_heads, 64);
  EXPECT_EQ(c.index_head_dim, 128);
  EXPECT_EQ(c.index_topk, 512);
  EXPECT_EQ(c.hc_mult, 4);
  EXPECT_EQ(c.hc_sinkhorn_iters, 20);
  EXPECT_EQ(c.max_position_embeddings, 1048576);
  EXPECT_TRUE(c.fp8_weights);
  EXPECT_TRUE(c.fp4_experts);
  EXPECT_EQ(c.source, configs_dir() / "v4-flash.json");
  // Spec §1.2: r=0 at 0, 1, 43 (MTP); CSA at 2..42 even; HCA at 3..41 odd.
  for (int l = 0; l < 44; ++l) {
    LayerType want = (l <= 1 || l == 43) ? LayerType::kWindow : (l % 2 == 0 ? LayerType::kCsa : LayerType::kHca);
    EXPECT_EQ(c.layer_type(l), want) << "layer " << l;
  }
  EXPECT_EQ(c.n_csa_layers(), 21);
  EXPECT_EQ(c.n_hca_layers(), 20);
  EXPECT_TRUE(c.is_hash_layer(2));
  EXPECT_FALSE(c.is_hash_layer(3));
  // Spec §4.1: 21*320 + 20*8 = 6880 B/token in bf16.
  EXPECT_DOUBLE_EQ(c.kv_bytes_per_token_bf16(), 6880.0);
  // Quantized: entry = 448 FP8 + 7 scale bytes + 64 bf16 rope dims = 583 B; index key 64 + 4 = 68 B.
  EXPECT_DOUBLE_EQ(c.kv_bytes_per_token(), 21 * (583.0 + 68.0) / 4 + 20 * 583.0 / 128);
  // Rings ≈ 5.5 MiB (44 x 128 x 512 x 2) + compressor states ≈ 12 MiB.
  EXPECT_EQ(c.fixed_state_bytes(), 44ull * 128 * 512 * 2 + 20ull * 2 * 128 * 512 * 4 + 21ull * (2 * 8 * 1024 * 4 + 2 * 8 * 256 * 4));
}

TEST(ConfigTest, LoadsPro) {
  Config c = load_ok(configs_dir() / "v4-pro.json");
  EXPECT_EQ(c.dim, 7168);
  EXPECT_EQ(c.n_layers, 61);
  EXPECT_EQ(c.n_heads, 128);
  EXPECT_EQ(c.n_routed_experts, 384);
  EXPECT_EQ(c.moe_inter_dim, 3072);
  EXPECT_EQ(c.q_lora_rank, 1536);
  EXPECT_EQ(c.o_groups, 16);
  EXPECT_EQ(c.index_topk, 1024);
  EXPECT_DOUBLE_EQ(c.route_scale, 2.5);
  // Spec §1.2: HCA at 0, 1, 3, 5..59; CSA at 2..60 even; MTP (61) SWA.
  EXPECT_EQ(c.layer_type(0), LayerType::kHca);
  EXPECT_EQ(c.layer_type(1), LayerType::kHca);
  EXPECT_EQ(c.layer_type(2), LayerType::kCsa);
  EXPECT_EQ(c.layer_type(59), LayerType::kHca);
  EXPECT_EQ(c.layer_type(60), LayerType::kCsa);
  EXPECT_EQ(c.layer_type(61), LayerType::kWindow);
  EXPECT_EQ(c.n_csa_layers(), 30);
  EXPECT_EQ(c.n_hca_layers(), 31);
  EXPECT_DOUBLE_EQ(c.kv_bytes_per_token_bf16(), 9848.0);  // spec §4.1: 30*320 + 31*8
}

TEST(ConfigTest, LoadsFromDirectory) {
  TempDir dir;
  v4rt::testing::write_bytes(dir.path() / "config.json", flash_json().dump());
  Config c = load_ok(dir.path());
  EXPECT_EQ(c.source, dir.path() / "config.json");
}

TEST(ConfigTest, LoadsTinyGoldenCheckpoints) {
  fs::path golden = v4rt::testing::golden_dir();
  if (golden.empty()) GTEST_SKIP() << "golden data absent (V4RT_GOLDEN_DIR)";
  Config bf16 = load_ok(golden / "v4-tiny/tiny/bf16");
  Config fp8 = load_ok(golden / "v4-tiny/tiny/fp8");
  for (const Config* c : {&bf16, &fp8}) {
    EXPECT_EQ(c->n_layers, 6);
    EXPECT_EQ(c->dim, 256);
    EXPECT_EQ(c->head_dim, 96);
    EXPECT_EQ(c->rope_head_dim, 32);
    EXPECT_EQ(c->n_hash_layers, 2);
    EXPECT_EQ(c->original_seq_len, 512);
    EXPECT_DOUBLE_EQ(c->swiglu_limit, 2.5);
    const LayerType want[] = {LayerType::kWindow, LayerType::kCsa, LayerType::kHca, LayerType::kCsa,
                              LayerType::kHca,    LayerType::kWindow, LayerType::kWindow};
    for (int l = 0; l < 7; ++l) EXPECT_EQ(c->layer_type(l), want[l]) << "layer " << l;
    // 2 CSA x (96*2/4 + 64*2/4) + 2 HCA x 96*2/128.
    EXPECT_DOUBLE_EQ(c->kv_bytes_per_token_bf16(), 2 * (48.0 + 32.0) + 2 * 1.5);
  }
  EXPECT_FALSE(bf16.fp8_weights);
  EXPECT_FALSE(bf16.fp4_experts);
  EXPECT_TRUE(fp8.fp8_weights);
  EXPECT_TRUE(fp8.fp4_experts);
}

TEST(ConfigTest, MissingKeyNamesKeyAndFile) {
  json j = flash_json();
  j.erase("hidden_size");
  std::string msg = error_of(j);
  EXPECT_NE(msg.find("'hidden_size'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("/x/config.json"), std::string::npos) << msg;
  EXPECT_NE(msg.find("missing"), std::string::npos) << msg;

  j = flash_json();
  j["rope_scaling"].erase("factor");
  msg = error_of(j);
  EXPECT_NE(msg.find("'rope_scaling.factor'"), std::string::npos) << msg;

  j = flash_json();
  j.erase("compress_ratios");
  EXPECT_NE(error_of(j).find("'compress_ratios'"), std::string::npos);
}

TEST(ConfigTest, MissingKeyOnDiskNamesThePath) {
  TempDir dir;
  json j = flash_json();
  j.erase("num_hidden_layers");
  v4rt::testing::write_bytes(dir.path() / "config.json", j.dump());
  auto c = Config::load(dir.path());
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find((dir.path() / "config.json").string()), std::string::npos);
  EXPECT_NE(c.status().message().find("'num_hidden_layers'"), std::string::npos);
}

TEST(ConfigTest, WrongTypesAndValues) {
  json j = flash_json();
  j["hidden_size"] = "4096";
  EXPECT_NE(error_of(j).find("'hidden_size' must be an integer"), std::string::npos);
  j = flash_json();
  j["num_attention_heads"] = -4;
  EXPECT_NE(error_of(j).find("'num_attention_heads' must be in"), std::string::npos);
  j = flash_json();
  j["scoring_func"] = "relu";
  EXPECT_NE(error_of(j).find("'scoring_func'"), std::string::npos);
  j = flash_json();
  j["model_type"] = "deepseek_v3";
  EXPECT_NE(error_of(j).find("'model_type'"), std::string::npos);
  j = flash_json();
  j["num_key_value_heads"] = 8;
  EXPECT_NE(error_of(j).find("'num_key_value_heads'"), std::string::npos);
  j = flash_json();
  j["quantization_config"]["quant_method"] = "gptq";
  EXPECT_NE(error_of(j).find("'quantization_config.quant_method'"), std::string::npos);
  j = flash_json();
  j["quantization_config"]["weight_block_size"] = {64, 64};
  EXPECT_NE(error_of(j).find("'quantization_config.weight_block_size'"), std::string::npos);
  j = flash_json();
  j["expert_dtype"] = "int4";
  EXPECT_NE(error_of(j).find("'expert_dtype'"), std::string::npos);
}

TEST(ConfigTest, InconsistentKeys) {
  json j = flash_json();
  j["compress_ratios"].erase(j["compress_ratios"].size() - 1);
  std::string msg = error_of(j);
  EXPECT_NE(msg.find("'compress_ratios' has 43 entries"), std::string::npos) << msg;
  j = flash_json();
  j["compress_ratios"][5] = 8;
  EXPECT_NE(error_of(j).find("entry 5"), std::string::npos);
  j = flash_json();
  j["num_hash_layers"] = 50;
  EXPECT_NE(error_of(j).find("'num_hash_layers'"), std::string::npos);
  j = flash_json();
  j["num_experts_per_tok"] = 300;
  EXPECT_NE(error_of(j).find("'num_experts_per_tok'"), std::string::npos);
  j = flash_json();
  j["o_groups"] = 7;
  EXPECT_NE(error_of(j).find("'o_groups'"), std::string::npos);
  j = flash_json();
  j["qk_rope_head_dim"] = 96;  // 512 - 96 = 416, not a multiple of 64
  EXPECT_NE(error_of(j).find("'head_dim'"), std::string::npos);
  j = flash_json();
  j["hidden_size"] = 4000;  // FP8 activation blocks need multiples of 128
  EXPECT_NE(error_of(j).find("'hidden_size'"), std::string::npos);
  j = flash_json();
  j["index_head_dim"] = 96;
  EXPECT_NE(error_of(j).find("'index_head_dim'"), std::string::npos);
}

TEST(ConfigTest, BadJsonAndMissingFile) {
  auto c = Config::parse("{\"vocab_size\": ", "/x/config.json");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("/x/config.json: not valid JSON"), std::string::npos);
  TempDir dir;
  auto missing = Config::load(dir.path());
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(missing.status().is_not_found());
  EXPECT_NE(missing.status().message().find("config.json"), std::string::npos);
}

TEST(ConfigTest, OptionalKeysTakeSpecDefaults) {
  json j = flash_json();
  j.erase("num_nextn_predict_layers");
  j.erase("hc_eps");
  j.erase("rms_norm_eps");
  Config c = *Config::parse(j.dump(), "/x/config.json");
  EXPECT_EQ(c.n_mtp_layers, 1);
  EXPECT_DOUBLE_EQ(c.hc_eps, 1e-6);
  EXPECT_DOUBLE_EQ(c.norm_eps, 1e-6);
  // No rope_scaling: YaRN off.
  j.erase("rope_scaling");
  EXPECT_EQ(Config::parse(j.dump(), "/x/config.json")->original_seq_len, 0);
  // R0 (no expert_dtype): FP8 experts.
  j.erase("expert_dtype");
  Config r0 = *Config::parse(j.dump(), "/x/config.json");
  EXPECT_TRUE(r0.fp8_weights);
  EXPECT_FALSE(r0.fp4_experts);
}

TEST(ConfigTest, ReadsInferenceConfigWithModelArgsKeys) {
  fs::path golden = v4rt::testing::golden_dir();
  if (golden.empty()) GTEST_SKIP() << "golden data absent (V4RT_GOLDEN_DIR)";
  for (const char* variant : {"bf16", "fp8"}) {
    fs::path dir = golden / "v4-tiny/tiny" / variant;
    Config hf = load_ok(dir / "config.json");
    Config ma = load_ok(dir / "inference_config.json");
    EXPECT_EQ(ma.dim, hf.dim) << variant;
    EXPECT_EQ(ma.n_layers, hf.n_layers);
    EXPECT_EQ(ma.n_mtp_layers, hf.n_mtp_layers);
    EXPECT_EQ(ma.n_hash_layers, hf.n_hash_layers);
    EXPECT_EQ(ma.rope_head_dim, hf.rope_head_dim);
    EXPECT_EQ(ma.window_size, hf.window_size);
    EXPECT_EQ(ma.compress_ratios, hf.compress_ratios);
    EXPECT_EQ(ma.original_seq_len, hf.original_seq_len);
    EXPECT_EQ(ma.rope_factor, hf.rope_factor);
    EXPECT_EQ(ma.route_scale, hf.route_scale);
    EXPECT_EQ(ma.swiglu_limit, hf.swiglu_limit);
    EXPECT_EQ(ma.score_func, hf.score_func);
    EXPECT_EQ(ma.fp8_weights, hf.fp8_weights) << variant;
    EXPECT_EQ(ma.fp4_experts, hf.fp4_experts) << variant;
    EXPECT_EQ(ma.kv_bytes_per_token(), hf.kv_bytes_per_token());
  }
  // Errors name the ModelArgs key as written in the file.
  auto text = read_file(golden / "v4-tiny/tiny/fp8/inference_config.json");
  ASSERT_TRUE(text.ok());
  json j = json::parse(*text);
  j.erase("n_layers");
  std::string msg = error_of(j);
  EXPECT_NE(msg.find("key 'n_layers' is missing"), std::string::npos) << msg;
  j = json::parse(*text);
  j["rope_factor"] = "x";
  msg = error_of(j);
  EXPECT_NE(msg.find("key 'rope_factor'"), std::string::npos) << msg;
  j = json::parse(*text);
  j["dtype"] = "int8";
  msg = error_of(j);
  EXPECT_NE(msg.find("key 'dtype'"), std::string::npos) << msg;
}

}  // namespace
}  // namespace v4rt::model
