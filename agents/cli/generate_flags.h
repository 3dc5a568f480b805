// GenerateFlags: the flags `v4rt generate` and `v4rt bench` share (model,
// tokenizer, threads, sampling, stops, MTP, session store), declared once and
// turned into runtime::EngineOptions + runtime::GenerateRequest. Not thread-safe.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "agents/cli/flags.h"
#include "runtime/engine.h"

namespace v4rt::cli {

struct GenerateFlags {
  std::string model, tokenizer, store, session;
  bool no_store = false, no_mtp = false, ignore_eos = false, no_bos = false;
  int threads = 0, max_tokens = 256, top_k = 0, chunk = 512, repeat_window = 0;
  double temperature = 1.0, top_p = 1.0, min_p = 0.0, repeat_penalty = 1.0;
  long long seed = 0, save_every = 0;
  std::vector<std::string> stop, stop_token;

  // with_store: declare --store/--no-store/--session/--save-every (generate) or not (bench).
  void declare(FlagSet& flags, bool with_store = true);
  // Validates and fills the options; InvalidArgument names the flag.
  Status to_options(const FlagSet& flags, runtime::EngineOptions& engine, runtime::GenerateRequest& request) const;
};

}  // namespace v4rt::cli
