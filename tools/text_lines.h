// Line helpers shared by the file tools: split text into lines (without the
// '\n'; a trailing '\n' does not make an extra empty line) and join them back.
// Thread-safe (pure functions).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace v4rt::tools {

std::vector<std::string> split_lines(std::string_view text);
// Joins with '\n'; adds a final '\n' if trailing_newline.
std::string join_lines(const std::vector<std::string>& lines, bool trailing_newline);
bool ends_with_newline(std::string_view text);
// Whether the first 8 KiB hold a NUL byte (treated as binary by read/grep/context).
bool looks_binary(std::string_view text);

}  // namespace v4rt::tools
