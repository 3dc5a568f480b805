// CodeSettings: the project file of `v4rt code`, <workspace>/.v4rt/settings.json:
//   {"permissions": {"mode": "workspace-write", "allow": [...], "ask": [...], "deny": [...]},
//    "hooks": {"pre_tool": [...], "post_tool": [...]},
//    "sandbox": {"network": false},
//    "instructions": "extra text for the system prompt"}
// Every key is optional; unknown keys are an error naming them. Command-line
// flags are applied after the file (they win). Not thread-safe.
#pragma once

#include <filesystem>
#include <string>

#include "runtime/base/status.h"
#include "tools/hooks.h"
#include "tools/permission_policy.h"

namespace v4rt::agents {

struct CodeSettings {
  bool sandbox_network = false;
  std::string instructions;
};

// Reads the file if it exists (absent: Ok, nothing changed) into policy, hooks, settings.
Status load_code_settings(const std::filesystem::path& file, tools::PermissionPolicy& policy, tools::Hooks& hooks,
                          CodeSettings& settings);

}  // namespace v4rt::agents
