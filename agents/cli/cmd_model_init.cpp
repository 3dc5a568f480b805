// `v4rt model init`: writes a random-weight DeepSeek-V4 checkpoint directory
// in the official Hugging Face layout (config.json, sharded safetensors +
// index, tokenizer files with the V4 specials), for tests and benchmarks.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "agents/cli/commands.h"
#include "agents/cli/flags.h"
#include "agents/cli/progress_bar.h"
#include "model/presets.h"
#include "model/random_checkpoint.h"
#include "base/file_util.h"
#include "base/thread_pool.h"
#include "runtime/tokenizer/tokenizer_files.h"

namespace v4rt::cli {

namespace fs = std::filesystem;

namespace {

// The DeepSeek-V3 tokenizer.json installed by scripts/setup.sh: looked up in the
// working directory, then beside the executable (build/ and build/*/ of a checkout).
fs::path default_tokenizer() {
  const fs::path rel = "data/tokenizer/deepseek-v3/tokenizer.json";
  std::error_code ec;
  if (fs::exists(rel, ec)) return rel;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    for (fs::path d = exe.parent_path(); !d.empty() && d != d.root_path(); d = d.parent_path())
      if (fs::exists(d / rel, ec)) return d / rel;
  }
  return rel;
}

Status run(const std::string& preset, const std::string& format, long long seed, const std::string& out,
           int layers, std::string tokenizer, int threads, bool force, bool json_out, bool quiet) {
  if (out.empty()) return Status::InvalidArgument("--out DIR is required (the checkpoint directory to create)");
  model::PresetOptions po;
  po.name = preset;
  po.layers = layers;
  if (format == "bf16") po.format = model::WeightFormat::kBf16;
  else if (format == "fp8") po.format = model::WeightFormat::kFp8;
  else return Status::InvalidArgument("--format must be bf16 or fp8 (got '" + format + "')");
  Result<model::Config> cfg = model::preset_config(po);
  if (!cfg.ok()) return cfg.status();

  fs::path dir = out;
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_empty(dir, ec) && !force)
    return Status::InvalidArgument(dir.string() + " exists and is not empty; choose another --out or pass --force");
  const uint64_t bytes = model::checkpoint_bytes(*cfg);
  fs::path existing = fs::absolute(dir, ec);  // free space where the directory will be
  while (!existing.empty() && !fs::exists(existing, ec) && existing != existing.parent_path())
    existing = existing.parent_path();
  fs::space_info space = fs::space(existing, ec);
  if (!ec && space.available < bytes + (bytes >> 5))
    return Status::ResourceExhausted(dir.string() + ": the checkpoint needs " + human_count(bytes, ProgressBar::Unit::kBytes) +
                                     " but only " + human_count(space.available, ProgressBar::Unit::kBytes) +
                                     " are free; use a smaller preset or --layers N");
  if (bytes > (20ull << 30) && !quiet)
    std::fprintf(stderr, "warning: model init: writing %s of weights (%d layers); this takes a long time. "
                         "Use --layers N to keep fewer layers.\n",
                 human_count(bytes, ProgressBar::Unit::kBytes).c_str(), cfg->n_layers);

  if (tokenizer.empty()) tokenizer = default_tokenizer().string();
  Result<std::string> v3 = read_file(tokenizer);
  if (!v3.ok())
    return Status::NotFound("DeepSeek-V3 tokenizer.json: " + v3.status().message() +
                            "; run scripts/setup.sh (installs data/tokenizer/deepseek-v3/) or pass --tokenizer PATH");
  Result<std::string> tok = runtime::make_v4_tokenizer_json(*v3, cfg->vocab_size);
  if (!tok.ok()) return tok.status().with_context(tokenizer);

  fs::create_directories(dir, ec);
  if (ec) return Status::IoError(dir.string() + ": cannot create directory: " + ec.message());

