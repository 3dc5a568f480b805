#include "tools/file_memory.h"

namespace v4rt::tools {

void FileMemory::saw(const std::filesystem::path& file, size_t first_line,
                     const std::vector<std::string>& lines) {
  if (first_line == 0) first_line = 1;
  std::lock_guard<std::mutex> lock(mu_);
  Lines& m = files_[file];
  if (m.size() < first_line - 1 + lines.size()) m.resize(first_line - 1 + lines.size());
  for (size_t i = 0; i < lines.size(); ++i) m[first_line - 1 + i] = lines[i];
}

void FileMemory::know_all(const std::filesystem::path& file, const std::vector<std::string>& lines) {
  std::lock_guard<std::mutex> lock(mu_);
  Lines m(lines.begin(), lines.end());
  files_[file] = std::move(m);
}

void FileMemory::replaced(const std::filesystem::path& file, size_t first, size_t last,
                          const std::vector<std::string>& new_lines, bool known) {
  std::lock_guard<std::mutex> lock(mu_);
  Lines& m = files_[file];
  if (first == 0) first = 1;
  size_t begin = first - 1;
  size_t end = last >= first ? last : first - 1;  // exclusive, 0-based
  if (m.size() < end) m.resize(end);
  Lines repl;
  for (const auto& l : new_lines) repl.push_back(known ? std::optional<std::string>(l) : std::nullopt);
  m.erase(m.begin() + static_cast<long>(begin), m.begin() + static_cast<long>(end));
  m.insert(m.begin() + static_cast<long>(begin), repl.begin(), repl.end());
}

void FileMemory::forget(const std::filesystem::path& file) {
  std::lock_guard<std::mutex> lock(mu_);
  files_.erase(file);
}

void FileMemory::clear() {
  std::lock_guard<std::mutex> lock(mu_);
  files_.clear();
}

bool FileMemory::has_seen(const std::filesystem::path& file) const {
  std::lock_guard<std::mutex> lock(mu_);
  return files_.count(file) > 0;
}

bool FileMemory::knows_range(const std::filesystem::path& file, size_t first, size_t last) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = files_.find(file);
  if (it == files_.end()) return false;
  for (size_t l = first; l <= last; ++l)
    if (l == 0 || l > it->second.size() || !it->second[l - 1]) return false;
  return true;
}

Status FileMemory::check_range(const std::filesystem::path& file, size_t first, size_t last,
                               const std::vector<std::string>& current) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = files_.find(file);
  if (it == files_.end())
    return Status::InvalidArgument(
        "lines " + std::to_string(first) + "-" + std::to_string(last) +
        " were never shown to you; call read on this file first, then retry the edit");
  const Lines& m = it->second;
  for (size_t l = first; l <= last; ++l) {
    if (l > current.size())
      return Status::InvalidArgument("line " + std::to_string(l) + " is past the end of the file (" +
                                     std::to_string(current.size()) + " lines); read the file again");
    if (l > m.size() || !m[l - 1])
      return Status::InvalidArgument("line " + std::to_string(l) +
                                     " was never shown to you; read lines " + std::to_string(first) +
                                     "-" + std::to_string(last) + " first, then retry the edit");
    if (*m[l - 1] != current[l - 1])
      return Status::InvalidArgument("line " + std::to_string(l) +
                                     " changed since you last read it; read the file again and retry "
                                     "with the current line numbers");
  }
  return Status::Ok();
}

}  // namespace v4rt::tools
