#include "base/file_util.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "base/fs.h"

namespace v4rt {

Result<std::string> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IoError(path.string() + ": cannot open: " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Status::IoError(path.string() + ": read failed");
  return ss.str();
}

Status write_file_atomic(const std::filesystem::path& path, std::string_view bytes) {
  return write_file_durable(posix_fs(), path, bytes);
}

}  // namespace v4rt
