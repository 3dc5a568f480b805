// Reading and writing the text files the file tools work on. Reads refuse
// files over a size cap and binary files with a message for the model; writes
// create missing parent directories, replace the file atomically and keep its
// permission bits. Thread-safe (no shared state).
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

#include "runtime/base/status.h"

namespace v4rt::tools {

constexpr size_t kMaxTextFileBytes = 16u << 20;

// display: the path as the model wrote it (for messages).
Result<std::string> read_text_file(const std::filesystem::path& path, std::string_view display);
Status write_text_file(const std::filesystem::path& path, std::string_view content, std::string_view display);

}  // namespace v4rt::tools
