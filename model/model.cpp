// Model: loading the weights into the per-component views, the block, the
// head and the chunked forward pass (spec §3, §4.5).
#include "model/model.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "model/layers.h"
#include "model/mapped_file.h"
#include "model/numerics.h"
#include "model/state.h"
#include "model/weights.h"
#include "base/file_util.h"

namespace v4rt::model {

using kernels::WKind;

namespace {

uint64_t fnv1a(uint64_t h, std::string_view s) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

// Looks tensors up with their expected dtype and shape.
class Loader {
 public:
  Loader(const Config& cfg, const Weights& w) : cfg_(cfg), w_(w) {}

  Result<const TensorView*> get(const std::string& name, DType dt, std::vector<int64_t> shape) {
    return w_.get(name, dt, std::move(shape));
  }
  Result<const float*> f32(const std::string& name, std::vector<int64_t> shape) {
    auto t = get(name, DType::kF32, std::move(shape));
    if (!t.ok()) return t.status();
    return reinterpret_cast<const float*>((*t)->data);
  }
  // A bf16 vector (norm weights) upcast to fp32.
  Result<std::vector<float>> bf16_vec(const std::string& name, int64_t n) {
    auto t = get(name, DType::kBF16, {n});
    if (!t.ok()) return t.status();
    std::vector<float> v(static_cast<size_t>(n));
    const uint16_t* p = reinterpret_cast<const uint16_t*>((*t)->data);
    for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = bf16_bits_to_f32(p[i]);
    return v;
  }
  Result<QMatrix> bf16_mat(const std::string& name, int64_t rows, int64_t cols) {
    auto t = get(name, DType::kBF16, {rows, cols});
    if (!t.ok()) return t.status();
    return QMatrix{WKind::kBF16, rows, cols, (*t)->data, nullptr, 0};
  }
  // A Linear weight that the release stores FP8 (BF16 in bf16 checkpoints).
  Result<QMatrix> qlinear(const std::string& base, int64_t rows, int64_t cols) {
    if (!cfg_.fp8_weights) return bf16_mat(base + ".weight", rows, cols);
    auto t = get(base + ".weight", DType::kF8E4M3, {rows, cols});
    if (!t.ok()) return t.status();
    const int64_t sr = (rows + 127) / 128, sc = (cols + 127) / 128;
    auto s = get(base + ".scale", DType::kF8E8M0, {sr, sc});
    if (!s.ok()) return s.status();
    return QMatrix{WKind::kFP8, rows, cols, (*t)->data, (*s)->data, sc};
  }
  // A routed expert weight: FP4 (expert_dtype fp4), else like qlinear.
  Result<QMatrix> expert(const std::string& base, int64_t rows, int64_t cols) {
    if (!cfg_.fp4_experts) return qlinear(base, rows, cols);
    auto t = get(base + ".weight", DType::kI8, {rows, cols / 2});
    if (!t.ok()) return t.status();
    auto s = get(base + ".scale", DType::kF8E8M0, {rows, cols / 32});
    if (!s.ok()) return s.status();
    return QMatrix{WKind::kFP4, rows, cols, (*t)->data, (*s)->data, cols / 32};
  }

