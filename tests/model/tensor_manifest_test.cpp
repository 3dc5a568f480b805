#include "model/tensor_manifest.h"

#include <gtest/gtest.h>

#include <set>

#include "model/weights.h"
#include "test_util.h"

namespace v4rt::model {
namespace {

namespace fs = std::filesystem;

const ExpectedTensor* find(const std::vector<ExpectedTensor>& v, const std::string& name) {
  for (const auto& t : v)
    if (t.name == name) return &t;
  return nullptr;
}

Config load(const fs::path& p) {
  auto c = Config::load(p);
  EXPECT_TRUE(c.ok()) << c.status().to_string();
  return *c;
}

TEST(TensorManifestTest, FlashShapesFollowSpec) {
  Config c = load(v4rt::testing::source_dir() / "tests/data/configs/v4-flash.json");
  auto m = expected_tensors(c);
  std::set<std::string> names;
  for (const auto& t : m) EXPECT_TRUE(names.insert(t.name).second) << "duplicate " << t.name;
  // Spec §2.1 table (Flash).
  auto expect = [&](const std::string& name, DType dtype, std::vector<int64_t> shape) {
    const ExpectedTensor* t = find(m, name);
    ASSERT_NE(t, nullptr) << name;
    EXPECT_EQ(t->dtype, dtype) << name;
    EXPECT_EQ(t->shape, shape) << name;
  };
  expect("embed.weight", DType::kBF16, {129280, 4096});
  expect("hc_head_fn", DType::kF32, {4, 16384});
  expect("layers.0.hc_attn_fn", DType::kF32, {24, 16384});
  expect("layers.0.attn.wq_a.weight", DType::kF8E4M3, {1024, 4096});
  expect("layers.0.attn.wq_a.scale", DType::kF8E8M0, {8, 32});
  expect("layers.0.attn.wq_b.scale", DType::kF8E8M0, {256, 8});
  expect("layers.0.attn.wkv.scale", DType::kF8E8M0, {4, 32});
  expect("layers.0.attn.wo_a.weight", DType::kF8E4M3, {8192, 4096});
  expect("layers.0.attn.wo_b.scale", DType::kF8E8M0, {32, 64});
  expect("layers.2.attn.compressor.wkv.weight", DType::kBF16, {1024, 4096});
  expect("layers.2.attn.compressor.ape", DType::kF32, {4, 1024});
  expect("layers.3.attn.compressor.ape", DType::kF32, {128, 512});
  expect("layers.2.attn.indexer.wq_b.scale", DType::kF8E8M0, {64, 8});
  expect("layers.2.attn.indexer.compressor.ape", DType::kF32, {4, 256});
  expect("layers.0.ffn.gate.tid2eid", DType::kI64, {129280, 6});
  expect("layers.3.ffn.gate.bias", DType::kF32, {256});
  expect("layers.5.ffn.experts.255.w1.weight", DType::kI8, {2048, 2048});
  expect("layers.5.ffn.experts.255.w1.scale", DType::kF8E8M0, {2048, 128});
  expect("layers.5.ffn.experts.0.w2.weight", DType::kI8, {4096, 1024});
  expect("layers.5.ffn.experts.0.w2.scale", DType::kF8E8M0, {4096, 64});
  expect("layers.5.ffn.shared_experts.w1.scale", DType::kF8E8M0, {16, 32});
  expect("mtp.0.e_proj.scale", DType::kF8E8M0, {32, 32});
  expect("mtp.0.ffn.gate.bias", DType::kF32, {256});  // MTP is never hash-routed
  expect("mtp.0.hc_head_scale", DType::kF32, {1});
  EXPECT_EQ(find(m, "layers.0.attn.compressor.ape"), nullptr);  // r=0
  EXPECT_EQ(find(m, "layers.3.attn.indexer.wq_b.weight"), nullptr);  // HCA has no indexer
  EXPECT_EQ(find(m, "layers.3.ffn.gate.tid2eid"), nullptr);
  EXPECT_EQ(find(m, "mtp.0.embed.weight"), nullptr);
  // 6 globals; per block 29 + 3x2x256 expert tensors; CSA +11, HCA +4; MTP +10. This is
  // the tensor count spec §2.1 gives for the V4-Flash release: 69,187.
  EXPECT_EQ(m.size(), 6u + 44 * (29 + 1536) + 21 * 11 + 20 * 4 + 10);
  EXPECT_EQ(m.size(), 69187u);
}

TEST(TensorManifestTest, ProShapesFollowSpec) {
  Config c = load(v4rt::testing::source_dir() / "tests/data/configs/v4-pro.json");
  auto m = expected_tensors(c);
  // Spec §2.1, Pro shapes (derived in the spec).
  EXPECT_EQ(find(m, "layers.2.attn.wq_a.weight")->shape, (std::vector<int64_t>{1536, 7168}));
  EXPECT_EQ(find(m, "layers.2.attn.wq_b.weight")->shape, (std::vector<int64_t>{65536, 1536}));
  EXPECT_EQ(find(m, "layers.2.attn.wo_a.weight")->shape, (std::vector<int64_t>{16384, 4096}));
  EXPECT_EQ(find(m, "layers.2.attn.wo_b.weight")->shape, (std::vector<int64_t>{7168, 16384}));
  EXPECT_EQ(find(m, "layers.2.attn.indexer.wq_b.weight")->shape, (std::vector<int64_t>{8192, 1536}));
  EXPECT_EQ(find(m, "layers.2.hc_attn_fn")->shape, (std::vector<int64_t>{24, 28672}));
  EXPECT_EQ(find(m, "layers.2.ffn.gate.weight")->shape, (std::vector<int64_t>{384, 7168}));
  EXPECT_EQ(find(m, "layers.4.ffn.experts.0.w1.weight")->shape, (std::vector<int64_t>{3072, 3584}));
  EXPECT_EQ(find(m, "layers.4.ffn.experts.0.w1.scale")->shape, (std::vector<int64_t>{3072, 224}));
  EXPECT_EQ(find(m, "layers.4.ffn.experts.0.w2.weight")->shape, (std::vector<int64_t>{7168, 1536}));
  EXPECT_EQ(find(m, "layers.4.ffn.experts.0.w2.scale")->shape, (std::vector<int64_t>{7168, 96}));
  EXPECT_EQ(find(m, "layers.0.attn.compressor.wkv.weight")->shape, (std::vector<int64_t>{512, 7168}));
}

TEST(TensorManifestTest, MatchesBothTinyCheckpointsExactly) {
  fs::path g = v4rt::testing::golden_dir();
  if (g.empty()) GTEST_SKIP() << "golden data absent (V4RT_GOLDEN_DIR)";
  for (const char* variant : {"bf16", "fp8"}) {
    fs::path dir = g / "v4-tiny/tiny" / variant;
    Config c = load(dir);
    auto w = Weights::open(dir);
    ASSERT_TRUE(w.ok()) << w.status().to_string();
    ManifestReport r = check_manifest(c, **w);
    EXPECT_TRUE(r.ok()) << variant;
    for (const auto& t : r.missing) ADD_FAILURE() << variant << " missing " << t.name;
    for (const auto& t : r.mismatched)
      ADD_FAILURE() << variant << " mismatched " << t.expected.name << ": expected "
                    << dtype_name(t.expected.dtype) << shape_string(t.expected.shape) << " got "
                    << dtype_name(t.actual_dtype) << shape_string(t.actual_shape);
    EXPECT_TRUE(r.unexpected.empty()) << variant << ": " << (r.unexpected.empty() ? "" : r.unexpected[0]);
    EXPECT_EQ(r.expected, (*w)->tensors().size()) << variant;
  }
}

TEST(TensorManifestTest, ReportsMissingAndMismatched) {
  fs::path g = v4rt::testing::golden_dir();
  if (g.empty()) GTEST_SKIP() << "golden data absent (V4RT_GOLDEN_DIR)";
  // The bf16 weights checked against the fp8 config: every quantized tensor mismatches
  // and every .scale is missing.
  Config fp8 = load(g / "v4-tiny/tiny/fp8");
  auto w = Weights::open(g / "v4-tiny/tiny/bf16");
  ASSERT_TRUE(w.ok());
  ManifestReport r = check_manifest(fp8, **w);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.missing.size(), 228u);
  EXPECT_EQ(r.mismatched.size(), 60u + 168u);
}

}  // namespace
}  // namespace v4rt::model
