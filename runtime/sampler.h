// Sampler: picks the next token from logits. Greedy (temperature 0) or
// stochastic with, in this order: repetition penalty, temperature, top-k,
// top-p (nucleus), min-p, then one draw from a seeded generator (so the same
// seed, logits and history give the same token on every machine).
// Scratch is allocated once for the vocabulary size; sample() does not
// allocate. Not thread-safe (one Sampler per sequence).
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include "base/status.h"

namespace v4rt::runtime {

struct SamplingParams {
  double temperature = 1.0;         // 0: greedy (argmax, lowest id on ties)
  int top_k = 0;                    // keep the k most likely tokens; 0: off
  double top_p = 1.0;               // keep the smallest set with probability mass >= top_p; 1: off
  double min_p = 0.0;               // drop tokens with p < min_p * p_max; 0: off
  double repetition_penalty = 1.0;  // > 1: tokens in the history are made less likely (CTRL rule:
                                    // positive logits divided, negative multiplied); 1: off
  int repetition_window = 0;        // tokens of history the penalty looks at (most recent); 0: all
  uint64_t seed = 0;                // generator seed
};

// InvalidArgument naming the field, e.g. "top_p must be in (0, 1] (got 1.5)".
Status validate(const SamplingParams& p);

class Sampler {
 public:
  // Requires: validate(params).ok(), vocab_size > 0.
  Sampler(const SamplingParams& params, int vocab_size);

  bool greedy() const { return params_.temperature <= 0.0; }
  const SamplingParams& params() const { return params_; }

  // logits.size() == vocab_size. history: the tokens so far (prompt + generated),
  // used by the repetition penalty only.
  int32_t sample(std::span<const float> logits, std::span<const int32_t> history);

  // The argmax of logits (lowest id on ties).
  static int32_t argmax(std::span<const float> logits);

 private:
  SamplingParams params_;
  int vocab_size_;
  std::mt19937_64 rng_;
  std::vector<float> work_;                          // penalised logits
  std::vector<std::pair<float, int32_t>> cand_;      // candidates (logit or prob, id)
  std::vector<uint8_t> seen_;                        // repetition-penalty marks
};

}  // namespace v4rt::runtime
