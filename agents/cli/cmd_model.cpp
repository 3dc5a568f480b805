// `v4rt model <subcommand>`: dispatches to inspect (below) and init
// (cmd_model_init, agents/cli/cmd_model_init.cpp).
#include <cstdio>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <system_error>

#include "agents/cli/commands.h"
#include "agents/cli/flags.h"
#include "model/config.h"
#include "model/tensor_manifest.h"
#include "model/weights.h"

namespace v4rt::cli {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string human_bytes(double b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (b >= 1024 && u < 4) {
    b /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", b, units[u]);
  return buf;
}

std::string fmt_double(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

json config_json(const model::Config& c) {
  json layers = json::array();
  for (int l = 0; l < c.n_layers + c.n_mtp_layers; ++l)
    layers.push_back({{"layer", l},
                      {"type", model::layer_type_name(c.layer_type(l))},
                      {"compress_ratio", c.compress_ratio(l)},
                      {"mtp", l >= c.n_layers},
                      {"hash_routed", l < c.n_layers && c.is_hash_layer(l)}});
  return {
      {"source", c.source.string()},
      {"vocab_size", c.vocab_size},
      {"dim", c.dim},
      {"moe_inter_dim", c.moe_inter_dim},
      {"n_layers", c.n_layers},
      {"n_mtp_layers", c.n_mtp_layers},
      {"n_hash_layers", c.n_hash_layers},
      {"n_heads", c.n_heads},
      {"head_dim", c.head_dim},
      {"rope_head_dim", c.rope_head_dim},
      {"q_lora_rank", c.q_lora_rank},
      {"o_groups", c.o_groups},
      {"o_lora_rank", c.o_lora_rank},
      {"window_size", c.window_size},
      {"n_routed_experts", c.n_routed_experts},
      {"n_shared_experts", c.n_shared_experts},
      {"n_activated_experts", c.n_activated_experts},
      {"score_func", c.score_func},
      {"route_scale", c.route_scale},
      {"swiglu_limit", c.swiglu_limit},
      {"index_n_heads", c.index_n_heads},
      {"index_head_dim", c.index_head_dim},
      {"index_topk", c.index_topk},
      {"hc_mult", c.hc_mult},
      {"rope_theta", c.rope_theta},
      {"compress_rope_theta", c.compress_rope_theta},
      {"original_seq_len", c.original_seq_len},
      {"rope_factor", c.rope_factor},
      {"max_position_embeddings", c.max_position_embeddings},
      {"fp8_weights", c.fp8_weights},
      {"fp4_experts", c.fp4_experts},
      {"n_swa_layers", c.n_layers + c.n_mtp_layers - c.n_csa_layers() - c.n_hca_layers()},
      {"n_csa_layers", c.n_csa_layers()},
      {"n_hca_layers", c.n_hca_layers()},
      {"kv_bytes_per_token_bf16", c.kv_bytes_per_token_bf16()},
      {"kv_bytes_per_token_quantized", c.kv_bytes_per_token()},
      {"fixed_state_bytes", c.fixed_state_bytes()},
      {"layers", layers},
  };
}

json expected_json(const model::ExpectedTensor& t) {
  return {{"name", t.name}, {"dtype", std::string(model::dtype_name(t.dtype))}, {"shape", t.shape}};
}

void print_config(const model::Config& c) {
  std::printf("config      %s\n", c.source.string().c_str());
  std::printf("model       deepseek_v4: %d layers + %d MTP, dim %d, vocab %d, %d heads x %d (rope %d), hc_mult %d\n",
              c.n_layers, c.n_mtp_layers, c.dim, c.vocab_size, c.n_heads, c.head_dim, c.rope_head_dim, c.hc_mult);
  std::printf("attention   q_lora %d, o_groups %d x o_lora %d, window %d; indexer %d heads x %d, top-%d\n",
              c.q_lora_rank, c.o_groups, c.o_lora_rank, c.window_size, c.index_n_heads, c.index_head_dim,
              c.index_topk);
  std::printf("moe         %d routed (top-%d, %s, scale %s) + %d shared, inter %d, %d hash layers, swiglu_limit %s\n",
              c.n_routed_experts, c.n_activated_experts, c.score_func.c_str(), fmt_double(c.route_scale).c_str(),
              c.n_shared_experts, c.moe_inter_dim, c.n_hash_layers, fmt_double(c.swiglu_limit).c_str());
  std::printf("rope        SWA theta %s; compressed theta %s%s\n", fmt_double(c.rope_theta).c_str(),
              fmt_double(c.compress_rope_theta).c_str(),
              c.original_seq_len > 0 ? (" + YaRN x" + fmt_double(c.rope_factor) + " from " +
                                        std::to_string(c.original_seq_len))
                                           .c_str()
                                     : "");
  std::printf("formats     %s; routed experts %s\n",
              c.fp8_weights ? "FP8 e4m3 linears with 128x128 ue8m0 scales" : "BF16 linears",
              c.fp4_experts ? "FP4 e2m1 with per-32 ue8m0 scales" : (c.fp8_weights ? "FP8" : "BF16"));
  const int total = c.n_layers + c.n_mtp_layers;
  std::printf("layers      %d SWA, %d CSA (ratio 4, indexer), %d HCA (ratio 128)\n",
              total - c.n_csa_layers() - c.n_hca_layers(), c.n_csa_layers(), c.n_hca_layers());
  for (int l0 = 0; l0 < total; l0 += 12) {
    std::string line = "           ";
    for (int l = l0; l < std::min(total, l0 + 12); ++l) {
      char buf[32];
      std::snprintf(buf, sizeof buf, " %3d:%s%s", l, model::layer_type_name(c.layer_type(l)),
                    l >= c.n_layers ? "(MTP)" : (c.is_hash_layer(l) ? "#" : ""));
      line += buf;
    }
    std::printf("%s\n", line.c_str());
  }
  if (c.n_hash_layers > 0) std::printf("            (# = hash-routed)\n");
  std::printf("kv/token    %s B bf16 (spec formula), %s B as stored quantized; + %s fixed per sequence\n",
              fmt_double(c.kv_bytes_per_token_bf16()).c_str(), fmt_double(c.kv_bytes_per_token()).c_str(),
              human_bytes(static_cast<double>(c.fixed_state_bytes())).c_str());
}

int cmd_model_inspect(int argc, char** argv) {
  bool as_json = false, all = false;
  FlagSet flags("v4rt model inspect [flags] DIR",
                "Summarise a DeepSeek-V4 checkpoint directory (Hugging Face layout): the config, the layer types,\n"
                "tensor count and bytes by dtype, KV bytes per token, and a check that every tensor the model\n"
                "needs is present with the right dtype and shape. A directory with only config.json is\n"
                "reported as config-only. Exit status 1 when a tensor is missing or has the wrong dtype/shape.",
                "v4rt model inspect ~/models/DeepSeek-V4-Flash --json");
  flags.add_bool("json", &as_json, "print one JSON object on stdout");
  flags.add_bool("all", &all, "list every missing/mismatched/unexpected tensor (text mode shows 20 of each)");
  if (Status s = flags.parse(argc, argv); !s.ok()) return report(s, "v4rt model inspect --help");
  if (flags.help_requested()) {
    std::fputs(flags.help().c_str(), stdout);
    return 0;
  }
  if (flags.positional().size() != 1)
    return report(Status::InvalidArgument("expected one checkpoint directory, got " +
                                          std::to_string(flags.positional().size()) + " arguments"),
                  "v4rt model inspect DIR");
  const fs::path dir = flags.positional()[0];

  Result<model::Config> config = model::Config::load(dir);
  if (!config) {
    std::fprintf(stderr, "v4rt: %s\n", config.status().to_string().c_str());
    return 1;
  }
  const model::Config& c = *config;

  // Weights: absent (config only) is a normal outcome; anything else wrong is an error.
  std::unique_ptr<model::Weights> weights;
  std::error_code ec;
  bool has_weights = fs::exists(dir / "model.safetensors.index.json", ec);
  if (!has_weights && fs::is_directory(dir, ec))
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
      if (it->path().extension() == ".safetensors") has_weights = true;
  if (has_weights) {
    Result<std::unique_ptr<model::Weights>> w = model::Weights::open(dir);
    if (!w) {
      std::fprintf(stderr, "v4rt: %s\n", w.status().to_string().c_str());
      return 1;
    }
    weights = std::move(*w);
  }

  struct DTypeTotals {
    size_t count = 0;
    uint64_t bytes = 0;
  };
  std::map<std::string, DTypeTotals> by_dtype;
  model::ManifestReport check;
  if (weights) {
    for (const auto& [name, t] : weights->tensors()) {
      auto& d = by_dtype[std::string(model::dtype_name(t.dtype))];
      ++d.count;
      d.bytes += t.nbytes;
    }
    check = model::check_manifest(c, *weights);
  }
  const std::vector<model::ExpectedTensor> expected = model::expected_tensors(c);

  if (as_json) {
    json out;
    out["directory"] = dir.string();
    out["config"] = config_json(c);
    out["expected_tensors"] = expected.size();
    if (!weights) {
      out["weights"] = nullptr;
      out["weights_present"] = false;
    } else {
      json w;
      w["tensors"] = weights->tensors().size();
      w["file_bytes"] = weights->total_bytes();
      json d = json::object();
      uint64_t tensor_bytes = 0;
      for (const auto& [name, t] : by_dtype) {
        d[name] = {{"count", t.count}, {"bytes", t.bytes}};
        tensor_bytes += t.bytes;
      }
      w["tensor_bytes"] = tensor_bytes;
      w["by_dtype"] = d;
      out["weights"] = w;
      out["weights_present"] = true;
      json chk;
      chk["ok"] = check.ok();
      chk["expected"] = check.expected;
      chk["missing"] = json::array();
      for (const auto& m : check.missing) chk["missing"].push_back(expected_json(m));
      chk["mismatched"] = json::array();
      for (const auto& m : check.mismatched)
        chk["mismatched"].push_back({{"name", m.expected.name},
                                     {"expected", expected_json(m.expected)},
                                     {"actual_dtype", std::string(model::dtype_name(m.actual_dtype))},
                                     {"actual_shape", m.actual_shape}});
      chk["unexpected"] = check.unexpected;
      out["check"] = chk;
    }
    std::printf("%s\n", out.dump(2, ' ', false, json::error_handler_t::replace).c_str());
    return (!weights || check.ok()) ? 0 : 1;
  }

  std::printf("checkpoint  %s\n", dir.string().c_str());
  print_config(c);
  if (!weights) {
    std::printf("weights     absent: no *.safetensors or model.safetensors.index.json (config only; %zu tensors expected)\n",
                expected.size());
    return 0;
  }
  uint64_t tensor_bytes = 0;
  for (const auto& [name, t] : by_dtype) tensor_bytes += t.bytes;
  std::printf("tensors     %zu, %s of tensor data (%s on disk)\n", weights->tensors().size(),
              human_bytes(static_cast<double>(tensor_bytes)).c_str(),
              human_bytes(static_cast<double>(weights->total_bytes())).c_str());
  for (const auto& [name, t] : by_dtype)
    std::printf("            %-8s %6zu tensors %12llu bytes (%s)\n", name.c_str(), t.count,
                static_cast<unsigned long long>(t.bytes), human_bytes(static_cast<double>(t.bytes)).c_str());
  const size_t limit = all ? SIZE_MAX : 20;
  if (check.ok()) {
    std::printf("check       ok: all %zu tensors the config needs are present with the right dtype and shape\n",
                check.expected);
  } else {
    std::printf("check       FAILED: %zu of %zu needed tensors missing, %zu with the wrong dtype or shape\n",
                check.missing.size(), check.expected, check.mismatched.size());
    for (size_t i = 0; i < check.missing.size() && i < limit; ++i)
      std::printf("  missing     %s (%s %s)\n", check.missing[i].name.c_str(),
                  std::string(model::dtype_name(check.missing[i].dtype)).c_str(),
                  model::shape_string(check.missing[i].shape).c_str());
    if (check.missing.size() > limit) std::printf("  ... %zu more missing (--all lists them)\n", check.missing.size() - limit);
    for (size_t i = 0; i < check.mismatched.size() && i < limit; ++i) {
      const auto& m = check.mismatched[i];
      std::printf("  mismatched  %s: expected %s %s, found %s %s\n", m.expected.name.c_str(),
                  std::string(model::dtype_name(m.expected.dtype)).c_str(), model::shape_string(m.expected.shape).c_str(),
                  std::string(model::dtype_name(m.actual_dtype)).c_str(), model::shape_string(m.actual_shape).c_str());
    }
    if (check.mismatched.size() > limit)
      std::printf("  ... %zu more mismatched (--all lists them)\n", check.mismatched.size() - limit);
  }
  if (!check.unexpected.empty()) {
    std::printf("unexpected  %zu tensors the config does not use (ignored)\n", check.unexpected.size());
    for (size_t i = 0; i < check.unexpected.size() && i < limit; ++i)
      std::printf("            %s\n", check.unexpected[i].c_str());
  }
  if (!check.ok()) {
    std::fprintf(stderr, "v4rt: %s: checkpoint does not match its config.json (see the check above)\n",
                 dir.string().c_str());
    return 1;
  }
  return 0;
}

void print_model_help(FILE* out) {
  std::fprintf(out,
               "usage: v4rt model <subcommand> [flags] [args]\n\n"
               "Work with a DeepSeek-V4 checkpoint directory (Hugging Face layout).\n\n"
               "subcommands:\n"
               "  inspect DIR   config summary, layer types, tensors by dtype, KV bytes per token,\n"
               "                and a check that every tensor the model needs is present\n"
               "  init          create a checkpoint directory (see 'v4rt model init --help')\n\n"
               "example: v4rt model inspect ~/models/DeepSeek-V4-Flash --json\n");
}

}  // namespace

int cmd_model(int argc, char** argv) {
  if (argc < 1) {
    print_model_help(stderr);
    return 2;
  }
  std::string_view sub = argv[0];
  if (sub == "--help" || sub == "-h" || sub == "help") {
    print_model_help(stdout);
    return 0;
  }
  if (sub == "inspect") return cmd_model_inspect(argc - 1, argv + 1);
  if (sub == "init") return cmd_model_init(argc - 1, argv + 1);
  std::fprintf(stderr, "v4rt model: unknown subcommand '%s'\nhint: run 'v4rt model --help'\n", argv[0]);
  return 2;
}

}  // namespace v4rt::cli
