// State::Impl: the per-sequence state layout (spec §4.1), kept in quantized
// form where the model quantizes: a KV row is FP8 e4m3 codes + one e8m0 scale
// per 64 non-rope dims, then the rope dims as fp32 (the engine keeps fp32
// activations, so this is lossless); an indexer key is packed FP4 + one e8m0
// scale per 32. Compressed entries grow with the position (append-only).
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include "model/state.h"

namespace v4rt::model {

// Encoding of one KV row (window ring slot or compressed entry).
struct KvCodec {
  int64_t nope = 0;  // head_dim - rope_head_dim (multiple of 64)
  int64_t rope = 0;  // rope_head_dim
  int64_t bytes() const { return nope + nope / 64 + rope * 4; }
  // QDQ (FP8 block 64 on the nope dims) of x in place and its encoding.
  void encode(float* x, uint8_t* out) const;
  void decode(const uint8_t* in, float* x) const;
};

// Encoding of one indexer key (FP4 over all dims, block 32).
struct IdxCodec {
  int64_t dim = 0;
  int64_t bytes() const { return dim / 2 + dim / 32; }
  void encode(float* x, uint8_t* out) const;  // FP4 QDQ in place + encoding
  void decode(const uint8_t* in, float* x) const;
};

// Partial-window state of one compressor (spec §4.1): slots x width, fp32.
struct CompressorState {
  int64_t slots = 0, width = 0;
  std::vector<float> kv, score;
  void init(int64_t s, int64_t w);
  void reset();
};

struct LayerState {
  int ratio = 0;
  KvCodec kv;
  IdxCodec idx;
  std::vector<uint8_t> ring;   // window_size rows, slot = pos mod window
  std::vector<uint8_t> comp;   // compressed entries (ratio > 0), row b = entry b
  std::vector<uint8_t> keys;   // indexer keys (ratio 4), row b = key b
  CompressorState comp_state, idx_state;
  int64_t n_comp() const { return kv.bytes() ? static_cast<int64_t>(comp.size()) / kv.bytes() : 0; }
  int64_t n_keys() const { return idx.bytes() ? static_cast<int64_t>(keys.size()) / idx.bytes() : 0; }
};

struct State::Impl {
  int64_t position = 0;
  int64_t window = 0;
  int64_t hc_width = 0;  // hc_mult * dim
  bool has_mtp = false;
  std::vector<LayerState> layers;  // n_layers main blocks, then the MTP block
  // Final hc state of the last `window` positions (slot = pos mod window) and
  // the ids fed there, for the MTP catch-up; mtp_position = next MTP position.
  std::vector<float> hidden;
  std::vector<int32_t> ids;
  int64_t mtp_position = 0;
};

}  // namespace v4rt::model
