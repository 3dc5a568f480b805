// Model presets for `v4rt model init`: Configs of random-weight checkpoints of
// any size (tiny = the golden tiny shapes, small = every layer type at the
// release's head sizes, flash-shape = DeepSeek-V4-Flash, optionally truncated
// in depth), and the config.json text that describes a Config in the official
// Hugging Face key names. Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "model/config.h"
#include "base/status.h"

namespace v4rt::model {

enum class WeightFormat { kBf16, kFp8 };  // fp8 = the release format (FP8 linears, FP4 experts)

struct PresetOptions {
  std::string name;         // tiny | small | flash-shape
  WeightFormat format = WeightFormat::kBf16;
  int layers = 0;           // > 0: keep only the first N main layers (MTP block kept)
};

// The preset's Config (keys as config.json would give them), or InvalidArgument
// naming the unknown preset and listing the known ones.
Result<Config> preset_config(const PresetOptions& options);
std::vector<std::string> preset_names();

// config.json text (2-space indented, keys sorted like the release) for `config`.
std::string config_json(const Config& config);
// inference_config.json (the ModelArgs names, as the golden checkpoints carry it).
std::string inference_config_json(const Config& config);
// generation_config.json (release defaults: temperature 1.0, top_p 1.0).
std::string generation_config_json(const Config& config);

}  // namespace v4rt::model
