// list{path?}, glob{pattern}, grep{pattern, path?, glob?}: finding files and
// text in the workspace, .gitignore respected, binaries skipped.
#include <oniguruma.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>

#include "tools/builtin_tools.h"
#include "tools/file_walker.h"
#include "tools/glob_match.h"
#include "tools/text_lines.h"
#include "tools/workspace.h"

namespace v4rt::tools {

namespace fs = std::filesystem;

namespace {

constexpr size_t kMaxListed = 1000;
constexpr size_t kMaxMatches = 300;

class ListTool : public Tool {
 public:
  ListTool() {
    spec_.name = "list";
    spec_.kind = ToolKind::kRead;
    spec_.subject_arg = "path";
    spec_.description =
        "List a directory of the workspace (default: the root): its files and subdirectories, "
        "directories marked with a trailing '/', .gitignore'd entries left out.";
    spec_.parameters = {
        {"type", "object"},
        {"properties", {{"path", {{"type", "string"}, {"description", "directory relative to the workspace root"}}}}}};
  }
  const ToolSpec& spec() const override { return spec_; }

  Result<ToolOutput> invoke(const nlohmann::json& args, ToolContext& ctx) override {
    auto path = arg_string_or(args, "list", "path", ".");
    if (!path) return path.status();
    auto abs = ctx.workspace->resolve(*path);
    if (!abs) return abs.status();
    std::error_code ec;
    if (!fs::exists(*abs, ec)) return Status::NotFound("list: " + *path + " does not exist; list its parent");
    if (!fs::is_directory(*abs, ec)) return Status::InvalidArgument("list: " + *path + " is a file; use read");
    WalkOptions wo;
    wo.stop = ctx.stop;
    auto walked = walk_files(ctx.workspace->root(), *abs, wo);
    if (!walked) return walked.status();
    // Immediate children: files directly here, and directories holding listed files.
    std::string base = ctx.workspace->relative(*abs);
    std::string prefix = base == "." ? "" : base + "/";
    std::map<std::string, size_t> dirs;
    std::vector<std::string> files;
    for (const auto& f : walked->files) {
      std::string rest = f.substr(prefix.size());
      size_t slash = rest.find('/');
      if (slash == std::string::npos) files.push_back(rest);
      else ++dirs[rest.substr(0, slash)];
    }
    std::string out;
    size_t count = 0;
    for (const auto& [d, n] : dirs) {
      if (++count > kMaxListed) break;
      out += d + "/  (" + std::to_string(n) + " files)\n";
    }
    for (const auto& f : files) {
      if (++count > kMaxListed) break;
      out += f + "\n";
    }
    if (count > kMaxListed) out += "[more than " + std::to_string(kMaxListed) + " entries; use glob to narrow]\n";
    if (out.empty()) out = base + " is empty (or everything in it is ignored)\n";
    return ToolOutput{out};
  }

 private:
  ToolSpec spec_;
};

class GlobTool : public Tool {
 public:
  GlobTool() {
    spec_.name = "glob";
    spec_.kind = ToolKind::kRead;
    spec_.subject_arg = "pattern";
    spec_.description =
        "Find files by path pattern relative to the workspace root: '*' matches within a directory "
        "name, '**' across directories, e.g. src/**/*.cpp or **/CMakeLists.txt. .gitignore'd files "
        "are left out. Results are sorted, most recently modified first.";
    spec_.parameters = {{"type", "object"},
                        {"properties", {{"pattern", {{"type", "string"}, {"description", "glob pattern"}}}}},
                        {"required", {"pattern"}}};
  }
  const ToolSpec& spec() const override { return spec_; }

  Result<ToolOutput> invoke(const nlohmann::json& args, ToolContext& ctx) override {
    auto pattern = arg_string(args, "glob", "pattern");
    if (!pattern) return pattern.status();
    std::string pat = *pattern;
    if (pat.rfind("./", 0) == 0) pat = pat.substr(2);
    if (!pat.empty() && pat[0] == '/')
      return Status::InvalidArgument("glob: the pattern must be relative to the workspace root (got '" + pat + "')");
    if (pat.find("..") != std::string::npos)
      return Status::InvalidArgument("glob: '..' is not allowed; patterns are relative to the workspace root");
    WalkOptions wo;
    wo.stop = ctx.stop;
    auto walked = walk_files(ctx.workspace->root(), ctx.workspace->root(), wo);
    if (!walked) return walked.status();
    std::vector<std::pair<fs::file_time_type, std::string>> hits;
    for (const auto& f : walked->files)
      if (glob_match(pat, f)) {
        std::error_code ec;
        hits.emplace_back(fs::last_write_time(ctx.workspace->root() / f, ec), f);
      }
    std::sort(hits.begin(), hits.end(), [](const auto& x, const auto& y) {
      return x.first != y.first ? x.first > y.first : x.second < y.second;
    });
    if (hits.empty()) return ToolOutput{"no files match '" + pat + "'"};
    std::string out;
    for (size_t i = 0; i < hits.size() && i < kMaxListed; ++i) out += hits[i].second + "\n";
    if (hits.size() > kMaxListed)
      out += "[" + std::to_string(hits.size()) + " files match; showing " + std::to_string(kMaxListed) +
             "; narrow the pattern]\n";
    return ToolOutput{out};
  }

