// `v4rt chat <subcommand>`: dispatches to render (below) and parse
// (cmd_chat_parse, agents/cli/cmd_chat_parse.cpp, owned by the DSML parser).
//
// `v4rt chat render [FILE|-]`: JSON Lines in, one request per line, as in
// golden render.jsonl: {"messages": [...], "tools": [...]|null, "options":
// {"thinking_mode", "reasoning_effort", "drop_thinking",
// "add_default_bos_token", "context"}}. JSON Lines out, one per request:
// {"prompt": "..."} or {"error": "<category>", "message": "..."} ("name" is
// copied first when the request has one). With --text the prompt itself is
// written (requests separated by nothing: meant for one request). With
// --tokens each line also has "tokens": the ids the local engine is fed for
// that prompt (special tokens only where the encoder put them; special-token
// text inside messages, tool results and schemas as ordinary pieces).
#include <cstdio>
#include <fstream>
#include <iostream>
#include <istream>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "agents/cli/commands.h"
#include "agents/cli/flags.h"
#include "agents/cli/tokenizer_choice.h"
#include "agents/local_backend.h"
#include "parsers/chat_encoder.h"
#include "parsers/special_tokens.h"

namespace v4rt::cli {
namespace {

using ojson = nlohmann::ordered_json;

void print_chat_help(std::FILE* out) {
  std::fputs(
      "usage: v4rt chat <subcommand> [flags]\n\n"
      "subcommands:\n"
      "  render   conversation JSON Lines -> exact DeepSeek-V4 prompt text\n"
      "  parse    raw model completion -> assistant message (reasoning, content, tool calls)\n\n"
      "Run 'v4rt chat <subcommand> --help' for its flags.\n",
      out);
}

std::string dump_line(const ojson& j) {
  return j.dump(-1, ' ', false, ojson::error_handler_t::replace);
}

int cmd_chat_render(int argc, char** argv) {
  bool text = false, tokens = false, v4 = false, thinking = false;
  std::string tokenizer_path, model_dir;
  FlagSet flags("v4rt chat render [flags] [FILE|-]",
                "Render conversations to the exact DeepSeek-V4 prompt text, as the reference encoder "
                "(encoding_dsv4.py encode_messages) does. Reads JSON Lines (FILE, or stdin when absent or "
                "'-'): {\"messages\": [...], \"tools\": [...]|null, \"options\": {\"thinking_mode\": "
                "\"chat\"|\"thinking\", \"reasoning_effort\": null|\"low\"|\"high\"|\"max\", "
                "\"drop_thinking\": bool, \"add_default_bos_token\": bool, \"context\": [...]|null}}. "
                "Writes one JSON line per request: {\"prompt\": \"...\"} or {\"error\": \"<category>\", "
                "\"message\": \"...\"}. With --tokens the line also has \"tokens\": the ids a local model is fed "
                "for the prompt, BOS first: special tokens (<\uFF5CUser\uFF5C>, </think>, ...) only where the encoder "
                "wrote them; the same text inside a message, tool result or schema is encoded as ordinary pieces, "
                "so it cannot forge a turn. Tokenizer as for 'v4rt tokenize'. Exit 0 when every request rendered, "
                "1 when any failed.",
                "echo '{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"options\":{\"thinking_mode\":"
                "\"thinking\"}}' | v4rt chat render --text");
  flags.add_bool("thinking", &thinking, "thinking mode when a request has no options.thinking_mode (as chat parse)");
  flags.add_bool("text", &text, "write the prompt text itself instead of a JSON line");
  flags.add_bool("tokens", &tokens, "add \"tokens\": the prompt's token ids as the local engine sees them");
  flags.add_string("tokenizer", &tokenizer_path, "with --tokens: tokenizer.json to use", "PATH");
  flags.add_string("model", &model_dir, "with --tokens: model directory whose tokenizer to use", "DIR");
  flags.add_bool("v4", &v4, "with --tokens: add the DeepSeek-V4 special tokens (implied by a V4 --model)");
  if (Status s = flags.parse(argc, argv); !s.ok()) return report(s, "v4rt chat render --help");
  if (flags.help_requested()) {
    std::fputs(flags.help().c_str(), stdout);
    return 0;
  }
  if (flags.positional().size() > 1) {
    return report(Status::InvalidArgument("chat render takes one input file (or '-')"), "v4rt chat render --help");
  }
  if (tokens && text) {
    return report(Status::InvalidArgument("--tokens writes JSON lines; drop --text"), "v4rt chat render --help");
  }
  std::unique_ptr<runtime::Tokenizer> tokenizer;
  int32_t bos_id = parsers::tokens::kBosId;
  if (tokens) {
    auto loaded = load_chosen_tokenizer(tokenizer_path, model_dir, &v4);
    if (!loaded) return report(loaded.status(), "v4rt chat render --help");
    tokenizer = std::move(*loaded);
    if (auto id = tokenizer->token_id(parsers::tokens::kBos)) bos_id = *id;
  }
  std::string path = flags.positional().empty() ? "-" : flags.positional()[0];
  std::ifstream file;
  std::istream* in = &std::cin;
  if (path != "-") {
    file.open(path, std::ios::binary);
    if (!file) return report(Status::IoError(path + ": cannot open for reading; check the path"));
    in = &file;
  }

  parsers::ChatEncoder encoder;
  bool any_failed = false;
  std::string line;
  long line_no = 0;
  while (std::getline(*in, line)) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    ojson out = ojson::object();
    ojson request = ojson::parse(line, nullptr, /*allow_exceptions=*/false);
    if (request.is_discarded()) {
      out["error"] = "invalid_json";
      out["message"] = std::string("line ") + std::to_string(line_no) + ": not valid JSON; give one JSON object per line";
    } else {
      if (request.is_object() && request.contains("name")) out["name"] = request["name"];
      // Same default as chat parse: chat mode unless --thinking.
      if (request.is_object() && (!request.contains("options") || request["options"].is_object()) &&
          !(request.contains("options") && request["options"].contains("thinking_mode")))
        request["options"]["thinking_mode"] = thinking ? "thinking" : "chat";
      auto prompt = encoder.render_request_prompt(request);
      if (prompt.ok() && text) {
        std::fwrite(prompt->text.data(), 1, prompt->text.size(), stdout);
        continue;
      }
      if (prompt.ok()) {
        std::vector<int32_t> ids;
        if (tokenizer) ids = agents::prompt_token_ids(*tokenizer, *prompt, bos_id);
        out["prompt"] = std::move(prompt->text);
        if (tokenizer) out["tokens"] = std::move(ids);
      } else {
        out["error"] = std::string(parsers::chat_error_category(prompt.status()));
        out["message"] = prompt.status().message();
      }
    }
    if (out.contains("error")) {
      any_failed = true;
      if (text) {
        std::fprintf(stderr, "v4rt chat render: line %ld: %s\n", line_no,
                     out["message"].get_ref<const std::string&>().c_str());
        continue;
      }
    }
    std::string s = dump_line(out);
    s += '\n';
    std::fwrite(s.data(), 1, s.size(), stdout);
  }
  std::fflush(stdout);
  return any_failed ? 1 : 0;
}

}  // namespace

int cmd_chat(int argc, char** argv) {
  if (argc < 1) {
    print_chat_help(stderr);
    return 2;
  }
  std::string_view sub = argv[0];
  if (sub == "--help" || sub == "-h" || sub == "help") {
    print_chat_help(stdout);
    return 0;
  }
  if (sub == "render") return cmd_chat_render(argc - 1, argv + 1);
  if (sub == "parse") return cmd_chat_parse(argc - 1, argv + 1);
  std::fprintf(stderr, "v4rt chat: unknown subcommand '%s'\nhint: run 'v4rt chat --help'\n", argv[0]);
  return 2;
}

}  // namespace v4rt::cli
