#include "model/weights.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "model/dequant.h"
#include "model/mapped_file.h"
#include "safetensors_test_util.h"
#include "test_util.h"

namespace v4rt::model {
namespace {

namespace fs = std::filesystem;
using v4rt::testing::safetensors_bytes;
using v4rt::testing::TempDir;
using v4rt::testing::write_bytes;

// Independent hand decoders (not numerics.h) for the value checks below.
double hand_e4m3(uint8_t b) {
  int s = b >> 7, e = (b >> 3) & 15, m = b & 7;
  double v = e == 0 ? (m / 8.0) * std::pow(2.0, -6) : (1 + m / 8.0) * std::pow(2.0, e - 7);
  return s ? -v : v;
}
double hand_e2m1(uint8_t code) {
  const double mag[8] = {0, 0.5, 1, 1.5, 2, 3, 4, 6};
  return (code & 8) ? -mag[code & 7] : mag[code & 7];
}
double hand_bf16(const uint8_t* p) {  // little-endian bf16 = the top half of an f32
  uint32_t u = (static_cast<uint32_t>(p[1]) << 24) | (static_cast<uint32_t>(p[0]) << 16);
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

fs::path tiny(const char* variant) {
  fs::path g = v4rt::testing::golden_dir();
  return g.empty() ? fs::path() : g / "v4-tiny/tiny" / variant;
}

TEST(MappedFileTest, MapsAndReportsErrors) {
  TempDir dir;
  write_bytes(dir.path() / "f", "hello");
  auto f = MappedFile::open(dir.path() / "f");
  ASSERT_TRUE(f.ok()) << f.status().to_string();
  EXPECT_EQ(std::string(reinterpret_cast<const char*>((*f)->data()), (*f)->size()), "hello");
  MappedFile moved = std::move(**f);
  EXPECT_EQ(moved.size(), 5u);
  EXPECT_EQ((*f)->size(), 0u);
  write_bytes(dir.path() / "empty", "");
  auto e = MappedFile::open(dir.path() / "empty");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ((*e)->size(), 0u);
  auto missing = MappedFile::open(dir.path() / "nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("nope"), std::string::npos);
  EXPECT_FALSE(MappedFile::open(dir.path()).ok());  // a directory
}

TEST(WeightsTest, OpensSingleFileAndViewsTensors) {
  TempDir dir;
  std::string data(12, '\0');
  const float vals[2] = {1.5f, -2.0f};
  std::memcpy(data.data() + 4, vals, 8);
  data[0] = '\x80';
  data[1] = '\x3f';  // bf16 1.0
  write_bytes(dir.path() / "model.safetensors",
              safetensors_bytes(R"({"a":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]},)"
                                R"("b":{"dtype":"F32","shape":[1,2],"data_offsets":[4,12]}})",
                                data));
  auto w = Weights::open(dir.path());
  ASSERT_TRUE(w.ok()) << w.status().to_string();
  ASSERT_EQ((*w)->tensors().size(), 2u);
  const TensorView* b = (*w)->find("b");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->name, "b");
  EXPECT_EQ(b->numel(), 2);
  EXPECT_EQ(b->as<float>()[1], -2.0f);
  EXPECT_EQ(hand_bf16((*w)->find("a")->data), 1.0);
  EXPECT_EQ((*w)->find("zzz"), nullptr);
  EXPECT_GT((*w)->total_bytes(), 12u);
  EXPECT_NE((*w)->identity().find("model.safetensors"), std::string::npos);

  auto ok = (*w)->get("b", DType::kF32, {1, 2});
  ASSERT_TRUE(ok.ok());
  auto wrong = (*w)->get("b", DType::kBF16, {2});
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("'b' is F32 [1, 2] but the config needs BF16 [2]"), std::string::npos)
      << wrong.status().message();
  auto absent = (*w)->get("c", DType::kF32, {3});
  ASSERT_FALSE(absent.ok());
  EXPECT_TRUE(absent.status().is_not_found());
  EXPECT_NE(absent.status().message().find("'c'"), std::string::npos);
}

// Same names, shapes and sizes, different values (two seeds of one preset, a
// fine-tune): the identity must differ, or a session store would restore state
// computed with other weights. Sizes cover the edge-only and the sampled paths.
TEST(WeightsTest, IdentityDependsOnTensorContents) {
  for (size_t n : {size_t{64}, size_t{1} << 20}) {
    const std::string header = R"({"w":{"dtype":"U8","shape":[)" + std::to_string(n) +
                               R"(],"data_offsets":[0,)" + std::to_string(n) + "]}}";
    auto identity_of = [&](char fill, size_t flip_at) {
      TempDir dir;
      std::string data(n, fill);
      data[flip_at] = static_cast<char>(data[flip_at] ^ 1);
      write_bytes(dir.path() / "model.safetensors", safetensors_bytes(header, data));
      auto w = Weights::open(dir.path());
      EXPECT_TRUE(w.ok()) << w.status().to_string();
      return w.ok() ? (*w)->identity() : std::string();
    };
    const std::string a = identity_of('a', 0);
    EXPECT_EQ(a, identity_of('a', 0)) << "identity must be stable, n=" << n;
    EXPECT_NE(a, identity_of('b', 0)) << "n=" << n;
    EXPECT_NE(a, identity_of('a', n - 1)) << "last byte, n=" << n;
  }
}

TEST(WeightsTest, FromBytes) {
  auto w = Weights::from_bytes(safetensors_bytes(R"({"x":{"dtype":"U8","shape":[3],"data_offsets":[0,3]}})", "abc"),
                               "mem");
  ASSERT_TRUE(w.ok()) << w.status().to_string();
  EXPECT_EQ(std::string(reinterpret_cast<const char*>((*w)->find("x")->data), 3), "abc");
  EXPECT_FALSE(Weights::from_bytes("junk", "mem").ok());
}

TEST(WeightsTest, DirectoryErrors) {
  TempDir dir;
  auto none = Weights::open(dir.path());
  ASSERT_FALSE(none.ok());
  EXPECT_TRUE(none.status().is_not_found());
  EXPECT_NE(none.status().message().find("weights are absent"), std::string::npos);
  EXPECT_TRUE(Weights::open(dir.path() / "missing").status().is_not_found());
}

TEST(WeightsTest, ShardedIndexFaults) {
  TempDir dir;
  write_bytes(dir.path() / "s1.safetensors",
              safetensors_bytes(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})", "x"));
  write_bytes(dir.path() / "s2.safetensors",
              safetensors_bytes(R"({"b":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})", "y"));
  auto index = [&](const std::string& text) { write_bytes(dir.path() / "model.safetensors.index.json", text); };

  index(R"({"metadata":{},"weight_map":{"a":"s1.safetensors","b":"s2.safetensors"}})");
  auto ok = Weights::open(dir.path());
  ASSERT_TRUE(ok.ok()) << ok.status().to_string();
  EXPECT_EQ((*ok)->tensors().size(), 2u);

  index(R"({"weight_map":{"a":"s1.safetensors","b":"s3.safetensors"}})");
  auto missing_shard = Weights::open(dir.path());
  ASSERT_FALSE(missing_shard.ok());
  EXPECT_NE(missing_shard.status().message().find("s3.safetensors"), std::string::npos);
  EXPECT_NE(missing_shard.status().message().find("missing"), std::string::npos);

  index(R"({"weight_map":{"a":"s1.safetensors","b":"s1.safetensors"}})");
  auto wrong_shard = Weights::open(dir.path());
  ASSERT_FALSE(wrong_shard.ok());
  EXPECT_NE(wrong_shard.status().message().find("'b'"), std::string::npos) << wrong_shard.status().message();

  index(R"({"weight_map":{"a":"../s1.safetensors"}})");
  EXPECT_NE(Weights::open(dir.path()).status().message().find("plain file name"), std::string::npos);
  index(R"({"weight_map":[1]})");
  EXPECT_NE(Weights::open(dir.path()).status().message().find("'weight_map'"), std::string::npos);
  index("{");
  EXPECT_NE(Weights::open(dir.path()).status().message().find("not a valid JSON"), std::string::npos);

  // Without an index every *.safetensors is read, and a duplicate name is an error.
  fs::remove(dir.path() / "model.safetensors.index.json");
  write_bytes(dir.path() / "s3.safetensors",
              safetensors_bytes(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})", "z"));
  auto dup = Weights::open(dir.path());
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.status().message().find("'a' also appears in"), std::string::npos) << dup.status().message();
}

struct Counts {
  size_t tensors = 0;
  std::map<DType, size_t> by_dtype;
  uint64_t bytes = 0;
};
Counts count(const Weights& w) {
  Counts c;
  for (const auto& [name, t] : w.tensors()) {
    ++c.tensors;
    ++c.by_dtype[t.dtype];
    c.bytes += t.nbytes;
  }
  return c;
}

TEST(WeightsTest, OpensTinyBf16Checkpoint) {
  if (tiny("bf16").empty()) GTEST_SKIP() << "golden data absent (V4RT_GOLDEN_DIR)";
  auto w = Weights::open(tiny("bf16"));
  ASSERT_TRUE(w.ok()) << w.status().to_string();
  Counts c = count(**w);  // weights_manifest.json: 357 tensors, 19604432 bytes
  EXPECT_EQ(c.tensors, 357u);
  EXPECT_EQ(c.bytes, 19604432u);
  EXPECT_EQ(c.by_dtype[DType::kBF16], 289u);
  EXPECT_EQ(c.by_dtype[DType::kF32], 66u);
  EXPECT_EQ(c.by_dtype[DType::kI64], 2u);
  EXPECT_EQ((*w)->total_bytes(), 8461424u + 11178088u);
  const TensorView* tid = (*w)->find("layers.0.ffn.gate.tid2eid");
  ASSERT_NE(tid, nullptr);
  EXPECT_EQ(tid->shape, (std::vector<int64_t>{1024, 2}));
  for (int64_t e : tid->as<int64_t>()) ASSERT_TRUE(e >= 0 && e < 8) << e;
}

TEST(WeightsTest, OpensTinyFp8CheckpointAndDecodesLikeBf16) {
  if (tiny("fp8").empty()) GTEST_SKIP() << "golden data absent (V4RT_GOLDEN_DIR)";
  auto w8 = Weights::open(tiny("fp8"));
  auto w16 = Weights::open(tiny("bf16"));
  ASSERT_TRUE(w8.ok()) << w8.status().to_string();
  ASSERT_TRUE(w16.ok());
  Counts c = count(**w8);  // weights_manifest.json: 585 tensors, 8971375 bytes
  EXPECT_EQ(c.tensors, 585u);
  EXPECT_EQ(c.bytes, 8971375u);
  EXPECT_EQ(c.by_dtype[DType::kF8E4M3], 60u);
  EXPECT_EQ(c.by_dtype[DType::kF8E8M0], 228u);
  EXPECT_EQ(c.by_dtype[DType::kI8], 168u);

  // Hand check, FP8: element [0,0] of layers.0.attn.wkv = e4m3(byte) * 2^(scale[0,0] - 127).
  const TensorView* wkv = (*w8)->find("layers.0.attn.wkv.weight");
  const TensorView* wkv_s = (*w8)->find("layers.0.attn.wkv.scale");
  ASSERT_TRUE(wkv && wkv_s);
  EXPECT_EQ(wkv_s->shape, (std::vector<int64_t>{1, 2}));  // 96x256 -> ceil-divided 1x2 tiles
  const double v00 = hand_e4m3(wkv->data[0]) * std::pow(2.0, wkv_s->data[0] - 127);
  const double v0_200 = hand_e4m3(wkv->data[200]) * std::pow(2.0, wkv_s->data[1] - 127);  // second tile
  const TensorView* wkv16 = (*w16)->find("layers.0.attn.wkv.weight");
  EXPECT_EQ(v00, hand_bf16(wkv16->data));
  EXPECT_EQ(v0_200, hand_bf16(wkv16->data + 2 * 200));
  std::vector<float> row(256);
  ASSERT_TRUE(dequantize_rows(*wkv, wkv_s, 0, 1, row).ok());
  EXPECT_EQ(row[0], v00);
  EXPECT_EQ(row[200], v0_200);

  // Hand check, FP4: layers.1.ffn.experts.0.w1 [128, 256] stored I8 [128, 128]; byte 0 holds
  // elements 0 (low nibble) and 1 (high nibble); scale [128, 8] per 32.
  const TensorView* e1 = (*w8)->find("layers.1.ffn.experts.0.w1.weight");
  const TensorView* e1s = (*w8)->find("layers.1.ffn.experts.0.w1.scale");
  ASSERT_TRUE(e1 && e1s);
  const TensorView* e1_16 = (*w16)->find("layers.1.ffn.experts.0.w1.weight");
  const double s0 = std::pow(2.0, e1s->data[0] - 127), s1 = std::pow(2.0, e1s->data[1] - 127);
  EXPECT_EQ(hand_e2m1(e1->data[0] & 15) * s0, hand_bf16(e1_16->data + 0));
  EXPECT_EQ(hand_e2m1(e1->data[0] >> 4) * s0, hand_bf16(e1_16->data + 2));
  EXPECT_EQ(hand_e2m1(e1->data[16] & 15) * s1, hand_bf16(e1_16->data + 2 * 32));  // element 32: next scale

  // Whole tensors: every FP8/FP4 weight of the fp8 checkpoint dequantizes to
  // exactly the bf16 checkpoint's value (README: same effective weights).
  size_t checked = 0;
  for (const auto& [name, t] : (*w8)->tensors()) {
    if (t.dtype != DType::kF8E4M3 && t.dtype != DType::kI8) continue;
    std::string base = name.substr(0, name.size() - std::string(".weight").size());
    const TensorView* scale = (*w8)->find(base + ".scale");
    const TensorView* ref = (*w16)->find(name);
    ASSERT_TRUE(scale && ref) << name;
    ASSERT_EQ(ref->dtype, DType::kBF16) << name;
    std::vector<float> got(static_cast<size_t>(ref->numel())), want(got.size());
    ASSERT_TRUE(dequantize_rows(t, scale, 0, t.shape[0], got).ok()) << name;
    ASSERT_TRUE(dequantize_rows(*ref, nullptr, 0, ref->shape[0], want).ok()) << name;
    ASSERT_EQ(got, want) << name;
    ++checked;
  }
  EXPECT_EQ(checked, 60u + 168u);
}

}  // namespace
}  // namespace v4rt::model
