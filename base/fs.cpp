#include "base/fs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

namespace v4rt {
namespace {

Status errno_status(const std::filesystem::path& p, std::string_view what, int e) {
  std::string msg = p.string() + ": " + std::string(what) + " failed: " + std::strerror(e);
  if (e == ENOSPC || e == EDQUOT) return Status::ResourceExhausted(msg + "; free disk space (for the session store: or lower its budget)");
  return Status::IoError(msg);
}

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(std::filesystem::path path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixWritableFile() override { (void)close(); }
  Status append(std::string_view data) override {
    while (!data.empty()) {
      ssize_t n = ::write(fd_, data.data(), data.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        return errno_status(path_, "write", errno);
      }
      data.remove_prefix(static_cast<size_t>(n));
    }
    return Status::Ok();
  }
  Status sync() override {
    if (::fsync(fd_) != 0) return errno_status(path_, "fsync", errno);
    return Status::Ok();
  }
  Status close() override {
    if (fd_ < 0) return Status::Ok();
    int rc = ::close(fd_);
    fd_ = -1;
    if (rc != 0) return errno_status(path_, "close", errno);
    return Status::Ok();
  }

 private:
  std::filesystem::path path_;
  int fd_;
};

class PosixFs final : public Fs {
 public:
  Result<std::unique_ptr<WritableFile>> create(const std::filesystem::path& path) override {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return errno_status(path, "create", errno);
    return std::unique_ptr<WritableFile>(std::make_unique<PosixWritableFile>(path, fd));
  }
  Result<std::string> read(const std::filesystem::path& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) return Status::NotFound(path.string() + ": file is missing");
      return errno_status(path, "open", errno);
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      int e = errno;
      ::close(fd);
      return errno_status(path, "stat", e);
    }
    std::string out(static_cast<size_t>(st.st_size), '\0');
    size_t off = 0;
    while (off < out.size()) {
      ssize_t n = ::read(fd, out.data() + off, out.size() - off);
      if (n < 0) {
        if (errno == EINTR) continue;
        int e = errno;
        ::close(fd);
        return errno_status(path, "read", e);
      }
      if (n == 0) break;
      off += static_cast<size_t>(n);
    }
    out.resize(off);
    ::close(fd);
    return out;
  }
  Result<uint64_t> file_size(const std::filesystem::path& path) override {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
      if (errno == ENOENT) return Status::NotFound(path.string() + ": file is missing");
      return errno_status(path, "stat", errno);
    }
    return static_cast<uint64_t>(st.st_size);
  }
  Status rename(const std::filesystem::path& from, const std::filesystem::path& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) return errno_status(to, "rename", errno);
    return Status::Ok();
  }
  Status remove(const std::filesystem::path& path) override {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) return errno_status(path, "unlink", errno);
    return Status::Ok();
  }
  Status create_dirs(const std::filesystem::path& dir) override {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return Status::IoError(dir.string() + ": cannot create directory: " + ec.message());
    return Status::Ok();
  }
  Status sync_dir(const std::filesystem::path& dir) override {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return errno_status(dir, "open directory", errno);
    int rc = ::fsync(fd);
    int e = errno;
    ::close(fd);
    if (rc != 0) return errno_status(dir, "fsync directory", e);
    return Status::Ok();
  }
  Result<std::vector<DirEntry>> list_files(const std::filesystem::path& dir) override {
    std::vector<DirEntry> out;
    std::error_code ec;
    if (!std::filesystem::exists(dir, ec)) return out;
    std::filesystem::recursive_directory_iterator it(dir, ec), end;
    if (ec) return Status::IoError(dir.string() + ": cannot list: " + ec.message());
    for (; it != end; it.increment(ec)) {
      if (ec) return Status::IoError(dir.string() + ": cannot list: " + ec.message());
      struct stat st {};
      if (::lstat(it->path().c_str(), &st) != 0) continue;  // vanished meanwhile
      if (!S_ISREG(st.st_mode)) continue;
      out.push_back({it->path(), static_cast<uint64_t>(st.st_size), static_cast<int64_t>(st.st_mtime), false});
    }
    return out;
  }
};

}  // namespace

Fs& posix_fs() {
  static PosixFs fs;  // stateless
  return fs;
}

Status write_file_durable(Fs& fs, const std::filesystem::path& path, std::string_view data) {
  return write_file_durable(fs, path, std::span<const std::string_view>(&data, 1));
}

Status write_file_durable(Fs& fs, const std::filesystem::path& path, std::span<const std::string_view> pieces) {
  std::random_device rd;
  std::filesystem::path tmp = path;
  tmp += ".tmp" + std::to_string(rd());
  auto file = fs.create(tmp);
  if (!file) return file.status();
  Status s = Status::Ok();
  for (std::string_view piece : pieces) {
    if (!s.ok()) break;
    if (!piece.empty()) s = (*file)->append(piece);
  }
  if (s.ok()) s = (*file)->sync();
  Status c = (*file)->close();
  if (s.ok()) s = c;
  if (s.ok()) s = fs.rename(tmp, path);
  if (!s.ok()) {
    (void)fs.remove(tmp);
    return s;
  }
  // A bare file name lives in the working directory.
  return fs.sync_dir(path.has_parent_path() ? path.parent_path() : std::filesystem::path("."));
}

}  // namespace v4rt
