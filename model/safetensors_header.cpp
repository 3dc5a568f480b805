#include "model/safetensors_header.h"

#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>

namespace v4rt::model {

namespace {

using nlohmann::json;

constexpr std::string_view kNextStep = "; the file is damaged or not a safetensors file: re-download or re-convert it";

// Names from the file may be huge or binary; keep messages short and printable.
std::string printable(std::string_view s) {
  std::string out = "'";
  size_t n = 0;
  for (char c : s) {
    if (++n > 96) {
      out += "...";
      break;
    }
    unsigned char u = static_cast<unsigned char>(c);
    out += (u >= 0x20 && u < 0x7f) ? c : '?';
  }
  return out + "'";
}

std::string dump_short(const json& j) {
  std::string s = j.dump(-1, ' ', false, json::error_handler_t::replace);
  if (s.size() > 64) s = s.substr(0, 64) + "...";
  return s;
}

// Rejects pathological nesting before the JSON library sees it (a valid
// header is an object of objects of arrays: depth 3).
bool nesting_within(std::span<const uint8_t> text, int max_depth) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (uint8_t c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '{' || c == '[') {
      if (++depth > max_depth) return false;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return true;
}

std::string known_dtypes() {
  return "BF16, F16, F32, F64, I8, I16, I32, I64, U8, BOOL, F8_E4M3, F8_E8M0";
}

Status parse_entry(std::string_view file, const std::string& key, const json& value, uint64_t data_bytes,
                   SafetensorsEntry* out) {
  std::string where = std::string(file) + ": tensor " + printable(key);
  if (key.empty()) return Status::Corruption(std::string(file) + ": a tensor has an empty name" + std::string(kNextStep));
  if (!value.is_object())
    return Status::Corruption(where + ": entry is not a JSON object (got " + dump_short(value) + ")" +
                              std::string(kNextStep));
  auto dt = value.find("dtype");
  auto sh = value.find("shape");
  auto off = value.find("data_offsets");
  if (dt == value.end() || sh == value.end() || off == value.end())
    return Status::Corruption(where + ": entry lacks " +
                              std::string(dt == value.end() ? "'dtype'" : sh == value.end() ? "'shape'" : "'data_offsets'") +
                              std::string(kNextStep));
  if (!dt->is_string())
    return Status::Corruption(where + ": 'dtype' is not a string (got " + dump_short(*dt) + ")" + std::string(kNextStep));
  const std::string& dtype_text = dt->get_ref<const std::string&>();
  std::optional<DType> dtype = dtype_from_safetensors(dtype_text);
  if (!dtype)
    return Status::Unsupported(where + ": unknown dtype " + printable(dtype_text) + "; v4rt reads " + known_dtypes() +
                               " (convert the checkpoint to one of these)");
  out->name = key;
  out->dtype = *dtype;

  if (!sh->is_array())
    return Status::Corruption(where + ": 'shape' is not an array (got " + dump_short(*sh) + ")" + std::string(kNextStep));
  if (sh->size() > 16)
    return Status::Corruption(where + ": shape has " + std::to_string(sh->size()) + " dimensions (at most 16)" +
                              std::string(kNextStep));
  uint64_t numel = 1;
  out->shape.clear();
  for (const json& d : *sh) {
    if (d.is_number_integer() && !d.is_number_unsigned() && d.get<int64_t>() < 0)
      return Status::Corruption(where + ": negative dimension " + dump_short(d) + " in shape" + std::string(kNextStep));
    if (!d.is_number_unsigned())
      return Status::Corruption(where + ": shape dimension " + dump_short(d) + " is not a non-negative integer" +
                                std::string(kNextStep));
    uint64_t v = d.get<uint64_t>();
    if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) || __builtin_mul_overflow(numel, v, &numel))
      return Status::Corruption(where + ": shape " + dump_short(*sh) + " has more elements than fit in 64 bits" +
                                std::string(kNextStep));
    out->shape.push_back(static_cast<int64_t>(v));
  }
  uint64_t nbytes = 0;
  if (__builtin_mul_overflow(numel, static_cast<uint64_t>(dtype_size(*dtype)), &nbytes))
    return Status::Corruption(where + ": shape " + dump_short(*sh) + " is too large (byte size overflows)" +
                              std::string(kNextStep));

