// Model: a loaded DeepSeek-V4 checkpoint and its forward pass (spec §3).
// forward() takes any number of tokens at any position (chunked prefill and
// decode are the same call, spec §4.5 engine rule) and returns the next-token
// logits of the last token. Thread-safety: a Model is immutable after load and
// may be shared; each State is used by one thread at a time.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <vector>
#include <span>
#include <string>

#include "model/config.h"
#include "base/progress.h"
#include "base/status.h"

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
  // Golden comparisons only: resolve exact ties of the indexer top-k in a
  // call starting at position 0 the way the reference's one-shot prefill does
  // (it ranks all S/4 entries of the prompt, invisible ones at -inf). Off (the
  // default), every query ranks exactly its visible entries, as the one-token
  // path does, so any chunking gives identical results (spec §4.5).
  bool reference_prefill_topk = false;
};

// Observation hooks for tests and tools (golden parity, traces). All optional;
// callbacks run on the calling thread. Positions are absolute.
struct ForwardTrace {
  // Extra positions (inside the call) whose next-token logits are wanted.
  std::vector<int64_t> logit_positions;
  std::function<void(int64_t pos, std::span<const float> logits)> on_logits;
  // The residual stream [hc_mult * dim] leaving each block.
  std::function<void(int layer, int64_t pos, std::span<const float> hc)> on_block;
  // Indexer (CSA layers): the scores of the visible entries and the selected ids (best first).
  std::function<void(int layer, int64_t pos, std::span<const float> scores, std::span<const int32_t> topk)> on_indexer;
  // Routed MoE layers: the biased gate scores of every expert and the chosen ones.
  std::function<void(int layer, int64_t pos, std::span<const float> scores, std::span<const int32_t> selected)> on_moe;
  // The final hc state (what the head receives) per position.
  std::function<void(int64_t pos, std::span<const float> hc)> on_hidden;
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
  // The same with observation hooks (trace may be null).
  Status forward(std::span<const int32_t> tokens, State& state, std::span<float> logits, const Progress& progress,
                 const ForwardTrace* trace) const;

  // MTP (spec §3.14): true when the checkpoint has mtp.0.*.
  bool has_mtp() const;
  // Draft logits for the token after next: uses the main model's final hc
  // state at the last fed position (kept in `state`) and `next_token` (the
  // token that will be fed next). Advances the MTP's own window cache.
  Status forward_mtp(int32_t next_token, State& state, std::span<float> logits) const;
  // Lower level (tests, tools): runs the MTP block at its next positions over
  // explicit main hidden states `hidden` [n, hc_mult*dim] paired with `next_ids`
  // [n] (the token after each position); logits of the last row (and trace rows).
  Status forward_mtp_hidden(std::span<const float> hidden, std::span<const int32_t> next_ids, State& state,
                            std::span<float> logits, const ForwardTrace* trace = nullptr) const;
  // Lower level (tests): runs main block `layer` alone over X [n, hc_mult*dim]
  // (in place) at positions state.position().., with ids; updates only that
  // layer's state (teacher forcing). Does not advance the position.
  Status run_block(int layer, std::span<float> X, std::span<const int32_t> ids, State& state) const;
  // Which kernel table runs (e.g. "avx512").
  const char* kernels_name() const;

  // Identity of config + weights + v4rt's state format version, for session stores.
  std::string fingerprint() const;

 private:
  Model();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace v4rt::model
