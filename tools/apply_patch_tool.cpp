// apply_patch{patch}: applies a unified diff (one or more files; new and
// deleted files) to the workspace, all or nothing.
#include <algorithm>
#include <filesystem>
#include <map>
#include <sstream>

#include "tools/builtin_tools.h"
#include "tools/file_io.h"
#include "tools/file_memory.h"
#include "tools/text_lines.h"
#include "tools/workspace.h"

namespace v4rt::tools {

namespace fs = std::filesystem;

namespace {

struct Hunk {
  size_t old_start = 0;  // 1-based
  std::vector<std::string> old_lines, new_lines;
  size_t header_line = 0;  // line of the patch, for messages
};

struct FilePatch {
  std::string old_path, new_path;  // "" for /dev/null
  std::vector<Hunk> hunks;
};

std::string strip_prefix(std::string p) {
  size_t tab = p.find('\t');
  if (tab != std::string::npos) p = p.substr(0, tab);
  while (!p.empty() && (p.back() == ' ' || p.back() == '\r')) p.pop_back();
  if (p == "/dev/null") return "";
  if (p.rfind("a/", 0) == 0 || p.rfind("b/", 0) == 0) p = p.substr(2);
  return p;
}

Result<std::vector<FilePatch>> parse_patch(const std::string& text) {
  std::vector<std::string> lines = split_lines(text);
  std::vector<FilePatch> out;
  auto bad = [](size_t line, const std::string& why) {
    return Status::InvalidArgument("apply_patch: patch line " + std::to_string(line) + ": " + why +
                                   "; send a unified diff (--- a/path, +++ b/path, @@ -l,n +l,n @@ hunks)");
  };
  size_t i = 0;
  while (i < lines.size()) {
    const std::string& l = lines[i];
    if (l.rfind("--- ", 0) == 0 && i + 1 < lines.size() && lines[i + 1].rfind("+++ ", 0) == 0) {
      FilePatch fp;
      fp.old_path = strip_prefix(l.substr(4));
      fp.new_path = strip_prefix(lines[i + 1].substr(4));
      if (fp.old_path.empty() && fp.new_path.empty()) return bad(i + 1, "both sides are /dev/null");
      out.push_back(std::move(fp));
      i += 2;
      continue;
    }
    if (l.rfind("@@", 0) == 0) {
      if (out.empty()) return bad(i + 1, "hunk before any '--- '/'+++ ' file header");
      Hunk h;
      h.header_line = i + 1;
      long a = 0, b = 1, c = 0, d = 1;
      int got = std::sscanf(l.c_str(), "@@ -%ld,%ld +%ld,%ld", &a, &b, &c, &d);
      if (got < 4) {
        b = d = 1;
        if (std::sscanf(l.c_str(), "@@ -%ld +%ld,%ld", &a, &c, &d) < 2 &&
            std::sscanf(l.c_str(), "@@ -%ld,%ld +%ld", &a, &b, &c) < 3)
          return bad(i + 1, "cannot read the hunk header '" + l + "'");
      }
      h.old_start = static_cast<size_t>(std::max<long>(a, 0));
      ++i;
      long old_left = b, new_left = d;
      while (i < lines.size() && (old_left > 0 || new_left > 0)) {
        const std::string& hl = lines[i];
        if (hl.rfind("\\", 0) == 0) { ++i; continue; }  // "\ No newline at end of file"
        char k = hl.empty() ? ' ' : hl[0];
        std::string body = hl.empty() ? "" : hl.substr(1);
        if (k == ' ') { h.old_lines.push_back(body); h.new_lines.push_back(body); --old_left; --new_left; }
        else if (k == '-') { h.old_lines.push_back(body); --old_left; }
        else if (k == '+') { h.new_lines.push_back(body); --new_left; }
        else return bad(i + 1, "unexpected line inside a hunk (counts in the @@ header do not match the body)");
        ++i;
      }
      if (old_left > 0 || new_left > 0) return bad(i, "the patch ends inside a hunk");
      out.back().hunks.push_back(std::move(h));
      continue;
    }
    ++i;  // diff --git, index, other noise
  }
  if (out.empty()) return Status::InvalidArgument("apply_patch: no file headers found; send a unified diff");
  return out;
}

// Finds old at or near `hint` (0-based); exact lines first, then ignoring trailing whitespace.
long find_block(const std::vector<std::string>& file, const std::vector<std::string>& old, long hint) {
  if (old.empty()) return std::clamp<long>(hint, 0, static_cast<long>(file.size()));
  auto rs = [](const std::string& s) {
    size_t e = s.find_last_not_of(" \t\r");
    return e == std::string::npos ? std::string() : s.substr(0, e + 1);
  };
  for (int level = 0; level < 2; ++level) {
    long n = static_cast<long>(file.size()), k = static_cast<long>(old.size());
    for (long dist = 0; dist <= n; ++dist) {
      for (long pos : {hint - dist, hint + dist}) {
        if (pos < 0 || pos + k > n || (dist == 0 && pos != hint - dist)) continue;
        bool ok = true;
        for (long j = 0; j < k && ok; ++j)
          ok = level == 0 ? file[static_cast<size_t>(pos + j)] == old[static_cast<size_t>(j)]
                          : rs(file[static_cast<size_t>(pos + j)]) == rs(old[static_cast<size_t>(j)]);
        if (ok) return pos;
      }
    }
  }
  return -1;
}

class ApplyPatchTool : public Tool {
 public:
  ApplyPatchTool() {
    spec_.name = "apply_patch";
    spec_.kind = ToolKind::kEdit;
    spec_.subject_arg = "";
    spec_.description =
        "Apply a unified diff (as produced by diff -u or git diff) to files of the workspace. Several "
        "files, new files (--- /dev/null) and deletions (+++ /dev/null) are allowed. All hunks must "
        "apply or nothing is changed.";
    spec_.parameters = {{"type", "object"},
                        {"properties", {{"patch", {{"type", "string"}, {"description", "unified diff text"}}}}},
                        {"required", {"patch"}}};
  }
  const ToolSpec& spec() const override { return spec_; }