 private:
  const Config& cfg_;
  const Weights& w_;
};

#define V4RT_ASSIGN(lhs, expr)               \
  do {                                       \
    auto v4rt_r_ = (expr);                   \
    if (!v4rt_r_.ok()) return v4rt_r_.status(); \
    lhs = std::move(*v4rt_r_);               \
  } while (0)

Status load_hc(Loader& ld, const std::string& prefix, int mix, int64_t width, int nscale, HcWeights& hc) {
  V4RT_ASSIGN(hc.fn, ld.f32(prefix + "_fn", {mix, width}));
  V4RT_ASSIGN(hc.base, ld.f32(prefix + "_base", {mix}));
  V4RT_ASSIGN(hc.scale, ld.f32(prefix + "_scale", {nscale}));
  return Status::Ok();
}

Status load_compressor(const Config& cfg, Loader& ld, const std::string& p, int ratio, int dc, bool rotate,
                       CompressorWeights& c) {
  c.ratio = ratio;
  c.dc = dc;
  c.overlap = ratio == 4;
  c.rotate = rotate;
  const int64_t width = (c.overlap ? 2 : 1) * dc;
  V4RT_ASSIGN(c.wkv, ld.bf16_mat(p + "wkv.weight", width, cfg.dim));
  V4RT_ASSIGN(c.wgate, ld.bf16_mat(p + "wgate.weight", width, cfg.dim));
  V4RT_ASSIGN(c.ape, ld.f32(p + "ape", {ratio, width}));
  V4RT_ASSIGN(c.norm, ld.bf16_vec(p + "norm.weight", dc));
  return Status::Ok();
}

Status load_block(const Config& cfg, Loader& ld, const std::string& p, int layer, BlockWeights& b) {
  const int64_t D = cfg.dim, C = cfg.hc_mult, H = cfg.n_heads, Dh = cfg.head_dim, Q = cfg.q_lora_rank;
  const int64_t G = cfg.o_groups, O = cfg.o_lora_rank, E = cfg.n_routed_experts, I = cfg.moe_inter_dim;
  const int mix = static_cast<int>((2 + C) * C);
  b.layer = layer;
  V4RT_ASSIGN(b.attn_norm, ld.bf16_vec(p + "attn_norm.weight", D));
  V4RT_ASSIGN(b.ffn_norm, ld.bf16_vec(p + "ffn_norm.weight", D));
  V4RT_RETURN_IF_ERROR(load_hc(ld, p + "hc_attn", mix, C * D, 3, b.hc_attn));
  V4RT_RETURN_IF_ERROR(load_hc(ld, p + "hc_ffn", mix, C * D, 3, b.hc_ffn));
  AttentionWeights& a = b.attn;
  const std::string ap = p + "attn.";
  a.ratio = cfg.compress_ratio(layer);
  a.rope = Rope::make(cfg, layer);
  V4RT_ASSIGN(a.wq_a, ld.qlinear(ap + "wq_a", Q, D));
  V4RT_ASSIGN(a.q_norm, ld.bf16_vec(ap + "q_norm.weight", Q));
  V4RT_ASSIGN(a.wq_b, ld.qlinear(ap + "wq_b", H * Dh, Q));
  V4RT_ASSIGN(a.wkv, ld.qlinear(ap + "wkv", Dh, D));
  V4RT_ASSIGN(a.kv_norm, ld.bf16_vec(ap + "kv_norm.weight", Dh));
  V4RT_ASSIGN(a.wo_a, ld.qlinear(ap + "wo_a", G * O, H * Dh / G));
  V4RT_ASSIGN(a.wo_b, ld.qlinear(ap + "wo_b", D, G * O));
  V4RT_ASSIGN(a.sink, ld.f32(ap + "attn_sink", {H}));
  if (a.ratio > 0) {
    a.comp.emplace();
    V4RT_RETURN_IF_ERROR(load_compressor(cfg, ld, ap + "compressor.", a.ratio, static_cast<int>(Dh), false, *a.comp));
    if (a.ratio == 4) {
      a.indexer.emplace();
      const std::string ip = ap + "indexer.";
      V4RT_ASSIGN(a.indexer->wq_b, ld.qlinear(ip + "wq_b", int64_t{cfg.index_n_heads} * cfg.index_head_dim, Q));
      V4RT_ASSIGN(a.indexer->weights_proj, ld.bf16_mat(ip + "weights_proj.weight", cfg.index_n_heads, D));
      V4RT_RETURN_IF_ERROR(
          load_compressor(cfg, ld, ip + "compressor.", 4, cfg.index_head_dim, true, a.indexer->comp));
    }
  }
  MoeWeights& m = b.moe;
  const std::string fp = p + "ffn.";
  m.hash = cfg.is_hash_layer(layer);
  V4RT_ASSIGN(m.gate, ld.bf16_mat(fp + "gate.weight", E, D));
  if (m.hash) {
    auto t = ld.get(fp + "gate.tid2eid", DType::kI64, {cfg.vocab_size, cfg.n_activated_experts});
    if (!t.ok()) return t.status();
    m.tid2eid = reinterpret_cast<const int64_t*>((*t)->data);
    for (int64_t i = 0; i < int64_t{cfg.vocab_size} * cfg.n_activated_experts; ++i)
      if (m.tid2eid[i] < 0 || m.tid2eid[i] >= E)
        return Status::Corruption("tensor '" + fp + "gate.tid2eid' holds expert id " + std::to_string(m.tid2eid[i]) +
                                  " outside [0, " + std::to_string(E) + "); the checkpoint is damaged");
  } else {
    V4RT_ASSIGN(m.bias, ld.f32(fp + "gate.bias", {E}));
  }
  m.experts.resize(static_cast<size_t>(E));
  for (int64_t e = 0; e < E; ++e) {
    const std::string ep = fp + "experts." + std::to_string(e) + ".";
    V4RT_ASSIGN(m.experts[static_cast<size_t>(e)].w1, ld.expert(ep + "w1", I, D));
    V4RT_ASSIGN(m.experts[static_cast<size_t>(e)].w2, ld.expert(ep + "w2", D, I));
    V4RT_ASSIGN(m.experts[static_cast<size_t>(e)].w3, ld.expert(ep + "w3", I, D));
  }
  V4RT_ASSIGN(m.shared.w1, ld.qlinear(fp + "shared_experts.w1", I, D));
  V4RT_ASSIGN(m.shared.w2, ld.qlinear(fp + "shared_experts.w2", D, I));
  V4RT_ASSIGN(m.shared.w3, ld.qlinear(fp + "shared_experts.w3", I, D));
  return Status::Ok();
}

Status check_config(const Config& c) {
  auto bad = [&](const std::string& what) {
    return Status::Unsupported(c.source.string() + ": " + what + "; v4rt supports the DeepSeek-V4 layout only");
  };
  if (c.hc_mult <= 0 || c.hc_mult > 4) return bad("hc_mult must be 1..4");
  if ((c.head_dim - c.rope_head_dim) % 64 != 0 || c.rope_head_dim % 2 != 0)
    return bad("head_dim - qk_rope_head_dim must be a multiple of 64");
  if (c.dim % 128 != 0) return bad("hidden_size must be a multiple of 128");
  if (c.index_head_dim % 32 != 0 || (c.index_head_dim & (c.index_head_dim - 1)) != 0)
    return bad("index_head_dim must be a power of two, multiple of 32");
  if (c.n_heads % c.o_groups != 0) return bad("num_attention_heads must be a multiple of o_groups");
  if (static_cast<int>(c.compress_ratios.size()) < c.n_layers + c.n_mtp_layers)
    return bad("compress_ratios is shorter than num_hidden_layers + num_nextn_predict_layers");
  for (int r : c.compress_ratios)
    if (r != 0 && r != 4 && r != 128) return bad("compress_ratios values must be 0, 4 or 128");
  if (c.window_size <= 0) return bad("sliding_window must be > 0");
  return Status::Ok();
}

}  // namespace

struct Model::Impl {
  Config cfg;
  ModelOptions opt;
  ThreadPool* pool = nullptr;
  std::unique_ptr<Weights> weights;
  const kernels::Kernels* k = nullptr;
  QMatrix embed, head;
  bool embed_in_file = false;  // embed.data lies in a file mapping (never drop heap pages: they would read back as 0)
  std::vector<float> norm;
  HcWeights hc_head_w;
  std::vector<BlockWeights> blocks;
  std::optional<MtpWeights> mtp;
  std::string fingerprint;

