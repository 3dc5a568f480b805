// .npy reading and writing (see npy.h).
#include "model/npy.h"

#include <cstring>

#include "base/file_util.h"

namespace v4rt::model {
namespace {

size_t elem_size(const std::string& d) {
  if (d == "<f4" || d == "<i4") return 4;
  if (d == "<i8") return 8;
  if (d == "<u2") return 2;
  return 0;
}

// Value of `key` in the header dict: the text after "'key':" up to the next
// top-level comma or closing brace.
std::string dict_value(std::string_view h, std::string_view key) {
  std::string k(1, '\'');
  k.append(key);
  k.push_back('\'');
  size_t p = h.find(k);
  if (p == std::string_view::npos) return {};
  p = h.find(':', p + k.size());
  if (p == std::string_view::npos) return {};
  ++p;
  int depth = 0;
  size_t e = p;
  for (; e < h.size(); ++e) {
    char c = h[e];
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (depth == 0 && (c == ',' || c == '}')) break;
  }
  std::string v(h.substr(p, e - p));
  size_t a = v.find_first_not_of(" '"), b = v.find_last_not_of(" '");
  return a == std::string::npos ? std::string() : v.substr(a, b - a + 1);
}

}  // namespace

int64_t NpyArray::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::vector<float> NpyArray::as_float() const {
  std::vector<float> out(static_cast<size_t>(numel()));
  for (size_t i = 0; i < out.size(); ++i) {
    if (dtype == "<f4") std::memcpy(&out[i], data.data() + 4 * i, 4);
    else if (dtype == "<i4") { int32_t v; std::memcpy(&v, data.data() + 4 * i, 4); out[i] = static_cast<float>(v); }
    else if (dtype == "<i8") { int64_t v; std::memcpy(&v, data.data() + 8 * i, 8); out[i] = static_cast<float>(v); }
    else { uint16_t v; std::memcpy(&v, data.data() + 2 * i, 2); uint32_t u = static_cast<uint32_t>(v) << 16; std::memcpy(&out[i], &u, 4); }
  }
  return out;
}

std::vector<int64_t> NpyArray::as_int() const {
  std::vector<int64_t> out(static_cast<size_t>(numel()));
  for (size_t i = 0; i < out.size(); ++i) {
    if (dtype == "<i4") { int32_t v; std::memcpy(&v, data.data() + 4 * i, 4); out[i] = v; }
    else if (dtype == "<i8") std::memcpy(&out[i], data.data() + 8 * i, 8);
    else if (dtype == "<u2") { uint16_t v; std::memcpy(&v, data.data() + 2 * i, 2); out[i] = v; }
    else { float v; std::memcpy(&v, data.data() + 4 * i, 4); out[i] = static_cast<int64_t>(v); }
  }
  return out;
}

Result<NpyArray> npy_parse(std::string_view b, const std::string& name) {
  auto bad = [&](const std::string& why) {
    return Status::Corruption(name + ": not a supported .npy file (" + why + "); write it with numpy.save");
  };
  if (b.size() < 10 || b.substr(0, 6) != "\x93NUMPY") return bad("bad magic");
  const int major = static_cast<unsigned char>(b[6]);
  size_t hlen, off;
  if (major == 1) {
    hlen = static_cast<unsigned char>(b[8]) | (static_cast<size_t>(static_cast<unsigned char>(b[9])) << 8);
    off = 10;
  } else if (major == 2 || major == 3) {
    if (b.size() < 12) return bad("truncated header");
    hlen = 0;
    for (int i = 0; i < 4; ++i) hlen |= static_cast<size_t>(static_cast<unsigned char>(b[8 + i])) << (8 * i);
    off = 12;
  } else {
    return bad("version " + std::to_string(major));
  }
  if (b.size() < off + hlen) return bad("truncated header");
  std::string_view h = b.substr(off, hlen);
  NpyArray a;
  a.dtype = dict_value(h, "descr");
  if (elem_size(a.dtype) == 0) return bad("dtype '" + a.dtype + "' (supported: <f4 <i4 <i8 <u2)");
  if (dict_value(h, "fortran_order") != "False") return bad("Fortran order");
  std::string shape = dict_value(h, "shape");
  size_t i = 0;
  while (i < shape.size()) {
    while (i < shape.size() && !(shape[i] >= '0' && shape[i] <= '9')) ++i;
    if (i >= shape.size()) break;
    int64_t v = 0;
    while (i < shape.size() && shape[i] >= '0' && shape[i] <= '9') {
      v = v * 10 + (shape[i] - '0');
      if (v > (int64_t{1} << 40)) return bad("dimension too large");
      ++i;
    }
    a.shape.push_back(v);
  }
  const size_t need = static_cast<size_t>(a.numel()) * elem_size(a.dtype);
  if (b.size() - off - hlen != need) return bad("data size does not match the shape");
  a.data = std::string(b.substr(off + hlen));
  return a;
}

Result<NpyArray> npy_read(const std::filesystem::path& path) {
  auto bytes = read_file(path);
  if (!bytes.ok()) return bytes.status();
  return npy_parse(*bytes, path.string());
}

std::string npy_encode_f32(const std::vector<int64_t>& shape, const float* data) {
  std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (";
  int64_t n = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    dict += std::to_string(shape[i]) + (shape.size() == 1 || i + 1 < shape.size() ? "," : "");
    if (i + 1 < shape.size()) dict += " ";
    n *= shape[i];
  }
  dict += "), }";
  size_t total = 10 + dict.size() + 1;
  size_t pad = (64 - total % 64) % 64;
  dict += std::string(pad, ' ') + "\n";
  std::string out = "\x93NUMPY";
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(dict.size() & 0xff);
  out += static_cast<char>((dict.size() >> 8) & 0xff);
  out += dict;
  out.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n) * 4);
  return out;
}

}  // namespace v4rt::model
