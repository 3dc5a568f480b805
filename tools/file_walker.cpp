#include "tools/file_walker.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "tools/glob_match.h"

namespace v4rt::tools {

namespace fs = std::filesystem;

void GitignoreRules::add_file(const std::string& base, const std::string& text) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    while (!line.empty() && line.back() == ' ' && (line.size() < 2 || line[line.size() - 2] != '\\'))
      line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    Rule r;
    r.base = base;
    if (line[0] == '!') {
      r.negate = true;
      line.erase(0, 1);
    } else if (line[0] == '\\') {
      line.erase(0, 1);
    }
    if (!line.empty() && line.back() == '/') {
      r.dir_only = true;
      line.pop_back();
    }
    if (line.empty()) continue;
    if (line.find('/') != std::string::npos) {
      r.anchored = true;
      if (line[0] == '/') line.erase(0, 1);
    }
    r.pattern = line;
    rules_.push_back(std::move(r));
  }
}

bool GitignoreRules::ignored(const std::string& rel, bool is_dir) const {
  bool result = false;
  for (const Rule& r : rules_) {
    if (r.dir_only && !is_dir) continue;
    std::string sub;
    if (r.base.empty()) {
      sub = rel;
    } else {
      if (rel.size() <= r.base.size() || rel.compare(0, r.base.size(), r.base) != 0 ||
          rel[r.base.size()] != '/')
        continue;
      sub = rel.substr(r.base.size() + 1);
    }
    bool m;
    if (r.anchored) {
      m = glob_match(r.pattern, sub);
    } else {
      size_t slash = sub.rfind('/');
      m = glob_match(r.pattern, slash == std::string::npos ? sub : sub.substr(slash + 1));
    }
    if (m) result = !r.negate;
  }
  return result;
}

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  if (!f) return {};
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace

Result<WalkResult> walk_files(const fs::path& root, const fs::path& start, const WalkOptions& options) {
  WalkResult out;
  GitignoreRules rules;
  auto rel_of = [&](const fs::path& p) {
    if (p == root) return std::string();
    return p.lexically_relative(root).generic_string();
  };
  std::error_code ec;
  if (options.respect_gitignore) {
    rules.add_file("", slurp(root / ".git" / "info" / "exclude"));
    // .gitignore files of the directories between the root and start.
    fs::path dir = root;
    rules.add_file("", slurp(root / ".gitignore"));
    std::string srel = rel_of(start);
    if (!srel.empty()) {
      std::string acc;
      for (const auto& part : fs::path(srel)) {
        acc = acc.empty() ? part.string() : acc + "/" + part.string();
        if (rules.ignored(acc, true)) return out;  // start itself is ignored
        if (acc != srel) rules.add_file(acc, slurp(root / acc / ".gitignore"));
      }
      rules.add_file(srel, slurp(start / ".gitignore"));
    }
  }
  if (!fs::is_directory(start, ec)) {
    std::string rel = rel_of(start);
    if (fs::is_regular_file(start, ec)) out.files.push_back(rel);
    return out;
  }
  std::vector<fs::path> stack{start};
  bool first = true;
  while (!stack.empty()) {
    if (options.stop.stop_requested()) return Status::Cancelled("file walk cancelled");
    fs::path dir = stack.back();
    stack.pop_back();
    std::string drel = rel_of(dir);
    if (!first && options.respect_gitignore) {
      std::string gi = slurp(dir / ".gitignore");
      if (!gi.empty()) rules.add_file(drel, gi);
    }
    first = false;
    fs::directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec);
    if (ec) continue;
    std::vector<fs::path> subdirs;
    for (; it != fs::directory_iterator(); it.increment(ec)) {
      if (ec) break;
      const fs::path& p = it->path();
      std::string name = p.filename().string();
      if (name == ".git") continue;
      std::string rel = drel.empty() ? name : drel + "/" + name;
      auto st = it->symlink_status(ec);
      if (ec) continue;
      bool is_dir = fs::is_directory(st);
      if (options.respect_gitignore && rules.ignored(rel, is_dir)) continue;
      if (is_dir) {
        subdirs.push_back(p);
      } else if (fs::is_regular_file(st) || fs::is_symlink(st)) {
        out.files.push_back(rel);
        if (out.files.size() >= options.max_files) {
          out.truncated = true;
          std::sort(out.files.begin(), out.files.end());
          return out;
        }
      }
    }
    std::sort(subdirs.rbegin(), subdirs.rend());
    for (auto& s : subdirs) stack.push_back(std::move(s));
  }
  std::sort(out.files.begin(), out.files.end());
  return out;
}

}  // namespace v4rt::tools
