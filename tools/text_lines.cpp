#include "tools/text_lines.h"

#include <algorithm>

namespace v4rt::tools {

std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) {
      lines.emplace_back(text.substr(start));
      break;
    }
    lines.emplace_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

std::string join_lines(const std::vector<std::string>& lines, bool trailing_newline) {
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i) out += '\n';
    out += lines[i];
  }
  if (trailing_newline && !lines.empty()) out += '\n';
  return out;
}

bool ends_with_newline(std::string_view text) { return !text.empty() && text.back() == '\n'; }

bool looks_binary(std::string_view text) {
  std::string_view head = text.substr(0, std::min<size_t>(text.size(), 8192));
  return head.find('\0') != std::string_view::npos;
}

}  // namespace v4rt::tools
