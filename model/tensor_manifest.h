// Tensor manifest: every tensor a DeepSeek-V4 checkpoint must hold for a given
// Config (spec §2.1), with its stored dtype and shape, for both release
// formats: FP8 (e4m3 weights + e8m0 128x128 block scales named "<w>.scale",
// FP4 routed experts as I8 [out, in/2] + e8m0 [out, in/32]) and BF16 (no
// scales). Used by `v4rt model inspect` and by the model loader.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/config.h"
#include "model/dtype.h"

namespace v4rt::model {

class Weights;

struct ExpectedTensor {
  std::string name;
  DType dtype = DType::kBF16;
  std::vector<int64_t> shape;
};

// In checkpoint order: embed, head, norm, hc_head_*, layers.0.* ... layers.{n-1}.*, mtp.{i}.*.
std::vector<ExpectedTensor> expected_tensors(const Config& config);

struct TensorMismatch {
  ExpectedTensor expected;
  DType actual_dtype = DType::kU8;
  std::vector<int64_t> actual_shape;
};

// How a checkpoint compares with the manifest.
struct ManifestReport {
  size_t expected = 0;                     // tensors the config needs
  std::vector<ExpectedTensor> missing;     // needed, absent
  std::vector<TensorMismatch> mismatched;  // present with another dtype or shape
  std::vector<std::string> unexpected;     // present, not needed (ignored by the loader)
  bool ok() const { return missing.empty() && mismatched.empty(); }
};

ManifestReport check_manifest(const Config& config, const Weights& weights);

// "[128, 256]"
std::string shape_string(const std::vector<int64_t>& shape);

}  // namespace v4rt::model
