#include "agents/project_trust.h"

#include <nlohmann/json.hpp>

#include "base/file_util.h"
#include "base/sha256.h"

namespace v4rt::agents {

std::string project_settings_digest(const std::filesystem::path& workspace_root, std::string_view bytes) {
  std::string data = workspace_root.string();
  data += '\0';
  data.append(bytes);
  return sha256_hex(data);
}

bool ProjectTrust::is_trusted(const std::filesystem::path& workspace_root, std::string_view bytes) const {
  auto text = read_file(file_);
  if (!text) return false;
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("projects") || !j["projects"].is_object()) return false;
  const auto& projects = j["projects"];
  auto it = projects.find(workspace_root.string());
  return it != projects.end() && it->is_string() &&
         it->get<std::string>() == project_settings_digest(workspace_root, bytes);
}

Status ProjectTrust::approve(const std::filesystem::path& workspace_root, std::string_view bytes) {
  nlohmann::json j = nlohmann::json::object();
  if (auto text = read_file(file_); text.ok()) {
    auto old = nlohmann::json::parse(*text, nullptr, false);
    if (!old.is_discarded() && old.is_object()) j = std::move(old);
  }
  if (!j.contains("projects") || !j["projects"].is_object()) j["projects"] = nlohmann::json::object();
  j["version"] = 1;
  j["projects"][workspace_root.string()] = project_settings_digest(workspace_root, bytes);
  std::error_code ec;
  std::filesystem::create_directories(file_.parent_path(), ec);
  if (ec)
    return Status::IoError(file_.parent_path().string() + ": cannot create the state directory (" + ec.message() +
                           "); pass --state-dir DIR with a writable directory");
  return write_file_atomic(file_, j.dump(2) + "\n");
}

}  // namespace v4rt::agents
