#include "agents/compaction.h"

#include <gtest/gtest.h>

#include "agents/transcript_store.h"
#include "test_util.h"

namespace v4rt::agents {
namespace {

nlohmann::ordered_json msg(const std::string& role, const std::string& content) {
  nlohmann::ordered_json m = nlohmann::ordered_json::object();
  m["role"] = role;
  m["content"] = content;
  return m;
}

TEST(CompactionTest, KeepsHeadAndTailSummarisesTheMiddle) {
  nlohmann::ordered_json m = nlohmann::ordered_json::array();
  m.push_back(msg("system", "sys"));
  m.push_back(msg("user", "the task"));
  for (int i = 0; i < 20; ++i) {
    auto a = msg("assistant", "step " + std::to_string(i));
    a["tool_calls"] = nlohmann::ordered_json::array();
    a["tool_calls"].push_back({{"id", "c" + std::to_string(i)}, {"type", "function"},
                               {"function", {{"name", "read"}, {"arguments", "{\"path\": \"f\"}"}}}});
    m.push_back(a);
    auto t = msg("tool", i % 2 ? "error: nope" : "data");
    t["tool_call_id"] = "c" + std::to_string(i);
    m.push_back(t);
  }
  std::string what = compact_messages(m, {.keep_tail_messages = 4, .max_summary_bytes = 8000});
  EXPECT_NE(what, "");
  EXPECT_EQ(m[0]["content"], "sys");
  EXPECT_EQ(m[1]["content"], "the task");
  std::string summary = m[2]["content"];
  EXPECT_NE(summary.find("summary of"), std::string::npos);
  EXPECT_NE(summary.find("called read"), std::string::npos);
  EXPECT_NE(summary.find("error: nope"), std::string::npos);
  EXPECT_EQ(m.size(), 3u + 4u);
  EXPECT_EQ(m[3]["role"], "assistant");  // the tail never starts with an orphan tool result
  EXPECT_EQ(compact_messages(m, {.keep_tail_messages = 4, .max_summary_bytes = 8000}), "");
}

TEST(TranscriptStoreTest, SaveLoadListLatest) {
  testing::TempDir dir;
  TranscriptStore store(dir.path() / "sessions");
  Transcript a;
  a.id = "20260101-000000-aaaa";
  a.workspace = "/w1";
  a.messages.push_back(msg("user", "hi"));
  ASSERT_TRUE(store.save(a).ok());
  auto back = store.load(a.id);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->messages.dump(), a.messages.dump());
  EXPECT_TRUE(store.latest("/w1").ok());
  EXPECT_TRUE(store.latest("/w2").status().is_not_found());
  EXPECT_TRUE(store.load("../etc").status().is_invalid_argument());
  EXPECT_TRUE(store.load("nope").status().is_not_found());
  EXPECT_EQ(store.list()->size(), 1u);
  EXPECT_NE(TranscriptStore::new_id(), "");
}

}  // namespace
}  // namespace v4rt::agents
