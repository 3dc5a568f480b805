// DType: the safetensors element types v4rt reads, and their sizes.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace v4rt::model {

// kF4E2M1x2 is not a safetensors dtype: the release stores packed FP4 as I8
// (two e2m1 per byte, low nibble = even element); Weights reports it as I8 and
// the model reinterprets it.
enum class DType { kBF16, kF16, kF32, kF64, kI8, kI16, kI32, kI64, kU8, kBool, kF8E4M3, kF8E8M0 };

std::optional<DType> dtype_from_safetensors(std::string_view name);  // "BF16", "F8_E4M3", ...
std::string_view dtype_name(DType t);                                // safetensors spelling
size_t dtype_size(DType t);                                          // bytes per element

}  // namespace v4rt::model
