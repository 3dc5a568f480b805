#include "sessions/fs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

namespace v4rt::sessions {
namespace {

Status errno_status(const std::filesystem::path& p, std::string_view what, int e) {
  std::string msg = p.string() + ": " + std::string(what) + " failed: " + std::strerror(e);
  if (e == ENOSPC || e == EDQUOT) return Status::ResourceExhausted(msg + "; free disk space or lower the store budget");
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

class FaultWritableFile final : public WritableFile {
 public:
  FaultWritableFile(FaultFs& fs, std::unique_ptr<WritableFile> base) : fs_(fs), base_(std::move(base)) {}
  Status append(std::string_view data) override {
    if (Status s = fs_.tick("append"); !s.ok()) {
      (void)base_->append(data.substr(0, data.size() / 2));  // torn write
      return s;
    }
    return base_->append(data);
  }
  Status sync() override {
    V4RT_RETURN_IF_ERROR(fs_.tick("fsync"));
    return base_->sync();
  }
  Status close() override {
    Status injected = fs_.tick("close");
    Status s = base_->close();
    return injected.ok() ? s : injected;
  }

 private:
  FaultFs& fs_;
  std::unique_ptr<WritableFile> base_;
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
  return fs.sync_dir(path.parent_path());
}

Status FaultFs::tick(std::string_view what) {
  ++ops_;
  if (options_.fail_from_op > 0 && ops_ >= options_.fail_from_op) {
    fired_ = true;
    return Status::IoError("injected fault at operation " + std::to_string(ops_) + " (" + std::string(what) + ")");
  }
  return Status::Ok();
}

Result<std::unique_ptr<WritableFile>> FaultFs::create(const std::filesystem::path& path) {
  V4RT_RETURN_IF_ERROR(tick("create"));
  auto f = base_.create(path);
  if (!f) return f.status();
  return std::unique_ptr<WritableFile>(std::make_unique<FaultWritableFile>(*this, std::move(*f)));
}
Result<std::string> FaultFs::read(const std::filesystem::path& path) {
  V4RT_RETURN_IF_ERROR(tick("read"));
  return base_.read(path);
}
Result<uint64_t> FaultFs::file_size(const std::filesystem::path& path) {
  V4RT_RETURN_IF_ERROR(tick("stat"));
  return base_.file_size(path);
}
Status FaultFs::rename(const std::filesystem::path& from, const std::filesystem::path& to) {
  V4RT_RETURN_IF_ERROR(tick("rename"));
  return base_.rename(from, to);
}
Status FaultFs::remove(const std::filesystem::path& path) {
  V4RT_RETURN_IF_ERROR(tick("remove"));
  return base_.remove(path);
}
Status FaultFs::create_dirs(const std::filesystem::path& dir) {
  V4RT_RETURN_IF_ERROR(tick("mkdir"));
  return base_.create_dirs(dir);
}
Status FaultFs::sync_dir(const std::filesystem::path& dir) {
  V4RT_RETURN_IF_ERROR(tick("fsync dir"));
  return base_.sync_dir(dir);
}
Result<std::vector<DirEntry>> FaultFs::list_files(const std::filesystem::path& dir) {
  V4RT_RETURN_IF_ERROR(tick("list"));
  return base_.list_files(dir);
}

}  // namespace v4rt::sessions
