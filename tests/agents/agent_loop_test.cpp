// AgentLoop with the replay backend and real tools in a temporary workspace.
#include "agents/agent_loop.h"

#include <gtest/gtest.h>

#include <fstream>

#include "../e2e/code_replay_util.h"
#include "agents/compaction.h"
#include "agents/replay_backend.h"
#include "tools/builtin_tools.h"
#include "tools/file_memory.h"
#include "tools/workspace.h"

namespace v4rt::agents {
namespace {

using testing::code::Call;
using testing::code::turn;

class Recorder : public AgentObserver {
 public:
  void on_event(const AgentEvent& e) override {
    std::lock_guard<std::mutex> lock(mu_);
    events.push_back(e.to_json());
  }
  std::vector<nlohmann::json> of(const std::string& type) const {
    std::vector<nlohmann::json> out;
    for (const auto& e : events)
      if (e["type"] == type) out.push_back(e);
    return out;
  }
  std::vector<nlohmann::json> events;
  std::mutex mu_;
};

class AgentLoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto ws = tools::Workspace::open(dir_.path());
    ASSERT_TRUE(ws.ok());
    ws_ = std::make_unique<tools::Workspace>(*ws);
    sandbox_ = std::make_unique<tools::Sandbox>(tools::SandboxOptions{}, ws_->root());
    ASSERT_TRUE(tools::register_builtin_tools(registry_, sandbox_.get()).ok());
    testing::code::put(ws_->root() / "a.txt", "alpha\n");
    testing::code::put(ws_->root() / "b.txt", "beta\n");
  }
  Result<RunSummary> run(std::vector<std::string> outputs, const std::string& task, Budget budget = {}) {
    backend_ = ReplayBackend::from_outputs(std::move(outputs), "test");
    tools::ToolContext base;
    base.workspace = ws_.get();
    base.memory = &memory_;
    AgentOptions ao;
    ao.chat.thinking_mode = parsers::ThinkingMode::kThinking;
    AgentLoop loop(*backend_, registry_, base, policy_, sandbox_.get(), nullptr, nullptr, ao);
    if (messages_.empty()) {
      messages_ = nlohmann::ordered_json::array();
      messages_.push_back(make_system_message("You are a test agent.", registry_));
    }
    nlohmann::ordered_json um = nlohmann::ordered_json::object();
    um["role"] = "user";
    um["content"] = task;
    messages_.push_back(um);
    return loop.run(messages_, budget, &rec_);
  }
  testing::TempDir dir_;
  std::unique_ptr<tools::Workspace> ws_;
  std::unique_ptr<tools::Sandbox> sandbox_;
  tools::FileMemory memory_;
  tools::ToolRegistry registry_;
  tools::PermissionPolicy policy_;
  std::unique_ptr<ReplayBackend> backend_;
  nlohmann::ordered_json messages_;
  Recorder rec_;
};

TEST_F(AgentLoopTest, PromptsArePrefixStableAcrossTurns) {
  std::vector<std::string> outs = {
      turn("I should read a.", "", {{"read", {{"path", "a.txt"}}}}),
      turn("Now b.", "", {{"read", {{"path", "b.txt"}}}}),
      turn("Both read.", "a is alpha, b is beta."),
  };
  auto r = run(outs, "What is in a.txt and b.txt?");
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->stop_reason, "answered");
  EXPECT_EQ(r->final_text, "a is alpha, b is beta.");
  const auto& prompts = backend_->prompts();
  ASSERT_EQ(prompts.size(), 3u);
  // Each prompt extends the previous prompt followed by exactly what the model generated:
  // the engine's cached KV for the whole history stays valid (thinking with tools keeps reasoning).
  for (size_t i = 1; i < prompts.size(); ++i) {
    std::string expect_prefix = prompts[i - 1] + outs[i - 1];
    ASSERT_EQ(prompts[i].compare(0, expect_prefix.size(), expect_prefix), 0) << "turn " << i;
  }
  EXPECT_NE(prompts[1].find("<tool_result>1\talpha\n</tool_result>"), std::string::npos) << prompts[1];
  // Events: one turn_start/turn_end per model turn, reasoning streamed.
  EXPECT_EQ(rec_.of("turn_start").size(), 3u);
  EXPECT_EQ(rec_.of("turn_end").size(), 3u);
  std::string reasoning;
  for (const auto& e : rec_.of("reasoning")) reasoning += e["text"].get<std::string>();
  EXPECT_EQ(reasoning, "I should read a.Now b.Both read.");
  std::string text;
  for (const auto& e : rec_.of("text")) text += e["text"].get<std::string>();
  EXPECT_EQ(text, "a is alpha, b is beta.");
}

TEST_F(AgentLoopTest, SecondTaskKeepsHistoryPrefix) {
  ASSERT_TRUE(run({turn("r1", "one")}, "task one").ok());
  std::string first_prompt = backend_->prompts()[0];
  ASSERT_TRUE(run({turn("r2", "two")}, "task two").ok());
  std::string second_prompt = backend_->prompts()[0];
  std::string expect_prefix = first_prompt + turn("r1", "one");
  EXPECT_EQ(second_prompt.compare(0, expect_prefix.size(), expect_prefix), 0);
}

