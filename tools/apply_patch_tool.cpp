// apply_patch{patch}: applies a unified diff (one or more files; new and
// deleted files) to the workspace, all or nothing.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <sstream>

#include "tools/builtin_tools.h"
#include "tools/confined_fs.h"
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

// A status of the same kind as st with another message.
Status restated(const Status& st, std::string msg) {
  switch (st.code()) {
    case Status::Code::kInvalidArgument: return Status::InvalidArgument(std::move(msg));
    case Status::Code::kNotFound: return Status::NotFound(std::move(msg));
    case Status::Code::kResourceExhausted: return Status::ResourceExhausted(std::move(msg));
    case Status::Code::kCancelled: return Status::Cancelled(std::move(msg));
    default: return Status::IoError(std::move(msg));
  }
}

// One file change of a patch, planned before anything is touched.
struct Change {
  std::string display;        // the path as the patch writes it
  std::string rel;            // canonical workspace-relative path
  bool remove = false;        // delete the entry (a symlink: the link itself)
  std::string content;        // new content (when !remove)
  // What was there before, to put back if a later step fails.
  bool existed = false;
  bool was_symlink = false;
  std::string old_content;    // regular file: its text; symlink: its target
  mode_t old_mode = 0;
  uid_t old_uid = 0;
  gid_t old_gid = 0;
  std::vector<std::string> created_dirs;  // missing parent directories (deepest last), removed on rollback
  // Staged state.
  ParentDir parent;
  std::string temp;           // staged temporary file (when !remove)
  bool committed = false;
};

// Canonical path of `path` with its last component not followed ("a/link").
Result<std::string> canonical_nofollow(const Workspace& ws, const std::string& path) {
  auto comps = split_workspace_path(ws, path);
  if (!comps) return comps.status();
  if (comps->empty()) return std::string(".");
  std::string name = comps->back();
  std::string parent;
  for (size_t i = 0; i + 1 < comps->size(); ++i) parent += (parent.empty() ? "" : "/") + (*comps)[i];
  auto prel = resolve_beneath(ws, parent.empty() ? "." : parent);
  if (!prel) return prel.status();
  return *prel == "." ? name : *prel + "/" + name;
}

