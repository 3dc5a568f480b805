// Minimal NumPy .npy (format 1.0/2.0) reading and writing: little-endian
// float32 / int32 / int64 / uint16 arrays in C order. Used by `v4rt logits`
// (writer) and the golden parity tests (reader).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace v4rt::model {

struct NpyArray {
  std::string dtype;  // "<f4", "<i4", "<i8", "<u2"
  std::vector<int64_t> shape;
  std::string data;   // raw little-endian bytes
  int64_t numel() const;
  // Values converted to float / int64 (any supported dtype).
  std::vector<float> as_float() const;
  std::vector<int64_t> as_int() const;
};

Result<NpyArray> npy_parse(std::string_view bytes, const std::string& name);
Result<NpyArray> npy_read(const std::filesystem::path& path);
// The .npy bytes of a float32 array.
std::string npy_encode_f32(const std::vector<int64_t>& shape, const float* data);

}  // namespace v4rt::model
