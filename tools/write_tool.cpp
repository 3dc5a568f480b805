// write{path, content}: creates or replaces a whole file.
#include "tools/builtin_tools.h"
#include "tools/file_io.h"
#include "tools/file_memory.h"
#include "tools/text_lines.h"
#include "tools/workspace.h"

namespace v4rt::tools {

namespace {

class WriteTool : public Tool {
 public:
  WriteTool() {
    spec_.name = "write";
    spec_.kind = ToolKind::kEdit;
    spec_.subject_arg = "path";
    spec_.description =
        "Create a file, or replace all of an existing file, with the given content. Missing parent "
        "directories are created. Prefer edit for changing part of an existing file. Symlinks are not "
        "written through, and .git/ and .v4rt/ cannot be written.";
    spec_.parameters = {
        {"type", "object"},
        {"properties",
         {{"path", {{"type", "string"}, {"description", "file path relative to the workspace root"}}},
          {"content", {{"type", "string"}, {"description", "the complete new content of the file"}}}}},
        {"required", {"path", "content"}}};
  }
  const ToolSpec& spec() const override { return spec_; }

  Result<ToolOutput> invoke(const nlohmann::json& args, ToolContext& ctx) override {
    auto path = arg_string(args, "write", "path");
    if (!path) return path.status();
    auto content = arg_string(args, "write", "content");
    if (!content) return content.status();
    auto written = write_text_file(*ctx.workspace, *path, *content);
    if (!written) return written.status();
    auto lines = split_lines(*content);
    if (ctx.memory) ctx.memory->know_all(ctx.workspace->root() / written->rel, lines);
    return ToolOutput{std::string(written->created ? "created " : "replaced ") + *path + " (" +
                      std::to_string(lines.size()) + " lines, " + std::to_string(content->size()) + " bytes)"};
  }

 private:
  ToolSpec spec_;
};

}  // namespace

std::unique_ptr<Tool> make_write_tool() { return std::make_unique<WriteTool>(); }

}  // namespace v4rt::tools
