#include "tools/file_io.h"

#include "runtime/base/file_util.h"
#include "tools/text_lines.h"

namespace v4rt::tools {

namespace fs = std::filesystem;

Result<std::string> read_text_file(const fs::path& path, std::string_view display) {
  std::error_code ec;
  auto st = fs::status(path, ec);
  std::string d(display);
  if (ec || !fs::exists(st))
    return Status::NotFound(d + ": no such file; use list or glob to find the right path");
  if (fs::is_directory(st)) return Status::InvalidArgument(d + ": is a directory; use list to see its entries");
  if (!fs::is_regular_file(st)) return Status::InvalidArgument(d + ": not a regular file");
  auto size = fs::file_size(path, ec);
  if (!ec && size > kMaxTextFileBytes)
    return Status::ResourceExhausted(d + ": " + std::to_string(size) + " bytes is over the " +
                                     std::to_string(kMaxTextFileBytes >> 20) +
                                     " MiB limit of the file tools; use grep or shell (head, sed -n) on it");
  auto text = read_file(path);
  if (!text) return text.status();
  if (looks_binary(*text))
    return Status::InvalidArgument(d + ": looks like a binary file (NUL bytes); the file tools handle text only");
  return text;
}

Status write_text_file(const fs::path& path, std::string_view content, std::string_view display) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  if (ec)
    return Status::IoError(std::string(display) + ": cannot create its directory (" + ec.message() + ")");
  auto st = fs::status(path, ec);
  bool existed = !ec && fs::exists(st);
  if (existed && fs::is_directory(st))
    return Status::InvalidArgument(std::string(display) + ": is a directory; choose a file path");
  fs::perms perms = existed ? st.permissions() : fs::perms::none;
  V4RT_RETURN_IF_ERROR(write_file_atomic(path, content).with_context(display));
  if (existed) fs::permissions(path, perms, ec);
  return Status::Ok();
}

}  // namespace v4rt::tools