TEST_F(AgentLoopTest, ReadOnlyCallsOfOneTurnRunConcurrently) {
  std::vector<Call> calls;
  for (int i = 0; i < 4; ++i) calls.push_back({"grep", {{"pattern", "alpha|beta"}}});
  auto r = run({turn("", "", calls), turn("", "done")}, "search");
  ASSERT_TRUE(r.ok());
  auto results = rec_.of("tool_result");
  ASSERT_EQ(results.size(), 4u);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(results[i]["id"], "call_1_" + std::to_string(i + 1));  // results keep call order
    EXPECT_NE(results[i]["output"].get<std::string>().find("a.txt:1:alpha"), std::string::npos) << results[i].dump();
  }
  EXPECT_EQ(r->tool_calls, 4);
}

TEST_F(AgentLoopTest, InvalidCallsBecomeToolErrors) {
  auto r = run({turn("", "", {{"read", {{"path", "a.txt"}, {"limit", "[1,", false}}},
                              {"read", {{"path", "a.txt"}, {"bogus", "1"}}},
                              {"missing_tool", {}}}),
                turn("", "ok")},
               "x");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->tool_errors, 3);
  auto results = rec_.of("tool_result");
  ASSERT_EQ(results.size(), 3u);
  EXPECT_NE(results[0]["output"].get<std::string>().find("invalid arguments"), std::string::npos) << results[0].dump();
  EXPECT_NE(results[1]["output"].get<std::string>().find("unknown argument 'bogus'"), std::string::npos);
  EXPECT_NE(results[2]["output"].get<std::string>().find("unknown tool 'missing_tool'"), std::string::npos);
}

TEST_F(AgentLoopTest, BudgetsStopTheLoop) {
  std::vector<std::string> many(10, turn("", "", {{"read", {{"path", "a.txt"}}}}));
  Budget b;
  b.max_steps = 3;
  auto r = run(many, "loop", b);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->stop_reason, "max_steps");
  EXPECT_EQ(r->steps, 3);
  Budget t;
  t.max_total_tokens = 1;
  auto r2 = run(many, "loop", t);
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2->stop_reason, "max_tokens");
}

TEST_F(AgentLoopTest, CancellationStops) {
  std::stop_source src;
  src.request_stop();
  backend_ = ReplayBackend::from_outputs({turn("", "x")}, "t");
  tools::ToolContext base;
  base.workspace = ws_.get();
  AgentLoop loop(*backend_, registry_, base, policy_, sandbox_.get(), nullptr, nullptr, {});
  nlohmann::ordered_json m = nlohmann::ordered_json::array();
  m.push_back(make_system_message("s", registry_));
  m.push_back({{"role", "user"}, {"content", "t"}});
  auto r = loop.run(m, {}, nullptr, src.get_token());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->stop_reason, "cancelled");
}

TEST_F(AgentLoopTest, CompactsNearTheContextLimit) {
  std::vector<std::string> outs(6, turn("", "", {{"read", {{"path", "a.txt"}}}}));
  outs.push_back(turn("", "done"));
  backend_ = ReplayBackend::from_outputs(outs, "t");
  tools::ToolContext base;
  base.workspace = ws_.get();
  base.memory = &memory_;
  AgentOptions ao;
  ao.chat.thinking_mode = parsers::ThinkingMode::kThinking;
  ao.context_limit_tokens = 100;  // the replay estimates bytes / 4: every prompt is over 80%
  AgentLoop loop(*backend_, registry_, base, policy_, sandbox_.get(), nullptr, nullptr, ao);
  int compactions = 0;
  loop.set_compactor([&](nlohmann::ordered_json& m) {
    ++compactions;
    size_t before = m.size();
    std::string what = compact_messages(m, {.keep_tail_messages = 2, .max_summary_bytes = 4000});
    EXPECT_LE(m.size(), before);
    return what;
  });
  nlohmann::ordered_json m = nlohmann::ordered_json::array();
  m.push_back(make_system_message("s", registry_));
  m.push_back({{"role", "user"}, {"content", "t"}});
  auto r = loop.run(m, {}, &rec_);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->stop_reason, "answered");
  EXPECT_EQ(compactions, 6);  // before every turn but the first
  EXPECT_FALSE(rec_.of("compacted").empty());
  EXPECT_LT(m.size(), 2u + 7u * 2u);
}

TEST(CheckArgumentsTest, RequiredTypesAndUnknown) {
  nlohmann::json schema = {{"type", "object"},
                           {"properties", {{"a", {{"type", "string"}}}, {"n", {{"type", "integer"}}}}},
                           {"required", {"a"}}};
  auto check = [&](nlohmann::json args) { return check_arguments(schema, args); };
  EXPECT_EQ(check({{"a", "x"}, {"n", 3}}), "");
  nlohmann::json quoted = {{"a", "x"}, {"n", "3"}};
  EXPECT_EQ(check_arguments(schema, quoted), "");  // quoted integers are accepted and converted
  EXPECT_EQ(quoted["n"], 3);
  EXPECT_NE(check({{"n", 3}}).find("a"), std::string::npos);
  EXPECT_NE(check({{"a", 1}}), "");
  EXPECT_NE(check({{"a", "x"}, {"n", "3x"}}), "");
  EXPECT_NE(check({{"a", "x"}, {"z", 1}}).find("unknown argument 'z'"), std::string::npos);
}

}  // namespace
}  // namespace v4rt::agents
