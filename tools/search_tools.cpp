// list{path?}, glob{pattern}, grep{pattern, path?, glob?}: finding files and
// text in the workspace, .gitignore respected, binaries skipped.
#include <fcntl.h>
#include <oniguruma.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>

#include "tools/builtin_tools.h"
#include "tools/confined_fs.h"
#include "tools/file_io.h"
#include "tools/file_walker.h"
#include "tools/glob_match.h"
#include "tools/text_lines.h"
#include "tools/workspace.h"

namespace v4rt::tools {

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
    auto dir = open_beneath(*ctx.workspace, *path, O_PATH);
    if (!dir) {
      if (dir.status().code() == Status::Code::kNotFound)
        return Status::NotFound("list: " + *path + " does not exist; list its parent");
      return dir.status();
    }
    struct stat st {};
    if (::fstat(dir->fd.get(), &st) != 0 || !S_ISDIR(st.st_mode))
      return Status::InvalidArgument("list: " + *path + " is a file; use read");
    WalkOptions wo;
    wo.stop = ctx.stop;
    wo.may_read = ctx.may_read;
    auto walked = walk_files(*ctx.workspace, dir->rel, wo);
    if (!walked) return walked.status();
    // Immediate children: files directly here, and directories holding listed files.
    std::string base = dir->rel;
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

// glob's permission subject is its pattern, not a path: touched_paths() stays
// the default (none), and path rules act through ctx.may_read, which every
// file it reports has passed (the walker leaves refused files out).
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
    wo.may_read = ctx.may_read;
    auto walked = walk_files(*ctx.workspace, ".", wo);
    if (!walked) return walked.status();
    std::vector<std::pair<int64_t, std::string>> hits;
    for (size_t i = 0; i < walked->files.size(); ++i)
      if (glob_match(pat, walked->files[i])) hits.emplace_back(walked->mtime_ns[i], walked->files[i]);
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

// Bounds on one search of one line (hole 12: a pattern such as (a+)+$
// backtracks exponentially). Oniguruma counts backtracking "retries"; at
// these limits a search stops in well under 100 ms, and no ordinary pattern
// comes near them on a line of a text file (they grow with the line only
// linearly). A search that hits one fails the whole grep with a message.
constexpr unsigned long kRetryLimitInMatch = 200000;   // per start position
constexpr unsigned long kRetryLimitInSearch = 2000000; // per line, all start positions
// Wall time for one grep call, checked between lines; past it grep stops and
// says what it searched.
constexpr auto kGrepTimeBudget = std::chrono::seconds(20);

enum class SearchResult { kMatch, kNoMatch, kTooExpensive, kError };

// RAII owner of a compiled Oniguruma regex (Perl syntax: \d, \w, \b, (?i) ...)
// and of its match parameters (the retry limits). Not thread-safe: one per call.
// Not shared with runtime/tokenizer/tokenizer_regex.h on purpose: that one
// compiles fixed tokenizer patterns in Oniguruma syntax, widened to Unicode 16
// to match Hugging Face tokenizers bit for bit, and needs no limits; this one
// compiles untrusted Perl-syntax patterns under retry limits. What they share
// is onig_new/onig_free, and tools/ may not include runtime/.
class Regex {
 public:
  Regex() = default;
  ~Regex() {
    if (mp_) onig_free_match_param(mp_);
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
    mp_ = onig_new_match_param();
    if (!mp_) return Status::ResourceExhausted("grep: out of memory for the regex match parameters");
    onig_initialize_match_param(mp_);
    onig_set_retry_limit_in_match_of_match_param(mp_, kRetryLimitInMatch);
    onig_set_retry_limit_in_search_of_match_param(mp_, kRetryLimitInSearch);
    return Status::Ok();
  }
  // Whether the pattern matches somewhere in [begin, end) (one line), within the limits.
  SearchResult search(const char* begin, const char* end) const {
    const auto* b = reinterpret_cast<const OnigUChar*>(begin);
    const auto* e = reinterpret_cast<const OnigUChar*>(end);
    int r = onig_search_with_param(re_, b, e, b, e, nullptr, ONIG_OPTION_NONE, mp_);
    if (r >= 0) return SearchResult::kMatch;
    if (r == ONIG_MISMATCH) return SearchResult::kNoMatch;
    if (r == ONIGERR_RETRY_LIMIT_IN_MATCH_OVER || r == ONIGERR_RETRY_LIMIT_IN_SEARCH_OVER ||
        r == ONIGERR_MATCH_STACK_LIMIT_OVER)
      return SearchResult::kTooExpensive;
    return SearchResult::kError;
  }

