#include "sessions/fs.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace v4rt::sessions {
namespace {

TEST(Fs, WriteDurableThenRead) {
  v4rt::testing::TempDir dir;
  auto p = dir.path() / "a" / "f";
  ASSERT_TRUE(posix_fs().create_dirs(p.parent_path()).ok());
  ASSERT_TRUE(write_file_durable(posix_fs(), p, "hello").ok());
  auto r = posix_fs().read(p);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "hello");
  auto l = posix_fs().list_files(dir.path());
  ASSERT_TRUE(l.ok());
  ASSERT_EQ(l->size(), 1u);  // no temporary left behind
  EXPECT_EQ((*l)[0].size_bytes, 5u);
  EXPECT_TRUE(posix_fs().read(dir.path() / "nope").status().is_not_found());
}

TEST(FaultFs, FailsFromTheNthOperationAndLeavesNoFile) {
  v4rt::testing::TempDir dir;
  for (int n = 1;; ++n) {
    FaultFs fs(posix_fs(), {.fail_from_op = n});
    Status s = write_file_durable(fs, dir.path() / "f", "data");
    if (!fs.fired()) {
      EXPECT_TRUE(s.ok());
      break;
    }
    EXPECT_FALSE(s.ok()) << n;
    // Either the file is absent or (failure after the rename) complete.
    auto r = posix_fs().read(dir.path() / "f");
    if (r.ok()) {
      EXPECT_EQ(*r, "data") << n;
    }
    ASSERT_LT(n, 50);
  }
}

}  // namespace
}  // namespace v4rt::sessions
