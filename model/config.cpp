#include "model/config.h"

#include <cmath>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <system_error>

#include "base/file_util.h"

namespace v4rt::model {

namespace fs = std::filesystem;
using nlohmann::json;

const char* layer_type_name(LayerType t) {
  switch (t) {
    case LayerType::kWindow: return "SWA";
    case LayerType::kCsa: return "CSA";
    case LayerType::kHca: return "HCA";
  }
  return "?";
}

namespace {

std::string dump_short(const json& j) {
  std::string s = j.dump(-1, ' ', false, json::error_handler_t::replace);
  if (s.size() > 64) s = s.substr(0, 64) + "...";
  return s;
}

// Reads keys of one JSON object, collecting the first error with the key and file named.
class Reader {
 public:
  // aliases (optional) maps an HF key to the name the file really uses (ModelArgs files).
  Reader(const json& obj, std::string file, std::string prefix = "",
         const std::map<std::string, std::string>* aliases = nullptr)
      : obj_(obj), file_(std::move(file)), prefix_(std::move(prefix)), aliases_(aliases) {}

  Status error(const std::string& key, const std::string& fault) const {
    std::string name = prefix_ + key;
    if (aliases_ != nullptr)
      if (auto it = aliases_->find(name); it != aliases_->end()) name = it->second;
    return Status::InvalidArgument(file_ + ": key '" + name + "' " + fault + "; fix " +
                                   fs::path(file_).filename().string());
  }
  bool has(const std::string& key) const {
    auto it = obj_.find(key);
    return it != obj_.end() && !it->is_null();
  }
  const json* get(const std::string& key) const {
    auto it = obj_.find(key);
    return (it == obj_.end() || it->is_null()) ? nullptr : &*it;
  }

  Status integer(const std::string& key, int* out, bool required, int64_t min = 0,
                 int64_t max = std::numeric_limits<int>::max()) const {
    int64_t v = 0;
    V4RT_RETURN_IF_ERROR(integer64(key, &v, required, min, max, *out));
    *out = static_cast<int>(v);
    return Status::Ok();
  }
  Status integer64(const std::string& key, int64_t* out, bool required, int64_t min, int64_t max,
                   int64_t fallback) const {
    const json* j = get(key);
    if (j == nullptr) {
      if (required) return error(key, "is missing (required)");
      *out = fallback;
      return Status::Ok();
    }
    int64_t v = 0;
    if (j->is_number_unsigned()) {
      if (j->get<uint64_t>() > static_cast<uint64_t>(max)) return error(key, "is too large (got " + dump_short(*j) + ")");
      v = static_cast<int64_t>(j->get<uint64_t>());
    } else if (j->is_number_integer()) {
      v = j->get<int64_t>();
    } else if (j->is_number_float() && std::isfinite(j->get<double>()) && j->get<double>() == std::floor(j->get<double>()) &&
               std::fabs(j->get<double>()) < 9e15) {
      v = static_cast<int64_t>(j->get<double>());  // 16.0 written for an integer
    } else {
      return error(key, "must be an integer (got " + dump_short(*j) + ")");
    }
    if (v < min || v > max)
      return error(key, "must be in [" + std::to_string(min) + ", " + std::to_string(max) + "] (got " + std::to_string(v) + ")");
    *out = v;
    return Status::Ok();
  }
  Status number(const std::string& key, double* out, bool required, double min, double max) const {
    const json* j = get(key);
    if (j == nullptr) {
      if (required) return error(key, "is missing (required)");
      return Status::Ok();  // keep the default
    }
    if (!j->is_number()) return error(key, "must be a number (got " + dump_short(*j) + ")");
    double v = j->get<double>();
    if (!std::isfinite(v) || v < min || v > max)
      return error(key, "must be in [" + std::to_string(min) + ", " + std::to_string(max) + "] (got " + dump_short(*j) + ")");
    *out = v;
    return Status::Ok();
  }
  Status string(const std::string& key, std::string* out, bool required) const {
    const json* j = get(key);
    if (j == nullptr) {
      if (required) return error(key, "is missing (required)");
      return Status::Ok();
    }
    if (!j->is_string()) return error(key, "must be a string (got " + dump_short(*j) + ")");
    *out = j->get<std::string>();
    return Status::Ok();
  }

