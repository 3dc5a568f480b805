// v4rt: one executable, subcommands dispatched from the table below.
#include <cstdio>
#include <cstring>
#include <string_view>

#include "agents/cli/commands.h"

namespace {

struct Command {
  const char* name;
  const char* summary;
  int (*run)(int argc, char** argv);
};

// Order is the order shown by `v4rt --help`.
constexpr Command kCommands[] = {
    {"version", "print the version", v4rt::cli::cmd_version},
    {"generate", "generate text with a local checkpoint (streams; sessions and prefix cache)", v4rt::cli::cmd_generate},
    {"model", "inspect or initialise a checkpoint (inspect, init)", v4rt::cli::cmd_model},
    {"chat", "render prompts / parse completions in the DeepSeek-V4 chat format (render, parse)", v4rt::cli::cmd_chat},
    {"code", "the repository coding agent (headless with -p, else interactive)", v4rt::cli::cmd_code},
    {"session", "manage the persistent KV session store (list, show, fork, rm, pin, gc, check, export, import)",
     v4rt::cli::cmd_session},
    {"logits", "write a token sequence's next-token logits as .npy (parity checks)", v4rt::cli::cmd_logits},
    {"tokenize", "JSON Lines text -> token ids, or ids -> text with --decode", v4rt::cli::cmd_tokenize},
    {"bench", "measure prefill/decode speed, MTP speed-up, memory and KV bytes per token", v4rt::cli::cmd_bench},
};

void print_help() {
  std::printf(
      "v4rt: a long-context DeepSeek-V4 agent and tool-use runtime\n\n"
      "usage: v4rt <command> [<subcommand>] [flags]\n\ncommands:\n");
  for (const auto& c : kCommands) std::printf("  %-12s %s\n", c.name, c.summary);
  std::printf("\nRun 'v4rt <command> --help' for a command's flags.\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0 ||
      std::strcmp(argv[1], "help") == 0) {
    print_help();
    return argc < 2 ? 2 : 0;
  }
  std::string_view name = argv[1];
  if (name == "--version" || name == "-V") return v4rt::cli::cmd_version(argc - 2, argv + 2);
  for (const auto& c : kCommands)
    if (name == c.name) return c.run(argc - 2, argv + 2);
  std::fprintf(stderr, "v4rt: unknown command '%s'\nhint: run 'v4rt --help' for the list\n", argv[1]);
  return 2;
}
