#include "sessions/fs.h"

namespace v4rt::sessions {
namespace {

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
