#include "agents/cli/generate_flags.h"

#include <cstdlib>

#include "base/state_dirs.h"

namespace v4rt::cli {

void GenerateFlags::declare(FlagSet& f, bool with_store) {
  f.add_string("model", &model, "checkpoint directory (Hugging Face layout)", "DIR", "V4RT_MODEL");
  f.add_string("tokenizer", &tokenizer, "tokenizer.json to use when DIR has none", "PATH");
  f.add_int("threads", &threads, "worker threads (0: one per hardware thread)", "V4RT_THREADS");
  f.add_int("max-tokens", &max_tokens, "tokens to generate (0: prefill and save only)");
  f.add_double("temperature", &temperature, "sampling temperature (0: greedy)");
  f.add_int("top-k", &top_k, "keep the k most likely tokens (0: off)");
  f.add_double("top-p", &top_p, "nucleus sampling mass (1: off)");
  f.add_double("min-p", &min_p, "drop tokens below min-p x the top probability (0: off)");
  f.add_double("repeat-penalty", &repeat_penalty, "penalty for tokens already in the context (1: off)");
  f.add_int("repeat-window", &repeat_window, "tokens the repeat penalty looks back over (0: all)");
  f.add_int("seed", &seed, "sampling seed");
  f.add_list("stop", &stop, "stop before this string (repeatable)", "S");
  f.add_list("stop-token", &stop_token, "stop at this token id (repeatable)", "ID");
  f.add_bool("ignore-eos", &ignore_eos, "do not stop at the end-of-sentence token");
  f.add_bool("no-bos", &no_bos, "do not prepend the begin-of-sentence token to a new sequence");
  f.add_bool("no-mtp", &no_mtp, "do not draft with the MTP block (self-speculative decoding)");
  f.add_int("chunk", &chunk, "prefill chunk in tokens (progress and cancel granularity)");
  if (with_store) {
    f.add_string("store", &store, "session store directory (default: $XDG_DATA_HOME/v4rt/store)", "DIR",
                 "V4RT_STORE");
    f.add_bool("no-store", &no_store, "do not look up or save states (no prefix cache)");
    f.add_string("session", &session, "continue (or start) this named session; the prompt is what follows it",
                 "NAME");
    f.add_int("save-every", &save_every, "save a checkpoint every N prefilled tokens, rounded up to 128 (0: off)");
  }
}

Status GenerateFlags::to_options(const FlagSet& flags, runtime::EngineOptions& e, runtime::GenerateRequest& r) const {
  (void)flags;
  if (model.empty()) return Status::InvalidArgument("--model DIR is required (or set V4RT_MODEL)");
  e.model_dir = model;
  e.tokenizer = tokenizer;
  e.use_mtp = !no_mtp;
  if (chunk < 1) return Status::InvalidArgument("--chunk must be >= 1 (got " + std::to_string(chunk) + ")");
  e.prefill_chunk_tokens = chunk;
  if (save_every < 0) return Status::InvalidArgument("--save-every must be >= 0");
  if (no_store && !session.empty())
    return Status::InvalidArgument("--session needs the session store; drop --no-store");
  if (!no_store) {
    e.store_dir = store.empty() ? default_store_dir() : std::filesystem::path(store);
    if (e.store_dir.empty() && !session.empty())
      return Status::InvalidArgument("no store directory: set --store DIR (HOME and XDG_DATA_HOME are unset)");
  }
  e.save_every_tokens = e.store_dir.empty() ? 0 : save_every;
  if (max_tokens < 0) return Status::InvalidArgument("--max-tokens must be >= 0 (got " + std::to_string(max_tokens) + ")");
  r.max_tokens = max_tokens;
  r.sampling.temperature = temperature;
  r.sampling.top_k = top_k;
  r.sampling.top_p = top_p;
  r.sampling.min_p = min_p;
  r.sampling.repetition_penalty = repeat_penalty;
  r.sampling.repetition_window = repeat_window;
  r.sampling.seed = static_cast<uint64_t>(seed);
  if (Status s = runtime::validate(r.sampling); !s.ok()) {
    std::string m = s.message();  // name the flags, not the struct fields
    for (auto [field, flag] : {std::pair{"temperature", "--temperature"}, {"top_k", "--top-k"}, {"top_p", "--top-p"},
                               {"min_p", "--min-p"}, {"repetition_penalty", "--repeat-penalty"},
                               {"repetition_window", "--repeat-window"}})
      if (m.rfind(field, 0) == 0) m = flag + m.substr(std::string(field).size());
    return Status::InvalidArgument(m);
  }
  r.stop_strings = stop;
  for (const auto& t : stop_token) {
    char* end = nullptr;
    long v = std::strtol(t.c_str(), &end, 10);
    if (t.empty() || *end != '\0' || v < 0) return Status::InvalidArgument("--stop-token expects a token id, got '" + t + "'");
    r.stop_tokens.push_back(static_cast<int32_t>(v));
  }
  r.stop_at_eos = !ignore_eos;
  r.add_bos = !no_bos;
  r.session = session;
  return Status::Ok();
}

}  // namespace v4rt::cli
