// The MCP client against the real @modelcontextprotocol/server-everything
// (npm, installed by scripts/setup.sh --tests into data/npm) over stdio,
// inside the bwrap sandbox where it works and on the host otherwise.
#include <signal.h>

#include <chrono>
#include <set>
#include <thread>

#include "tool_fixture.h"
#include "tools/mcp/mcp_client.h"

namespace v4rt::tools::mcp {
namespace {

namespace fs = std::filesystem;

fs::path everything_js() {
  return v4rt::testing::source_dir() / "data/npm/node_modules/@modelcontextprotocol/server-everything/dist/index.js";
}

class McpClientTest : public ToolFixture {
 protected:
  void SetUp() override {
    ToolFixture::SetUp();
    if (!fs::exists(everything_js()))
      GTEST_SKIP() << everything_js() << " is absent: run scripts/setup.sh --tests";
    if (Sandbox::probe().ok()) {
      SandboxOptions so;
      so.env = sandbox_environment({"PATH=/usr/local/bin:/usr/bin:/bin"}, {});
      mcp_sandbox_ = std::make_unique<Sandbox>(so, root());
    }
  }
  McpServerConfig everything(double timeout_s = 30) {
    McpServerConfig c;
    c.name = "everything";
    c.command = "node";
    c.args = {everything_js().string(), "stdio"};
    c.request_timeout_s = timeout_s;
    return c;
  }
  std::unique_ptr<McpClient> client(McpServerConfig c) {
    return std::make_unique<McpClient>(std::move(c), mcp_sandbox_.get(), root());
  }
  std::unique_ptr<Sandbox> mcp_sandbox_;
};

TEST_F(McpClientTest, InitializesListsAndCallsTools) {
  auto c = client(everything());
  auto tools = c->list_tools();
  ASSERT_TRUE(tools.ok()) << tools.status().to_string() << "\nstderr: " << c->stderr_tail();
  EXPECT_EQ(c->protocol_version(), "2025-11-25");
  std::set<std::string> names;
  for (const auto& t : *tools) names.insert(t.name);
  EXPECT_TRUE(names.count("echo") && names.count("get-sum") && names.count("get-tiny-image")) << tools->size();
  auto echo = c->call_tool("echo", {{"message", "hi"}}, {});
  ASSERT_TRUE(echo.ok()) << echo.status().to_string();
  EXPECT_EQ(echo->text, "Echo: hi");
  auto sum = c->call_tool("get-sum", {{"a", 2}, {"b", 3}}, {});
  ASSERT_TRUE(sum.ok()) << sum.status().to_string();
  EXPECT_NE(sum->text.find('5'), std::string::npos) << sum->text;
  auto image = c->call_tool("get-tiny-image", nlohmann::json::object(), {});
  ASSERT_TRUE(image.ok()) << image.status().to_string();
  EXPECT_NE(image->text.find("[image image/png"), std::string::npos) << image->text;
  auto unknown = c->call_tool("no-such-tool", nlohmann::json::object(), {});
  EXPECT_FALSE(unknown.ok());
}

TEST_F(McpClientTest, RegistersNamespacedToolsAskingByDefault) {
  ToolRegistry reg;
  std::vector<std::string> warnings;
  register_mcp_servers({everything()}, mcp_sandbox_.get(), root(), reg, &warnings);
  EXPECT_TRUE(warnings.empty()) << warnings[0];
  Tool* t = reg.find("mcp__everything__echo");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(reg.source("mcp__everything__echo"), "mcp:everything");
  EXPECT_EQ(t->spec().kind, ToolKind::kOther);
  EXPECT_NE(reg.find("mcp__everything__get-sum"), nullptr);
  auto r = t->invoke({{"message", "through the registry"}}, ctx_);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->text, "Echo: through the registry");
}

TEST_F(McpClientTest, TimeoutAndCancellationCancelTheRequestAndKeepTheServer) {
  auto c = client(everything(1.5));
  ASSERT_TRUE(c->list_tools().ok());
  auto t0 = std::chrono::steady_clock::now();
  auto late = c->call_tool("trigger-long-running-operation", {{"duration", 10}, {"steps", 5}}, {});
  ASSERT_FALSE(late.ok());
  EXPECT_TRUE(late.status().is_resource_exhausted()) << late.status().to_string();
  EXPECT_NE(late.status().message().find("did not answer tools/call within 1 s"), std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  std::stop_source stop;
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    stop.request_stop();
  });
  auto cancelled = c->call_tool("trigger-long-running-operation", {{"duration", 10}, {"steps", 5}}, stop.get_token());
  canceller.join();
  ASSERT_FALSE(cancelled.ok());
  EXPECT_TRUE(cancelled.status().is_cancelled()) << cancelled.status().to_string();
  // The same server process answers the next call.
  long pid = c->server_pid();
  auto echo = c->call_tool("echo", {{"message", "still here"}}, {});
  ASSERT_TRUE(echo.ok()) << echo.status().to_string();
  EXPECT_EQ(c->server_pid(), pid);
  EXPECT_EQ(c->restarts(), 0);
}

