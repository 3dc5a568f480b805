// Random-weight checkpoints: every tensor a DeepSeek-V4 Config needs, in the
// release's names, dtypes and shapes (spec §2.1), filled from a seeded
// generator and written with CheckpointWriter. The bf16 and fp8 formats of
// the same Config and seed hold the same effective weights (bf16 stores the
// exact dequantized FP8/FP4 values), like the golden tiny checkpoints.
// Values are a function of (seed, tensor name) only, not of thread count.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "model/config.h"
#include "model/dtype.h"
#include "base/progress.h"
#include "base/status.h"

namespace v4rt {
class ThreadPool;
}

namespace v4rt::model {

struct CheckpointTensor {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
};

// The tensors of a checkpoint for `config` (fp8_weights/fp4_experts pick the stored formats).
std::vector<CheckpointTensor> checkpoint_tensors(const Config& config);
// Sum of the tensors' bytes.
uint64_t checkpoint_bytes(const Config& config);

struct RandomCheckpointOptions {
  uint64_t seed = 0;
  uint64_t shard_bytes = 0;  // 0: about half the checkpoint, between 1 MiB and 4 GiB per shard
};

// Writes the safetensors shards and model.safetensors.index.json into dir (which must exist).
// progress("weights", bytes_done, bytes_total); returning false cancels.
Status write_random_weights(const Config& config, const std::filesystem::path& dir,
                            const RandomCheckpointOptions& options, ThreadPool& pool,
                            const Progress& progress = {});

}  // namespace v4rt::model
