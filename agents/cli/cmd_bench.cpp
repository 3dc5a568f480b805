// `v4rt bench`: prefill and decode speed of a local checkpoint on a synthetic
// prompt, peak memory, KV bytes per token (measured from the state vs the
// config formula), and MTP self-speculative decoding against plain decoding
// (speed-up, acceptance rate, and whether the greedy outputs are identical).
#include <cstdio>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "agents/cli/commands.h"
#include "agents/cli/flags.h"
#include "agents/cli/generate_flags.h"
#include "model/config.h"
#include "base/thread_pool.h"
#include "runtime/engine.h"

namespace v4rt::cli {

namespace {

// Peak resident set (VmHWM) in bytes, 0 if unknown.
uint64_t peak_rss_bytes() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  return 0;
}

std::vector<int32_t> synthetic_prompt(int n, int vocab, uint64_t seed) {
  std::vector<int32_t> ids;
  uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
  for (int i = 0; i < n; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    ids.push_back(static_cast<int32_t>(2 + x % static_cast<uint64_t>(vocab - 2)));
  }
  return ids;
}

}  // namespace

int cmd_bench(int argc, char** argv) {
  FlagSet flags("v4rt bench --model DIR --prompt-tokens N --gen-tokens M [flags]",
                "Measure a checkpoint on this machine: prefill tok/s over a synthetic N-token prompt, decode tok/s "
                "over M greedy tokens, without and (when the checkpoint has an MTP block) with MTP self-speculative "
                "decoding (speed-up, acceptance rate, identical greedy output), peak memory (VmHWM) and KV bytes per "
                "token measured from the state vs the config formula. No session store is used.",
                "v4rt bench --model /tmp/v4-small --prompt-tokens 2048 --gen-tokens 64 --threads 2 --json");
  GenerateFlags g;
  int prompt_tokens = 512, gen_tokens = 32;
  bool json_out = false;
  g.declare(flags, /*with_store=*/false);
  flags.add_int("prompt-tokens", &prompt_tokens, "synthetic prompt length");
  flags.add_int("gen-tokens", &gen_tokens, "tokens to decode (greedy)");
  flags.add_bool("json", &json_out, "one JSON object on stdout");
  if (Status s = flags.parse(argc, argv); !s.ok()) return report(s, "v4rt bench --help");
  if (flags.help_requested()) {
    std::fputs(flags.help().c_str(), stdout);
    return 0;
  }
  // Shared with generate, but bench always decodes --gen-tokens greedy tokens without stops.
  for (const char* ignored : {"max-tokens", "temperature", "top-k", "top-p", "min-p", "repeat-penalty",
                              "repeat-window", "stop", "stop-token", "ignore-eos"})
    if (flags.was_set(ignored))
      return report(Status::InvalidArgument(std::string("--") + ignored +
                                            " does not apply to bench: it decodes --gen-tokens greedy tokens "
                                            "without stops (use v4rt generate to sample)"),
                    "v4rt bench --help");
  if (prompt_tokens < 1 || gen_tokens < 1)
    return report(Status::InvalidArgument("--prompt-tokens and --gen-tokens must be >= 1"), "v4rt bench --help");
  g.no_store = true;
  runtime::EngineOptions eo;
  runtime::GenerateRequest req;
  if (Status s = g.to_options(flags, eo, req); !s.ok()) return report(s, "v4rt bench --help");
  eo.store_dir.clear();
  eo.mtp_min_acceptance = 0;  // measure drafting as is, even when it does not pay

  ThreadPool pool(g.threads);
  const uint64_t rss_before = peak_rss_bytes();
  auto engine = runtime::Engine::create(eo, pool);
  if (!engine.ok()) return report(engine.status());
  runtime::Engine& e = **engine;
  const model::Config& cfg = e.config();

  req.tokens = synthetic_prompt(prompt_tokens, cfg.vocab_size, static_cast<uint64_t>(g.seed));
  req.sampling = {};
  req.sampling.temperature = 0;
  req.stop_at_eos = false;
  req.stop_strings.clear();
  req.stop_tokens.clear();

  // Prefill alone (all N tokens), then the state size at N.
  req.max_tokens = 0;
  auto pre = e.generate(req);
  if (!pre.ok()) return report(pre.status());
  const uint64_t state_bytes = e.state_bytes();
  int64_t covered = 0;
  const uint64_t row_bytes = e.state_row_bytes(&covered);
  const double kv_measured = covered > 0 ? static_cast<double>(row_bytes) / static_cast<double>(covered) : 0.0;

  // Plain greedy decode, then MTP decode from the same prefilled state.
  e.keep_warm_copy();
  req.max_tokens = gen_tokens;
  req.allow_mtp = false;
  auto plain = e.generate(req);
  if (!plain.ok()) return report(plain.status());
  std::optional<runtime::GenerateResult> spec;
  if (e.has_mtp() && eo.use_mtp) {
    e.restore_warm_copy();
    req.allow_mtp = true;
    auto r = e.generate(req);
    if (!r.ok()) return report(r.status());
    spec = std::move(*r);
  }
  const uint64_t peak = peak_rss_bytes();

  nlohmann::ordered_json j;
  j["model"] = eo.model_dir.string();
  j["threads"] = pool.size();
  j["prompt_tokens"] = prompt_tokens;
  j["gen_tokens"] = gen_tokens;
  j["prefill_s"] = pre->stats.prefill_s;
  j["prefill_tok_s"] = pre->stats.prefill_tok_s();
  j["decode_s"] = plain->stats.decode_s;
  j["decode_tok_s"] = plain->stats.decode_tok_s();
  if (spec) {
    j["mtp_decode_s"] = spec->stats.decode_s;
    j["mtp_decode_tok_s"] = spec->stats.decode_tok_s();
    j["mtp_speedup"] = spec->stats.decode_s > 0 ? plain->stats.decode_s / spec->stats.decode_s : 0.0;
    j["mtp_drafted"] = spec->stats.mtp_drafted;
    j["mtp_accepted"] = spec->stats.mtp_accepted;
    j["mtp_acceptance"] = spec->stats.mtp_drafted > 0 ? static_cast<double>(spec->stats.mtp_accepted) /
                                                            static_cast<double>(spec->stats.mtp_drafted)
                                                      : 0.0;
    j["mtp_greedy_identical"] = spec->tokens == plain->tokens;
  }
  j["peak_rss_bytes"] = peak;
  j["rss_before_load_bytes"] = rss_before;
  j["state_bytes"] = state_bytes;
  j["kv_bytes_per_token_measured"] = kv_measured;
  j["kv_measured_over_tokens"] = covered;
  j["kv_bytes_per_token_formula"] = cfg.kv_bytes_per_token();
  j["kv_bytes_per_token_bf16_formula"] = cfg.kv_bytes_per_token_bf16();
  j["fixed_state_bytes"] = cfg.fixed_state_bytes();
  if (json_out) {
    std::printf("%s\n", j.dump().c_str());
    return 0;
  }
  std::printf("model      %s (%d threads)\n", eo.model_dir.string().c_str(), pool.size());
  std::printf("prefill    %d tok in %.3f s = %.1f tok/s\n", prompt_tokens, pre->stats.prefill_s,
              pre->stats.prefill_tok_s());
  std::printf("decode     %d tok in %.3f s = %.2f tok/s\n", gen_tokens, plain->stats.decode_s,
              plain->stats.decode_tok_s());
  if (spec)
    std::printf("decode+MTP %d tok in %.3f s = %.2f tok/s (x%.2f), accepted %lld/%lld drafts (%.0f%%), greedy %s\n",
                gen_tokens, spec->stats.decode_s, spec->stats.decode_tok_s(), j["mtp_speedup"].get<double>(),
                static_cast<long long>(spec->stats.mtp_accepted), static_cast<long long>(spec->stats.mtp_drafted),
                100.0 * j["mtp_acceptance"].get<double>(), spec->tokens == plain->tokens ? "identical" : "DIFFERENT");
  std::printf("memory     peak RSS %.1f MB; state %.2f MB at %d tokens\n", static_cast<double>(peak) / 1e6,
              static_cast<double>(state_bytes) / 1e6, prompt_tokens);
  std::printf("kv/token   %.1f B measured (serialized compressed KV + indexer keys of %lld tokens / tokens), "
              "%.1f B formula (stored), %.1f B bf16 formula; + %.1f kB fixed per sequence\n",
              kv_measured, static_cast<long long>(covered), cfg.kv_bytes_per_token(), cfg.kv_bytes_per_token_bf16(),
              static_cast<double>(cfg.fixed_state_bytes()) / 1e3);
  return 0;
}

}  // namespace v4rt::cli
