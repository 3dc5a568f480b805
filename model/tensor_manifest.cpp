#include "model/tensor_manifest.h"

#include <set>

#include "model/weights.h"

namespace v4rt::model {

namespace {

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

class Builder {
 public:
  explicit Builder(const Config& c) : c_(c) {}

  void add(std::string name, DType dtype, std::vector<int64_t> shape) {
    out_.push_back({std::move(name), dtype, std::move(shape)});
  }
  // A Linear that the release stores as FP8 (+ 128x128 e8m0 scales); BF16 in a bf16 checkpoint.
  void linear(const std::string& prefix, int64_t out_dim, int64_t in_dim) {
    if (c_.fp8_weights) {
      const int64_t b = c_.weight_block_size;
      add(prefix + ".weight", DType::kF8E4M3, {out_dim, in_dim});
      add(prefix + ".scale", DType::kF8E8M0, {ceil_div(out_dim, b), ceil_div(in_dim, b)});
    } else {
      add(prefix + ".weight", DType::kBF16, {out_dim, in_dim});
    }
  }
  // A routed expert's Linear: packed FP4 with per-32 scales, else as linear().
  void expert_linear(const std::string& prefix, int64_t out_dim, int64_t in_dim) {
    if (c_.fp4_experts) {
      add(prefix + ".weight", DType::kI8, {out_dim, in_dim / 2});
      add(prefix + ".scale", DType::kF8E8M0, {out_dim, ceil_div(in_dim, 32)});
    } else {
      linear(prefix, out_dim, in_dim);
    }
  }

  void hc_head(const std::string& p) {
    const int64_t C = c_.hc_mult, D = c_.dim;
    add(p + "hc_head_fn", DType::kF32, {C, C * D});
    add(p + "hc_head_base", DType::kF32, {C});
    add(p + "hc_head_scale", DType::kF32, {1});
  }

  // One block; `layer` indexes compress_ratios (MTP blocks come after the main layers).
  void block(const std::string& p, int layer) {
    const int64_t D = c_.dim, C = c_.hc_mult, M = (2 + C) * C, H = c_.n_heads, Dh = c_.head_dim,
                  Q = c_.q_lora_rank, G = c_.o_groups, O = c_.o_lora_rank, E = c_.n_routed_experts,
                  I = c_.moe_inter_dim, Hi = c_.index_n_heads, Di = c_.index_head_dim;
    const int ratio = c_.compress_ratio(layer);
    add(p + "attn_norm.weight", DType::kBF16, {D});
    add(p + "ffn_norm.weight", DType::kBF16, {D});
    for (const char* which : {"attn", "ffn"}) {
      add(p + "hc_" + which + "_fn", DType::kF32, {M, C * D});
      add(p + "hc_" + which + "_base", DType::kF32, {M});
      add(p + "hc_" + which + "_scale", DType::kF32, {3});
    }
    linear(p + "attn.wq_a", Q, D);
    add(p + "attn.q_norm.weight", DType::kBF16, {Q});
    linear(p + "attn.wq_b", H * Dh, Q);
    linear(p + "attn.wkv", Dh, D);
    add(p + "attn.kv_norm.weight", DType::kBF16, {Dh});
    linear(p + "attn.wo_a", G * O, H * Dh / G);
    linear(p + "attn.wo_b", D, G * O);
    add(p + "attn.attn_sink", DType::kF32, {H});
    if (ratio > 0) {
      const int64_t coff = ratio == 4 ? 2 : 1;  // overlapping windows project twice the width
      add(p + "attn.compressor.wkv.weight", DType::kBF16, {coff * Dh, D});
      add(p + "attn.compressor.wgate.weight", DType::kBF16, {coff * Dh, D});
      add(p + "attn.compressor.ape", DType::kF32, {ratio, coff * Dh});
      add(p + "attn.compressor.norm.weight", DType::kBF16, {Dh});
    }
    if (ratio == 4) {
      linear(p + "attn.indexer.wq_b", Hi * Di, Q);
      add(p + "attn.indexer.weights_proj.weight", DType::kBF16, {Hi, D});
      add(p + "attn.indexer.compressor.wkv.weight", DType::kBF16, {2 * Di, D});
      add(p + "attn.indexer.compressor.wgate.weight", DType::kBF16, {2 * Di, D});
      add(p + "attn.indexer.compressor.ape", DType::kF32, {4, 2 * Di});
      add(p + "attn.indexer.compressor.norm.weight", DType::kBF16, {Di});
    }
    add(p + "ffn.gate.weight", DType::kBF16, {E, D});
    if (layer < c_.n_layers && c_.is_hash_layer(layer))
      add(p + "ffn.gate.tid2eid", DType::kI64, {c_.vocab_size, c_.n_activated_experts});
    else
      add(p + "ffn.gate.bias", DType::kF32, {E});
    for (int64_t e = 0; e < E; ++e) {
      const std::string ep = p + "ffn.experts." + std::to_string(e) + ".";
      expert_linear(ep + "w1", I, D);
      expert_linear(ep + "w2", D, I);
      expert_linear(ep + "w3", I, D);
    }
    linear(p + "ffn.shared_experts.w1", I, D);
    linear(p + "ffn.shared_experts.w2", D, I);
    linear(p + "ffn.shared_experts.w3", I, D);
  }

  std::vector<ExpectedTensor> build() {
    const int64_t D = c_.dim, V = c_.vocab_size;
    add("embed.weight", DType::kBF16, {V, D});
    add("head.weight", DType::kBF16, {V, D});
    add("norm.weight", DType::kBF16, {D});
    hc_head("");
    for (int l = 0; l < c_.n_layers; ++l) block("layers." + std::to_string(l) + ".", l);
    for (int m = 0; m < c_.n_mtp_layers; ++m) {
      const std::string p = "mtp." + std::to_string(m) + ".";
      block(p, c_.n_layers + m);
      linear(p + "e_proj", D, D);
      linear(p + "h_proj", D, D);
      add(p + "enorm.weight", DType::kBF16, {D});
      add(p + "hnorm.weight", DType::kBF16, {D});
      add(p + "norm.weight", DType::kBF16, {D});
      hc_head(p);
    }
    return std::move(out_);
  }

 private:
  const Config& c_;
  std::vector<ExpectedTensor> out_;
};

}  // namespace

std::vector<ExpectedTensor> expected_tensors(const Config& config) { return Builder(config).build(); }

ManifestReport check_manifest(const Config& config, const Weights& weights) {
  ManifestReport report;
  std::vector<ExpectedTensor> want = expected_tensors(config);
  report.expected = want.size();
  std::set<std::string_view> needed;
  for (auto& t : want) {
    needed.insert(t.name);
    const TensorView* v = weights.find(t.name);
    if (v == nullptr) {
      report.missing.push_back(t);
    } else if (v->dtype != t.dtype || v->shape != t.shape) {
      report.mismatched.push_back({t, v->dtype, v->shape});
    }
  }
  for (const auto& [name, view] : weights.tensors())
    if (!needed.count(name)) report.unexpected.push_back(name);
  return report;
}

std::string shape_string(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

}  // namespace v4rt::model
