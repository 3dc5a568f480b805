// Small file helpers shared by every folder. Errors name the path.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "base/status.h"

namespace v4rt {

Result<std::string> read_file(const std::filesystem::path& path);
// Writes via a uniquely named temporary file + fsync + rename + fsync of the
// directory (base/fs.h write_file_durable), so readers never see a partial file
// and the new content survives a crash once this returns ok.
Status write_file_atomic(const std::filesystem::path& path, std::string_view bytes);

}  // namespace v4rt
