// `v4rt model <subcommand>`: dispatches to inspect (cmd_model_inspect below)
// and init (cmd_model_init, agents/cli/cmd_model_init.cpp).
#include <cstdio>
#include <cstring>
#include <string_view>

#include "agents/cli/commands.h"
#include "agents/cli/flags.h"

namespace v4rt::cli {

namespace {

int cmd_model_inspect(int argc, char** argv) {
  (void)argc;
  (void)argv;
  std::fprintf(stderr, "v4rt model inspect: not built yet\n");
  return 1;
}

void print_model_help(FILE* out) {
  std::fprintf(out,
               "usage: v4rt model <subcommand> [flags] [args]\n\n"
               "Work with a DeepSeek-V4 checkpoint directory (Hugging Face layout).\n\n"
               "subcommands:\n"
               "  inspect DIR   config summary, layer types, tensors by dtype, KV bytes per token,\n"
               "                and a check that every tensor the model needs is present\n"
               "  init          create a checkpoint directory (see 'v4rt model init --help')\n\n"
               "example: v4rt model inspect ~/models/DeepSeek-V4-Flash --json\n");
}

}  // namespace

int cmd_model(int argc, char** argv) {
  if (argc < 1) {
    print_model_help(stderr);
    return 2;
  }
  std::string_view sub = argv[0];
  if (sub == "--help" || sub == "-h" || sub == "help") {
    print_model_help(stdout);
    return 0;
  }
  if (sub == "inspect") return cmd_model_inspect(argc - 1, argv + 1);
  if (sub == "init") return cmd_model_init(argc - 1, argv + 1);
  std::fprintf(stderr, "v4rt model: unknown subcommand '%s'\nhint: run 'v4rt model --help'\n", argv[0]);
  return 2;
}

}  // namespace v4rt::cli
