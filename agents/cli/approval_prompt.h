// The text of the terminal approval prompt of `v4rt code`. Everything in it
// that came from the model (the command, paths, the reason quoting them) is
// passed through terminal_safe(), so escape sequences cannot erase the prompt
// and draw another; a shell command is also shown as the commands it runs
// ("runs 2 commands: echo hi ; rm -f a.txt"). Thread-safe (pure).
#pragma once

#include <string>

#include "tools/permission_policy.h"

namespace v4rt::cli {

std::string approval_prompt(const tools::PermissionRequest& request, const std::string& reason);

}  // namespace v4rt::cli
