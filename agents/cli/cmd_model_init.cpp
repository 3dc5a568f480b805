// Placeholder for `v4rt model init` until its owner lands the real command.
#include <cstdio>

#include "agents/cli/commands.h"

namespace v4rt::cli {

int cmd_model_init(int argc, char** argv) {
  (void)argc;
  (void)argv;
  std::fprintf(stderr, "v4rt model init: not built yet\n");
  return 1;
}

}  // namespace v4rt::cli
