// Engine: the local generation engine. It owns a loaded model and its
// tokenizer, and generate() runs one request end to end: find the longest
// already-computed prefix of the token sequence (the engine's own warm state,
// else the session store), restore it, prefill the rest in chunks (progress,
// cancellation, periodic save points), then decode with streaming, sampling,
// stop tokens and stop strings, optionally drafting with the checkpoint's MTP
// block (self-speculative decoding; greedy output is identical with and
// without it), and save the state at the end of the turn.
//
// Thread-safety: one generate() at a time per Engine (the engine keeps the
// state of its last sequence). The ThreadPool passed to create() is borrowed
// and must outlive the Engine.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "base/progress.h"
#include "base/status.h"
#include "runtime/sampler.h"

namespace v4rt {
class ThreadPool;
}
namespace v4rt::model {
class Model;
struct Config;
}  // namespace v4rt::model
namespace v4rt::sessions {
class SessionStore;
}

namespace v4rt::runtime {

class Tokenizer;

struct EngineOptions {
  std::filesystem::path model_dir;        // checkpoint directory (config.json, safetensors, tokenizer.json)
  std::filesystem::path tokenizer;        // tokenizer.json when model_dir has none (empty: none)
  int prefill_chunk_tokens = 512;         // tokens per forward() during prefill (progress/cancel granularity)
  bool use_mtp = true;                    // draft with the MTP block when the checkpoint has one
  double mtp_min_acceptance = 0.25;       // after 16 drafts, stop drafting for the request if fewer are accepted (0: never stop)
  bool activation_quant = true;           // simulate the reference's FP8 activation quantisation (fp8 checkpoints)
  std::filesystem::path store_dir;        // session store directory (empty: no store, no sessions)
  int64_t save_every_tokens = 0;          // during a prefill, save a checkpoint every N tokens (0: off); rounded up to 128
  uint64_t store_budget_bytes = 0;        // store size before LRU eviction (0: unlimited)
  LogSink* log = nullptr;                 // borrowed, optional
  // Tests only: replaces the MTP draft for the token at `position` (lets a test
  // drive both the accept and the reject path of speculative decoding).
  std::function<int32_t(int64_t position, int32_t mtp_draft)> draft_override_for_testing;
};
Status validate(const EngineOptions& options);

struct GenerateRequest {
  std::string text;                      // the prompt as text (used when `tokens` is empty)
  std::vector<int32_t> tokens;           // the prompt as token ids
  bool add_bos = true;                   // text prompts of a new sequence start with BOS (if not already)
  SamplingParams sampling;
  int max_tokens = 256;                  // tokens to generate; 0: prefill (and save) only
  std::vector<std::string> stop_strings;  // generation ends before the first occurrence
  std::vector<int32_t> stop_tokens;      // generation ends at these ids (not part of the text)
  bool stop_at_eos = true;               // EOS (config eos_token_id) is a stop token
  // Named session (needs a store): the prompt is what FOLLOWS the session's
  // tokens so far (never the whole text again); the session is created when
  // absent and moved to the end of this turn.
  std::string session;
  bool use_store = true;                 // look up and save points in the store (when one is open)
  bool allow_mtp = true;                 // MTP drafting for this request (when the engine uses it)
};

enum class StopReason { kMaxTokens, kEos, kStopToken, kStopString, kCancelled, kNone };
const char* stop_reason_name(StopReason r);

struct GenerateStats {
  int64_t prompt_tokens = 0;     // tokens of the whole sequence before generation (session + prompt)
  int64_t reused_tokens = 0;     // of those, restored instead of computed
  int64_t reused_from_store = 0; // ... of which from the session store (else the warm state)
  int64_t prefilled_tokens = 0;  // computed by this request's prefill
  int64_t generated_tokens = 0;
  int64_t saved_points = 0;
  double restore_s = 0, prefill_s = 0, decode_s = 0, save_s = 0;
  uint64_t restored_bytes = 0, saved_bytes = 0;  // session-store bytes read / written by this request
  int64_t mtp_drafted = 0, mtp_accepted = 0;  // self-speculative decoding
  double prefill_tok_s() const { return prefill_s > 0 ? static_cast<double>(prefilled_tokens) / prefill_s : 0; }
  double decode_tok_s() const { return decode_s > 0 ? static_cast<double>(generated_tokens) / decode_s : 0; }
};

struct GenerateResult {
  std::vector<int32_t> tokens;  // generated ids (a stop token is included, a stop string's tokens are too)
  std::string text;             // generated text, cut before a stop string
  StopReason stop_reason = StopReason::kNone;
  GenerateStats stats;
  std::vector<std::string> warnings;  // e.g. store points refused as corrupt
};

struct Callbacks {
  // Streamed text pieces (UTF-8 complete, never part of a stop string). Return false to stop.
  std::function<bool(std::string_view piece)> on_text;
  // Each generated token id as it is decided (before stop-string hold-back).
  std::function<void(int32_t id)> on_token;
  // Phases: "restore", "prefill", "save"; return false to cancel.
  Progress on_progress;
};

class Engine {
 public:
  static Result<std::unique_ptr<Engine>> create(const EngineOptions& options, ThreadPool& pool);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Cancellation: `stop` is checked between prefill chunks and decode steps;
  // a cancelled request returns what it produced with StopReason::kCancelled
  // (a cancelled prefill returns Status::Cancelled; completed chunks stay warm).
  Result<GenerateResult> generate(const GenerateRequest& request, const Callbacks& callbacks = {},
                                  std::stop_token stop = {});

  const model::Config& config() const;
  const model::Model& model() const;
  // nullptr when the checkpoint has no tokenizer.json and none was given.
  const Tokenizer* tokenizer() const;
  sessions::SessionStore* store() { return store_.get(); }
  bool has_mtp() const;
  // Forget the warm state (the next request restores from the store or prefills).
  void drop_warm_state();
  // Keeps a full copy of the warm state (tokens, KV, next-token logits) that
  // restore_warm_copy() returns to, so one prefill can be continued several
  // ways without a store (bench: plain and MTP decode from the same prompt).
  // The copy costs the state's memory once (state_bytes()).
  void keep_warm_copy();
  // false when no copy was kept.
  bool restore_warm_copy();
  // Bytes held by the warm state (KV of the last sequence).
  uint64_t state_bytes() const;
  // Tokens of the warm state, and the bytes its append-only part (compressed KV
  // + indexer keys) takes when serialized for the first `tokens` rounded down
  // to 128: the measured per-token growth the store pays.
  int64_t state_tokens() const;
  uint64_t state_row_bytes(int64_t* tokens_covered) const;

 private:
  Engine();
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::unique_ptr<sessions::SessionStore> store_;
};

}  // namespace v4rt::runtime
