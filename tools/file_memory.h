// FileMemory: which lines of which files the model has been shown (by read) or
// has written itself (write, edit), with the exact text it saw. Line-range
// edits are allowed only on lines the model has seen and that are unchanged
// since; anything else is refused with a request to read again.
// Thread-safe (one mutex; read tools run concurrently).
#pragma once

#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace v4rt::tools {

class FileMemory {
 public:
  // The model was shown lines [first_line, first_line + lines.size()) (1-based).
  void saw(const std::filesystem::path& file, size_t first_line, const std::vector<std::string>& lines);
  // The model knows the whole file (it wrote it): lines replace all memory.
  void know_all(const std::filesystem::path& file, const std::vector<std::string>& lines);
  // Lines [first, last] (1-based, inclusive; last = first - 1 for an insertion)
  // were replaced by new_lines; later lines shift. The new lines are known iff known.
  void replaced(const std::filesystem::path& file, size_t first, size_t last,
                const std::vector<std::string>& new_lines, bool known);
  void forget(const std::filesystem::path& file);
  void clear();  // forget everything (another conversation)
  bool has_seen(const std::filesystem::path& file) const;
  // Whether lines [first, last] of `current` (the file's lines now) were all
  // shown and are unchanged. InvalidArgument naming the first bad line otherwise.
  Status check_range(const std::filesystem::path& file, size_t first, size_t last,
                     const std::vector<std::string>& current) const;
  // Whether all lines [first, last] were known (before an edit).
  bool knows_range(const std::filesystem::path& file, size_t first, size_t last) const;

 private:
  using Lines = std::vector<std::optional<std::string>>;  // index = line - 1
  mutable std::mutex mu_;  // guards files_
  std::map<std::filesystem::path, Lines> files_;
};

}  // namespace v4rt::tools
