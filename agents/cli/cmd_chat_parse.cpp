// Placeholder for `v4rt chat parse`; its owner (the DSML parser) replaces this file.
#include <cstdio>

#include "agents/cli/commands.h"

namespace v4rt::cli {

int cmd_chat_parse(int argc, char** argv) {
  (void)argc;
  (void)argv;
  std::fprintf(stderr, "v4rt chat parse: not built yet\n");
  return 1;
}

}  // namespace v4rt::cli