 private:
  regex_t* re_ = nullptr;
  OnigMatchParam* mp_ = nullptr;
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
    auto start = open_beneath(*ctx.workspace, *path, O_PATH);
    if (!start) {
      if (start.status().code() == Status::Code::kNotFound) return Status::NotFound("grep: " + *path + " does not exist");
      return start.status();
    }
    struct stat sst {};
    if (::fstat(start->fd.get(), &sst) == 0 && !S_ISDIR(sst.st_mode) && ctx.may_read && !ctx.may_read(start->rel))
      return read_refused("grep: " + *path);  // asked for one file, and it is refused
    WalkOptions wo;
    wo.stop = ctx.stop;
    wo.may_read = ctx.may_read;
    auto walked = walk_files(*ctx.workspace, start->rel, wo);
    if (!walked) return walked.status();
    std::string g = *glob;
    bool glob_has_slash = g.find('/') != std::string::npos;
    std::string out;
    size_t matches = 0, files_hit = 0, files_searched = 0;
    bool capped = false, out_of_time = false;
    const auto deadline = std::chrono::steady_clock::now() + kGrepTimeBudget;
    for (const auto& rel : walked->files) {
      if (ctx.stop.stop_requested()) return Status::Cancelled("grep cancelled");
      if (!g.empty()) {
        std::string base = rel.substr(rel.rfind('/') == std::string::npos ? 0 : rel.rfind('/') + 1);
        if (!glob_match(g, glob_has_slash ? rel : base)) continue;
      }
      // Through the confinement layer again: the walk's answer may be stale.
      auto file = open_beneath(*ctx.workspace, rel, O_RDONLY | O_NONBLOCK);
      if (!file) continue;
      if (ctx.may_read && !ctx.may_read(file->rel)) continue;
      struct stat st {};
      if (::fstat(file->fd.get(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > (64 << 20)) continue;
      auto content = read_all(file->fd.get(), rel);
      if (!content) continue;
      const std::string& text = *content;
      if (looks_binary(text)) continue;
      ++files_searched;
      bool hit_file = false;
      size_t line_no = 0, begin = 0;
      while (begin <= text.size()) {
        if (ctx.stop.stop_requested()) return Status::Cancelled("grep cancelled");
        if (std::chrono::steady_clock::now() > deadline) {
          out_of_time = true;
          break;
        }
        size_t nl = text.find('\n', begin);
        size_t end = nl == std::string::npos ? text.size() : nl;
        ++line_no;
        if (end > begin || nl != std::string::npos) {
          SearchResult r = re.search(text.data() + begin, text.data() + end);
          if (r == SearchResult::kTooExpensive)
            return Status::ResourceExhausted(
                "grep: pattern '" + *pattern + "' is too expensive (it backtracks without bound on " + rel + ":" +
                std::to_string(line_no) +
                "); simplify it: avoid nested or overlapping quantifiers such as (a+)+ or (a|a)*, or use a "
                "literal string");
          if (r == SearchResult::kError)
            return Status::Internal("grep: the regex engine failed on " + rel + ":" + std::to_string(line_no));
          if (r == SearchResult::kMatch) {
            std::string line = text.substr(begin, end - begin);
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
        begin = nl + 1;
      }
      if (hit_file) ++files_hit;
      if (capped || out_of_time) break;
    }
    if (out_of_time)
      out += "[stopped after " + std::to_string(kGrepTimeBudget.count()) + " s, " + std::to_string(files_searched) +
             " files searched; narrow the path or glob, or simplify the pattern]\n";
    if (matches == 0 && !out_of_time) return ToolOutput{"no matches for '" + *pattern + "'"};
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
