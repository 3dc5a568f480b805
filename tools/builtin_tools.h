// The built-in coding tools and one call that registers them all. Names and
// required arguments are stable (the model is prompted with them):
//   read{path, offset?, limit?}            list{path?}
//   write{path, content}                   glob{pattern}
//   edit{path, old, new}                   grep{pattern, path?, glob?}
//   edit{path, start_line, end_line, new}  shell{command, timeout?, background?}
//   apply_patch{patch}                     job{id, action?}
//   todo{items}
// Each factory returns a fresh tool; tools that keep state (shell's jobs,
// todo's list) keep it per instance, i.e. per agent session.
#pragma once

#include <memory>

#include "base/status.h"
#include "tools/sandbox.h"
#include "tools/tool.h"
#include "tools/tool_registry.h"

namespace v4rt::tools {

class JobTable;

std::unique_ptr<Tool> make_read_tool();
std::unique_ptr<Tool> make_write_tool();
std::unique_ptr<Tool> make_edit_tool();
std::unique_ptr<Tool> make_apply_patch_tool();
std::unique_ptr<Tool> make_list_tool();
std::unique_ptr<Tool> make_glob_tool();
std::unique_ptr<Tool> make_grep_tool();
std::unique_ptr<Tool> make_todo_tool();

struct ShellToolOptions {
  double default_timeout_s = 120;
  double max_timeout_s = 600;
  int max_background_jobs = 8;
  // Non-empty: the sandbox could not start and running unsandboxed was not
  // allowed; every call is refused with this reason (the tool stays declared,
  // so the prompt does not change).
  std::string unavailable_reason;
};
// sandbox: shared with whoever checks permissions (it says whether commands are sandboxed).
// jobs: background processes, shared by shell (which starts them) and job (status/stop).
std::unique_ptr<Tool> make_shell_tool(const Sandbox* sandbox, std::shared_ptr<JobTable> jobs,
                                      ShellToolOptions options = {});
std::unique_ptr<Tool> make_job_tool(std::shared_ptr<JobTable> jobs);

struct BuiltinToolsOptions {
  bool shell = true;  // false: no shell/job tools (e.g. the sandbox is unavailable and --unsandboxed not given)
  ShellToolOptions shell_options;
};
// Registers every built-in tool; sandbox must outlive the registry.
Status register_builtin_tools(ToolRegistry& registry, const Sandbox* sandbox,
                              const BuiltinToolsOptions& options = {});

}  // namespace v4rt::tools
