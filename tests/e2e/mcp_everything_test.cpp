// End to end: `v4rt code -p` with the replay backend calls a tool of the real
// @modelcontextprotocol/server-everything (npm) configured with
// --mcp-config, started inside the bwrap sandbox; and `v4rt tools list`
// shows its tools with source mcp:everything.
#include "code_replay_util.h"
#include "tools/sandbox.h"

namespace v4rt::testing::code {
namespace {

namespace fs = std::filesystem;

fs::path everything_js() {
  return source_dir() / "data/npm/node_modules/@modelcontextprotocol/server-everything/dist/index.js";
}

class McpE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(everything_js())) GTEST_SKIP() << everything_js() << " is absent: run scripts/setup.sh --tests";
    if (!tools::Sandbox::probe().ok())
      GTEST_SKIP() << "bwrap cannot create namespaces here (MCP servers start in the sandbox): "
                   << tools::Sandbox::probe().message();
    repo_ = dir_.path() / "repo";
    state_ = dir_.path() / "state";
    replay_ = dir_.path() / "replay.jsonl";
    config_ = dir_.path() / "mcp.json";
    make_git_repo(repo_, {{"README.md", "x\n"}});
    put(config_, nlohmann::json({{"mcpServers",
                                  {{"everything", {{"command", "node"}, {"args", {everything_js().string(), "stdio"}}}}}}})
                     .dump());
  }
  TempDir dir_;
  fs::path repo_, state_, replay_, config_;
};

TEST_F(McpE2E, AgentCallsAnMcpToolThroughTheLoop) {
  write_replay(replay_, {
      turn("Echo it.", "", {{"mcp__everything__echo", {{"message", "hello mcp"}}}}),
      turn("Add.", "", {{"mcp__everything__get-sum", {{"a", "2", false}, {"b", "40", false}}}}),
      turn("Done.", "Echoed and added."),
  });
  auto r = run_code(repo_, replay_, state_,
                    "--output-format stream-json --mcp-config " + shell_quote(config_.string()) +
                        " --allow mcp__everything__echo --allow 'mcp__everything__get-sum'");
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  auto res = of_type(events(r.out), "tool_result");
  ASSERT_EQ(res.size(), 2u) << r.out;
  EXPECT_FALSE(res[0]["is_error"].get<bool>()) << res[0].dump();
  EXPECT_EQ(res[0]["output"], "Echo: hello mcp");
  EXPECT_NE(res[1]["output"].get<std::string>().find("42"), std::string::npos) << res[1].dump();
}

TEST_F(McpE2E, WithoutAnAllowRuleTheMcpToolIsRefusedHeadless) {
  write_replay(replay_, {
      turn("Echo it.", "", {{"mcp__everything__echo", {{"message", "hello"}}}}),
      turn("Done.", "ok"),
  });
  auto r = run_code(repo_, replay_, state_, "--output-format stream-json --mcp-config " + shell_quote(config_.string()));
  auto res = of_type(events(r.out), "tool_result");
  ASSERT_EQ(res.size(), 1u) << r.out << r.err;
  EXPECT_TRUE(res[0]["is_error"].get<bool>());
  EXPECT_EQ(res[0]["output"].get<std::string>().find("Echo: hello"), std::string::npos);
}

TEST_F(McpE2E, ToolsListShowsMcpTools) {
  auto r = run_command(shell_quote(v4rt_binary().string()) + " tools list --json --workspace " +
                       shell_quote(repo_.string()) + " --state-dir " + shell_quote(state_.string()) +
                       " --mcp-config " + shell_quote(config_.string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto list = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(list.is_array()) << r.out;
  bool found = false;
  for (const auto& t : list)
    if (t["name"] == "mcp__everything__echo") {
      found = true;
      EXPECT_EQ(t["source"], "mcp:everything");
      EXPECT_EQ(t["permission"], "ask");
    }
  EXPECT_TRUE(found) << r.out;
}

}  // namespace
}  // namespace v4rt::testing::code
