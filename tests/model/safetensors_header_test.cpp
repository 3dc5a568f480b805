#include "model/safetensors_header.h"

#include <gtest/gtest.h>

#include <string>

#include "model/weights.h"
#include "safetensors_test_util.h"
#include "test_util.h"

namespace v4rt::model {
namespace {

using v4rt::testing::safetensors_bytes;
using v4rt::testing::TempDir;
using v4rt::testing::write_bytes;

// Writes `bytes` as <dir>/model.safetensors and opens the directory the way
// the loader does (mmap + parse); returns the error message ("" on success).
std::string open_on_disk(const std::string& bytes, Status::Code* code = nullptr) {
  TempDir dir;
  write_bytes(dir.path() / "model.safetensors", bytes);
  auto w = Weights::open(dir.path());
  if (code) *code = w.ok() ? Status::Code::kOk : w.status().code();
  return w.ok() ? "" : w.status().message();
}

Result<SafetensorsHeader> parse(const std::string& bytes) {
  return parse_safetensors_header({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()}, "t.safetensors");
}

TEST(SafetensorsHeaderTest, ParsesValidHeader) {
  std::string header =
      R"({"__metadata__":{"format":"pt"},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]},)"
      R"("a":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]},"empty":{"dtype":"I64","shape":[0,3],"data_offsets":[12,12]}})";
  auto h = parse(safetensors_bytes(header, std::string(12, '\0')));
  ASSERT_TRUE(h.ok()) << h.status().to_string();
  EXPECT_EQ(h->json_bytes, header.size());
  EXPECT_EQ(h->data_offset, 8 + header.size());
  EXPECT_EQ(h->data_bytes, 12u);
  ASSERT_EQ(h->tensors.size(), 3u);
  EXPECT_EQ(h->tensors[0].name, "a");  // sorted by offset
  EXPECT_EQ(h->tensors[0].dtype, DType::kBF16);
  EXPECT_EQ(h->tensors[1].name, "b");
  EXPECT_EQ(h->tensors[1].shape, std::vector<int64_t>{2});
  EXPECT_EQ(h->metadata.at("format"), "pt");
}

TEST(SafetensorsHeaderTest, ScalarTensorHasOneElement) {
  auto h = parse(safetensors_bytes(R"({"s":{"dtype":"F32","shape":[],"data_offsets":[0,4]}})", std::string(4, '\0')));
  ASSERT_TRUE(h.ok()) << h.status().to_string();
  EXPECT_TRUE(h->tensors[0].shape.empty());
}

TEST(SafetensorsHeaderTest, TruncatedFileShorterThanLength) {
  Status::Code code;
  std::string msg = open_on_disk("\x10\x00\x00", &code);
  EXPECT_EQ(code, Status::Code::kCorruption);
  EXPECT_NE(msg.find("too short for the 8-byte header length"), std::string::npos) << msg;
  EXPECT_NE(msg.find("model.safetensors"), std::string::npos) << msg;
  EXPECT_NE(open_on_disk("").find("too short"), std::string::npos);
}

TEST(SafetensorsHeaderTest, TruncatedDataSection) {
  // The header promises 16 bytes of data; the file holds 8.
  std::string msg = open_on_disk(
      safetensors_bytes(R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", std::string(8, '\0')));
  EXPECT_NE(msg.find("run past the end of the data section"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'w'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("truncated"), std::string::npos) << msg;
}

TEST(SafetensorsHeaderTest, HeaderLengthBeyondFile) {
  std::string header = R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})";
  std::string msg = open_on_disk(safetensors_bytes(header, "x", static_cast<int64_t>(header.size() + 100)));
  EXPECT_NE(msg.find("runs past the end of the file"), std::string::npos) << msg;
}

TEST(SafetensorsHeaderTest, HugeHeaderLength) {
  std::string msg = open_on_disk(safetensors_bytes("{}", "", int64_t{1} << 62));
  EXPECT_NE(msg.find("exceeds"), std::string::npos) << msg;
  // All 64 bits set: a "negative" length read as unsigned.
  std::string bytes(8, '\xff');
  bytes += "{}";
  msg = open_on_disk(bytes);
  EXPECT_NE(msg.find("exceeds"), std::string::npos) << msg;
}

TEST(SafetensorsHeaderTest, LyingOffsetsDisagreeWithShape) {
  std::string msg = open_on_disk(
      safetensors_bytes(R"({"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,12]}})", std::string(16, '\0')));
  EXPECT_NE(msg.find("span 12 bytes but F32 shape [2,2] needs 16"), std::string::npos) << msg;
}

TEST(SafetensorsHeaderTest, OffsetsEndBeforeTheyBegin) {
  std::string msg = open_on_disk(
      safetensors_bytes(R"({"w":{"dtype":"U8","shape":[0],"data_offsets":[8,4]}})", std::string(8, '\0')));
  EXPECT_NE(msg.find("end before they begin"), std::string::npos) << msg;
}

TEST(SafetensorsHeaderTest, OverlappingRanges) {
  std::string msg = open_on_disk(safetensors_bytes(
      R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
      std::string(12, '\0')));
  EXPECT_NE(msg.find("overlap"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'a'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'b'"), std::string::npos) << msg;
}

TEST(SafetensorsHeaderTest, IdenticalRangesOverlap) {
  std::string msg = open_on_disk(safetensors_bytes(
      R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}})",
      std::string(4, '\0')));
  EXPECT_NE(msg.find("overlap"), std::string::npos) << msg;
}

