// Builds safetensors files byte by byte for the model tests (valid ones and
// deliberately broken ones), and writes them into a directory.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

namespace v4rt::testing {

// 8-byte little-endian length + header text + data, with `declared_len`
// overriding the length field when >= 0 (to build lying headers).
inline std::string safetensors_bytes(const std::string& header, const std::string& data,
                                     int64_t declared_len = -1) {
  uint64_t n = declared_len >= 0 ? static_cast<uint64_t>(declared_len) : header.size();
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[static_cast<size_t>(i)] = static_cast<char>((n >> (8 * i)) & 0xff);
  return out + header + data;
}

inline void write_bytes(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace v4rt::testing
