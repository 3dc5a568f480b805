// Tokenizer files for checkpoints made by `v4rt model init`: a Hugging Face
// tokenizer.json derived from the DeepSeek-V3 one with the V4 chat special
// tokens (spec §6.1) added, and its tokenizer_config.json.
//  - vocab_size >= 129280 (small, flash-shape): the V3 vocabulary unchanged, the
//    V4 specials at their release ids (<｜User｜> 128803, <think> 128821, ...),
//    and every other id up to vocab_size-1 a placeholder, so all ids decode.
//  - smaller vocab (tiny: 1024, as the golden checkpoints): a byte-level BPE
//    that keeps V3's first ids (BOS 0, EOS 1, pad 2, the 256 byte symbols, then
//    V3's merges in priority order) and puts the 12 V4 chat specials at the last
//    ids, so every id the tokenizer produces is < vocab_size.
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace v4rt::runtime {

// v3_tokenizer_json: the text of DeepSeek-V3's tokenizer.json.
Result<std::string> make_v4_tokenizer_json(std::string_view v3_tokenizer_json, int vocab_size);
// tokenizer_config.json matching the above (BOS/EOS, add_bos_token, model_max_length).
std::string make_v4_tokenizer_config_json(int64_t model_max_length);

}  // namespace v4rt::runtime
