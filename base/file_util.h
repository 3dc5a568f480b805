// Small file helpers shared by every folder. Errors name the path.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "base/status.h"

namespace v4rt {

Result<std::string> read_file(const std::filesystem::path& path);
// Writes via a temporary file + fsync + rename, so readers never see a partial file.
Status write_file_atomic(const std::filesystem::path& path, std::string_view bytes);

}  // namespace v4rt
