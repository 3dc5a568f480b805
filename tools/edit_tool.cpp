// edit{path, old, new}: replaces the one occurrence of old (exact, else
// whitespace-tolerant when that finds exactly one place).
// edit{path, start_line, end_line, new}: replaces lines the model has read and
// that have not changed since (end_line = start_line - 1 inserts).
#include <algorithm>

#include "tools/builtin_tools.h"
#include "tools/file_io.h"
#include "tools/file_memory.h"
#include "tools/text_lines.h"
#include "tools/workspace.h"

namespace v4rt::tools {

namespace {

std::string rstrip(const std::string& s) {
  size_t e = s.find_last_not_of(" \t\r");
  return e == std::string::npos ? "" : s.substr(0, e + 1);
}

std::string squash(const std::string& s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (c == ' ' || c == '\t' || c == '\r') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

std::string leading_ws(const std::string& s) {
  size_t i = s.find_first_not_of(" \t");
  return i == std::string::npos ? "" : s.substr(0, i);
}

size_t line_of(const std::string& text, size_t pos) {  // 1-based
  return static_cast<size_t>(std::count(text.begin(), text.begin() + static_cast<long>(pos), '\n')) + 1;
}

class EditTool : public Tool {
 public:
  EditTool() {
    spec_.name = "edit";
    spec_.kind = ToolKind::kEdit;
    spec_.subject_arg = "path";
    spec_.description =
        "Change part of a file. Either give old (text that occurs exactly once in the file; include "
        "enough surrounding lines to make it unique) and new (its replacement), or give start_line and "
        "end_line (1-based, inclusive, as shown by read) and new (the replacement lines; empty deletes "
        "them; end_line = start_line - 1 inserts before start_line). Line edits are refused for lines "
        "you have not read or that changed since you read them.";
    spec_.parameters = {
        {"type", "object"},
        {"properties",
         {{"path", {{"type", "string"}, {"description", "file path relative to the workspace root"}}},
          {"old", {{"type", "string"}, {"description", "exact text to replace (must be unique)"}}},
          {"new", {{"type", "string"}, {"description", "replacement text"}}},
          {"start_line", {{"type", "integer"}, {"description", "first line to replace (1-based)"}}},
          {"end_line", {{"type", "integer"}, {"description", "last line to replace (inclusive)"}}}}},
        {"required", {"path", "new"}}};
  }
  const ToolSpec& spec() const override { return spec_; }

  Result<ToolOutput> invoke(const nlohmann::json& args, ToolContext& ctx) override {
    auto path = arg_string(args, "edit", "path");
    if (!path) return path.status();
    auto repl = arg_string(args, "edit", "new");
    if (!repl) return repl.status();
    auto file = read_text_file_for_edit(*ctx.workspace, *path, ctx.may_read);
    if (!file) return file.status();
    const std::filesystem::path abs = ctx.workspace->root() / file->rel;  // file memory key
    const std::string* text = &file->text;
    bool by_lines = args.is_object() && (args.contains("start_line") || args.contains("end_line"));
    if (by_lines && args.contains("old"))
      return Status::InvalidArgument("edit: give either old or start_line/end_line, not both");
    return by_lines ? edit_lines(args, *path, abs, *text, *repl, ctx)
                    : edit_text(args, *path, abs, *text, *repl, ctx);
  }

 private:
  Result<ToolOutput> edit_text(const nlohmann::json& args, const std::string& path,
                               const std::filesystem::path& abs, const std::string& text,
                               const std::string& repl, ToolContext& ctx) {
    auto old = arg_string(args, "edit", "old");
    if (!old) return old.status();
    if (old->empty())
      return Status::InvalidArgument("edit: old is empty; give the text to replace, or use write for a new file");
    if (*old == repl) return Status::InvalidArgument("edit: old and new are identical; nothing to change");
    std::vector<size_t> hits;
    for (size_t p = text.find(*old); p != std::string::npos; p = text.find(*old, p + 1)) hits.push_back(p);
    std::vector<std::string> lines = split_lines(text);
    bool nl = ends_with_newline(text);
    if (hits.size() > 1) {
      std::string where;
      for (size_t i = 0; i < hits.size() && i < 10; ++i)
        where += (i ? ", " : "") + std::to_string(line_of(text, hits[i]));
      return Status::InvalidArgument("edit: old occurs " + std::to_string(hits.size()) + " times in " + path +
                                     " (lines " + where +
                                     "); include more surrounding lines so that it occurs once");
    }
    if (hits.size() == 1) {
      size_t pos = hits[0];
      size_t a = line_of(text, pos);
      size_t b = line_of(text, pos + old->size() - 1);
      std::string new_text = text.substr(0, pos) + repl + text.substr(pos + old->size());
      std::vector<std::string> new_lines = split_lines(new_text);
      long delta = static_cast<long>(new_lines.size()) - static_cast<long>(lines.size());
      return commit(path, abs, new_text, a, b, new_lines, delta, "replaced 1 occurrence", ctx);
    }
    // Whitespace-tolerant: whole lines compared after normalisation.
    std::vector<std::string> old_lines = split_lines(*old);
    while (!old_lines.empty() && rstrip(old_lines.back()).empty()) old_lines.pop_back();
    if (!old_lines.empty() && old_lines.size() <= lines.size()) {
      for (int level = 0; level < 2; ++level) {
        auto norm = [&](const std::string& s) { return level == 0 ? rstrip(s) : squash(s); };
        std::vector<size_t> found;
        for (size_t i = 0; i + old_lines.size() <= lines.size(); ++i) {
          bool ok = true;
          for (size_t j = 0; j < old_lines.size() && ok; ++j) ok = norm(lines[i + j]) == norm(old_lines[j]);
          if (ok) found.push_back(i);
        }
        if (found.size() > 1)
          return Status::InvalidArgument(
              "edit: old does not occur exactly in " + path + ", and ignoring whitespace it matches " +
              std::to_string(found.size()) + " places (first at lines " + std::to_string(found[0] + 1) + " and " +
              std::to_string(found[1] + 1) + "); read the file and copy the text exactly");
        if (found.size() == 1) {
          size_t i = found[0];
          // Re-indent: the file's indentation replaces the one the model wrote.
          std::string file_ind, old_ind;
          for (size_t j = 0; j < old_lines.size(); ++j)
            if (!rstrip(old_lines[j]).empty()) {
              file_ind = leading_ws(lines[i + j]);
              old_ind = leading_ws(old_lines[j]);
              break;
            }
          std::vector<std::string> repl_lines = split_lines(repl);
          for (auto& l : repl_lines)
            if (file_ind != old_ind && l.compare(0, old_ind.size(), old_ind) == 0)
              l = file_ind + l.substr(old_ind.size());
          std::vector<std::string> new_lines(lines.begin(), lines.begin() + static_cast<long>(i));
          new_lines.insert(new_lines.end(), repl_lines.begin(), repl_lines.end());
          new_lines.insert(new_lines.end(), lines.begin() + static_cast<long>(i + old_lines.size()), lines.end());
          std::string new_text = join_lines(new_lines, nl);
          long delta = static_cast<long>(new_lines.size()) - static_cast<long>(lines.size());
          return commit(path, abs, new_text, i + 1, i + old_lines.size(), new_lines, delta,
                        "replaced 1 occurrence (matched ignoring whitespace)", ctx);
        }
      }
    }
    std::string hint;
    if (!old_lines.empty()) {
      std::string first = squash(old_lines[0]);
      for (size_t i = 0; i < lines.size() && !first.empty(); ++i)
        if (squash(lines[i]).find(first) != std::string::npos) {
          hint = " (its first line resembles line " + std::to_string(i + 1) + ")";
          break;
        }
    }
    return Status::NotFound("edit: old text not found in " + path + hint +
                            "; read the file to see its current content and copy the text exactly");
  }

  Result<ToolOutput> edit_lines(const nlohmann::json& args, const std::string& path,
                                const std::filesystem::path& abs, const std::string& text,
                                const std::string& repl, ToolContext& ctx) {
    auto start = arg_int_or(args, "edit", "start_line", -1);
    if (!start) return start.status();
    auto end = arg_int_or(args, "edit", "end_line", -1);
    if (!end) return end.status();
    if (*start < 1 || *end < 0)
      return Status::InvalidArgument("edit: start_line and end_line are both required for a line edit (1-based)");
    std::vector<std::string> lines = split_lines(text);
    size_t n = lines.size();
    size_t s = static_cast<size_t>(*start), e = static_cast<size_t>(*end);
    if (s > n + 1 || e > n || e + 1 < s)
      return Status::InvalidArgument("edit: lines " + std::to_string(s) + "-" + std::to_string(e) +
                                     " are not a valid range of " + path + " (" + std::to_string(n) +
                                     " lines); use end_line = start_line - 1 to insert");
    if (!ctx.memory) return Status::Unsupported("edit: line edits need the session's file memory");
    if (e >= s) {
      Status st = ctx.memory->check_range(abs, s, e, lines);
      if (!st.ok()) return Status::InvalidArgument("edit refused for " + path + ": " + st.message());
    } else if (!ctx.memory->has_seen(abs)) {
      return Status::InvalidArgument("edit refused for " + path +
                                     ": you have not read this file; read it first, then insert");
    }
    std::vector<std::string> repl_lines = split_lines(repl);
    std::vector<std::string> new_lines(lines.begin(), lines.begin() + static_cast<long>(s - 1));
    new_lines.insert(new_lines.end(), repl_lines.begin(), repl_lines.end());
    new_lines.insert(new_lines.end(), lines.begin() + static_cast<long>(e), lines.end());
    bool nl = ends_with_newline(text) || n == 0;
    std::string new_text = join_lines(new_lines, nl);
    long delta = static_cast<long>(new_lines.size()) - static_cast<long>(n);
    std::string what = e >= s ? "replaced lines " + std::to_string(s) + "-" + std::to_string(e)
                              : "inserted before line " + std::to_string(s);
    return commit(path, abs, new_text, s, e, new_lines, delta, what, ctx);
  }

  // Writes new_text; lines [a, b] of the old file became [a, b + delta] of the new one.
  Result<ToolOutput> commit(const std::string& path, const std::filesystem::path& abs,
                            const std::string& new_text, size_t a, size_t b,
                            const std::vector<std::string>& new_lines, long delta, const std::string& what,
                            ToolContext& ctx) {
    bool known = ctx.memory && (b < a || ctx.memory->knows_range(abs, a, b));
    auto written = write_text_file(*ctx.workspace, path, new_text);
    if (!written) return written.status();
    long nb = static_cast<long>(b) + delta;
    std::vector<std::string> region;
    for (long l = static_cast<long>(a); l <= nb; ++l) region.push_back(new_lines[static_cast<size_t>(l - 1)]);
    if (ctx.memory) ctx.memory->replaced(abs, a, b, region, known);
    // Show the changed region with a little context; those lines count as seen.
    size_t from = a > 3 ? a - 3 : 1;
    size_t to = std::min(new_lines.size(), static_cast<size_t>(std::max<long>(nb, static_cast<long>(a))) + 3);
    std::string out = "edited " + path + ": " + what + "; now " + std::to_string(new_lines.size()) + " lines\n";
    if (to >= from && to - from < 60) {
      std::vector<std::string> shown;
      for (size_t l = from; l <= to; ++l) {
        out += std::to_string(l) + "\t" + new_lines[l - 1] + "\n";
        shown.push_back(new_lines[l - 1]);
      }
      if (ctx.memory) ctx.memory->saw(abs, from, shown);
    }
    return ToolOutput{out};
  }

  ToolSpec spec_;
};

}  // namespace

std::unique_ptr<Tool> make_edit_tool() { return std::make_unique<EditTool>(); }

}  // namespace v4rt::tools