  V4RT_RETURN_IF_ERROR(write_file_atomic(dir / "config.json", model::config_json(*cfg)));
  V4RT_RETURN_IF_ERROR(write_file_atomic(dir / "inference_config.json", model::inference_config_json(*cfg)));
  V4RT_RETURN_IF_ERROR(write_file_atomic(dir / "generation_config.json", model::generation_config_json(*cfg)));
  V4RT_RETURN_IF_ERROR(write_file_atomic(dir / "tokenizer.json", *tok));
  V4RT_RETURN_IF_ERROR(write_file_atomic(dir / "tokenizer_config.json",
                                         runtime::make_v4_tokenizer_config_json(cfg->max_position_embeddings)));

  ThreadPool pool(threads);
  ProgressBar bar(stderr, isatty(fileno(stderr)) != 0, quiet);
  model::RandomCheckpointOptions ro;
  ro.seed = static_cast<uint64_t>(seed);
  V4RT_RETURN_IF_ERROR(model::write_random_weights(*cfg, dir, ro, pool, bar.callback(ProgressBar::Unit::kBytes)));
  bar.finish();

  if (json_out) {
    nlohmann::ordered_json j;
    j["dir"] = dir.string();
    j["preset"] = preset;
    j["format"] = format;
    j["seed"] = seed;
    j["layers"] = cfg->n_layers;
    j["vocab_size"] = cfg->vocab_size;
    j["tensor_bytes"] = bytes;
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("wrote %s: preset %s, %s, %d layers + %d MTP, vocab %d, %s of tensors\n", dir.string().c_str(),
                preset.c_str(), format.c_str(), cfg->n_layers, cfg->n_mtp_layers, cfg->vocab_size,
                human_count(bytes, ProgressBar::Unit::kBytes).c_str());
  }
  return Status::Ok();
}

}  // namespace

int cmd_model_init(int argc, char** argv) {
  std::string preset = "tiny", format = "bf16", out, tokenizer;
  long long seed = 0;
  int layers = 0, threads = 0;
  bool force = false, json_out = false, quiet = false;
  FlagSet flags("v4rt model init --preset tiny|small|flash-shape --out DIR [flags]",
                "Write a random-weight DeepSeek-V4 checkpoint in the official Hugging Face layout "
                "(config.json, sharded safetensors + index, tokenizer.json with the V4 special tokens). "
                "tiny = the golden tiny shapes (vocab 1024, with a reduced byte-level BPE tokenizer whose ids all "
                "fit); small = every layer type at head_dim 512 / window 128 / index_topk 512, full vocabulary "
                "(~400 MB bf16); flash-shape = DeepSeek-V4-Flash shapes (~160 GB in fp8; use --layers N). "
                "The bf16 and fp8 formats of one preset and seed hold the same effective weights.",
                "v4rt model init --preset small --format fp8 --seed 1 --out /tmp/v4-small");
  flags.add_string("preset", &preset, "tiny | small | flash-shape", "NAME");
  flags.add_string("format", &format, "bf16 | fp8 (release format: FP8 linears, FP4 experts)", "F");
  flags.add_int("seed", &seed, "seed of the random weights");
  flags.add_string("out", &out, "checkpoint directory to create", "DIR");
  flags.add_int("layers", &layers, "keep only the first N main layers (0: all)");
  flags.add_string("tokenizer", &tokenizer,
                   "DeepSeek-V3 tokenizer.json to derive from (default: data/tokenizer/deepseek-v3/tokenizer.json)",
                   "PATH");
  flags.add_int("threads", &threads, "worker threads (0: one per hardware thread)");
  flags.add_bool("force", &force, "write into a non-empty directory");
  flags.add_bool("json", &json_out, "print a JSON summary on stdout");
  flags.add_bool("quiet", &quiet, "no progress or warnings on stderr");
  if (Status s = flags.parse(argc, argv); !s.ok()) return report(s, "v4rt model init --help");
  if (flags.help_requested()) {
    std::fputs(flags.help().c_str(), stdout);
    return 0;
  }
  if (!flags.positional().empty())
    return report(Status::InvalidArgument("unexpected argument '" + flags.positional()[0] + "'"),
                  "v4rt model init --help");
  return report(run(preset, format, seed, out, layers, tokenizer, threads, force, json_out, quiet),
                "v4rt model init --help");
}

}  // namespace v4rt::cli
