#include "model/presets.h"

#include <nlohmann/json.hpp>

namespace v4rt::model {

namespace {

// The golden tiny checkpoint (shared/golden/v4-tiny/README.md): 6 layers + MTP,
// SWA/CSA/HCA, vocab 1024.
Config tiny() {
  Config c;
  c.vocab_size = 1024;
  c.dim = 256;
  c.moe_inter_dim = 128;
  c.n_layers = 6;
  c.n_hash_layers = 2;
  c.n_mtp_layers = 1;
  c.n_heads = 8;
  c.n_routed_experts = 8;
  c.n_shared_experts = 1;
  c.n_activated_experts = 2;
  c.score_func = "sqrtsoftplus";
  c.route_scale = 1.5;
  c.swiglu_limit = 2.5;
  c.q_lora_rank = 128;
  c.head_dim = 96;
  c.rope_head_dim = 32;
  c.norm_eps = 1e-6;
  c.o_groups = 2;
  c.o_lora_rank = 64;
  c.window_size = 128;
  c.compress_ratios = {0, 4, 128, 4, 128, 0, 0};
  c.compress_rope_theta = 160000;
  c.rope_theta = 10000;
  c.original_seq_len = 512;
  c.rope_factor = 16;
  c.beta_fast = 32;
  c.beta_slow = 1;
  c.index_n_heads = 4;
  c.index_head_dim = 64;
  c.index_topk = 16;
  c.hc_mult = 4;
  c.hc_sinkhorn_iters = 20;
  c.hc_eps = 1e-6;
  c.max_position_embeddings = 2048;
  return c;
}

// Every layer type at the release's head sizes (head_dim 512, rope 64, window
// 128, indexer 128-dim heads with top-k 512) but narrow and shallow; the full
// 129280-token vocabulary so the DeepSeek tokenizer fits. ~300 MB in bf16,
// dominated by embed + head.
Config small() {
  Config c = tiny();
  c.vocab_size = 129280;
  c.dim = 512;
  c.moe_inter_dim = 256;
  c.n_layers = 5;
  c.n_hash_layers = 2;
  c.n_heads = 8;
  c.n_routed_experts = 16;
  c.n_activated_experts = 2;
  c.route_scale = 1.5;
  c.swiglu_limit = 10.0;
  c.q_lora_rank = 256;
  c.head_dim = 512;
  c.rope_head_dim = 64;
  c.o_groups = 2;
  c.o_lora_rank = 256;
  c.compress_ratios = {0, 4, 128, 4, 128, 0};
  c.original_seq_len = 65536;
  c.index_n_heads = 8;
  c.index_head_dim = 128;
  c.index_topk = 512;
  c.max_position_embeddings = 1048576;
  return c;
}

// DeepSeek-V4-Flash (spec §1.1, §1.2).
Config flash() {
  Config c;
  c.vocab_size = 129280;
  c.dim = 4096;
  c.moe_inter_dim = 2048;
  c.n_layers = 43;
  c.n_hash_layers = 3;
  c.n_mtp_layers = 1;
  c.n_heads = 64;
  c.n_routed_experts = 256;
  c.n_shared_experts = 1;
  c.n_activated_experts = 6;
  c.score_func = "sqrtsoftplus";
  c.route_scale = 1.5;
  c.swiglu_limit = 10.0;
  c.q_lora_rank = 1024;
  c.head_dim = 512;
  c.rope_head_dim = 64;
  c.norm_eps = 1e-6;
  c.o_groups = 8;
  c.o_lora_rank = 1024;
  c.window_size = 128;
  c.compress_ratios.clear();
  for (int l = 0; l < 43; ++l) c.compress_ratios.push_back(l < 2 ? 0 : (l % 2 == 0 ? 4 : 128));
  c.compress_ratios.push_back(0);  // MTP
  c.compress_rope_theta = 160000;
  c.rope_theta = 10000;
  c.original_seq_len = 65536;
  c.rope_factor = 16;
  c.beta_fast = 32;
  c.beta_slow = 1;
  c.index_n_heads = 64;
  c.index_head_dim = 128;
  c.index_topk = 512;
  c.hc_mult = 4;
  c.hc_sinkhorn_iters = 20;
  c.hc_eps = 1e-6;
  c.max_position_embeddings = 1048576;
  return c;
}

}  // namespace

std::vector<std::string> preset_names() { return {"tiny", "small", "flash-shape"}; }

Result<Config> preset_config(const PresetOptions& options) {
  Config c;
  if (options.name == "tiny") c = tiny();
  else if (options.name == "small") c = small();
  else if (options.name == "flash-shape") c = flash();
  else
    return Status::InvalidArgument("unknown preset '" + options.name +
                                   "'; use one of: tiny, small, flash-shape");
  if (options.layers < 0)
    return Status::InvalidArgument("--layers must be >= 1 (got " + std::to_string(options.layers) + ")");
  if (options.layers > 0) {
    if (options.layers > c.n_layers)
      return Status::InvalidArgument("--layers " + std::to_string(options.layers) + " exceeds the preset's " +
                                     std::to_string(c.n_layers) + " layers");
    std::vector<int> ratios(c.compress_ratios.begin(), c.compress_ratios.begin() + options.layers);
    ratios.insert(ratios.end(), c.compress_ratios.begin() + c.n_layers, c.compress_ratios.end());
    c.compress_ratios = std::move(ratios);
    c.n_layers = options.layers;
    c.n_hash_layers = std::min(c.n_hash_layers, c.n_layers);
  }
  c.fp8_weights = options.format == WeightFormat::kFp8;
  c.fp4_experts = options.format == WeightFormat::kFp8;
  c.weight_block_size = 128;
  return c;
}

std::string config_json(const Config& c) {
  nlohmann::ordered_json j;
  j["architectures"] = {"DeepseekV4ForCausalLM"};
  j["attention_bias"] = false;
  j["attention_dropout"] = 0.0;
  j["bos_token_id"] = c.bos_token_id;
  j["compress_ratios"] = c.compress_ratios;
  j["compress_rope_theta"] = c.compress_rope_theta;
  j["eos_token_id"] = c.eos_token_id;
  if (c.fp4_experts) j["expert_dtype"] = "fp4";
  j["hc_eps"] = c.hc_eps;
  j["hc_mult"] = c.hc_mult;
  j["hc_sinkhorn_iters"] = c.hc_sinkhorn_iters;
  j["head_dim"] = c.head_dim;
  j["hidden_act"] = "silu";
  j["hidden_size"] = c.dim;
  j["index_head_dim"] = c.index_head_dim;
  j["index_n_heads"] = c.index_n_heads;
  j["index_topk"] = c.index_topk;
  j["initializer_range"] = 0.02;
  j["max_position_embeddings"] = c.max_position_embeddings;
  j["model_type"] = "deepseek_v4";
  j["moe_intermediate_size"] = c.moe_inter_dim;
  j["n_routed_experts"] = c.n_routed_experts;
  j["n_shared_experts"] = c.n_shared_experts;
  j["norm_topk_prob"] = true;
  j["num_attention_heads"] = c.n_heads;
  j["num_experts_per_tok"] = c.n_activated_experts;
  j["num_hash_layers"] = c.n_hash_layers;
  j["num_hidden_layers"] = c.n_layers;
  j["num_key_value_heads"] = 1;
  j["num_nextn_predict_layers"] = c.n_mtp_layers;
  j["o_groups"] = c.o_groups;
  j["o_lora_rank"] = c.o_lora_rank;
  j["q_lora_rank"] = c.q_lora_rank;
  j["qk_rope_head_dim"] = c.rope_head_dim;
  if (c.fp8_weights) {
    j["quantization_config"] = {{"activation_scheme", "dynamic"},
                                {"fmt", "e4m3"},
                                {"quant_method", "fp8"},
                                {"scale_fmt", "ue8m0"},
                                {"weight_block_size", {c.weight_block_size, c.weight_block_size}}};
  }
  j["rms_norm_eps"] = c.norm_eps;
  if (c.original_seq_len > 0) {
    j["rope_scaling"] = {{"beta_fast", c.beta_fast},
                         {"beta_slow", c.beta_slow},
                         {"factor", c.rope_factor},
                         {"original_max_position_embeddings", c.original_seq_len},
                         {"type", "yarn"}};
  }
  j["rope_theta"] = c.rope_theta;
  j["routed_scaling_factor"] = c.route_scale;
  j["scoring_func"] = c.score_func;
  j["sliding_window"] = c.window_size;
  j["swiglu_limit"] = c.swiglu_limit;
  j["tie_word_embeddings"] = false;
  j["topk_method"] = "noaux_tc";
  j["torch_dtype"] = "bfloat16";
  j["transformers_version"] = "4.57.1";
  j["use_cache"] = true;
  j["vocab_size"] = c.vocab_size;
  return j.dump(2) + "\n";
}

std::string inference_config_json(const Config& c) {
  nlohmann::ordered_json j;
  j["vocab_size"] = c.vocab_size;
  j["dim"] = c.dim;
  j["moe_inter_dim"] = c.moe_inter_dim;
  j["n_layers"] = c.n_layers;
  j["n_hash_layers"] = c.n_hash_layers;
  j["n_mtp_layers"] = c.n_mtp_layers;
  j["n_heads"] = c.n_heads;
  j["n_routed_experts"] = c.n_routed_experts;
  j["n_shared_experts"] = c.n_shared_experts;
  j["n_activated_experts"] = c.n_activated_experts;
  j["score_func"] = c.score_func;
  j["route_scale"] = c.route_scale;
  j["swiglu_limit"] = c.swiglu_limit;
  j["q_lora_rank"] = c.q_lora_rank;
  j["head_dim"] = c.head_dim;
  j["rope_head_dim"] = c.rope_head_dim;
  j["norm_eps"] = c.norm_eps;
  j["o_groups"] = c.o_groups;
  j["o_lora_rank"] = c.o_lora_rank;
  j["window_size"] = c.window_size;
  j["compress_ratios"] = c.compress_ratios;
  j["compress_rope_theta"] = c.compress_rope_theta;
  j["original_seq_len"] = c.original_seq_len;
  j["rope_theta"] = c.rope_theta;
  j["rope_factor"] = c.rope_factor;
  j["beta_fast"] = c.beta_fast;
  j["beta_slow"] = c.beta_slow;
  j["index_n_heads"] = c.index_n_heads;
  j["index_head_dim"] = c.index_head_dim;
  j["index_topk"] = c.index_topk;
  j["hc_mult"] = c.hc_mult;
  j["hc_sinkhorn_iters"] = c.hc_sinkhorn_iters;
  j["hc_eps"] = c.hc_eps;
  j["max_seq_len"] = c.max_position_embeddings;
  j["max_batch_size"] = 1;
  j["dtype"] = c.fp8_weights ? "fp8" : "bf16";
  j["scale_fmt"] = "ue8m0";
  if (c.fp4_experts) j["expert_dtype"] = "fp4";
  else j["expert_dtype"] = nullptr;
  return j.dump(2) + "\n";
}

std::string generation_config_json(const Config& c) {
  nlohmann::ordered_json j;
  j["_from_model_config"] = true;
  j["bos_token_id"] = c.bos_token_id;
  j["eos_token_id"] = c.eos_token_id;
  j["do_sample"] = true;
  j["temperature"] = 1.0;
  j["top_p"] = 1.0;
  j["transformers_version"] = "4.57.1";
  return j.dump(2) + "\n";
}

}  // namespace v4rt::model
