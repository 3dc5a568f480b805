#include "agents/repo_context.h"

#include <algorithm>
#include <filesystem>

#include "base/file_util.h"
#include "tools/file_walker.h"
#include "tools/subprocess.h"
#include "tools/text_lines.h"

namespace v4rt::agents {

namespace fs = std::filesystem;

namespace {

std::vector<std::string> tracked_files(const fs::path& root) {
  std::vector<std::string> out;
  std::error_code ec;
  if (!fs::exists(root / ".git", ec)) return out;
  tools::ProcessOptions po;
  po.cwd = root;
  po.timeout_s = 30;
  po.max_output_bytes = 64 << 20;
  auto r = tools::run_process(safe_git_argv({"ls-files", "-z", "--cached"}), po);
  if (!r || r->exit_code != 0) return out;
  size_t start = 0;
  while (start < r->output.size()) {
    size_t z = r->output.find('\0', start);
    if (z == std::string::npos) z = r->output.size();
    if (z > start) out.push_back(r->output.substr(start, z - start));
    start = z + 1;
  }
  return out;
}

}  // namespace

std::vector<std::string> safe_git_argv(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"git",
                                   "--no-pager",
                                   "-c", "core.fsmonitor=false",
                                   "-c", "core.hooksPath=/dev/null",
                                   "-c", "core.untrackedCache=false",
                                   "-c", "core.pager=cat",
                                   "-c", "core.editor=false",
                                   "-c", "core.askPass=",
                                   "-c", "core.sshCommand=false",
                                   "-c", "core.gitProxy=",
                                   "-c", "diff.external=",
                                   "-c", "credential.helper=",
                                   "-c", "protocol.allow=never",
                                   "-c", "gpg.program=false",
                                   "-c", "sequence.editor=false"};
  argv.push_back("--no-optional-locks");
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

Result<RepoContext> render_repo_context(const tools::Workspace& ws, const RepoContextOptions& options) {
  RepoContext ctx;
  if (options.budget_tokens <= 0) return ctx;
  std::vector<std::string> files = tracked_files(ws.root());
  if (files.empty()) {
    tools::WalkOptions wo;
    auto walked = tools::walk_files(ws.root(), ws.root(), wo);
    if (!walked) return walked.status();
    files = std::move(walked->files);
  }
  struct Entry {
    fs::file_time_type mtime;
    std::string path;
  };
  std::vector<Entry> entries;
  for (const auto& f : files) {
    std::error_code ec;
    fs::path p = ws.root() / f;
    auto st = fs::symlink_status(p, ec);
    if (ec || !fs::is_regular_file(st)) continue;  // deleted, symlink, submodule
    entries.push_back({fs::last_write_time(p, ec), f});
  }
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.mtime != b.mtime ? a.mtime < b.mtime : a.path < b.path;
  });
  std::string body;
  int64_t budget_bytes = options.budget_tokens * 4;
  for (const Entry& e : entries) {
    std::error_code ec;
    auto size = fs::file_size(ws.root() / e.path, ec);
    if (ec || size > options.max_file_bytes) {
      ctx.left_out.push_back(e.path);
      continue;
    }
    auto text = read_file(ws.root() / e.path);
    if (!text || tools::looks_binary(*text)) {
      ctx.left_out.push_back(e.path);
      continue;
    }
    std::string block = "### " + e.path + "\n```\n" + *text + (tools::ends_with_newline(*text) || text->empty() ? "" : "\n") + "```\n\n";
    if (static_cast<int64_t>(body.size() + block.size()) > budget_bytes) {
      ctx.left_out.push_back(e.path);
      continue;
    }
    body += block;
    ctx.included.push_back(e.path);
  }
  if (ctx.included.empty()) return ctx;
  ctx.text = "# Repository\n\nThe files of the repository in the workspace, as they were when this session started "
             "(use read for their current content after changes):\n\n" + body;
  if (!ctx.left_out.empty()) {
    ctx.text += "Not shown (over the context budget, binary or large): ";
    for (size_t i = 0; i < ctx.left_out.size() && i < 200; ++i) ctx.text += (i ? ", " : "") + ctx.left_out[i];
    ctx.text += "\n";
  }
  ctx.estimated_tokens = static_cast<int64_t>(ctx.text.size() / 4);
  return ctx;
}

}  // namespace v4rt::agents