TEST_F(McpClientTest, KilledServerIsReportedAndRestarted) {
  auto c = client(everything());
  ASSERT_TRUE(c->list_tools().ok());
  long pid = c->server_pid();
  ASSERT_GT(pid, 0);
  ASSERT_EQ(kill(static_cast<pid_t>(pid), SIGKILL), 0);
  for (int i = 0; i < 100 && c->alive(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  auto r = c->call_tool("echo", {{"message", "after"}}, {});
  // Either the death was seen before the call (restarted at once) or during it.
  if (!r.ok()) {
    EXPECT_NE(r.status().message().find("killed by signal 9"), std::string::npos) << r.status().to_string();
    r = c->call_tool("echo", {{"message", "after"}}, {});
  }
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->text, "Echo: after");
  EXPECT_EQ(c->restarts(), 1);
  EXPECT_NE(c->server_pid(), pid);
}

TEST_F(McpClientTest, ServerThatCannotStartGivesAClearError) {
  McpServerConfig bad = everything();
  bad.command = "/nonexistent/mcp-server";
  auto c = client(bad);
  auto r = c->list_tools();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("MCP server 'everything'"), std::string::npos) << r.status().to_string();
  EXPECT_NE(r.status().message().find("initialize"), std::string::npos) << r.status().to_string();
}

TEST(McpConfigTest, ParsesClaudeCodeShapeAndRefusesBadKeys) {
  auto j = nlohmann::json::parse(R"({"fs": {"command": "npx", "args": ["-y", "x"], "env": {"A": "b"}, "timeout": 5000},
                                     "web": {"type": "http", "url": "http://127.0.0.1:1/mcp", "headers": {"X": "y"}}})");
  auto s = parse_mcp_servers(j, "settings.json");
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  ASSERT_EQ(s->size(), 2u);
  EXPECT_EQ((*s)[0].name, "fs");
  EXPECT_EQ((*s)[0].args, (std::vector<std::string>{"-y", "x"}));
  EXPECT_EQ((*s)[0].env[0].second, "b");
  EXPECT_DOUBLE_EQ((*s)[0].request_timeout_s, 5.0);
  EXPECT_EQ((*s)[1].url, "http://127.0.0.1:1/mcp");
  auto bad = parse_mcp_servers(nlohmann::json::parse(R"({"x": {"command": "a", "cwd": "/"}})"), "f.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("f.json: mcpServers.x: unknown key \"cwd\""), std::string::npos);
  EXPECT_FALSE(parse_mcp_servers(nlohmann::json::parse(R"({"x": {}})"), "f").ok());
  EXPECT_FALSE(parse_mcp_servers(nlohmann::json::parse(R"({"bad name": {"command": "a"}})"), "f").ok());
  // HTTP is refused at connect with a message saying so.
  McpClient http((*s)[1], nullptr, "/");
  auto r = http.list_tools();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("HTTP transport"), std::string::npos);
}

TEST(McpRenderTest, MapsContentBlocks) {
  auto r = nlohmann::json::parse(R"({"content": [{"type": "text", "text": "a"}, {"type": "resource_link", "uri": "file:///x", "name": "x"},
                                                 {"type": "resource", "resource": {"uri": "u", "text": "body"}}]})");
  EXPECT_EQ(render_call_result(r), "a\n[resource link file:///x (x)]\n[resource u]\nbody");
  EXPECT_EQ(render_call_result(nlohmann::json::parse(R"({"content": [], "structuredContent": {"n": 1}})")), "{\"n\":1}");
  EXPECT_EQ(mcp_tool_name("s", "a b/c"), "mcp__s__a_b_c");
}

}  // namespace
}  // namespace v4rt::tools::mcp
