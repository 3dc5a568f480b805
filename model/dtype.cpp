#include "model/dtype.h"

namespace v4rt::model {

namespace {
struct DTypeInfo {
  DType type;
  std::string_view name;
  size_t size;
};
constexpr DTypeInfo kDTypes[] = {
    {DType::kBF16, "BF16", 2},  {DType::kF16, "F16", 2},         {DType::kF32, "F32", 4},
    {DType::kF64, "F64", 8},    {DType::kI8, "I8", 1},           {DType::kI16, "I16", 2},
    {DType::kI32, "I32", 4},    {DType::kI64, "I64", 8},         {DType::kU8, "U8", 1},
    {DType::kBool, "BOOL", 1},  {DType::kF8E4M3, "F8_E4M3", 1}, {DType::kF8E8M0, "F8_E8M0", 1},
};
}  // namespace

std::optional<DType> dtype_from_safetensors(std::string_view name) {
  for (const auto& d : kDTypes)
    if (d.name == name) return d.type;
  return std::nullopt;
}

std::string_view dtype_name(DType t) {
  for (const auto& d : kDTypes)
    if (d.type == t) return d.name;
  return "?";
}

size_t dtype_size(DType t) {
  for (const auto& d : kDTypes)
    if (d.type == t) return d.size;
  return 1;
}

}  // namespace v4rt::model
