#include "agents/cli/tokenizer_choice.h"

#include <cstdlib>
#include <filesystem>
#include <system_error>

namespace v4rt::cli {
namespace {

namespace fs = std::filesystem;

constexpr const char* kDefaultRelative = "data/tokenizer/deepseek-v3/tokenizer.json";

// The default tokenizer: $V4RT_TOKENIZER, else data/tokenizer/deepseek-v3/
// tokenizer.json of the checkout the binary was built in (build dirs sit one
// or two levels below it). Empty if none exists.
fs::path default_tokenizer() {
  if (const char* env = std::getenv(kEnvTokenizer); env && *env) return env;
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  const fs::path bin = exe.parent_path();
  for (const fs::path& root : {bin.parent_path(), bin.parent_path().parent_path(), bin})
    if (fs::exists(root / kDefaultRelative, ec)) return root / kDefaultRelative;
  return {};
}

}  // namespace

Result<std::unique_ptr<runtime::Tokenizer>> load_chosen_tokenizer(const std::string& tokenizer_path,
                                                                  const std::string& model_dir, bool* v4) {
  fs::path path = tokenizer_path;
  if (!model_dir.empty()) {
    Result<runtime::TokenizerSource> src =
        runtime::locate_tokenizer(model_dir, path.empty() ? default_tokenizer() : fs::path());
    if (!src) return src.status();
    if (path.empty()) path = src->path;
    *v4 = *v4 || src->add_v4_specials;
  }
  if (path.empty()) path = default_tokenizer();
  if (path.empty())
    return Status::InvalidArgument(std::string("no tokenizer: pass --tokenizer PATH or --model DIR, set ") +
                                   kEnvTokenizer + ", or run scripts/setup.sh to fetch the default");
  return runtime::Tokenizer::load(path, *v4);
}

}  // namespace v4rt::cli
