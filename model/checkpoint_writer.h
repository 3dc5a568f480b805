// CheckpointWriter: writes tensors as a sharded safetensors checkpoint in the
// Hugging Face layout (model-0000i-of-0000N.safetensors + model.safetensors.index.json),
// and the quantizers that produce the release's stored formats (spec §2.2):
// FP8 e4m3 weights with e8m0 128x128 block scales, packed FP4 e2m1 experts with
// e8m0 per-32 scales. Headers list tensors sorted by name, data 8-byte aligned.
// Not thread-safe (one writer per directory).
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "model/dtype.h"
#include "base/status.h"

namespace v4rt {
class ThreadPool;
}

namespace v4rt::model {

struct CheckpointWriterOptions {
  uint64_t shard_bytes = 4ull << 30;  // a shard is closed once it holds at least this many bytes
};

class CheckpointWriter {
 public:
  // dir must exist. Shards are written as they fill (memory holds at most one shard).
  CheckpointWriter(std::filesystem::path dir, CheckpointWriterOptions options = {});
  ~CheckpointWriter();
  CheckpointWriter(const CheckpointWriter&) = delete;
  CheckpointWriter& operator=(const CheckpointWriter&) = delete;

  // Adds one tensor; bytes.size() must equal numel(shape) * dtype_size(dtype).
  // Names must be unique.
  Status add(std::string name, DType dtype, std::vector<int64_t> shape, std::string bytes);
  // Flushes the last shard, renames shards to their final names and writes the index.
  Status finish();
  uint64_t total_bytes() const { return total_bytes_; }
  int shard_count() const { return static_cast<int>(shards_.size()); }

 private:
  struct Pending {
    std::string name;
    DType dtype;
    std::vector<int64_t> shape;
    std::string bytes;
  };
  Status flush_shard();

  std::filesystem::path dir_;
  CheckpointWriterOptions options_;
  std::vector<Pending> pending_;
  uint64_t pending_bytes_ = 0;
  uint64_t total_bytes_ = 0;
  struct Shard {
    std::filesystem::path temp_path;
    std::vector<std::string> names;
  };
  std::vector<Shard> shards_;
  std::vector<std::string> all_names_;
  bool finished_ = false;
};

// Serializes one safetensors file (header JSON sorted by name, 8-byte aligned) in memory.
// (Not safetensors_header.h's SafetensorsEntry: one name for two layouts in one
// namespace broke the one-definition rule, and ASan caught std::vector mixing them.)
struct SafetensorsBlob {
  std::string_view name;
  DType dtype;
  std::span<const int64_t> shape;
  std::string_view bytes;
};
std::string serialize_safetensors(std::span<const SafetensorsBlob> entries);

// FP8: w is [rows, cols] row-major fp32. Per 128x128 tile, scale = 2^ceil(log2(amax/448))
// (ue8m0, amax floored at 1e-4 like the activation rule), q = e4m3(w / scale).
// Returns e4m3 bytes [rows, cols] and e8m0 bytes [ceil(rows/128), ceil(cols/128)].
struct QuantizedFp8 {
  std::string weight;  // e4m3, rows * cols bytes
  std::string scale;   // e8m0
  int64_t scale_rows = 0, scale_cols = 0;
};
// pool (optional) splits the work by block rows; the bytes do not depend on it.
QuantizedFp8 quantize_fp8_blocks(std::span<const float> w, int64_t rows, int64_t cols, int block = 128,
                                 ThreadPool* pool = nullptr);
// The exact values a reader gets back from quantize_fp8_blocks (for the bf16 twin and tests).
std::vector<float> dequantize_fp8_blocks(const QuantizedFp8& q, int64_t rows, int64_t cols, int block = 128);

// FP4: w is [rows, cols] fp32 (cols even, multiple of 32). Per row and 32 columns,
// scale = 2^ceil(log2(amax/6)), code = e2m1(w / scale); packed two per byte along
// cols, element 2j in the low nibble. Returns bytes [rows, cols/2] and e8m0 [rows, cols/32].
struct QuantizedFp4 {
  std::string weight;
  std::string scale;
};
QuantizedFp4 quantize_fp4_rows(std::span<const float> w, int64_t rows, int64_t cols, ThreadPool* pool = nullptr);
std::vector<float> dequantize_fp4_rows(const QuantizedFp4& q, int64_t rows, int64_t cols);

// Element conversions used by writers: fp32 -> stored bytes.
std::string to_bf16_bytes(std::span<const float> v);
std::string to_f32_bytes(std::span<const float> v);

}  // namespace v4rt::model
