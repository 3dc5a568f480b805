// Weights: a memory-mapped safetensors checkpoint (one file or shards listed by
// model.safetensors.index.json). Tensors are views into the mappings, still in
// their stored dtype (quantized weights stay quantized; kernels decode them).
// The header parser is hardened: every offset, size and dtype is checked
// before any tensor can be viewed. Immutable after open; thread-safe to read.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "model/dtype.h"
#include "base/status.h"

namespace v4rt::model {

struct TensorView {
  std::string_view name;
  DType dtype = DType::kU8;
  std::vector<int64_t> shape;
  const uint8_t* data = nullptr;  // valid while the Weights that made it lives
  size_t nbytes = 0;

  int64_t numel() const;
  template <typename T>
  std::span<const T> as() const { return {reinterpret_cast<const T*>(data), nbytes / sizeof(T)}; }
};

class MappedFile;  // RAII mmap owner (model/mapped_file.h)

class Weights {
 public:
  // dir holds model.safetensors.index.json + shards, or *.safetensors files.
  static Result<std::unique_ptr<Weights>> open(const std::filesystem::path& dir);
  // Parses one safetensors file from memory (no mmap); for tests and fuzzing.
  static Result<std::unique_ptr<Weights>> from_bytes(std::string bytes, std::string name);
  ~Weights();
  Weights(const Weights&) = delete;
  Weights& operator=(const Weights&) = delete;

  // nullptr when absent.
  const TensorView* find(std::string_view name) const;
  // The tensor with the expected dtype and shape, or an error naming the
  // tensor, what was expected and what the checkpoint holds.
  Result<const TensorView*> get(std::string_view name, DType dtype, std::vector<int64_t> shape) const;
  const std::map<std::string, TensorView, std::less<>>& tensors() const { return tensors_; }
  // Sum of file sizes; and a stable identity (file names, sizes, header hashes) for fingerprints.
  uint64_t total_bytes() const { return total_bytes_; }
  const std::string& identity() const { return identity_; }
  // Whether p points into one of the file mappings (not into memory: from_bytes()
  // or an aligned copy), i.e. MappedFile::drop_pages may be used on it.
  bool in_mapping(const void* p) const;

 private:
  Weights();
  std::vector<std::unique_ptr<MappedFile>> files_;
  std::string owned_bytes_;  // from_bytes only
  // Tensors whose bytes are not aligned to their element size (safetensors
  // does not require it) are copied here, so every typed read is aligned.
  std::vector<std::vector<uint64_t>> aligned_copies_;
  void align_tensors();
  std::map<std::string, TensorView, std::less<>> tensors_;
  uint64_t total_bytes_ = 0;
  std::string identity_;
};

}  // namespace v4rt::model