// The directories of rel's parent chain that do not exist yet, shallowest first.
std::vector<std::string> missing_dirs(const Workspace& ws, const std::string& rel) {
  std::vector<std::string> out;
  std::string acc;
  auto comps = split_workspace_path(ws, rel);
  if (!comps) return out;
  for (size_t i = 0; i + 1 < comps->size(); ++i) {
    acc += (acc.empty() ? "" : "/") + (*comps)[i];
    if (!out.empty() || !open_beneath(ws, acc, O_PATH).ok()) out.push_back(acc);
  }
  return out;
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
        "apply or nothing is changed. Deleting a symlink removes the link; .git/ and .v4rt/ cannot be "
        "changed.";
    spec_.parameters = {{"type", "object"},
                        {"properties", {{"patch", {{"type", "string"}, {"description", "unified diff text"}}}}},
                        {"required", {"patch"}}};
  }
  const ToolSpec& spec() const override { return spec_; }

  // Every file the patch adds, updates, deletes or moves from/to: the
  // canonical path of the entry itself and, where a symlink is on the last
  // component, of what it points to.
  Result<std::vector<std::string>> touched_paths(const nlohmann::json& args, const ToolContext& ctx) const override {
    if (!ctx.workspace) return std::vector<std::string>{};
    auto patch = arg_string(args, "apply_patch", "patch");
    if (!patch) return patch.status();
    auto files = parse_patch(*patch);
    if (!files) return files.status();
    std::vector<std::string> out;
    auto add = [&](const std::string& p) { if (std::find(out.begin(), out.end(), p) == out.end()) out.push_back(p); };
    for (const FilePatch& fp : *files)
      for (const std::string* p : {&fp.old_path, &fp.new_path}) {
        if (p->empty()) continue;
        auto entry = canonical_nofollow(*ctx.workspace, *p);
        if (!entry) return entry.status();
        add(*entry);
        auto followed = resolve_beneath(*ctx.workspace, *p);
        // A symlink that points out is named by its own path: deleting it is
        // allowed (the link goes, never its target), and invoke() refuses the
        // rest with its own message.
        if (followed) add(*followed);
      }
    return out;
  }

  Result<ToolOutput> invoke(const nlohmann::json& args, ToolContext& ctx) override {
    auto patch = arg_string(args, "apply_patch", "patch");
    if (!patch) return patch.status();
    auto files = parse_patch(*patch);
    if (!files) return files.status();
    const Workspace& ws = *ctx.workspace;
    std::vector<Change> plan;
    // 1. Plan: read every source, apply every hunk in memory, check every target.
    for (const FilePatch& fp : *files) {
      std::string target = fp.new_path.empty() ? fp.old_path : fp.new_path;
      bool deleting = fp.new_path.empty();
      std::vector<std::string> lines;
      bool nl = true;
      Change src_change;  // the deletion of the source (delete, or the old side of a move)
      bool src_is_symlink = false;
      if (!fp.old_path.empty()) {
        auto p = open_parent_beneath(ws, fp.old_path, false, true);
        if (!p) return p.status().with_context("apply_patch");
        auto info = stat_entry(p->dir.get(), p->name);
        if (!info) return info.status().with_context("apply_patch");
        if (!info->exists)
          return Status::NotFound("apply_patch: " + fp.old_path + " does not exist; read the file list and regenerate "
                                  "the patch. Nothing was changed.");
        src_is_symlink = S_ISLNK(info->mode);
        if (src_is_symlink && !deleting)
          return Status::InvalidArgument("apply_patch: " + fp.old_path +
                                         " is a symlink; file tools do not write through symlinks: patch the file it "
                                         "points to by its own path. Nothing was changed.");
        src_change.display = fp.old_path;
        src_change.rel = p->rel();
        src_change.remove = true;
        src_change.existed = true;
        src_change.old_mode = info->mode;
        src_change.old_uid = info->uid;
        src_change.old_gid = info->gid;
        if (src_is_symlink) {
          // The link is removed, never followed; its content is not checked.
          auto t = read_link_at(p->dir.get(), p->name);
          if (!t) return t.status().with_context("apply_patch");
          src_change.was_symlink = true;
          src_change.old_content = *t;
        } else {
          auto text = read_text_file_for_edit(ws, fp.old_path, ctx.may_read);
          if (!text) return text.status().with_context("apply_patch");
          src_change.old_content = text->text;
          lines = split_lines(text->text);
          nl = ends_with_newline(text->text) || text->text.empty();
        }
      }
      if (!src_is_symlink) {
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
      }
      if (!deleting) {
        Change c;
        c.display = fp.new_path;
        c.content = join_lines(lines, nl);
        V4RT_RETURN_IF_ERROR(check_not_protected(fp.new_path, "apply_patch: " + fp.new_path));
        auto rel = canonical_nofollow(ws, fp.new_path);
        if (!rel) return rel.status().with_context("apply_patch");
        V4RT_RETURN_IF_ERROR(check_not_protected(*rel, "apply_patch: " + fp.new_path));
        c.rel = *rel;
        bool same_file = !fp.old_path.empty() && c.rel == src_change.rel;
        if (same_file) {
          c.existed = true;
          c.old_content = src_change.old_content;
          c.old_mode = src_change.old_mode;
          c.old_uid = src_change.old_uid;
          c.old_gid = src_change.old_gid;
        } else {
          auto exists = open_beneath(ws, c.rel, O_PATH | O_NOFOLLOW);
          if (exists.ok())
            return Status::InvalidArgument("apply_patch: " + fp.new_path + " already exists but the patch " +
                                           (fp.old_path.empty() ? "creates it (--- /dev/null)" : "moves a file onto it") +
                                           "; edit it instead. Nothing was changed.");
          c.created_dirs = missing_dirs(ws, c.rel);
        }
        plan.push_back(std::move(c));
        if (same_file) continue;
      }
      if (!fp.old_path.empty()) plan.push_back(std::move(src_change));
    }
    for (size_t i = 0; i < plan.size(); ++i)
      for (size_t j = 0; j < i; ++j)
        if (plan[i].rel == plan[j].rel)
          return Status::InvalidArgument("apply_patch: the patch changes " + plan[i].display +
                                         " more than once; put all its hunks under one file header. Nothing was "
                                         "changed.");
    if (ctx.stop.stop_requested()) return Status::Cancelled("apply_patch cancelled; nothing was changed");
    // 2. Stage: open every directory (creating missing ones) and write every
    // new content to a temporary file beside its target.
    for (Change& c : plan) {
      Status st = stage(ws, c);
      if (!st.ok()) {
        rollback(ws, plan);
        return restated(st, "apply_patch: " + st.message() + ". Nothing was changed.");
      }
    }
    if (ctx.stop.stop_requested()) {
      rollback(ws, plan);
      return Status::Cancelled("apply_patch cancelled; nothing was changed");
    }
    // 3. Commit: rename each temporary file into place, unlink each deletion.
    // A failing step undoes the steps before it.
    for (Change& c : plan) {
      Status st = commit(ws, c);
      if (!st.ok()) {
        rollback(ws, plan);
        return restated(st, "apply_patch: " + st.message() +
                                     "; every change this patch had made was undone, nothing was changed");
      }
    }
    std::string out;
    for (const Change& c : plan) {
      out += (c.remove ? "deleted " : "patched ") + c.display + "\n";
      if (ctx.memory) ctx.memory->forget(ws.root() / c.rel);  // line numbers moved: read again before line edits
    }
    return ToolOutput{out};
  }

 private:
  static Status stage(const Workspace& ws, Change& c) {
    auto p = open_parent_beneath(ws, c.rel, /*create_dirs=*/!c.remove, /*for_write=*/true);
    if (!p) return p.status();
    c.parent = std::move(*p);
    if (c.remove) {
      auto info = stat_entry(c.parent.dir.get(), c.parent.name);
      if (!info) return info.status();
      if (!info->exists || S_ISLNK(info->mode) != c.was_symlink)
        return Status::InvalidArgument(c.display + " changed while the patch was being applied; retry");
      return Status::Ok();
    }
    auto info = inspect_write_target(c.parent, c.display);
    if (!info) return info.status();
    if (info->exists != c.existed)
      return Status::InvalidArgument(c.display + " changed while the patch was being applied; retry");
    TempOwner owner;
    mode_t mode = new_file_mode();
    if (c.existed) {
      owner = {true, c.old_uid, c.old_gid};
      mode = c.old_mode & 07777;
    }
    auto tmp = create_temp_file(c.parent.dir.get(), c.content, mode, owner, c.display);
    if (!tmp) return tmp.status();
    c.temp = *tmp;
    return Status::Ok();
  }

  static Status commit(const Workspace& ws, Change& c) {
    if (ws.options().fault_injector)
      V4RT_RETURN_IF_ERROR(ws.options().fault_injector((c.remove ? "delete " : "write ") + c.rel));
    if (c.remove) {
      V4RT_RETURN_IF_ERROR(unlink_in_dir(c.parent.dir.get(), c.parent.name, c.display));
    } else {
      V4RT_RETURN_IF_ERROR(rename_in_dir(c.parent.dir.get(), c.temp, c.parent.name, c.display));
      c.temp.clear();
    }
    c.committed = true;
    return Status::Ok();
  }

  // Puts back what the committed changes replaced and removes every staged
  // temporary file and every directory the patch created (best effort: each
  // step is tried even when one before it failed).
  static void rollback(const Workspace& ws, std::vector<Change>& plan) {
    for (auto it = plan.rbegin(); it != plan.rend(); ++it) {
      Change& c = *it;
      int dir = c.parent.dir.get();
      if (dir < 0) continue;
      if (!c.temp.empty()) (void)unlink_in_dir(dir, c.temp, c.display);
      if (c.committed) {
        if (!c.existed) {
          (void)unlink_in_dir(dir, c.parent.name, c.display);
        } else if (c.was_symlink) {
          (void)::symlinkat(c.old_content.c_str(), dir, c.parent.name.c_str());
        } else {
          auto tmp = create_temp_file(dir, c.old_content, c.old_mode & 07777, {true, c.old_uid, c.old_gid}, c.display);
          if (tmp) (void)rename_in_dir(dir, *tmp, c.parent.name, c.display);
        }
      }
    }
    // Directories made for new files, deepest first; rmdir fails (and keeps
    // them) when something else was put in them meanwhile.
    for (auto it = plan.rbegin(); it != plan.rend(); ++it)
      for (auto d = it->created_dirs.rbegin(); d != it->created_dirs.rend(); ++d) {
        auto p = open_parent_beneath(ws, *d, false, false);
        if (p) (void)::unlinkat(p->dir.get(), p->name.c_str(), AT_REMOVEDIR);
      }
  }

  ToolSpec spec_;
};

}  // namespace

std::unique_ptr<Tool> make_apply_patch_tool() { return std::make_unique<ApplyPatchTool>(); }

}  // namespace v4rt::tools
