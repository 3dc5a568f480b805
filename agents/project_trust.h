// ProjectTrust: which project settings files (<workspace>/.v4rt/settings.json)
// the user approved. The model can write that file (directly, or through a
// repository it cloned), so a settings file is trusted only while its bytes
// are exactly those the user approved for that workspace. Approvals are kept
// outside every workspace, in <state_dir>/trusted-projects.json:
//   {"version": 1, "projects": {"<canonical workspace>": "<sha256 hex>"}}
// where the digest covers the workspace path and the file bytes. Writes are
// atomic (temporary file + rename); two processes approving at once may lose
// one approval (the file is then untrusted again: the safe direction).
// Not thread-safe.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "base/sha256.h"
#include "base/status.h"

namespace v4rt::agents {

// The digest recorded for a settings file: sha256(workspace + '\0' + bytes).
std::string project_settings_digest(const std::filesystem::path& workspace_root, std::string_view bytes);

class ProjectTrust {
 public:
  explicit ProjectTrust(std::filesystem::path store_file) : file_(std::move(store_file)) {}
  static ProjectTrust in_state_dir(const std::filesystem::path& state_dir) {
    return ProjectTrust(state_dir / "trusted-projects.json");
  }

  // Whether these bytes are the approved settings of workspace_root. A missing
  // or unreadable store trusts nothing.
  bool is_trusted(const std::filesystem::path& workspace_root, std::string_view bytes) const;
  // Records bytes as the approved settings of workspace_root (replacing an older approval).
  Status approve(const std::filesystem::path& workspace_root, std::string_view bytes);

 private:
  std::filesystem::path file_;
};

}  // namespace v4rt::agents
