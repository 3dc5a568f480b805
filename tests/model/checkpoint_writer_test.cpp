#include "model/checkpoint_writer.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <map>

#include <nlohmann/json.hpp>

#include "model/numerics.h"
#include "model/presets.h"
#include "model/random_checkpoint.h"
#include "model/tensor_manifest.h"
#include "model/weights.h"
#include "base/file_util.h"
#include "base/thread_pool.h"
#include "test_util.h"

namespace v4rt::model {
namespace {

namespace fs = std::filesystem;

struct HeaderEntry {
  std::string dtype;
  std::vector<int64_t> shape;
  bool operator==(const HeaderEntry&) const = default;
};

// Reads the headers of every shard listed by an index (independent of Weights).
std::map<std::string, HeaderEntry> read_headers(const fs::path& dir, bool ours = true) {
  std::map<std::string, HeaderEntry> out;
  auto index = nlohmann::json::parse(read_file(dir / "model.safetensors.index.json").value());
  std::set<std::string> files;
  for (auto& [name, file] : index["weight_map"].items()) files.insert(file.get<std::string>());
  for (const auto& f : files) {
    std::string bytes = read_file(dir / f).value();
    uint64_t n = 0;
    std::memcpy(&n, bytes.data(), 8);
    if (ours) { EXPECT_EQ((8 + n) % 8, 0u) << f << ": data section not 8-byte aligned"; }
    auto h = nlohmann::json::parse(bytes.substr(8, n));
    for (auto& [name, t] : h.items()) {
      if (name == "__metadata__") continue;
      if (ours) { EXPECT_EQ(t["data_offsets"][0].get<uint64_t>() % 8, 0u) << name; }
      out[name] = {t["dtype"].get<std::string>(), t["shape"].get<std::vector<int64_t>>()};
      EXPECT_EQ(index["weight_map"][name].get<std::string>(), f) << name;
    }
  }
  return out;
}

std::map<std::string, HeaderEntry> expected(const Config& c) {
  std::map<std::string, HeaderEntry> out;
  for (const auto& t : checkpoint_tensors(c)) out[t.name] = {std::string(dtype_name(t.dtype)), t.shape};
  return out;
}

TEST(CheckpointWriterTest, TinyPresetHasTheGoldenTensorLayout) {
  fs::path golden = v4rt::testing::golden_dir();
  if (golden.empty()) GTEST_SKIP() << "golden data absent (shared/golden)";
  for (auto [fmt, dir] : {std::pair{WeightFormat::kFp8, "fp8"}, std::pair{WeightFormat::kBf16, "bf16"}}) {
    Config c = preset_config({"tiny", fmt, 0}).value();
    auto want = read_headers(golden / "v4-tiny/tiny" / dir, /*ours=*/false);
    auto got = expected(c);
    EXPECT_EQ(got.size(), want.size()) << dir;
    for (const auto& [name, e] : want) {
      auto it = got.find(name);
      ASSERT_NE(it, got.end()) << dir << ": missing " << name;
      EXPECT_EQ(it->second, e) << dir << ": " << name;
    }
  }
}

TEST(CheckpointWriterTest, EveryPresetMatchesTheLoadersManifest) {
  for (const std::string& name : preset_names())
    for (auto fmt : {WeightFormat::kBf16, WeightFormat::kFp8}) {
      Config c = preset_config({name, fmt, name == "flash-shape" ? 4 : 0}).value();
      std::map<std::string, HeaderEntry> want;
      for (const auto& t : expected_tensors(c)) want[t.name] = {std::string(dtype_name(t.dtype)), t.shape};
      EXPECT_EQ(expected(c), want) << name << (fmt == WeightFormat::kFp8 ? " fp8" : " bf16");
    }
}

TEST(CheckpointWriterTest, SerializeRoundTripsThroughWeights) {
  std::vector<float> f = {1.0f, -2.5f, 3.25f};
  std::string a = to_f32_bytes(f), b = to_bf16_bytes(f);
  std::vector<int64_t> s3 = {3}, s13 = {1, 3};
  std::vector<SafetensorsBlob> e = {{"zeta", DType::kF32, s3, a}, {"alpha", DType::kBF16, s13, b}};
  auto w = Weights::from_bytes(serialize_safetensors(e), "mem.safetensors");
  ASSERT_TRUE(w.ok()) << w.status().to_string();
  const TensorView* z = (*w)->find("zeta");
  ASSERT_NE(z, nullptr);
  EXPECT_EQ(z->as<float>()[1], -2.5f);
  const TensorView* al = (*w)->find("alpha");
  ASSERT_NE(al, nullptr);
  EXPECT_EQ(al->shape, s13);
  EXPECT_EQ(bf16_bits_to_f32(al->as<uint16_t>()[2]), 3.25f);
}

TEST(CheckpointWriterTest, Fp8AndFp4QuantizersAreExactOnTheirGrid) {
  std::vector<float> w(200 * 96);
  for (size_t i = 0; i < w.size(); ++i) w[i] = std::sin(static_cast<float>(i) * 0.37f) * (1 + static_cast<float>(i % 7));
  QuantizedFp8 q = quantize_fp8_blocks(w, 200, 96);
  EXPECT_EQ(q.scale_rows, 2);
  EXPECT_EQ(q.scale_cols, 1);
  std::vector<float> d = dequantize_fp8_blocks(q, 200, 96);
  // Values on the grid quantize to themselves.
  EXPECT_EQ(dequantize_fp8_blocks(quantize_fp8_blocks(d, 200, 96), 200, 96), d);
  for (size_t i = 0; i < w.size(); ++i) EXPECT_NEAR(d[i], w[i], std::fabs(w[i]) * 0.07 + 1e-3);

  QuantizedFp4 f = quantize_fp4_rows(w, 200, 96);
  EXPECT_EQ(f.weight.size(), 200u * 48u);
  EXPECT_EQ(f.scale.size(), 200u * 3u);
  std::vector<float> fd = dequantize_fp4_rows(f, 200, 96);
  EXPECT_EQ(dequantize_fp4_rows(quantize_fp4_rows(fd, 200, 96), 200, 96), fd);
  // Low nibble = even element.
  uint8_t byte = static_cast<uint8_t>(f.weight[0]);
  float s = e8m0_to_f32(static_cast<uint8_t>(f.scale[0]));
  EXPECT_EQ(e2m1_to_f32(byte & 0xf) * s, fd[0]);
  EXPECT_EQ(e2m1_to_f32(byte >> 4) * s, fd[1]);
}

TEST(CheckpointWriterTest, RandomTinyWritesShardsWeightsOpensAndFormatsAgree) {
  v4rt::testing::TempDir tmp;
  ThreadPool pool(2);
  fs::path d8 = tmp.path() / "fp8", d16 = tmp.path() / "bf16";
  fs::create_directories(d8);
  fs::create_directories(d16);
  Config c8 = preset_config({"tiny", WeightFormat::kFp8, 0}).value();
  Config c16 = preset_config({"tiny", WeightFormat::kBf16, 0}).value();
  ASSERT_TRUE(write_random_weights(c8, d8, {.seed = 7}, pool).ok());
  ASSERT_TRUE(write_random_weights(c16, d16, {.seed = 7}, pool).ok());
  EXPECT_EQ(read_headers(d8), expected(c8));
  EXPECT_EQ(read_headers(d16), expected(c16));
  EXPECT_TRUE(fs::exists(d8 / "model-00001-of-00002.safetensors"));

  auto w8 = Weights::open(d8);
  ASSERT_TRUE(w8.ok()) << w8.status().to_string();
  auto w16 = Weights::open(d16);
  ASSERT_TRUE(w16.ok()) << w16.status().to_string();
  // Same effective weights: an FP8 linear, an FP4 expert, a bf16 tensor.
  {
    const TensorView* q = (*w8)->find("layers.1.attn.wq_b.weight");
    const TensorView* s = (*w8)->find("layers.1.attn.wq_b.scale");
    const TensorView* b = (*w16)->find("layers.1.attn.wq_b.weight");
    ASSERT_TRUE(q && s && b);
    const int64_t rows = q->shape[0], cols = q->shape[1];
    for (int64_t r = 0; r < rows; r += 17)
      for (int64_t k = 0; k < cols; k += 5) {
        float v = e4m3_to_f32(q->data[r * cols + k]) * e8m0_to_f32(s->data[(r / 128) * s->shape[1] + k / 128]);
        ASSERT_EQ(v, bf16_bits_to_f32(b->as<uint16_t>()[static_cast<size_t>(r * cols + k)])) << r << "," << k;
      }
  }
  {
    const TensorView* q = (*w8)->find("layers.2.ffn.experts.3.w2.weight");
    const TensorView* s = (*w8)->find("layers.2.ffn.experts.3.w2.scale");
    const TensorView* b = (*w16)->find("layers.2.ffn.experts.3.w2.weight");
    ASSERT_TRUE(q && s && b);
    const int64_t rows = b->shape[0], cols = b->shape[1];
    for (int64_t r = 0; r < rows; r += 7)
      for (int64_t k = 0; k < cols; ++k) {
        uint8_t byte = q->data[(r * cols + k) / 2];
        float v = e2m1_to_f32(k % 2 ? byte >> 4 : byte & 0xf) * e8m0_to_f32(s->data[r * (cols / 32) + k / 32]);
        ASSERT_EQ(v, bf16_bits_to_f32(b->as<uint16_t>()[static_cast<size_t>(r * cols + k)]));
      }
  }
  {
    const TensorView* a = (*w8)->find("embed.weight");
    const TensorView* b = (*w16)->find("embed.weight");
    ASSERT_TRUE(a && b);
    EXPECT_EQ(0, std::memcmp(a->data, b->data, a->nbytes));
  }
  // tid2eid: distinct experts in range.
  const TensorView* t = (*w8)->find("layers.0.ffn.gate.tid2eid");
  ASSERT_NE(t, nullptr);
  auto ids = t->as<int64_t>();
  for (size_t r = 0; r < ids.size(); r += 2) {
    EXPECT_NE(ids[r], ids[r + 1]);
    EXPECT_TRUE(ids[r] >= 0 && ids[r] < 8);
  }
}

TEST(CheckpointWriterTest, SameSeedSameBytesAnyThreadCount) {
  v4rt::testing::TempDir tmp;
  Config c = preset_config({"tiny", WeightFormat::kFp8, 2}).value();
  EXPECT_EQ(c.n_layers, 2);
  EXPECT_EQ(c.compress_ratios, (std::vector<int>{0, 4, 0}));
  ThreadPool p1(1), p3(3);
  fs::create_directories(tmp.path() / "a");
  fs::create_directories(tmp.path() / "b");
  ASSERT_TRUE(write_random_weights(c, tmp.path() / "a", {.seed = 3, .shard_bytes = 1 << 30}, p1).ok());
  ASSERT_TRUE(write_random_weights(c, tmp.path() / "b", {.seed = 3, .shard_bytes = 1 << 30}, p3).ok());
  EXPECT_EQ(read_file(tmp.path() / "a/model-00001-of-00001.safetensors").value(),
            read_file(tmp.path() / "b/model-00001-of-00001.safetensors").value());
}

TEST(CheckpointWriterTest, RejectsBadInput) {
  v4rt::testing::TempDir tmp;
  CheckpointWriter w(tmp.path());
  EXPECT_TRUE(w.add("x", DType::kF32, {2}, std::string(7, '\0')).is_invalid_argument());
  EXPECT_TRUE(preset_config({"huge", WeightFormat::kBf16, 0}).status().is_invalid_argument());
  EXPECT_FALSE(preset_config({"tiny", WeightFormat::kBf16, 99}).ok());
}

}  // namespace
}  // namespace v4rt::model
