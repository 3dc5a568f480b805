// Hooks: user commands run before and after each tool call (configured in
// .v4rt/settings.json "hooks": {"pre_tool": [...], "post_tool": [...]}; each
// entry {"command": "...", "tools": ["shell", ...]?, "timeout": s?}).
// A hook gets {"event","tool","arguments"[,"result","is_error"]} as JSON on
// stdin and runs with /bin/sh -c in the workspace, outside the sandbox (they
// are the user's own commands: hooks are loaded only from a settings file the
// user approved, see agents/project_trust.h, never from one the model wrote). A pre_tool hook that exits non-zero blocks the
// call: its output (stderr and stdout) goes to the model as the reason. A
// post_tool hook's non-zero exit appends its output to the tool result.
// Thread-safe (immutable after configuration).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace v4rt::tools {

struct Hook {
  std::string command;
  std::vector<std::string> tools;  // empty: every tool
  double timeout_s = 60;
};

struct HookOutcome {
  bool blocked = false;  // pre: the call must not run
  std::string message;   // what the hook printed when it failed (for the model)
};

class Hooks {
 public:
  Status add_json(const nlohmann::json& hooks, std::string_view source);
  void add_pre(Hook h) { pre_.push_back(std::move(h)); }
  void add_post(Hook h) { post_.push_back(std::move(h)); }
  bool empty() const { return pre_.empty() && post_.empty(); }

  HookOutcome run_pre(const std::filesystem::path& cwd, const std::string& tool,
                      const nlohmann::json& arguments) const;
  // Returns text to append to the result ("" when every hook succeeded).
  std::string run_post(const std::filesystem::path& cwd, const std::string& tool, const nlohmann::json& arguments,
                       const std::string& result, bool is_error) const;

 private:
  std::vector<Hook> pre_, post_;
};

}  // namespace v4rt::tools