  Ctx ctx(const ForwardTrace* trace) const {
    return Ctx{cfg, *k, pool, opt.activation_quant, trace, opt.reference_prefill_topk};
  }
  void embed_rows(const int32_t* ids, int64_t n, float* out) const {
    const int64_t D = cfg.dim;
    std::vector<float> sc(4);
    for (int64_t i = 0; i < n; ++i) k->decode_row(embed, ids[i], out + i * D, sc.data());
    // One row per token of a vocabulary-sized table: without this, fault-around
    // maps whole neighbourhoods and a long prompt ends up holding the table.
    if (embed_in_file) MappedFile::drop_pages(embed.data, static_cast<size_t>(embed.rows * embed.cols) * 2);
  }
  // Logits of one final hc state x [C*D] through hc_head (given weights) + norm + head.
  void logits(const Ctx& c, const HcWeights& hw, const std::vector<float>& nw, const float* x, float* out) const {
    std::vector<float> y(static_cast<size_t>(cfg.dim)), yn(static_cast<size_t>(cfg.dim));
    hc_head(cfg, *k, hw, x, y.data());
    rms_norm(y.data(), nw.data(), cfg.dim, static_cast<float>(cfg.norm_eps), yn.data());
    linear_gemv(c, head, yn.data(), 1, out);
  }
  Status chunk(std::span<const int32_t> ids, State& state, float* last_logits, const ForwardTrace* trace) const;
  Status mtp_chunk(const float* hidden, std::span<const int32_t> ids, State& state, float* last_logits,
                   const ForwardTrace* trace) const;
};

void block_run(const Ctx& ctx, const BlockWeights& w, float* X, const int32_t* ids, int64_t S, int64_t p0,
               LayerState& st) {
  const Config& cfg = ctx.cfg;
  const int64_t D = cfg.dim, C = cfg.hc_mult, CD = C * D;
  std::vector<float> y(static_cast<size_t>(S * D)), yn(static_cast<size_t>(S * D)), a(static_cast<size_t>(S * D));
  std::vector<float> post(static_cast<size_t>(S * C)), comb(static_cast<size_t>(S * C * C));
  std::vector<float> xn(static_cast<size_t>(CD));
  const float eps = static_cast<float>(cfg.norm_eps);
  for (int sub = 0; sub < 2; ++sub) {
    const HcWeights& hw = sub == 0 ? w.hc_attn : w.hc_ffn;
    const std::vector<float>& nw = sub == 0 ? w.attn_norm : w.ffn_norm;
    ctx.parallel_for(S, [&](int64_t s0, int64_t s1) {
      for (int64_t s = s0; s < s1; ++s) {
        hc_pre(cfg, ctx.k, hw, X + s * CD, y.data() + s * D, post.data() + s * C, comb.data() + s * C * C);
        rms_norm(y.data() + s * D, nw.data(), D, eps, yn.data() + s * D);
      }
    });
    if (sub == 0) attention_run(ctx, w.layer, w.attn, yn.data(), S, p0, st, a.data());
    else moe_run(ctx, w.layer, p0, w.moe, yn.data(), ids, S, a.data());
    for (int64_t s = 0; s < S; ++s) {
      hc_post(cfg, a.data() + s * D, X + s * CD, post.data() + s * C, comb.data() + s * C * C, xn.data());
      std::memcpy(X + s * CD, xn.data(), static_cast<size_t>(CD) * 4);
    }
  }
}

Model::Model() : impl_(std::make_unique<Impl>()) {}
Model::~Model() = default;

Result<std::unique_ptr<Model>> Model::load(const std::filesystem::path& dir, const ModelOptions& options,
                                           ThreadPool* pool) {
  auto cfg = Config::load(dir);
  if (!cfg.ok()) return cfg.status();
  V4RT_RETURN_IF_ERROR(check_config(*cfg));
  auto weights = Weights::open(dir);
  if (!weights.ok()) return weights.status();
  std::unique_ptr<Model> m(new Model());
  Impl& im = *m->impl_;
  im.cfg = std::move(*cfg);
  im.opt = options;
  if (im.opt.prefill_chunk_tokens <= 0) im.opt.prefill_chunk_tokens = 512;
  im.pool = pool;
  im.weights = std::move(*weights);
  im.k = &kernels::best_kernels();
  const Config& c = im.cfg;
  Loader ld(c, *im.weights);
  const int64_t D = c.dim, C = c.hc_mult;
  V4RT_ASSIGN(im.embed, ld.bf16_mat("embed.weight", c.vocab_size, D));
  im.embed_in_file = im.weights->in_mapping(im.embed.data);
  V4RT_ASSIGN(im.head, ld.bf16_mat("head.weight", c.vocab_size, D));
  V4RT_ASSIGN(im.norm, ld.bf16_vec("norm.weight", D));
  V4RT_RETURN_IF_ERROR(load_hc(ld, "hc_head", static_cast<int>(C), C * D, 1, im.hc_head_w));
  im.blocks.resize(static_cast<size_t>(c.n_layers));
  for (int l = 0; l < c.n_layers; ++l)
    V4RT_RETURN_IF_ERROR(load_block(c, ld, "layers." + std::to_string(l) + ".", l, im.blocks[static_cast<size_t>(l)]));
  if (c.n_mtp_layers > 0 && im.weights->find("mtp.0.e_proj.weight") != nullptr) {
    if (c.compress_ratio(c.n_layers) != 0)
      return Status::Unsupported(c.source.string() + ": the MTP block has compress ratio " +
                                 std::to_string(c.compress_ratio(c.n_layers)) + "; v4rt supports 0 only");
    MtpWeights& mt = im.mtp.emplace();
    V4RT_RETURN_IF_ERROR(load_block(c, ld, "mtp.0.", c.n_layers, mt.block));
    V4RT_ASSIGN(mt.e_proj, ld.qlinear("mtp.0.e_proj", D, D));
    V4RT_ASSIGN(mt.h_proj, ld.qlinear("mtp.0.h_proj", D, D));
    V4RT_ASSIGN(mt.enorm, ld.bf16_vec("mtp.0.enorm.weight", D));
    V4RT_ASSIGN(mt.hnorm, ld.bf16_vec("mtp.0.hnorm.weight", D));
    V4RT_ASSIGN(mt.norm, ld.bf16_vec("mtp.0.norm.weight", D));
    V4RT_RETURN_IF_ERROR(load_hc(ld, "mtp.0.hc_head", static_cast<int>(C), C * D, 1, mt.hc_head));
  }
  uint64_t h = 1469598103934665603ull;
  auto text = read_file(c.source);
  if (text.ok()) h = fnv1a(h, *text);
  h = fnv1a(h, im.weights->identity());
  h = fnv1a(h, "state-format-" + std::to_string(kStateFormatVersion));
  h = fnv1a(h, options.activation_quant ? "aq1" : "aq0");
  h = fnv1a(h, options.reference_prefill_topk ? "rt1" : "rt0");
  char buf[32];
  std::snprintf(buf, sizeof buf, "v4rt-%016llx", static_cast<unsigned long long>(h));
  im.fingerprint = buf;
  return m;
}

const Config& Model::config() const { return impl_->cfg; }
std::unique_ptr<State> Model::new_state() const { return std::make_unique<State>(impl_->cfg); }
bool Model::has_mtp() const { return impl_->mtp.has_value(); }
std::string Model::fingerprint() const { return impl_->fingerprint; }
const char* Model::kernels_name() const { return impl_->k->name; }

namespace {

Status check_state(const Config& cfg, const State& state) {
  if (static_cast<int>(state.impl().layers.size()) != cfg.n_layers + cfg.n_mtp_layers ||
      state.impl().hc_width != int64_t{cfg.hc_mult} * cfg.dim)
    return Status::InvalidArgument("the State was made for another model configuration; create it with Model::new_state()");
  return Status::Ok();
}

Status check_ids(const Config& cfg, std::span<const int32_t> ids) {
  if (ids.empty()) return Status::InvalidArgument("forward() got no tokens; pass at least one token id");
  for (size_t i = 0; i < ids.size(); ++i)
    if (ids[i] < 0 || ids[i] >= cfg.vocab_size)
      return Status::InvalidArgument("token id " + std::to_string(ids[i]) + " at index " + std::to_string(i) +
                                     " is outside the vocabulary [0, " + std::to_string(cfg.vocab_size) +
                                     "); check the tokenizer matches the model");
  return Status::Ok();
}

}  // namespace

Status Model::Impl::chunk(std::span<const int32_t> ids, State& state, float* last_logits,
                          const ForwardTrace* trace) const {
  State::Impl& st = state.impl();
  const int64_t S = static_cast<int64_t>(ids.size()), p0 = st.position;
  const int64_t D = cfg.dim, CD = int64_t{cfg.hc_mult} * D;
  const Ctx c = ctx(trace);
  std::vector<float> X(static_cast<size_t>(S * CD)), e(static_cast<size_t>(S * D));
  embed_rows(ids.data(), S, e.data());
  for (int64_t s = 0; s < S; ++s)
    for (int j = 0; j < cfg.hc_mult; ++j)
      std::memcpy(X.data() + s * CD + j * D, e.data() + s * D, static_cast<size_t>(D) * 4);
  for (int l = 0; l < cfg.n_layers; ++l) {
    block_run(c, blocks[static_cast<size_t>(l)], X.data(), ids.data(), S, p0, st.layers[static_cast<size_t>(l)]);
    if (trace && trace->on_block)
      for (int64_t s = 0; s < S; ++s) trace->on_block(l, p0 + s, {X.data() + s * CD, static_cast<size_t>(CD)});
  }
  if (mtp) {
    if (st.hidden.empty()) {
      st.hidden.assign(static_cast<size_t>(st.window * CD), 0.0f);
      st.ids.assign(static_cast<size_t>(st.window), 0);
    }
    for (int64_t s = std::max<int64_t>(0, S - st.window); s < S; ++s) {
      const int64_t slot = (p0 + s) % st.window;
      std::memcpy(st.hidden.data() + slot * CD, X.data() + s * CD, static_cast<size_t>(CD) * 4);
      st.ids[static_cast<size_t>(slot)] = ids[static_cast<size_t>(s)];
    }
  }
  if (trace && trace->on_hidden)
    for (int64_t s = 0; s < S; ++s) trace->on_hidden(p0 + s, {X.data() + s * CD, static_cast<size_t>(CD)});
  if (trace && trace->on_logits) {
    std::vector<float> row(static_cast<size_t>(cfg.vocab_size));
    for (int64_t pos : trace->logit_positions) {
      if (pos < p0 || pos >= p0 + S) continue;
      logits(c, hc_head_w, norm, X.data() + (pos - p0) * CD, row.data());
      trace->on_logits(pos, row);
    }
  }
  if (last_logits) logits(c, hc_head_w, norm, X.data() + (S - 1) * CD, last_logits);
  st.position = p0 + S;
  return Status::Ok();
}

Status Model::forward(std::span<const int32_t> tokens, State& state, std::span<float> logits,
                      const Progress& progress) const {
  return forward(tokens, state, logits, progress, nullptr);
}

Status Model::forward(std::span<const int32_t> tokens, State& state, std::span<float> logits, const Progress& progress,
                      const ForwardTrace* trace) const {
  const Config& cfg = impl_->cfg;
  V4RT_RETURN_IF_ERROR(check_state(cfg, state));
  V4RT_RETURN_IF_ERROR(check_ids(cfg, tokens));
  if (logits.size() != static_cast<size_t>(cfg.vocab_size))
    return Status::InvalidArgument("logits span has " + std::to_string(logits.size()) + " floats, the model needs " +
                                   std::to_string(cfg.vocab_size) + " (vocab_size)");
  const int64_t n = static_cast<int64_t>(tokens.size());
  if (cfg.max_position_embeddings > 0 && state.position() + n > cfg.max_position_embeddings)
    return Status::ResourceExhausted("position " + std::to_string(state.position() + n) +
                                     " exceeds the model's max_position_embeddings " +
                                     std::to_string(cfg.max_position_embeddings) + "; start a new session");
  const int64_t chunk = impl_->opt.prefill_chunk_tokens;
  for (int64_t c0 = 0; c0 < n; c0 += chunk) {
    const int64_t c1 = std::min(n, c0 + chunk);
    V4RT_RETURN_IF_ERROR(impl_->chunk(tokens.subspan(static_cast<size_t>(c0), static_cast<size_t>(c1 - c0)), state,
                                      c1 == n ? logits.data() : nullptr, trace));
    if (progress && n > chunk && !progress("prefill", static_cast<uint64_t>(c1), static_cast<uint64_t>(n)))
      return c1 == n ? Status::Ok()
                     : Status::Cancelled("prefill cancelled at token " + std::to_string(state.position()));
  }
  return Status::Ok();
}

Status Model::Impl::mtp_chunk(const float* hidden, std::span<const int32_t> ids, State& state, float* last_logits,
                              const ForwardTrace* trace) const {
  State::Impl& st = state.impl();
  const int64_t S = static_cast<int64_t>(ids.size()), p0 = st.mtp_position;
  const int64_t D = cfg.dim, C = cfg.hc_mult, CD = C * D;
  const Ctx c = ctx(trace);
  std::vector<float> e(static_cast<size_t>(S * D)), X(static_cast<size_t>(S * CD));
  embed_rows(ids.data(), S, e.data());
  mtp_run(c, *mtp, hidden, e.data(), ids.data(), S, p0, st.layers[static_cast<size_t>(cfg.n_layers)], X.data());
  if (trace && trace->on_logits) {
    std::vector<float> row(static_cast<size_t>(cfg.vocab_size));
    for (int64_t pos : trace->logit_positions) {
      if (pos < p0 || pos >= p0 + S) continue;
      logits(c, mtp->hc_head, mtp->norm, X.data() + (pos - p0) * CD, row.data());
      trace->on_logits(pos, row);
    }
  }
  if (last_logits) logits(c, mtp->hc_head, mtp->norm, X.data() + (S - 1) * CD, last_logits);
  st.mtp_position = p0 + S;
  return Status::Ok();
}

Status Model::forward_mtp_hidden(std::span<const float> hidden, std::span<const int32_t> next_ids, State& state,
                                 std::span<float> logits, const ForwardTrace* trace) const {
  const Config& cfg = impl_->cfg;
  if (!impl_->mtp) return Status::Unsupported("this checkpoint has no MTP block (mtp.0.*); drafting is unavailable");
  V4RT_RETURN_IF_ERROR(check_state(cfg, state));
  V4RT_RETURN_IF_ERROR(check_ids(cfg, next_ids));
  const int64_t CD = int64_t{cfg.hc_mult} * cfg.dim;
  if (hidden.size() != next_ids.size() * static_cast<size_t>(CD))
    return Status::InvalidArgument("forward_mtp_hidden: hidden has " + std::to_string(hidden.size()) +
                                   " floats, expected next_ids.size() * hc_mult * dim = " +
                                   std::to_string(next_ids.size() * static_cast<size_t>(CD)));
  if (logits.size() != static_cast<size_t>(cfg.vocab_size))
    return Status::InvalidArgument("logits span has " + std::to_string(logits.size()) + " floats, the model needs " +
                                   std::to_string(cfg.vocab_size));
  const int64_t chunk = impl_->opt.prefill_chunk_tokens, n = static_cast<int64_t>(next_ids.size());
  for (int64_t c0 = 0; c0 < n; c0 += chunk) {
    const int64_t c1 = std::min(n, c0 + chunk);
    V4RT_RETURN_IF_ERROR(impl_->mtp_chunk(hidden.data() + c0 * CD,
                                          next_ids.subspan(static_cast<size_t>(c0), static_cast<size_t>(c1 - c0)),
                                          state, c1 == n ? logits.data() : nullptr, trace));
  }
  return Status::Ok();
}

Status Model::forward_mtp(int32_t next_token, State& state, std::span<float> logits) const {
  const Config& cfg = impl_->cfg;
  if (!impl_->mtp) return Status::Unsupported("this checkpoint has no MTP block (mtp.0.*); drafting is unavailable");
  V4RT_RETURN_IF_ERROR(check_state(cfg, state));
  State::Impl& st = state.impl();
  const int64_t P = st.position;
  if (P == 0 || st.hidden.empty())
    return Status::InvalidArgument("forward_mtp needs at least one token fed with forward() first");
  // The MTP block only has a sliding window: positions older than the window
  // do not influence the last one, so catch up over at most `window` positions.
  const int64_t from = std::max(std::min(st.mtp_position, P - 1), P - st.window);
  const int64_t n = P - from, CD = st.hc_width;
  std::vector<float> h(static_cast<size_t>(n * CD));
  std::vector<int32_t> ids(static_cast<size_t>(n));
  for (int64_t q = from; q < P; ++q) {
    std::memcpy(h.data() + (q - from) * CD, st.hidden.data() + (q % st.window) * CD, static_cast<size_t>(CD) * 4);
    ids[static_cast<size_t>(q - from)] = q + 1 < P ? st.ids[static_cast<size_t>((q + 1) % st.window)] : next_token;
  }
  st.mtp_position = from;
  return forward_mtp_hidden(h, ids, state, logits, nullptr);
}

Status Model::run_block(int layer, std::span<float> X, std::span<const int32_t> ids, State& state) const {
  const Config& cfg = impl_->cfg;
  if (layer < 0 || layer >= cfg.n_layers)
    return Status::InvalidArgument("run_block: layer " + std::to_string(layer) + " outside [0, " +
                                   std::to_string(cfg.n_layers) + ")");
  V4RT_RETURN_IF_ERROR(check_state(cfg, state));
  V4RT_RETURN_IF_ERROR(check_ids(cfg, ids));
  if (X.size() != ids.size() * static_cast<size_t>(state.impl().hc_width))
    return Status::InvalidArgument("run_block: X must hold ids.size() * hc_mult * dim floats");
  block_run(impl_->ctx(nullptr), impl_->blocks[static_cast<size_t>(layer)], X.data(), ids.data(),
            static_cast<int64_t>(ids.size()), state.position(), state.impl().layers[static_cast<size_t>(layer)]);
  return Status::Ok();
}

}  // namespace v4rt::model