  Result<ToolOutput> invoke(const nlohmann::json& args, ToolContext& ctx) override {
    auto patch = arg_string(args, "apply_patch", "patch");
    if (!patch) return patch.status();
    auto files = parse_patch(*patch);
    if (!files) return files.status();
    struct Planned {
      fs::path abs;
      std::string display;
      bool remove = false;
      std::string content;
    };
    std::vector<Planned> plan;
    for (const FilePatch& fp : *files) {
      std::string target = fp.new_path.empty() ? fp.old_path : fp.new_path;
      auto abs = ctx.workspace->resolve(target);
      if (!abs) return abs.status();
      std::vector<std::string> lines;
      bool nl = true;
      std::error_code ec;
      if (!fp.old_path.empty()) {
        auto src = ctx.workspace->resolve(fp.old_path);
        if (!src) return src.status();
        auto text = read_text_file(*src, fp.old_path);
        if (!text) return text.status().with_context("apply_patch");
        lines = split_lines(*text);
        nl = ends_with_newline(*text) || text->empty();
      } else if (fs::exists(*abs, ec)) {
        return Status::InvalidArgument("apply_patch: " + target +
                                       " already exists but the patch creates it (--- /dev/null); edit it instead");
      }
      long shift = 0;
      for (const Hunk& h : fp.hunks) {
        long hint = static_cast<long>(h.old_start == 0 ? 0 : h.old_start - 1) + shift;
        long pos = find_block(lines, h.old_lines, hint);
        if (pos < 0)
          return Status::InvalidArgument("apply_patch: hunk at patch line " + std::to_string(h.header_line) +
                                         " does not apply to " + target +
                                         " (its context/removed lines are not in the file); read the file "
                                         "and regenerate the patch. Nothing was changed.");
        lines.erase(lines.begin() + pos, lines.begin() + pos + static_cast<long>(h.old_lines.size()));
        lines.insert(lines.begin() + pos, h.new_lines.begin(), h.new_lines.end());
        shift += static_cast<long>(h.new_lines.size()) - static_cast<long>(h.old_lines.size());
      }
      Planned p;
      p.abs = *abs;
      p.display = target;
      p.remove = fp.new_path.empty();
      p.content = join_lines(lines, nl);
      plan.push_back(std::move(p));
      if (!fp.old_path.empty() && !fp.new_path.empty() && fp.old_path != fp.new_path) {
        auto src = ctx.workspace->resolve(fp.old_path);
        Planned rm;
        rm.abs = *src;
        rm.display = fp.old_path;
        rm.remove = true;
        plan.push_back(std::move(rm));
      }
    }
    std::string out;
    for (const Planned& p : plan) {
      std::error_code ec;
      if (p.remove) {
        fs::remove(p.abs, ec);
        if (ec) return Status::IoError("apply_patch: cannot delete " + p.display + ": " + ec.message());
        out += "deleted " + p.display + "\n";
      } else {
        V4RT_RETURN_IF_ERROR(write_text_file(p.abs, p.content, p.display));
        out += "patched " + p.display + "\n";
      }
      if (ctx.memory) ctx.memory->forget(p.abs);  // line numbers moved: read again before line edits
    }
    return ToolOutput{out};
  }

 private:
  ToolSpec spec_;
};

}  // namespace

std::unique_ptr<Tool> make_apply_patch_tool() { return std::make_unique<ApplyPatchTool>(); }

}  // namespace v4rt::tools
