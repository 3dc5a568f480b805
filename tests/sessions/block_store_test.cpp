#include "sessions/block_store.h"

#include <gtest/gtest.h>

#include <vector>

#include "sessions/fs.h"
#include "test_util.h"

namespace v4rt::sessions {
namespace {

FileHeader header() { return {FileKind::kBlock, 11, 22, 1024, 2048}; }

TEST(BlockStore, EncodeDecodeRoundTrip) {
  std::vector<int32_t> toks = {5, 6, 7};
  std::string enc = BlockStore::encode(header(), toks, "payload", "extra");
  auto c = BlockStore::decode(enc, "x");
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  EXPECT_EQ(c->header.key, 22u);
  EXPECT_EQ(c->header.t0, 1024);
  EXPECT_EQ(c->payload(), "payload");
  EXPECT_EQ(c->extra(), "extra");
  ASSERT_EQ(c->tokens().size(), 3u);
  EXPECT_EQ(c->tokens()[2], 7);
}

TEST(BlockStore, EveryFlippedByteAndEveryTruncationIsRefused) {
  std::vector<int32_t> toks = {5, 6, 7};
  std::string enc = BlockStore::encode(header(), toks, "payload", "extra");
  for (size_t i = 0; i < enc.size(); ++i) {
    std::string bad = enc;
    bad[i] ^= 0x20;
    auto c = BlockStore::decode(bad, "blk");
    EXPECT_FALSE(c.ok()) << "flip at " << i;
  }
  for (size_t n = 0; n < enc.size(); ++n) {
    auto c = BlockStore::decode(enc.substr(0, n), "blk");
    ASSERT_FALSE(c.ok()) << "truncated to " << n;
    EXPECT_TRUE(c.status().is_corruption()) << c.status().to_string();
  }
}

TEST(BlockStore, WriteReadVerifiesExpectations) {
  v4rt::testing::TempDir dir;
  BlockStore bs(posix_fs(), dir.path());
  std::vector<int32_t> toks(1024, 3);
  uint32_t crc = 0;
  uint64_t bytes = 0;
  auto rel = bs.write(header(), toks, "rows", {}, &crc, &bytes);
  ASSERT_TRUE(rel.ok()) << rel.status().to_string();
  auto ok = bs.read(*rel, header(), toks, crc);
  ASSERT_TRUE(ok.ok()) << ok.status().to_string();
  EXPECT_EQ(ok->payload(), "rows");

  FileHeader other = header();
  other.fp_hash = 99;
  auto wrong_model = bs.read(*rel, other, toks, crc);
  ASSERT_FALSE(wrong_model.ok());
  EXPECT_NE(wrong_model.status().message().find("another model"), std::string::npos);

  std::vector<int32_t> other_toks(1024, 4);
  EXPECT_FALSE(bs.read(*rel, header(), other_toks, crc).ok());

  ASSERT_TRUE(bs.remove(*rel).ok());
  auto missing = bs.read(*rel, header(), toks, crc);
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(missing.status().is_corruption());
  EXPECT_NE(missing.status().message().find("missing"), std::string::npos);
}

}  // namespace
}  // namespace v4rt::sessions
