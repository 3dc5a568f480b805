// Which tokenizer.json a command uses (`v4rt tokenize`, `v4rt chat render
// --tokens`): --tokenizer PATH if given; else with --model DIR,
// DIR/tokenizer.json if present; else the default, which is $V4RT_TOKENIZER,
// or data/tokenizer/deepseek-v3/tokenizer.json of the checkout the binary was
// built in. The V4 special tokens are added with v4 or a V4 --model.
#pragma once

#include <memory>
#include <string>

#include "base/status.h"
#include "runtime/tokenizer/tokenizer.h"

namespace v4rt::cli {

inline constexpr const char* kEnvTokenizer = "V4RT_TOKENIZER";

// InvalidArgument (a usage error) when no tokenizer is given or found; the
// loader's errors otherwise. *v4 is set when --model is a V4 checkpoint.
Result<std::unique_ptr<runtime::Tokenizer>> load_chosen_tokenizer(const std::string& tokenizer_path,
                                                                  const std::string& model_dir, bool* v4);

}  // namespace v4rt::cli
