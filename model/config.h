// Config: the DeepSeek-V4 model configuration read from a Hugging Face
// config.json (spec §1), plus the quantities derived from it. Loading rejects
// missing or inconsistent keys with a message naming the key and the file.
// Immutable after load; safe to share between threads.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "base/status.h"

namespace v4rt::model {

enum class LayerType { kWindow, kCsa, kHca };  // compress ratio 0, 4, 128
const char* layer_type_name(LayerType t);

struct Config {
  // Keys of config.json (HF names in comments); defaults are never the
  // ModelArgs defaults (spec trap 27): every required key must be present.
  int vocab_size = 0;             // vocab_size
  int dim = 0;                    // hidden_size
  int moe_inter_dim = 0;          // moe_intermediate_size
  int n_layers = 0;               // num_hidden_layers
  int n_hash_layers = 0;          // num_hash_layers
  int n_mtp_layers = 1;           // num_nextn_predict_layers (default 1)
  int n_heads = 0;                // num_attention_heads
  int n_routed_experts = 0;       // n_routed_experts
  int n_shared_experts = 1;       // n_shared_experts (must be 1)
  int n_activated_experts = 0;    // num_experts_per_tok
  std::string score_func;         // scoring_func: sqrtsoftplus | softmax | sigmoid
  double route_scale = 1.0;       // routed_scaling_factor
  double swiglu_limit = 0.0;      // swiglu_limit (0 = no clamp)
  int q_lora_rank = 0;            // q_lora_rank
  int head_dim = 0;               // head_dim
  int rope_head_dim = 0;          // qk_rope_head_dim
  double norm_eps = 1e-6;         // rms_norm_eps
  int o_groups = 0;               // o_groups
  int o_lora_rank = 0;            // o_lora_rank
  int window_size = 0;            // sliding_window
  std::vector<int> compress_ratios;  // compress_ratios, length n_layers + n_mtp_layers
  double compress_rope_theta = 0;    // compress_rope_theta
  double rope_theta = 0;             // rope_theta
  int original_seq_len = 0;       // rope_scaling.original_max_position_embeddings (0: no YaRN)
  double rope_factor = 1;         // rope_scaling.factor
  double beta_fast = 32;          // rope_scaling.beta_fast
  double beta_slow = 1;           // rope_scaling.beta_slow
  int index_n_heads = 0;          // index_n_heads
  int index_head_dim = 0;         // index_head_dim
  int index_topk = 0;             // index_topk
  int hc_mult = 0;                // hc_mult
  int hc_sinkhorn_iters = 0;      // hc_sinkhorn_iters
  double hc_eps = 1e-6;           // hc_eps (default 1e-6)
  int64_t max_position_embeddings = 0;  // max_position_embeddings
  int bos_token_id = 0;
  int eos_token_id = 1;

  // Weight formats.
  bool fp8_weights = false;       // quantization_config.quant_method == "fp8": non-expert Linear weights are e4m3 + e8m0 128x128 scales
  bool fp4_experts = false;       // expert_dtype == "fp4": routed experts are packed e2m1 + e8m0 per-32 scales
  int weight_block_size = 128;    // quantization_config.weight_block_size (must be [128,128])

  std::filesystem::path source;   // the config.json this came from

  // Derived.
  LayerType layer_type(int layer) const;  // layer in [0, n_layers + n_mtp_layers)
  int compress_ratio(int layer) const { return compress_ratios.at(static_cast<size_t>(layer)); }
  bool is_hash_layer(int layer) const { return layer < n_hash_layers; }
  int n_csa_layers() const;
  int n_hca_layers() const;
  // Bytes per token that grow with the context, per spec §4.1 (stored
  // quantized: FP8 non-rope dims + ue8m0 scale per 64, bf16 rope dims; FP4
  // indexer keys + ue8m0 scale per 32): compressed KV (CSA, HCA) + indexer keys.
  double kv_bytes_per_token() const;
  // The same in bf16 as the reference holds it (spec formula: CSA 256+64, HCA 8 per token for head_dim 512).
  double kv_bytes_per_token_bf16() const;
  // Fixed per-sequence bytes: window rings of every layer (incl. MTP) and compressor partial states.
  uint64_t fixed_state_bytes() const;

  // Loads <dir>/config.json (or a config.json path). Validates every key.
  static Result<Config> load(const std::filesystem::path& dir_or_file);
  // Parses config.json text; `source` names it in error messages.
  static Result<Config> parse(std::string_view json_text, const std::filesystem::path& source);
};

}  // namespace v4rt::model