 private:
  const json& obj_;
  std::string file_;
  std::string prefix_;
  const std::map<std::string, std::string>* aliases_;
};

// ModelArgs name (inference/config.json) -> HF config.json name, for the keys
// that map one to one.
constexpr std::pair<const char*, const char*> kModelArgsKeys[] = {
    {"vocab_size", "vocab_size"},
    {"dim", "hidden_size"},
    {"moe_inter_dim", "moe_intermediate_size"},
    {"n_layers", "num_hidden_layers"},
    {"n_hash_layers", "num_hash_layers"},
    {"n_mtp_layers", "num_nextn_predict_layers"},
    {"n_heads", "num_attention_heads"},
    {"n_routed_experts", "n_routed_experts"},
    {"n_shared_experts", "n_shared_experts"},
    {"n_activated_experts", "num_experts_per_tok"},
    {"score_func", "scoring_func"},
    {"route_scale", "routed_scaling_factor"},
    {"swiglu_limit", "swiglu_limit"},
    {"q_lora_rank", "q_lora_rank"},
    {"head_dim", "head_dim"},
    {"rope_head_dim", "qk_rope_head_dim"},
    {"norm_eps", "rms_norm_eps"},
    {"o_groups", "o_groups"},
    {"o_lora_rank", "o_lora_rank"},
    {"window_size", "sliding_window"},
    {"compress_ratios", "compress_ratios"},
    {"compress_rope_theta", "compress_rope_theta"},
    {"rope_theta", "rope_theta"},
    {"index_n_heads", "index_n_heads"},
    {"index_head_dim", "index_head_dim"},
    {"index_topk", "index_topk"},
    {"hc_mult", "hc_mult"},
    {"hc_sinkhorn_iters", "hc_sinkhorn_iters"},
    {"hc_eps", "hc_eps"},
    {"expert_dtype", "expert_dtype"},
    {"original_seq_len", "rope_scaling.original_max_position_embeddings"},
    {"rope_factor", "rope_scaling.factor"},
    {"beta_fast", "rope_scaling.beta_fast"},
    {"beta_slow", "rope_scaling.beta_slow"},
    {"dtype", "quantization_config.quant_method"},
    {"scale_fmt", "quantization_config.scale_fmt"},
};

// Rewrites an inference/config.json (ModelArgs keys, spec §1.1) into HF keys.
// `aliases` gets HF name -> ModelArgs name so errors name the key as written.
// max_seq_len / max_batch_size are runtime settings and are not read.
json from_modelargs(const json& m, std::map<std::string, std::string>* aliases) {
  json hf = json::object();
  json rope = json::object();
  for (const auto& [ma, hf_key] : kModelArgsKeys) {
    (*aliases)[hf_key] = ma;
    auto it = m.find(ma);
    if (it == m.end() || it->is_null()) continue;
    std::string_view key = hf_key;
    if (key.starts_with("rope_scaling.")) rope[std::string(key.substr(13))] = *it;
    else if (!key.starts_with("quantization_config.")) hf[hf_key] = *it;
  }
  if (!rope.empty()) hf["rope_scaling"] = rope;
  // dtype "fp8": non-expert Linears are e4m3 with 128x128 scales; "bf16" (or absent): none.
  if (auto dt = m.find("dtype"); dt != m.end() && !dt->is_null() && *dt != "bf16") {
    json q = {{"quant_method", *dt}, {"fmt", "e4m3"}, {"weight_block_size", {128, 128}}};
    if (auto sf = m.find("scale_fmt"); sf != m.end() && !sf->is_null()) q["scale_fmt"] = *sf;
    hf["quantization_config"] = q;
  }
  return hf;
}

constexpr int kMaxDim = 1 << 20;  // sanity bound on widths (Pro's largest is 65536)

}  // namespace

Result<Config> Config::load(const fs::path& dir_or_file) {
  std::error_code ec;
  fs::path path = dir_or_file;
  if (fs::is_directory(dir_or_file, ec)) {
    // The HF root config.json; else the reference's ModelArgs file.
    path = dir_or_file / "config.json";
    for (const char* alt : {"inference_config.json", "inference/config.json"})
      if (!fs::exists(path, ec) && fs::exists(dir_or_file / alt, ec)) path = dir_or_file / alt;
  }
  if (!fs::exists(path, ec))
    return Status::NotFound(path.string() + ": no config.json; pass a checkpoint directory in the Hugging Face layout");
  Result<std::string> text = read_file(path);
  if (!text) return text.status();
  return parse(*text, path);
}

Result<Config> Config::parse(std::string_view json_text, const fs::path& source) {
  const std::string file = source.string();
  json j = json::parse(json_text.begin(), json_text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::InvalidArgument(file + ": not valid JSON; fix or re-download config.json");
  if (!j.is_object()) return Status::InvalidArgument(file + ": top level is not a JSON object; fix config.json");
  // An inference/config.json (ModelArgs keys: "dim", "n_layers", ...) is read through the same checks.
  std::map<std::string, std::string> aliases;
  if (j.contains("dim") && !j.contains("hidden_size")) {
    j = from_modelargs(j, &aliases);
    if (!j.contains("rope_scaling")) j["rope_scaling"] = json::object();  // YaRN keys are required here
  }
  const std::map<std::string, std::string>* alias_map = aliases.empty() ? nullptr : &aliases;
  Reader r(j, file, "", alias_map);
  Config c;
  c.source = source;

  std::string model_type;
  V4RT_RETURN_IF_ERROR(r.string("model_type", &model_type, false));
  if (!model_type.empty() && model_type != "deepseek_v4")
    return r.error("model_type", "is '" + model_type + "', but v4rt runs only 'deepseek_v4' checkpoints");

  V4RT_RETURN_IF_ERROR(r.integer("vocab_size", &c.vocab_size, true, 1, std::numeric_limits<int>::max()));
  V4RT_RETURN_IF_ERROR(r.integer("hidden_size", &c.dim, true, 1, kMaxDim));
  V4RT_RETURN_IF_ERROR(r.integer("moe_intermediate_size", &c.moe_inter_dim, true, 1, kMaxDim));
  V4RT_RETURN_IF_ERROR(r.integer("num_hidden_layers", &c.n_layers, true, 1, 4096));
  V4RT_RETURN_IF_ERROR(r.integer("num_hash_layers", &c.n_hash_layers, true, 0, 4096));
  V4RT_RETURN_IF_ERROR(r.integer("num_nextn_predict_layers", &c.n_mtp_layers, false, 0, 16));
  V4RT_RETURN_IF_ERROR(r.integer("num_attention_heads", &c.n_heads, true, 1, 4096));
  V4RT_RETURN_IF_ERROR(r.integer("n_routed_experts", &c.n_routed_experts, true, 1, 65536));
  V4RT_RETURN_IF_ERROR(r.integer("n_shared_experts", &c.n_shared_experts, false, 1, 1));
  V4RT_RETURN_IF_ERROR(r.integer("num_experts_per_tok", &c.n_activated_experts, true, 1, 65536));
  V4RT_RETURN_IF_ERROR(r.string("scoring_func", &c.score_func, true));
  V4RT_RETURN_IF_ERROR(r.number("routed_scaling_factor", &c.route_scale, true, 0, 1e6));
  V4RT_RETURN_IF_ERROR(r.number("swiglu_limit", &c.swiglu_limit, true, 0, 1e9));
  V4RT_RETURN_IF_ERROR(r.integer("q_lora_rank", &c.q_lora_rank, true, 1, kMaxDim));
  V4RT_RETURN_IF_ERROR(r.integer("head_dim", &c.head_dim, true, 1, kMaxDim));
  V4RT_RETURN_IF_ERROR(r.integer("qk_rope_head_dim", &c.rope_head_dim, true, 0, kMaxDim));
  V4RT_RETURN_IF_ERROR(r.number("rms_norm_eps", &c.norm_eps, false, 0, 1));
  V4RT_RETURN_IF_ERROR(r.integer("o_groups", &c.o_groups, true, 1, 4096));
  V4RT_RETURN_IF_ERROR(r.integer("o_lora_rank", &c.o_lora_rank, true, 1, kMaxDim));
  V4RT_RETURN_IF_ERROR(r.integer("sliding_window", &c.window_size, true, 1, kMaxDim));
  V4RT_RETURN_IF_ERROR(r.number("compress_rope_theta", &c.compress_rope_theta, true, 1e-9, 1e15));
  V4RT_RETURN_IF_ERROR(r.number("rope_theta", &c.rope_theta, true, 1e-9, 1e15));
  V4RT_RETURN_IF_ERROR(r.integer("index_n_heads", &c.index_n_heads, true, 1, 4096));
  V4RT_RETURN_IF_ERROR(r.integer("index_head_dim", &c.index_head_dim, true, 1, kMaxDim));
  V4RT_RETURN_IF_ERROR(r.integer("index_topk", &c.index_topk, true, 1, std::numeric_limits<int>::max()));
  V4RT_RETURN_IF_ERROR(r.integer("hc_mult", &c.hc_mult, true, 1, 64));
  V4RT_RETURN_IF_ERROR(r.integer("hc_sinkhorn_iters", &c.hc_sinkhorn_iters, true, 1, 1000));
  V4RT_RETURN_IF_ERROR(r.number("hc_eps", &c.hc_eps, false, 0, 1));
  V4RT_RETURN_IF_ERROR(r.integer64("max_position_embeddings", &c.max_position_embeddings, false, 1,
                                   std::numeric_limits<int64_t>::max() / 2, 0));
  V4RT_RETURN_IF_ERROR(r.integer("bos_token_id", &c.bos_token_id, false, 0, std::numeric_limits<int>::max()));
  if (const json* eos = r.get("eos_token_id"); eos != nullptr && eos->is_array()) {
    if (eos->empty() || !(*eos)[0].is_number_unsigned() || (*eos)[0].get<uint64_t>() > uint64_t{INT32_MAX})
      return r.error("eos_token_id", "must be a token id or a non-empty list of token ids (got " + dump_short(*eos) + ")");
    c.eos_token_id = static_cast<int>((*eos)[0].get<uint64_t>());
  } else {
    V4RT_RETURN_IF_ERROR(r.integer("eos_token_id", &c.eos_token_id, false, 0, std::numeric_limits<int>::max()));
  }

  if (c.score_func != "sqrtsoftplus" && c.score_func != "softmax" && c.score_func != "sigmoid")
    return r.error("scoring_func", "is '" + c.score_func + "'; expected sqrtsoftplus, softmax or sigmoid");
  if (const json* kvh = r.get("num_key_value_heads"); kvh != nullptr && !(kvh->is_number_unsigned() && kvh->get<uint64_t>() == 1))
    return r.error("num_key_value_heads", "must be 1 (V4 has one shared KV head; got " + dump_short(*kvh) + ")");
  if (const json* tie = r.get("tie_word_embeddings"); tie != nullptr && !(tie->is_boolean() && !tie->get<bool>()))
    return r.error("tie_word_embeddings", "must be false (V4 has separate embed and head; got " + dump_short(*tie) + ")");

  // rope_scaling (YaRN). null or absent: no YaRN.
  if (const json* rs = r.get("rope_scaling"); rs != nullptr) {
    if (!rs->is_object()) return r.error("rope_scaling", "must be an object or null (got " + dump_short(*rs) + ")");
    Reader y(*rs, file, "rope_scaling.", alias_map);
    std::string type;
    V4RT_RETURN_IF_ERROR(y.string("type", &type, false));
    if (type.empty()) V4RT_RETURN_IF_ERROR(y.string("rope_type", &type, false));
    if (!type.empty() && type != "yarn") return y.error("type", "is '" + type + "'; only 'yarn' is supported");
    V4RT_RETURN_IF_ERROR(y.integer("original_max_position_embeddings", &c.original_seq_len, true, 0,
                                   std::numeric_limits<int>::max()));
    V4RT_RETURN_IF_ERROR(y.number("factor", &c.rope_factor, true, 1, 1e6));
    V4RT_RETURN_IF_ERROR(y.number("beta_fast", &c.beta_fast, false, 0, 1e6));
    V4RT_RETURN_IF_ERROR(y.number("beta_slow", &c.beta_slow, false, 0, 1e6));
  }

  // compress_ratios: one per block, main layers then MTP.
  const json* cr = r.get("compress_ratios");
  if (cr == nullptr) return r.error("compress_ratios", "is missing (required: one ratio per layer plus the MTP layers)");
  if (!cr->is_array()) return r.error("compress_ratios", "must be a list of 0, 4 or 128 (got " + dump_short(*cr) + ")");
  const size_t want = static_cast<size_t>(c.n_layers + c.n_mtp_layers);
  if (cr->size() != want)
    return r.error("compress_ratios", "has " + std::to_string(cr->size()) + " entries but num_hidden_layers (" +
                                          std::to_string(c.n_layers) + ") + num_nextn_predict_layers (" +
                                          std::to_string(c.n_mtp_layers) + ") = " + std::to_string(want));
  for (size_t i = 0; i < cr->size(); ++i) {
    const json& v = (*cr)[i];
    if (!v.is_number_unsigned() || (v.get<uint64_t>() != 0 && v.get<uint64_t>() != 4 && v.get<uint64_t>() != 128))
      return r.error("compress_ratios", "entry " + std::to_string(i) + " is " + dump_short(v) + "; each must be 0, 4 or 128");
    c.compress_ratios.push_back(static_cast<int>(v.get<uint64_t>()));
  }

  // Weight formats.
  if (const json* q = r.get("quantization_config"); q != nullptr) {
    if (!q->is_object()) return r.error("quantization_config", "must be an object (got " + dump_short(*q) + ")");
    Reader qr(*q, file, "quantization_config.", alias_map);
    std::string method, fmt, scale_fmt;
    V4RT_RETURN_IF_ERROR(qr.string("quant_method", &method, true));
    if (method != "fp8") return qr.error("quant_method", "is '" + method + "'; v4rt reads 'fp8' checkpoints (or none)");
    V4RT_RETURN_IF_ERROR(qr.string("fmt", &fmt, false));
    if (!fmt.empty() && fmt != "e4m3") return qr.error("fmt", "is '" + fmt + "'; only 'e4m3' is supported");
    V4RT_RETURN_IF_ERROR(qr.string("scale_fmt", &scale_fmt, false));
    if (!scale_fmt.empty() && scale_fmt != "ue8m0")
      return qr.error("scale_fmt", "is '" + scale_fmt + "'; only 'ue8m0' is supported");
    const json* bs = qr.get("weight_block_size");
    if (bs != nullptr && !(bs->is_array() && bs->size() == 2 && (*bs)[0] == 128 && (*bs)[1] == 128))
      return qr.error("weight_block_size", "must be [128, 128] (got " + dump_short(*bs) + ")");
    c.fp8_weights = true;
    c.weight_block_size = 128;
  }
  std::string expert_dtype;
  V4RT_RETURN_IF_ERROR(r.string("expert_dtype", &expert_dtype, false));
  if (expert_dtype == "fp4") c.fp4_experts = true;
  else if (!expert_dtype.empty() && expert_dtype != "fp8" && expert_dtype != "bf16")
    return r.error("expert_dtype", "is '" + expert_dtype + "'; expected fp4, fp8 or absent");
  if (expert_dtype == "fp8" && !c.fp8_weights)
    return r.error("expert_dtype", "is 'fp8' but there is no quantization_config with quant_method 'fp8'");

  // Consistency between keys (spec §1, §8 and the reference kernels' constraints).
  if (c.n_hash_layers > c.n_layers)
    return r.error("num_hash_layers", "(" + std::to_string(c.n_hash_layers) + ") exceeds num_hidden_layers (" +
                                          std::to_string(c.n_layers) + ")");
  if (c.n_activated_experts > c.n_routed_experts)
    return r.error("num_experts_per_tok", "(" + std::to_string(c.n_activated_experts) + ") exceeds n_routed_experts (" +
                                              std::to_string(c.n_routed_experts) + ")");
  if (c.rope_head_dim % 2 != 0 || c.rope_head_dim >= c.head_dim)
    return r.error("qk_rope_head_dim", "(" + std::to_string(c.rope_head_dim) + ") must be even and below head_dim (" +
                                           std::to_string(c.head_dim) + ")");
  if ((c.head_dim - c.rope_head_dim) % 64 != 0)
    return r.error("head_dim", "minus qk_rope_head_dim (" + std::to_string(c.head_dim - c.rope_head_dim) +
                                   ") must be a multiple of 64 (the KV FP8 block)");
  if (c.n_heads % c.o_groups != 0)
    return r.error("o_groups", "(" + std::to_string(c.o_groups) + ") must divide num_attention_heads (" +
                                   std::to_string(c.n_heads) + ")");
  bool has_csa = false;
  for (int ratio : c.compress_ratios) has_csa |= ratio == 4;
  if (has_csa) {
    if (c.index_head_dim % 32 != 0 || (c.index_head_dim & (c.index_head_dim - 1)) != 0)
      return r.error("index_head_dim", "(" + std::to_string(c.index_head_dim) +
                                           ") must be a power of two and a multiple of 32 (Hadamard, FP4 block)");
    if (c.index_head_dim <= c.rope_head_dim)
      return r.error("index_head_dim", "(" + std::to_string(c.index_head_dim) + ") must exceed qk_rope_head_dim (" +
                                           std::to_string(c.rope_head_dim) + ")");
  }
  if (c.fp8_weights) {
    const struct { const char* key; int64_t value; } k_dims[] = {
        {"hidden_size", c.dim}, {"q_lora_rank", c.q_lora_rank}, {"moe_intermediate_size", c.moe_inter_dim},
        {"o_lora_rank", static_cast<int64_t>(c.o_groups) * c.o_lora_rank}};
    for (const auto& d : k_dims)
      if (d.value % 128 != 0)
        return r.error(d.key, "(" + std::to_string(d.value) +
                                  ") must be a multiple of 128 in an FP8 checkpoint (FP8 activation blocks of 128)");
  }
  if (c.fp4_experts && (c.dim % 32 != 0 || c.moe_inter_dim % 32 != 0))
    return r.error(c.dim % 32 != 0 ? "hidden_size" : "moe_intermediate_size",
                   "must be a multiple of 32 with expert_dtype 'fp4' (per-32 FP4 scales)");
  if (c.bos_token_id >= c.vocab_size || c.eos_token_id >= c.vocab_size)
    return r.error(c.bos_token_id >= c.vocab_size ? "bos_token_id" : "eos_token_id", "is not below vocab_size");
  return c;
}

LayerType Config::layer_type(int layer) const {
  switch (compress_ratio(layer)) {
    case 4: return LayerType::kCsa;
    case 128: return LayerType::kHca;
    default: return LayerType::kWindow;
  }
}

int Config::n_csa_layers() const {
  int n = 0;
  for (int r : compress_ratios) n += r == 4;
  return n;
}

int Config::n_hca_layers() const {
  int n = 0;
  for (int r : compress_ratios) n += r == 128;
  return n;
}

double Config::kv_bytes_per_token() const {
  const double nope = head_dim - rope_head_dim;
  // Compressed entry: FP8 non-rope dims + one ue8m0 byte per 64, bf16 rope dims.
  const double entry = nope + nope / 64 + 2.0 * rope_head_dim;
  // Indexer key: FP4 (two per byte) + one ue8m0 byte per 32.
  const double index_key = index_head_dim / 2.0 + index_head_dim / 32.0;
  double total = 0;
  for (int r : compress_ratios) {
    if (r == 0) continue;
    total += entry / r;
    if (r == 4) total += index_key / r;
  }
  return total;
}

double Config::kv_bytes_per_token_bf16() const {
  double total = 0;
  for (int r : compress_ratios) {
    if (r == 0) continue;
    total += 2.0 * head_dim / r;
    if (r == 4) total += 2.0 * index_head_dim / r;
  }
  return total;
}

uint64_t Config::fixed_state_bytes() const {
  const uint64_t dh = static_cast<uint64_t>(head_dim), di = static_cast<uint64_t>(index_head_dim);
  uint64_t total = 0;
  for (int r : compress_ratios) {
    total += static_cast<uint64_t>(window_size) * dh * 2;  // bf16 window ring
    if (r == 128) total += 2ull * 128 * dh * 4;              // kv_state + score_state, fp32
    if (r == 4) total += 2ull * 8 * (2 * dh) * 4 + 2ull * 8 * (2 * di) * 4;  // main + indexer overlap states
  }
  return total;
}

}  // namespace v4rt::model
