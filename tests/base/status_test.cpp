#include "base/status.h"

#include <gtest/gtest.h>

namespace v4rt {
namespace {

Result<int> parse_positive(int x) {
  if (x <= 0) return Status::InvalidArgument("x must be positive (got " + std::to_string(x) + ")");
  return x;
}

TEST(Status, OkAndCodes) {
  EXPECT_TRUE(Status::Ok().ok());
  Status s = Status::Corruption("block 17: checksum mismatch");
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(s.is_corruption());
  EXPECT_EQ(s.to_string(), "corruption: block 17: checksum mismatch");
  EXPECT_EQ(s.with_context("store.db").message(), "store.db: block 17: checksum mismatch");
}

TEST(Result, ValueOrStatus) {
  auto a = parse_positive(3);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(*a, 3);
  auto b = parse_positive(-1);
  ASSERT_FALSE(b.ok());
  EXPECT_TRUE(b.status().is_invalid_argument());
}

}  // namespace
}  // namespace v4rt
