// read{path, offset?, limit?}: a file's lines, numbered; records what was shown.
#include <algorithm>

#include "tools/builtin_tools.h"
#include "tools/file_io.h"
#include "tools/file_memory.h"
#include "tools/text_lines.h"
#include "tools/workspace.h"

namespace v4rt::tools {

namespace {

constexpr long long kDefaultLimit = 2000;
constexpr size_t kMaxLineChars = 2000;

class ReadTool : public Tool {
 public:
  ReadTool() {
    spec_.name = "read";
    spec_.kind = ToolKind::kRead;
    spec_.subject_arg = "path";
    spec_.description =
        "Read a text file of the workspace. Lines come back numbered (line number, tab, text). "
        "Use offset (1-based first line) and limit (number of lines, default 2000) for long files. "
        "Read a file before editing it by line numbers.";
    spec_.parameters = {
        {"type", "object"},
        {"properties",
         {{"path", {{"type", "string"}, {"description", "file path relative to the workspace root"}}},
          {"offset", {{"type", "integer"}, {"description", "first line to show, 1-based (default 1)"}}},
          {"limit", {{"type", "integer"}, {"description", "how many lines to show (default 2000)"}}}}},
        {"required", {"path"}}};
  }
  const ToolSpec& spec() const override { return spec_; }

  Result<ToolOutput> invoke(const nlohmann::json& args, ToolContext& ctx) override {
    auto path = arg_string(args, "read", "path");
    if (!path) return path.status();
    auto offset = arg_int_or(args, "read", "offset", 1);
    if (!offset) return offset.status();
    auto limit = arg_int_or(args, "read", "limit", kDefaultLimit);
    if (!limit) return limit.status();
    if (*offset < 1) return Status::InvalidArgument("read: offset must be >= 1 (lines are numbered from 1)");
    if (*limit < 1) return Status::InvalidArgument("read: limit must be >= 1");
    auto file = read_text_file(*ctx.workspace, *path, ctx.may_read);
    if (!file) return file.status();
    // File memory is keyed by the canonical path (a file read through an
    // in-workspace symlink is the same file).
    const std::filesystem::path abs = ctx.workspace->root() / file->rel;
    std::vector<std::string> lines = split_lines(file->text);
    size_t n = lines.size();
    if (n == 0) {
      if (ctx.memory) ctx.memory->know_all(abs, {});
      return ToolOutput{*path + " is empty (0 lines)"};
    }
    size_t first = static_cast<size_t>(*offset);
    if (first > n)
      return Status::InvalidArgument("read: offset " + std::to_string(first) + " is past the end of " + *path +
                                     " (" + std::to_string(n) + " lines); use a smaller offset");
    size_t last = std::min(n, first + static_cast<size_t>(*limit) - 1);
    std::string out;
    std::vector<std::string> shown;
    size_t budget = ctx.max_output_bytes > 200 ? ctx.max_output_bytes - 200 : ctx.max_output_bytes;
    size_t l = first;
    for (; l <= last; ++l) {
      const std::string& line = lines[l - 1];
      std::string row = std::to_string(l) + "\t";
      bool cut = line.size() > kMaxLineChars;
      row += cut ? line.substr(0, kMaxLineChars) + " [line cut at " + std::to_string(kMaxLineChars) + " chars]"
                 : line;
      row += "\n";
      if (out.size() + row.size() > budget && l > first) break;
      out += row;
      // A cut line was not fully shown: it does not count as seen.
      if (ctx.memory) {
        if (cut) {
          if (!shown.empty()) ctx.memory->saw(abs, l - shown.size(), shown);
          shown.clear();
        } else {
          shown.push_back(line);
        }
      }
    }
    size_t shown_last = l - 1;
    if (ctx.memory && !shown.empty()) ctx.memory->saw(abs, shown_last + 1 - shown.size(), shown);
    if (shown_last < n)
      out += "[showing lines " + std::to_string(first) + "-" + std::to_string(shown_last) + " of " +
             std::to_string(n) + "; call read with offset=" + std::to_string(shown_last + 1) +
             " to see more]\n";
    return ToolOutput{out};
  }

 private:
  ToolSpec spec_;
};

}  // namespace

std::unique_ptr<Tool> make_read_tool() { return std::make_unique<ReadTool>(); }

}  // namespace v4rt::tools
