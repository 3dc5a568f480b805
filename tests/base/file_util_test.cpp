#include "base/file_util.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "test_util.h"

namespace v4rt {
namespace {

size_t files_in(const std::filesystem::path& dir) {
  size_t n = 0;
  for (auto& e : std::filesystem::directory_iterator(dir)) n += e.is_regular_file() ? 1 : 0;
  return n;
}

TEST(FileUtil, WriteAtomicCreatesReplacesAndLeavesNoTemporaryFile) {
  testing::TempDir dir;
  const auto path = dir.path() / "a.json";
  ASSERT_TRUE(write_file_atomic(path, "first").ok());
  ASSERT_TRUE(write_file_atomic(path, std::string(100000, 'x')).ok());
  auto back = read_file(path);
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_EQ(*back, std::string(100000, 'x'));
  EXPECT_EQ(files_in(dir.path()), 1u);
}

TEST(FileUtil, WriteAtomicToAMissingDirectoryNamesThePathAndLeavesNothing) {
  testing::TempDir dir;
  Status s = write_file_atomic(dir.path() / "no" / "such" / "f.txt", "x");
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.is_io_error());
  EXPECT_NE(s.message().find("no/such/f.txt"), std::string::npos) << s.to_string();
  EXPECT_EQ(files_in(dir.path()), 0u);
}

TEST(FileUtil, WriteAtomicAcceptsABareFileName) {
  testing::TempDir dir;
  const auto cwd = std::filesystem::current_path();
  std::filesystem::current_path(dir.path());
  Status s = write_file_atomic("bare.txt", "hello");
  std::filesystem::current_path(cwd);
  ASSERT_TRUE(s.ok()) << s.to_string();
  EXPECT_EQ(*read_file(dir.path() / "bare.txt"), "hello");
}

}  // namespace
}  // namespace v4rt
