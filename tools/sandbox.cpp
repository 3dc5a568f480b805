#include "tools/sandbox.h"

#include "tools/subprocess.h"

namespace v4rt::tools {

Status Sandbox::probe(const std::string& bwrap) {
  ProcessOptions po;
  po.timeout_s = 20;
  po.max_output_bytes = 4096;
  auto r = run_process({bwrap, "--ro-bind", "/", "/", "--unshare-net", "true"}, po);
  if (!r.ok())
    return Status::Unsupported("shell sandbox unavailable: " + r.status().message() +
                               "; install bubblewrap, or pass --unsandboxed to run shell commands "
                               "without a sandbox (at your own risk)");
  if (r->exit_code != 0) {
    std::string msg = r->output;
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    return Status::Unsupported("shell sandbox unavailable: bwrap cannot create namespaces here (" + msg +
                               "); enable unprivileged user namespaces, or pass --unsandboxed to run "
                               "shell commands without a sandbox (at your own risk)");
  }
  return Status::Ok();
}

std::vector<std::string> Sandbox::wrap(const std::string& command, const std::filesystem::path& cwd) const {
  if (!options_.enabled) return {options_.shell, "-c", command};
  std::vector<std::string> a = {options_.bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
                                "--tmpfs", "/tmp"};
  a.insert(a.end(), {"--bind", workspace_.string(), workspace_.string()});
  for (const auto& p : options_.extra_writable) a.insert(a.end(), {"--bind", p.string(), p.string()});
  if (!options_.allow_network) a.push_back("--unshare-net");
  a.insert(a.end(), {"--unshare-pid", "--unshare-ipc", "--unshare-uts", "--die-with-parent",
                     "--new-session", "--chdir", cwd.string(), "--", options_.shell, "-c", command});
  return a;
}

}  // namespace v4rt::tools