  if (!off->is_array() || off->size() != 2)
    return Status::Corruption(where + ": 'data_offsets' is not a [begin, end] pair (got " + dump_short(*off) + ")" +
                              std::string(kNextStep));
  for (const json& o : *off)
    if (!o.is_number_unsigned())
      return Status::Corruption(where + ": data offset " + dump_short(o) + " is not a non-negative integer" +
                                std::string(kNextStep));
  out->begin = (*off)[0].get<uint64_t>();
  out->end = (*off)[1].get<uint64_t>();
  if (out->begin > out->end)
    return Status::Corruption(where + ": data_offsets [" + std::to_string(out->begin) + ", " + std::to_string(out->end) +
                              "] end before they begin" + std::string(kNextStep));
  if (out->end > data_bytes)
    return Status::Corruption(where + ": data_offsets [" + std::to_string(out->begin) + ", " + std::to_string(out->end) +
                              "] run past the end of the data section (" + std::to_string(data_bytes) +
                              " bytes); the file is truncated" + std::string(kNextStep));
  if (out->end - out->begin != nbytes)
    return Status::Corruption(where + ": data_offsets span " + std::to_string(out->end - out->begin) + " bytes but " +
                              std::string(dtype_name(*dtype)) + " shape " + dump_short(*sh) + " needs " +
                              std::to_string(nbytes) + std::string(kNextStep));
  return Status::Ok();
}

}  // namespace

Result<SafetensorsHeader> parse_safetensors_header(std::span<const uint8_t> file, std::string_view name) {
  const std::string fname(name);
  if (file.size() < 8)
    return Status::Corruption(fname + ": file is " + std::to_string(file.size()) +
                              " bytes, too short for the 8-byte header length" + std::string(kNextStep));
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | file[static_cast<size_t>(i)];
  if (n > kMaxSafetensorsHeaderBytes)
    return Status::Corruption(fname + ": header length " + std::to_string(n) + " exceeds the " +
                              std::to_string(kMaxSafetensorsHeaderBytes) + "-byte limit" + std::string(kNextStep));
  if (n > file.size() - 8)
    return Status::Corruption(fname + ": header length " + std::to_string(n) + " runs past the end of the file (" +
                              std::to_string(file.size()) + " bytes); the file is truncated" + std::string(kNextStep));
  if (n < 2)
    return Status::Corruption(fname + ": header length " + std::to_string(n) + " is too small for a JSON object" +
                              std::string(kNextStep));
  SafetensorsHeader header;
  header.json_bytes = n;
  header.data_offset = 8 + n;
  header.data_bytes = file.size() - header.data_offset;

  std::span<const uint8_t> text = file.subspan(8, static_cast<size_t>(n));
  if (!nesting_within(text, kMaxSafetensorsJsonDepth))
    return Status::Corruption(fname + ": header JSON nests deeper than " + std::to_string(kMaxSafetensorsJsonDepth) +
                              " levels" + std::string(kNextStep));
  json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded())
    return Status::Corruption(fname + ": header is not valid JSON" + std::string(kNextStep));
  if (!j.is_object())
    return Status::Corruption(fname + ": header JSON is not an object (got " + dump_short(j) + ")" +
                              std::string(kNextStep));

  for (const auto& [key, value] : j.items()) {
    if (key == "__metadata__") {
      if (value.is_null()) continue;
      if (!value.is_object())
        return Status::Corruption(fname + ": __metadata__ is not an object (got " + dump_short(value) + ")" +
                                  std::string(kNextStep));
      for (const auto& [mk, mv] : value.items()) {
        if (!mv.is_string())
          return Status::Corruption(fname + ": __metadata__ value for " + printable(mk) + " is not a string (got " +
                                    dump_short(mv) + ")" + std::string(kNextStep));
        header.metadata[mk] = mv.get<std::string>();
      }
      continue;
    }
    SafetensorsEntry entry;
    V4RT_RETURN_IF_ERROR(parse_entry(fname, key, value, header.data_bytes, &entry));
    header.tensors.push_back(std::move(entry));
  }

  std::sort(header.tensors.begin(), header.tensors.end(), [](const SafetensorsEntry& a, const SafetensorsEntry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  // Invariant after this loop: the non-empty ranges are pairwise disjoint.
  const SafetensorsEntry* prev = nullptr;
  for (const auto& t : header.tensors) {
    if (t.begin == t.end) continue;
    if (prev != nullptr && t.begin < prev->end)
      return Status::Corruption(fname + ": tensors " + printable(prev->name) + " [" + std::to_string(prev->begin) + ", " +
                                std::to_string(prev->end) + ") and " + printable(t.name) + " [" +
                                std::to_string(t.begin) + ", " + std::to_string(t.end) + ") overlap" +
                                std::string(kNextStep));
    prev = &t;
  }
  return header;
}

}  // namespace v4rt::model
