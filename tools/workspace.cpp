#include "tools/workspace.h"

namespace v4rt::tools {

namespace fs = std::filesystem;

Result<Workspace> Workspace::open(const fs::path& root) {
  std::error_code ec;
  fs::path canon = fs::canonical(root, ec);
  if (ec || !fs::is_directory(canon, ec))
    return Status::InvalidArgument("workspace " + root.string() +
                                   ": not an existing directory; pass --workspace DIR or cd into the project");
  return Workspace(canon);
}

bool Workspace::contains(const fs::path& canonical) const {
  const std::string& r = root_.native();
  const std::string& p = canonical.native();
  if (p == r) return true;
  if (r == "/") return true;
  return p.size() > r.size() && p.compare(0, r.size(), r) == 0 && p[r.size()] == '/';
}

std::string Workspace::relative(const fs::path& abs) const {
  if (abs == root_) return ".";
  std::error_code ec;
  fs::path rel = abs.lexically_relative(root_);
  if (rel.empty()) return abs.string();
  return rel.generic_string();
}

Result<fs::path> Workspace::resolve(std::string_view user_path) const {
  std::string p(user_path);
  auto refuse = [&](const std::string& why) {
    return Status::InvalidArgument("path '" + p + "' refused: " + why +
                                   "; use a path relative to the workspace root " + root_.string());
  };
  if (p.find('\0') != std::string::npos) return refuse("it contains a NUL byte");
  fs::path given = p.empty() ? fs::path(".") : fs::path(p);
  for (const auto& part : given)
    if (part == "..") return refuse("'..' components are not allowed");
  fs::path abs = given.is_absolute() ? given : root_ / given;
  abs = abs.lexically_normal();
  if (!abs.empty() && abs.filename().empty()) abs = abs.parent_path();  // trailing '/'
  // Canonicalise the longest existing prefix (following every symlink on the
  // way), then re-append the part that does not exist yet.
  fs::path existing = abs;
  fs::path rest;
  std::error_code ec;
  while (!fs::exists(fs::symlink_status(existing, ec))) {
    if (!existing.has_parent_path() || existing.parent_path() == existing) break;
    rest = existing.filename() / rest;
    existing = existing.parent_path();
  }
  fs::path canon = fs::canonical(existing, ec);
  if (ec) {
    // A dangling symlink: where it points decides.
    if (fs::is_symlink(fs::symlink_status(existing, ec)))
      return refuse("it is a symlink whose target does not exist");
    return refuse("it cannot be resolved (" + ec.message() + ")");
  }
  if (!contains(canon)) return refuse("it resolves outside the workspace (to " + canon.string() + ")");
  fs::path full = rest.empty() ? canon : (canon / rest).lexically_normal();
  if (!full.empty() && full.filename().empty()) full = full.parent_path();
  if (!contains(full)) return refuse("it resolves outside the workspace");
  return full;
}

}  // namespace v4rt::tools
