#include "tools/builtin_tools.h"

#include "tools/job_table.h"

namespace v4rt::tools {

Status register_builtin_tools(ToolRegistry& registry, const Sandbox* sandbox, const BuiltinToolsOptions& options) {
  V4RT_RETURN_IF_ERROR(registry.add(make_read_tool()));
  V4RT_RETURN_IF_ERROR(registry.add(make_write_tool()));
  V4RT_RETURN_IF_ERROR(registry.add(make_edit_tool()));
  V4RT_RETURN_IF_ERROR(registry.add(make_apply_patch_tool()));
  V4RT_RETURN_IF_ERROR(registry.add(make_list_tool()));
  V4RT_RETURN_IF_ERROR(registry.add(make_glob_tool()));
  V4RT_RETURN_IF_ERROR(registry.add(make_grep_tool()));
  V4RT_RETURN_IF_ERROR(registry.add(make_todo_tool()));
  if (options.shell && sandbox) {
    auto jobs = std::make_shared<JobTable>(options.shell_options.max_background_jobs);
    V4RT_RETURN_IF_ERROR(registry.add(make_shell_tool(sandbox, jobs, options.shell_options)));
    V4RT_RETURN_IF_ERROR(registry.add(make_job_tool(jobs)));
  }
  return Status::Ok();
}

}  // namespace v4rt::tools
