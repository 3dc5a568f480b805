#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "fake_state.h"
#include "sessions/session_store.h"
#include "test_util.h"

namespace v4rt::sessions {
namespace {

using testing::FakeSink;
using testing::FakeState;
using testing::make_tokens;
using testing::state_for;

TEST(SessionExport, RoundTripIntoAnotherStore) {
  v4rt::testing::TempDir a, b, f;
  auto sa = SessionStore::open(a.path(), {});
  ASSERT_TRUE(sa.ok());
  auto toks = make_tokens(2600, 4);
  for (size_t n : {1100u, 2600u}) {
    FakeState st = state_for(std::span(toks).first(n));
    SaveOptions o;
    o.session = "s";
    o.transcript_json = R"([{"role":"user","content":"x"}])";
    std::vector<float> logits = {static_cast<float>(n)};
    ASSERT_TRUE((*sa)->save("m", std::span(toks).first(n), logits, st, o).ok());
  }
  auto file = f.path() / "s.v4rtsession";
  ASSERT_TRUE((*sa)->export_session("s", file).ok());
  EXPECT_TRUE((*sa)->export_session("nope", file).is_not_found());

  auto sb = SessionStore::open(b.path(), {});
  ASSERT_TRUE(sb.ok());
  ASSERT_TRUE((*sb)->import_session(file, "t").ok());
  auto si = (*sb)->show("t");
  ASSERT_TRUE(si.ok()) << si.status().to_string();
  EXPECT_EQ(si->tokens, toks);
  EXPECT_EQ(si->head_tokens, 2600);
  EXPECT_EQ(si->points.size(), 2u);
  EXPECT_EQ(si->transcript_json, R"([{"role":"user","content":"x"}])");
  FakeSink sink;
  auto r = (*sb)->restore_longest("m", toks, sink);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->n_tokens, 2600);
  EXPECT_TRUE(sink.equals(state_for(toks)));
  ASSERT_EQ(r->logits.size(), 1u);
  EXPECT_EQ(r->logits[0], 2600.0f);
  EXPECT_FALSE((*sb)->import_session(file, "t").ok());  // exists
  auto rep = (*sb)->check();
  ASSERT_TRUE(rep.ok());
  EXPECT_TRUE(rep->ok());

  // Damaged exports are refused with a message naming the file.
  std::string bytes;
  {
    std::ifstream in(file, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  for (size_t pos : {size_t{3}, size_t{30}, bytes.size() / 2, bytes.size() - 5}) {
    std::string bad = bytes;
    bad[pos] ^= 0x40;
    auto bf = f.path() / "bad";
    std::ofstream(bf, std::ios::binary) << bad;
    Status s = (*sb)->import_session(bf, "u");
    EXPECT_FALSE(s.ok()) << pos;
    EXPECT_NE(s.message().find("bad"), std::string::npos) << s.message();
  }
  std::ofstream(f.path() / "short", std::ios::binary) << bytes.substr(0, bytes.size() - 100);
  EXPECT_FALSE((*sb)->import_session(f.path() / "short", "u").ok());
  EXPECT_TRUE((*sb)->show("u").status().is_not_found());
}

}  // namespace
}  // namespace v4rt::sessions