TEST(SafetensorsHeaderTest, NegativeDimension) {
  std::string msg = open_on_disk(
      safetensors_bytes(R"({"w":{"dtype":"F32","shape":[-1,4],"data_offsets":[0,16]}})", std::string(16, '\0')));
  EXPECT_NE(msg.find("negative dimension -1"), std::string::npos) << msg;
}

TEST(SafetensorsHeaderTest, NegativeOffset) {
  std::string msg = open_on_disk(
      safetensors_bytes(R"({"w":{"dtype":"U8","shape":[4],"data_offsets":[-4,0]}})", std::string(4, '\0')));
  EXPECT_NE(msg.find("is not a non-negative integer"), std::string::npos) << msg;
}

TEST(SafetensorsHeaderTest, HugeShapeOverflows) {
  std::string msg = open_on_disk(safetensors_bytes(
      R"({"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,16]}})", std::string(16, '\0')));
  EXPECT_NE(msg.find("64 bits"), std::string::npos) << msg;
  msg = open_on_disk(safetensors_bytes(
      R"({"w":{"dtype":"F64","shape":[4611686018427387904],"data_offsets":[0,16]}})", std::string(16, '\0')));
  EXPECT_NE(msg.find("too large"), std::string::npos) << msg;
  msg = open_on_disk(safetensors_bytes(
      R"({"w":{"dtype":"U8","shape":[1e30],"data_offsets":[0,16]}})", std::string(16, '\0')));
  EXPECT_NE(msg.find("not a non-negative integer"), std::string::npos) << msg;
}

TEST(SafetensorsHeaderTest, HugeOffsets) {
  std::string msg = open_on_disk(safetensors_bytes(
      R"({"w":{"dtype":"U8","shape":[4],"data_offsets":[18446744073709551612,18446744073709551615]}})",
      std::string(4, '\0')));
  EXPECT_NE(msg.find("run past the end of the data section"), std::string::npos) << msg;
}

TEST(SafetensorsHeaderTest, BadJson) {
  Status::Code code;
  std::string msg = open_on_disk(safetensors_bytes(R"({"w":{"dtype":"F32",)", ""), &code);
  EXPECT_EQ(code, Status::Code::kCorruption);
  EXPECT_NE(msg.find("not valid JSON"), std::string::npos) << msg;
  msg = open_on_disk(safetensors_bytes("[1,2,3]", ""));
  EXPECT_NE(msg.find("not an object"), std::string::npos) << msg;
  msg = open_on_disk(safetensors_bytes(std::string(1000, '[') + std::string(1000, ']'), ""));
  EXPECT_NE(msg.find("nests deeper"), std::string::npos) << msg;
  msg = open_on_disk(safetensors_bytes(R"({"w":{"dtype":"U8","shape":[1]}})", "x"));
  EXPECT_NE(msg.find("lacks 'data_offsets'"), std::string::npos) << msg;
  msg = open_on_disk(safetensors_bytes(R"({"w":7})", ""));
  EXPECT_NE(msg.find("not a JSON object"), std::string::npos) << msg;
  msg = open_on_disk(safetensors_bytes(R"({"__metadata__":{"k":1}})", ""));
  EXPECT_NE(msg.find("__metadata__"), std::string::npos) << msg;
}

TEST(SafetensorsHeaderTest, UnknownDtype) {
  Status::Code code;
  std::string msg = open_on_disk(
      safetensors_bytes(R"({"w":{"dtype":"F8_E5M2","shape":[4],"data_offsets":[0,4]}})", std::string(4, '\0')), &code);
  EXPECT_EQ(code, Status::Code::kUnsupported);
  EXPECT_NE(msg.find("unknown dtype 'F8_E5M2'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("F8_E4M3"), std::string::npos) << msg;  // lists what is supported
}

TEST(SafetensorsHeaderTest, BinaryNamesAreSanitizedInMessages) {
  std::string name = "\xc3\xa9" + std::string(300, 'n');
  std::string msg = open_on_disk(safetensors_bytes(
      "{\"" + name + R"(":{"dtype":"X","shape":[1],"data_offsets":[0,1]}})", "x"));
  EXPECT_NE(msg.find("'??nnn"), std::string::npos) << msg;
  EXPECT_LT(msg.size(), 400u);
}

}  // namespace
}  // namespace v4rt::model