 private:
  ToolSpec spec_;
};

// Oniguruma wants one process-wide initialisation before the first compile
// (idempotent; the tokenizer does the same). Note: we cannot use <regex.h>:
// libonig exports its own regcomp/regexec, which interpose glibc's once
// Oniguruma is linked into the program.
void init_oniguruma() {
  static std::once_flag once;
  std::call_once(once, [] {
    OnigEncoding encodings[] = {ONIG_ENCODING_UTF8};
    onig_initialize(encodings, 1);
  });
}

// RAII owner of a compiled Oniguruma regex (Perl syntax: \d, \w, \b, (?i) ...).
class Regex {
 public:
  Regex() = default;
  ~Regex() {
    if (re_) onig_free(re_);
  }
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;
  Status compile(const std::string& pattern) {
    init_oniguruma();
    const auto* p = reinterpret_cast<const OnigUChar*>(pattern.data());
    OnigErrorInfo info{};
    int r = onig_new(&re_, p, p + pattern.size(), ONIG_OPTION_NONE, ONIG_ENCODING_UTF8, ONIG_SYNTAX_PERL, &info);
    if (r != ONIG_NORMAL) {
      re_ = nullptr;
      OnigUChar msg[ONIG_MAX_ERROR_MESSAGE_LEN] = {};
      onig_error_code_to_str(msg, r, &info);
      return Status::InvalidArgument("grep: pattern '" + pattern + "' is not a valid regular expression (" +
                                     reinterpret_cast<const char*>(msg) +
                                     "); escape special characters such as ( [ { with a backslash");
    }
    return Status::Ok();
  }
  // Whether the pattern matches somewhere in [begin, end) (one line).
  bool search(const char* begin, const char* end) const {
    const auto* b = reinterpret_cast<const OnigUChar*>(begin);
    const auto* e = reinterpret_cast<const OnigUChar*>(end);
    return onig_search(re_, b, e, b, e, nullptr, ONIG_OPTION_NONE) >= 0;
  }

 private:
  regex_t* re_ = nullptr;
};

class GrepTool : public Tool {
 public:
  GrepTool() {
    spec_.name = "grep";
    spec_.kind = ToolKind::kRead;
    spec_.subject_arg = "path";
    spec_.description =
        "Search file contents with a regular expression (Perl syntax: \\d, \\w, \\b, (?i) work). "
        "Searches the workspace or the given file/directory, skipping .gitignore'd and binary files; "
        "glob narrows the files (e.g. **/*.py). Returns path:line:text for each matching line.";
    spec_.parameters = {
        {"type", "object"},
        {"properties",
         {{"pattern", {{"type", "string"}, {"description", "regular expression (Perl syntax)"}}},
          {"path", {{"type", "string"}, {"description", "file or directory to search (default: workspace root)"}}},
          {"glob", {{"type", "string"}, {"description", "only files whose path matches this glob"}}}}},
        {"required", {"pattern"}}};
  }
  const ToolSpec& spec() const override { return spec_; }

  Result<ToolOutput> invoke(const nlohmann::json& args, ToolContext& ctx) override {
    auto pattern = arg_string(args, "grep", "pattern");
    if (!pattern) return pattern.status();
    auto path = arg_string_or(args, "grep", "path", ".");
    if (!path) return path.status();
    auto glob = arg_string_or(args, "grep", "glob", "");
    if (!glob) return glob.status();
    if (pattern->empty()) return Status::InvalidArgument("grep: pattern is empty");
    Regex re;
    V4RT_RETURN_IF_ERROR(re.compile(*pattern));
    auto abs = ctx.workspace->resolve(*path);
    if (!abs) return abs.status();
    std::error_code ec;
    if (!fs::exists(*abs, ec)) return Status::NotFound("grep: " + *path + " does not exist");
    WalkOptions wo;
    wo.stop = ctx.stop;
    auto walked = walk_files(ctx.workspace->root(), *abs, wo);
    if (!walked) return walked.status();
    std::string g = *glob;
    bool glob_has_slash = g.find('/') != std::string::npos;
    std::string out;
    size_t matches = 0, files_hit = 0;
    bool capped = false;
    for (const auto& rel : walked->files) {
      if (ctx.stop.stop_requested()) return Status::Cancelled("grep cancelled");
      if (!g.empty()) {
        std::string base = rel.substr(rel.rfind('/') == std::string::npos ? 0 : rel.rfind('/') + 1);
        if (!glob_match(g, glob_has_slash ? rel : base)) continue;
      }
      fs::path fp = ctx.workspace->root() / rel;
      if (fs::file_size(fp, ec) > (64u << 20) || ec) continue;
      std::ifstream in(fp, std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      std::string text = ss.str();
      if (looks_binary(text)) continue;
      bool hit_file = false;
      size_t line_no = 0, start = 0;
      while (start <= text.size()) {
        size_t nl = text.find('\n', start);
        size_t end = nl == std::string::npos ? text.size() : nl;
        ++line_no;
        if (end > start || nl != std::string::npos) {
          if (re.search(text.data() + start, text.data() + end)) {
            std::string line = text.substr(start, end - start);
            if (matches >= kMaxMatches) {
              capped = true;
              break;
            }
            ++matches;
            hit_file = true;
            if (line.size() > 300) line = line.substr(0, 300) + " [...]";
            out += rel + ":" + std::to_string(line_no) + ":" + line + "\n";
          }
        }
        if (nl == std::string::npos) break;
        start = nl + 1;
      }
      if (hit_file) ++files_hit;
      if (capped) break;
    }
    if (matches == 0) return ToolOutput{"no matches for '" + *pattern + "'"};
    if (capped)
      out += "[stopped after " + std::to_string(kMaxMatches) + " matches; narrow the pattern, path or glob]\n";
    return ToolOutput{out};
  }

 private:
  ToolSpec spec_;
};

}  // namespace

std::unique_ptr<Tool> make_list_tool() { return std::make_unique<ListTool>(); }
std::unique_ptr<Tool> make_glob_tool() { return std::make_unique<GlobTool>(); }
std::unique_ptr<Tool> make_grep_tool() { return std::make_unique<GrepTool>(); }

}  // namespace v4rt::tools
