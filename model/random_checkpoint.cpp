#include "model/random_checkpoint.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "model/checkpoint_writer.h"
#include "model/numerics.h"
#include "base/thread_pool.h"

namespace v4rt::model {

namespace {

enum class Store { kBf16, kF32, kI64, kLinear, kExpert };  // kLinear: FP8 in the release; kExpert: FP4

struct Logical {
  std::string name;
  std::vector<int64_t> shape;  // logical (unpacked) shape
  Store store;
};

void add_block(std::vector<Logical>& out, const Config& c, const std::string& p, int layer) {
  const int64_t D = c.dim, C = c.hc_mult, H = c.n_heads, Dh = c.head_dim, Q = c.q_lora_rank;
  const int64_t G = c.o_groups, O = c.o_lora_rank, E = c.n_routed_experts, I = c.moe_inter_dim;
  const int64_t mix = (2 + C) * C;
  const int r = c.compress_ratios.at(static_cast<size_t>(layer));
  out.push_back({p + "attn_norm.weight", {D}, Store::kBf16});
  out.push_back({p + "ffn_norm.weight", {D}, Store::kBf16});
  for (const char* w : {"hc_attn", "hc_ffn"}) {
    out.push_back({p + w + "_fn", {mix, C * D}, Store::kF32});
    out.push_back({p + w + "_base", {mix}, Store::kF32});
    out.push_back({p + w + "_scale", {3}, Store::kF32});
  }
  out.push_back({p + "attn.wq_a.weight", {Q, D}, Store::kLinear});
  out.push_back({p + "attn.q_norm.weight", {Q}, Store::kBf16});
  out.push_back({p + "attn.wq_b.weight", {H * Dh, Q}, Store::kLinear});
  out.push_back({p + "attn.wkv.weight", {Dh, D}, Store::kLinear});
  out.push_back({p + "attn.kv_norm.weight", {Dh}, Store::kBf16});
  out.push_back({p + "attn.wo_a.weight", {G * O, H * Dh / G}, Store::kLinear});
  out.push_back({p + "attn.wo_b.weight", {D, G * O}, Store::kLinear});
  out.push_back({p + "attn.attn_sink", {H}, Store::kF32});
  if (r > 0) {
    const int64_t w = (r == 4 ? 2 : 1) * Dh;
    out.push_back({p + "attn.compressor.wkv.weight", {w, D}, Store::kBf16});
    out.push_back({p + "attn.compressor.wgate.weight", {w, D}, Store::kBf16});
    out.push_back({p + "attn.compressor.ape", {r, w}, Store::kF32});
    out.push_back({p + "attn.compressor.norm.weight", {Dh}, Store::kBf16});
  }
  if (r == 4) {
    const int64_t Hi = c.index_n_heads, Di = c.index_head_dim;
    out.push_back({p + "attn.indexer.wq_b.weight", {Hi * Di, Q}, Store::kLinear});
    out.push_back({p + "attn.indexer.weights_proj.weight", {Hi, D}, Store::kBf16});
    out.push_back({p + "attn.indexer.compressor.wkv.weight", {2 * Di, D}, Store::kBf16});
    out.push_back({p + "attn.indexer.compressor.wgate.weight", {2 * Di, D}, Store::kBf16});
    out.push_back({p + "attn.indexer.compressor.ape", {4, 2 * Di}, Store::kF32});
    out.push_back({p + "attn.indexer.compressor.norm.weight", {Di}, Store::kBf16});
  }
  out.push_back({p + "ffn.gate.weight", {E, D}, Store::kBf16});
  if (layer < c.n_layers && layer < c.n_hash_layers)
    out.push_back({p + "ffn.gate.tid2eid", {c.vocab_size, c.n_activated_experts}, Store::kI64});
  else
    out.push_back({p + "ffn.gate.bias", {E}, Store::kF32});
  for (int64_t e = 0; e < E; ++e) {
    std::string ep = p + "ffn.experts." + std::to_string(e) + ".";
    out.push_back({ep + "w1.weight", {I, D}, Store::kExpert});
    out.push_back({ep + "w2.weight", {D, I}, Store::kExpert});
    out.push_back({ep + "w3.weight", {I, D}, Store::kExpert});
  }
  out.push_back({p + "ffn.shared_experts.w1.weight", {I, D}, Store::kLinear});
  out.push_back({p + "ffn.shared_experts.w2.weight", {D, I}, Store::kLinear});
  out.push_back({p + "ffn.shared_experts.w3.weight", {I, D}, Store::kLinear});
}

std::vector<Logical> logical_tensors(const Config& c) {
  std::vector<Logical> out;
  const int64_t D = c.dim, C = c.hc_mult, V = c.vocab_size;
  out.push_back({"embed.weight", {V, D}, Store::kBf16});
  for (int l = 0; l < c.n_layers; ++l) add_block(out, c, "layers." + std::to_string(l) + ".", l);
  for (int m = 0; m < c.n_mtp_layers; ++m) {
    std::string p = "mtp." + std::to_string(m) + ".";
    add_block(out, c, p, c.n_layers + m);
    out.push_back({p + "e_proj.weight", {D, D}, Store::kLinear});
    out.push_back({p + "h_proj.weight", {D, D}, Store::kLinear});
    out.push_back({p + "enorm.weight", {D}, Store::kBf16});
    out.push_back({p + "hnorm.weight", {D}, Store::kBf16});
    out.push_back({p + "norm.weight", {D}, Store::kBf16});
    out.push_back({p + "hc_head_fn", {C, C * D}, Store::kF32});
    out.push_back({p + "hc_head_base", {C}, Store::kF32});
    out.push_back({p + "hc_head_scale", {1}, Store::kF32});
  }
  out.push_back({"norm.weight", {D}, Store::kBf16});
  out.push_back({"hc_head_fn", {C, C * D}, Store::kF32});
  out.push_back({"hc_head_base", {C}, Store::kF32});
  out.push_back({"hc_head_scale", {1}, Store::kF32});
  out.push_back({"head.weight", {V, D}, Store::kBf16});
  return out;
}

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
bool contains(const std::string& s, std::string_view part) { return s.find(part) != std::string::npos; }

std::string scale_name(const std::string& weight_name) {
  return weight_name.substr(0, weight_name.size() - std::string_view(".weight").size()) + ".scale";
}

// ---- seeded generation ---------------------------------------------------------

uint64_t splitmix(uint64_t& s) {
  uint64_t z = (s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
uint64_t hash_name(std::string_view s, uint64_t seed) {
  uint64_t h = 1469598103934665603ull ^ seed;
  for (char ch : s) h = (h ^ static_cast<uint8_t>(ch)) * 1099511628211ull;
  return h;
}
double uniform01(uint64_t& s) { return static_cast<double>(splitmix(s) >> 11) * (1.0 / 9007199254740992.0); }
float normal(uint64_t& s) {
  double u1 = uniform01(s), u2 = uniform01(s);
  if (u1 < 1e-300) u1 = 1e-300;
  return static_cast<float>(std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2));
}

// How a tensor is initialised (after the golden generator's rules, README "Init").
struct Init {
  enum Kind { kNormal, kUniform } kind = kNormal;
  float a = 0, b = 1;  // normal: mean a, std b; uniform: [a, b)
};

Init init_for(const Logical& t) {
  const std::string& n = t.name;
  float fan_in = t.shape.size() == 2 ? static_cast<float>(t.shape[1]) : 1.0f;
  auto scaled = [&](float gain) { return Init{Init::kNormal, 0.0f, gain / std::sqrt(fan_in)}; };
  if (contains(n, "kv_norm")) return {Init::kUniform, 1.5f, 2.5f};
  if (ends_with(n, "norm.weight")) return {Init::kUniform, 0.8f, 1.2f};
  if (ends_with(n, "attn_sink")) return {Init::kUniform, 3.0f, 7.0f};
  if (ends_with(n, "_base")) return {Init::kNormal, 0.0f, 0.5f};
  if (ends_with(n, "_scale")) return {Init::kUniform, 0.5f, 1.5f};
  if (ends_with(n, ".ape")) return {Init::kNormal, 0.0f, 0.1f};
  if (ends_with(n, "gate.bias")) return {Init::kNormal, 0.0f, 0.01f};
  if (n == "head.weight") return scaled(2.0f);
  if (n == "embed.weight") return {Init::kNormal, 0.0f, 1.0f};
  if (contains(n, "ffn.experts.") && (ends_with(n, "w1.weight") || ends_with(n, "w3.weight"))) return scaled(1.5f);
  if (contains(n, "ffn.experts.") && ends_with(n, "w2.weight")) return scaled(0.25f);
  if (ends_with(n, "wo_b.weight")) return scaled(0.35f);
  if (ends_with(n, "gate.weight")) return scaled(3.0f);
  return scaled(1.0f);
}

constexpr int64_t kChunk = 1 << 16;  // elements per independently seeded chunk

std::vector<float> generate(const Logical& t, uint64_t seed, ThreadPool& pool) {
  int64_t n = 1;
  for (int64_t d : t.shape) n *= d;
  std::vector<float> v(static_cast<size_t>(n));
  const Init init = init_for(t);
  const uint64_t base = hash_name(t.name, seed);
  const size_t chunks = static_cast<size_t>((n + kChunk - 1) / kChunk);
  pool.parallel_for(chunks, [&](size_t c0, size_t c1) {
    for (size_t c = c0; c < c1; ++c) {
      uint64_t s = base ^ (0x632be59bd9b4e019ull * (c + 1));
      int64_t i0 = static_cast<int64_t>(c) * kChunk, i1 = std::min(n, i0 + kChunk);
      for (int64_t i = i0; i < i1; ++i)
        v[static_cast<size_t>(i)] = init.kind == Init::kNormal
                                        ? init.a + init.b * normal(s)
                                        : init.a + (init.b - init.a) * static_cast<float>(uniform01(s));
    }
  });
  if (t.name == "embed.weight") {
    // A direction shared by every embedding (weight 0.7), as in the golden
    // generator, so that the indexer's weights are mostly positive.
    uint64_t s = hash_name("embed.common", seed);
    std::vector<float> common(static_cast<size_t>(t.shape[1]));
    for (auto& x : common) x = normal(s);
    pool.parallel_for(static_cast<size_t>(t.shape[0]), [&](size_t r0, size_t r1) {
      for (size_t r = r0; r < r1; ++r)
        for (size_t j = 0; j < common.size(); ++j) v[r * common.size() + j] += 0.7f * common[j];
    });
  }
  return v;
}

std::string tid2eid_bytes(const Logical& t, uint64_t seed, int n_experts) {
  const int64_t rows = t.shape[0], k = t.shape[1];
  std::string out(static_cast<size_t>(rows * k * 8), '\0');
  uint64_t s = hash_name(t.name, seed);
  std::vector<int64_t> perm(static_cast<size_t>(n_experts));
  for (int64_t r = 0; r < rows; ++r) {
    for (int e = 0; e < n_experts; ++e) perm[static_cast<size_t>(e)] = e;
    for (int64_t j = 0; j < k; ++j) {  // partial Fisher-Yates: k distinct experts
      size_t pick = static_cast<size_t>(j) + static_cast<size_t>(splitmix(s) % static_cast<uint64_t>(n_experts - j));
      std::swap(perm[static_cast<size_t>(j)], perm[pick]);
      std::memcpy(out.data() + (r * k + j) * 8, &perm[static_cast<size_t>(j)], 8);
    }
  }
  return out;
}

}  // namespace

std::vector<CheckpointTensor> checkpoint_tensors(const Config& c) {
  std::vector<CheckpointTensor> out;
  for (const Logical& t : logical_tensors(c)) {
    switch (t.store) {
      case Store::kBf16: out.push_back({t.name, DType::kBF16, t.shape}); break;
      case Store::kF32: out.push_back({t.name, DType::kF32, t.shape}); break;
      case Store::kI64: out.push_back({t.name, DType::kI64, t.shape}); break;
      case Store::kLinear:
        if (c.fp8_weights) {
          out.push_back({t.name, DType::kF8E4M3, t.shape});
          out.push_back({scale_name(t.name), DType::kF8E8M0,
                         {(t.shape[0] + c.weight_block_size - 1) / c.weight_block_size,
                          (t.shape[1] + c.weight_block_size - 1) / c.weight_block_size}});
        } else {
          out.push_back({t.name, DType::kBF16, t.shape});
        }
        break;
      case Store::kExpert:
        if (c.fp4_experts) {
          out.push_back({t.name, DType::kI8, {t.shape[0], t.shape[1] / 2}});
          out.push_back({scale_name(t.name), DType::kF8E8M0, {t.shape[0], t.shape[1] / 32}});
        } else if (c.fp8_weights) {
          out.push_back({t.name, DType::kF8E4M3, t.shape});
          out.push_back({scale_name(t.name), DType::kF8E8M0,
                         {(t.shape[0] + c.weight_block_size - 1) / c.weight_block_size,
                          (t.shape[1] + c.weight_block_size - 1) / c.weight_block_size}});
        } else {
          out.push_back({t.name, DType::kBF16, t.shape});
        }
        break;
    }
  }
  return out;
}

uint64_t checkpoint_bytes(const Config& c) {
  uint64_t total = 0;
  for (const auto& t : checkpoint_tensors(c)) {
    uint64_t n = dtype_size(t.dtype);
    for (int64_t d : t.shape) n *= static_cast<uint64_t>(d);
    total += n;
  }
  return total;
}

Status write_random_weights(const Config& c, const std::filesystem::path& dir, const RandomCheckpointOptions& options,
                            ThreadPool& pool, const Progress& progress) {
  const uint64_t total = checkpoint_bytes(c);
  CheckpointWriterOptions wo;
  wo.shard_bytes = options.shard_bytes > 0 ? options.shard_bytes
                                           : std::clamp<uint64_t>(total / 2 + 1, 1ull << 20, 4ull << 30);
  CheckpointWriter writer(dir, wo);
  uint64_t done = 0;
  for (const Logical& t : logical_tensors(c)) {
    if (t.store == Store::kI64) {
      std::string b = tid2eid_bytes(t, options.seed, c.n_routed_experts);
      done += b.size();
      V4RT_RETURN_IF_ERROR(writer.add(t.name, DType::kI64, t.shape, std::move(b)));
    } else {
      std::vector<float> v = generate(t, options.seed, pool);
      const int64_t rows = t.shape.size() == 2 ? t.shape[0] : 1;
      const int64_t cols = t.shape.back();
      if (t.store == Store::kF32) {
        done += v.size() * 4;
        V4RT_RETURN_IF_ERROR(writer.add(t.name, DType::kF32, t.shape, to_f32_bytes(v)));
      } else if (t.store == Store::kBf16) {
        done += v.size() * 2;
        V4RT_RETURN_IF_ERROR(writer.add(t.name, DType::kBF16, t.shape, to_bf16_bytes(v)));
      } else if (t.store == Store::kExpert && cols % 32 == 0) {
        // Effective weights are the FP4 values in both formats.
        QuantizedFp4 q = quantize_fp4_rows(v, rows, cols, &pool);
        if (c.fp4_experts) {
          done += q.weight.size() + q.scale.size();
          V4RT_RETURN_IF_ERROR(writer.add(t.name, DType::kI8, {rows, cols / 2}, std::move(q.weight)));
          V4RT_RETURN_IF_ERROR(writer.add(scale_name(t.name), DType::kF8E8M0, {rows, cols / 32}, std::move(q.scale)));
        } else if (c.fp8_weights) {
          QuantizedFp8 q8 = quantize_fp8_blocks(dequantize_fp4_rows(q, rows, cols), rows, cols, c.weight_block_size, &pool);
          done += q8.weight.size() + q8.scale.size();
          V4RT_RETURN_IF_ERROR(writer.add(t.name, DType::kF8E4M3, t.shape, std::move(q8.weight)));
          V4RT_RETURN_IF_ERROR(
              writer.add(scale_name(t.name), DType::kF8E8M0, {q8.scale_rows, q8.scale_cols}, std::move(q8.scale)));
        } else {
          std::vector<float> deq = dequantize_fp4_rows(q, rows, cols);
          done += deq.size() * 2;
          V4RT_RETURN_IF_ERROR(writer.add(t.name, DType::kBF16, t.shape, to_bf16_bytes(deq)));
        }
      } else {
        // FP8 linear (or an expert whose width is not a multiple of 32).
        QuantizedFp8 q = quantize_fp8_blocks(v, rows, cols, c.weight_block_size, &pool);
        if (c.fp8_weights) {
          done += q.weight.size() + q.scale.size();
          V4RT_RETURN_IF_ERROR(writer.add(t.name, DType::kF8E4M3, t.shape, std::move(q.weight)));
          V4RT_RETURN_IF_ERROR(
              writer.add(scale_name(t.name), DType::kF8E8M0, {q.scale_rows, q.scale_cols}, std::move(q.scale)));
        } else {
          std::vector<float> deq = dequantize_fp8_blocks(q, rows, cols, c.weight_block_size);
          done += deq.size() * 2;
          V4RT_RETURN_IF_ERROR(writer.add(t.name, DType::kBF16, t.shape, to_bf16_bytes(deq)));
        }
      }
    }
    if (progress && !progress("weights", done, total))
      return Status::Cancelled(dir.string() + ": checkpoint writing cancelled; the directory is incomplete");
  }
  return writer.finish();
}

}  // namespace v4rt::model
