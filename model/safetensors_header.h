// SafetensorsHeader: the hardened parser of a safetensors file's header
// (8-byte little-endian length N, N bytes of JSON, then the data section).
// Every dtype, shape and offset is checked against the real file size before
// a tensor can be viewed: truncated files, lying or overlapping offsets,
// huge or negative sizes, bad JSON and unknown dtypes are errors that name
// the file and the tensor, never a crash or an out-of-bounds read.
// Pure function of its input; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "model/dtype.h"
#include "base/status.h"

namespace v4rt::model {

struct SafetensorsEntry {
  std::string name;
  DType dtype = DType::kU8;
  std::vector<int64_t> shape;
  uint64_t begin = 0;  // byte offsets into the data section, [begin, end)
  uint64_t end = 0;
};

struct SafetensorsHeader {
  uint64_t json_bytes = 0;    // N
  uint64_t data_offset = 0;   // 8 + N: where the data section starts in the file
  uint64_t data_bytes = 0;    // file size - data_offset
  std::vector<SafetensorsEntry> tensors;        // sorted by begin offset
  std::map<std::string, std::string> metadata;  // "__metadata__" (string values)
};

// Largest header accepted (the safetensors format itself caps it at 100 MB).
inline constexpr uint64_t kMaxSafetensorsHeaderBytes = 100'000'000;
// Deepest JSON nesting accepted (a valid header needs 3).
inline constexpr int kMaxSafetensorsJsonDepth = 16;

// Parses and validates the header of the complete file `file`; `name` (a path
// or label) prefixes every error message. Errors: Corruption for malformed or
// inconsistent bytes, Unsupported for an unknown dtype.
Result<SafetensorsHeader> parse_safetensors_header(std::span<const uint8_t> file, std::string_view name);

}  // namespace v4rt::model
