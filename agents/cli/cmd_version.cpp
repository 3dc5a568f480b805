#include <cstdio>

#include "agents/cli/commands.h"
#include "agents/cli/flags.h"

namespace v4rt::cli {

int cmd_version(int argc, char** argv) {
  FlagSet flags("v4rt version", "Print the v4rt version.");
  if (Status s = flags.parse(argc, argv); !s.ok()) return report(s, "v4rt version --help");
  if (flags.help_requested()) { std::fputs(flags.help().c_str(), stdout); return 0; }
  std::printf("v4rt 0.1.0\n");
  return 0;
}

}  // namespace v4rt::cli
