// `v4rt tokenize`: JSON Lines in, JSON Lines out, through runtime::Tokenizer.
//   {"text": S}    -> {"ids": [...]}      (default)
//   {"ids": [...]} -> {"text": S}         (--decode)
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include <nlohmann/json.hpp>

#include "agents/cli/commands.h"
#include "agents/cli/flags.h"
#include "agents/cli/tokenizer_choice.h"
#include "runtime/tokenizer/tokenizer.h"

namespace v4rt::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

void write_ids(const std::vector<int32_t>& ids, std::string& line) {
  line = "{\"ids\":[";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) line += ',';
    line += std::to_string(ids[i]);
  }
  line += "]}\n";
}

int bad_line(size_t n, const std::string& why) {
  std::fprintf(stderr, "v4rt: stdin line %zu: %s\n", n, why.c_str());
  return 1;
}

}  // namespace

int cmd_tokenize(int argc, char** argv) {
  std::string tokenizer_path, model_dir;
  bool decode = false, skip_special = false, v4 = false, literal = false;
  FlagSet flags(
      "v4rt tokenize [--tokenizer PATH | --model DIR] [--decode | --literal]",
      "Tokenize JSON Lines from stdin: each {\"text\": S} becomes {\"ids\": [...]} on stdout; with --decode each "
      "{\"ids\": [...]} becomes {\"text\": S}. Special tokens written in the text (e.g. <\uFF5CUser\uFF5C>) are "
      "encoded as their ids; no BOS is added. With --literal they are not: special-token text is encoded as "
      "ordinary pieces (the bytes as written), as v4rt encodes text from files, tools and the task in a chat "
      "prompt.\n\nWhich tokenizer.json: --tokenizer PATH if given; else with --model "
      "DIR, DIR/tokenizer.json if present; else the default, which is $V4RT_TOKENIZER, or "
      "data/tokenizer/deepseek-v3/tokenizer.json of the checkout the binary was built in (fetched by "
      "scripts/setup.sh). When DIR/config.json is a DeepSeek-V4 config (it has compress_ratios), or with --v4, "
      "the V4 special tokens (<think>, </think>, \uFF5CDSML\uFF5C, ...) are added where the file lacks them.",
      "echo '{\"text\": \"Hello world\"}' | v4rt tokenize --model ~/models/DeepSeek-V4-Flash");
  flags.add_string("tokenizer", &tokenizer_path,
                   "tokenizer.json to use (default: $V4RT_TOKENIZER, else the checkout's DeepSeek V3 tokenizer)", "PATH");
  flags.add_string("model", &model_dir, "model directory: its tokenizer.json and, from config.json, whether it is V4",
                   "DIR");
  flags.add_bool("decode", &decode, "read {\"ids\": [...]} lines and write {\"text\": S} lines");
  flags.add_bool("skip-special", &skip_special, "with --decode: leave special tokens (BOS, EOS, ...) out of the text");
  flags.add_bool("v4", &v4, "add the DeepSeek-V4 special tokens (implied by a V4 --model)");
  flags.add_bool("literal", &literal,
                 "encode special-token text (<\uFF5CUser\uFF5C>, </think>, ...) as ordinary pieces, not as special ids");
  if (Status s = flags.parse(argc, argv); !s.ok()) return report(s, "v4rt tokenize --help");
  if (flags.help_requested()) {
    std::fputs(flags.help().c_str(), stdout);
    std::printf("\nenvironment:\n  %s  default tokenizer.json (see above)\n", kEnvTokenizer);
    return 0;
  }
  if (literal && decode)
    return report(Status::InvalidArgument("--literal applies to encoding; drop it with --decode"), "v4rt tokenize --help");
  if (!flags.positional().empty())
    return report(Status::InvalidArgument("unexpected argument '" + flags.positional()[0] +
                                          "': input comes from stdin"), "v4rt tokenize --help");

  Result<std::unique_ptr<runtime::Tokenizer>> tok = load_chosen_tokenizer(tokenizer_path, model_dir, &v4);
  if (!tok) {
    if (tok.status().is_invalid_argument() && tokenizer_path.empty() && model_dir.empty())
      return report(tok.status(), "v4rt tokenize --help");
    return report(tok.status());
  }

  std::ios::sync_with_stdio(false);
  std::string line, out;
  std::vector<int32_t> ids;
  size_t n = 0;
  while (std::getline(std::cin, line)) {
    ++n;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    json j = json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return bad_line(n, "not a JSON object");
    if (!decode) {
      if (!j.contains("text") || !j["text"].is_string())
        return bad_line(n, "expected {\"text\": string} (use --decode for {\"ids\": [...]})");
      ids.clear();
      const std::string& text = j["text"].get_ref<const std::string&>();
      if (literal) ids = (*tok)->encode_literal(text);
      else (*tok)->encode(text, ids);
      write_ids(ids, out);
    } else {
      if (!j.contains("ids") || !j["ids"].is_array())
        return bad_line(n, "expected {\"ids\": [integers]} (drop --decode to encode {\"text\": ...})");
      ids.clear();
      for (const json& v : j["ids"]) {
        if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() >= (*tok)->vocab_size())
          return bad_line(n, "id " + v.dump() + " is not an integer in [0, " + std::to_string((*tok)->vocab_size()) +
                                 ")" + (v4 ? "" : "; DeepSeek-V4 ids need --v4 or a V4 --model"));
        ids.push_back(static_cast<int32_t>(v.get<int64_t>()));
      }
      // Bytes that are not UTF-8 (ids that end inside a character) show as U+FFFD, as in HF's decode.
      out = json{{"text", (*tok)->decode(ids, skip_special)}}.dump(-1, ' ', false, json::error_handler_t::replace);
      out += '\n';
    }
    std::fwrite(out.data(), 1, out.size(), stdout);
  }
  std::fflush(stdout);
  return 0;
}

}  // namespace v4rt::cli
