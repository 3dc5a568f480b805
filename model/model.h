// Model: a loaded DeepSeek-V4 checkpoint and its forward pass (spec §3).
// forward() takes any number of tokens at any position (chunked prefill and
// decode are the same call, spec §4.5 engine rule) and returns the next-token
// logits of the last token. Thread-safety: a Model is immutable after load and
// may be shared; each State is used by one thread at a time.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>

#include "model/config.h"
#include "runtime/base/progress.h"
#include "runtime/base/status.h"

namespace v4rt {
class ThreadPool;
}

namespace v4rt::model {

class State;
class Weights;

struct ModelOptions {
  // Simulate the reference's FP8 activation quantisation of QLinear inputs
  // (fp8 checkpoints). Off: weights are dequantized and activations are not
  // quantized, which on an fp8 checkpoint must reproduce the bf16 goldens.
  bool activation_quant = true;
  int prefill_chunk_tokens = 512;  // tokens per internal chunk of a long forward() (bounds memory)
};

class Model {
 public:
  // Loads config.json and the safetensors of `dir`, checks every tensor's
  // presence, dtype and shape. `pool` is borrowed and must outlive the Model.
  static Result<std::unique_ptr<Model>> load(const std::filesystem::path& dir, const ModelOptions& options,
                                             ThreadPool* pool);
  ~Model();
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  const Config& config() const;
  // A fresh per-sequence state at position 0.
  std::unique_ptr<State> new_state() const;

  // Feeds `tokens` at state.position() and advances it. Writes the next-token
  // logits after the last token into `logits` (size vocab_size). progress
  // (optional) is called between internal chunks; returning false cancels
  // with Status::Cancelled and leaves `state` at the last completed chunk.
  Status forward(std::span<const int32_t> tokens, State& state, std::span<float> logits,
                 const Progress& progress = {}) const;

  // MTP (spec §3.14): true when the checkpoint has mtp.0.*.
  bool has_mtp() const;
  // Draft logits for the token after next: uses the main model's final hc
  // state at the last fed position (kept in `state`) and `next_token` (the
  // token that will be fed next). Advances the MTP's own window cache.
  Status forward_mtp(int32_t next_token, State& state, std::span<float> logits) const;

  // Identity of config + weights + v4rt's state format version, for session stores.
  std::string fingerprint() const;

 private:
  Model();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace v4rt::model
