// shell{command, timeout?, background?, cwd?}: bash in the sandbox;
// job{id, action?}: status or stop of a background command.
#include <cmath>

#include "tools/builtin_tools.h"
#include "tools/job_table.h"
#include "tools/subprocess.h"
#include "tools/workspace.h"

namespace v4rt::tools {

namespace {

class ShellTool : public Tool {
 public:
  ShellTool(const Sandbox* sandbox, std::shared_ptr<JobTable> jobs, ShellToolOptions options)
      : sandbox_(sandbox), jobs_(std::move(jobs)), options_(options) {
    spec_.name = "shell";
    spec_.kind = ToolKind::kExecute;
    spec_.subject_arg = "command";
    spec_.description =
        "Run a bash command in the workspace (a sandbox: the workspace is writable except .git and .v4rt, "
        "the rest of the file system read-only, $HOME and /tmp private, no network). Returns the exit code "
        "and the combined "
        "output (long output is cut in the middle). timeout is in seconds (default 120). With "
        "background true the command keeps running and you get a job id for the job tool.";
    spec_.parameters = {
        {"type", "object"},
        {"properties",
         {{"command", {{"type", "string"}, {"description", "bash command line"}}},
          {"timeout", {{"type", "integer"}, {"description", "seconds before the command is killed"}}},
          {"background", {{"type", "boolean"}, {"description", "run in the background; returns a job id"}}},
          {"cwd", {{"type", "string"}, {"description", "working directory relative to the workspace root"}}}}},
        {"required", {"command"}}};
  }
  const ToolSpec& spec() const override { return spec_; }

  Result<ToolOutput> invoke(const nlohmann::json& args, ToolContext& ctx) override {
    if (!options_.unavailable_reason.empty()) return Status::Unsupported(options_.unavailable_reason);
    auto command = arg_string(args, "shell", "command");
    if (!command) return command.status();
    if (command->find_first_not_of(" \t\n") == std::string::npos)
      return Status::InvalidArgument("shell: command is empty");
    auto timeout = arg_int_or(args, "shell", "timeout", static_cast<long long>(options_.default_timeout_s));
    if (!timeout) return timeout.status();
    if (*timeout < 1 || *timeout > options_.max_timeout_s)
      return Status::InvalidArgument("shell: timeout must be 1.." +
                                     std::to_string(static_cast<int>(options_.max_timeout_s)) + " seconds");
    auto background = arg_bool_or(args, "shell", "background", false);
    if (!background) return background.status();
    auto cwd_arg = arg_string_or(args, "shell", "cwd", ".");
    if (!cwd_arg) return cwd_arg.status();
    auto cwd = ctx.workspace->resolve(*cwd_arg);
    if (!cwd) return cwd.status();
    SandboxedCommand sc = sandbox_->wrap(*command, *cwd);
    if (*background) {
      BackgroundOptions bo;
      bo.env = sc.env;
      bo.limits = sc.limits;
      auto p = BackgroundProcess::start(sc.argv, *cwd, bo);
      if (!p) return p.status();
      auto id = jobs_->add(std::move(*p), *command);
      if (!id) return id.status();
      return ToolOutput{"started job " + std::to_string(*id) +
                        " in the background; check it with job{id: " + std::to_string(*id) + "}"};
    }
    ProcessOptions po;
    po.cwd = *cwd;
    po.timeout_s = static_cast<double>(*timeout);
    po.max_output_bytes = ctx.max_output_bytes;
    po.stop = ctx.stop;
    po.env = std::move(sc.env);
    po.limits = sc.limits;
    auto r = run_process(sc.argv, po);
    if (!r) return r.status();
    std::string out;
    if (r->cancelled) return Status::Cancelled("shell: command cancelled by the user");
    if (r->timed_out)
      out = "timed out after " + std::to_string(*timeout) +
            "s; the command was killed (use a larger timeout or background: true)\n";
    else
      out = "exit code " + std::to_string(r->exit_code) + "\n";
    out += r->output.empty() ? "(no output)\n" : r->output;
    return ToolOutput{out};
  }

 private:
  const Sandbox* sandbox_;
  std::shared_ptr<JobTable> jobs_;
  ShellToolOptions options_;
  ToolSpec spec_;
};

class JobTool : public Tool {
 public:
  explicit JobTool(std::shared_ptr<JobTable> jobs) : jobs_(std::move(jobs)) {
    spec_.name = "job";
    spec_.kind = ToolKind::kExecute;
    spec_.subject_arg = "";
    spec_.description =
        "Check or stop a background shell job: action \"status\" (default) shows whether it runs and "
        "its latest output; \"stop\" kills it.";
    spec_.parameters = {
        {"type", "object"},
        {"properties",
         {{"id", {{"type", "integer"}, {"description", "job id returned by shell"}}},
          {"action", {{"type", "string"}, {"enum", {"status", "stop"}}, {"description", "status or stop"}}}}},
        {"required", {"id"}}};
  }
  const ToolSpec& spec() const override { return spec_; }

  Result<ToolOutput> invoke(const nlohmann::json& args, ToolContext& ctx) override {
    auto id = arg_int_or(args, "job", "id", -1);
    if (!id) return id.status();
    if (*id < 0) return Status::InvalidArgument("job: id is required (the number shell returned)");
    auto action = arg_string_or(args, "job", "action", "status");
    if (!action) return action.status();
    Result<std::string> r = std::string();
    if (*action == "status") r = jobs_->status(static_cast<int>(*id), ctx.max_output_bytes);
    else if (*action == "stop") r = jobs_->stop(static_cast<int>(*id), ctx.max_output_bytes);
    else return Status::InvalidArgument("job: action must be \"status\" or \"stop\" (got \"" + *action + "\")");
    if (!r) return r.status();
    return ToolOutput{*r};
  }

 private:
  std::shared_ptr<JobTable> jobs_;
  ToolSpec spec_;
};

}  // namespace

std::unique_ptr<Tool> make_shell_tool(const Sandbox* sandbox, std::shared_ptr<JobTable> jobs,
                                      ShellToolOptions options) {
  return std::make_unique<ShellTool>(sandbox, std::move(jobs), options);
}

std::unique_ptr<Tool> make_job_tool(std::shared_ptr<JobTable> jobs) {
  return std::make_unique<JobTool>(std::move(jobs));
}

}  // namespace v4rt::tools
