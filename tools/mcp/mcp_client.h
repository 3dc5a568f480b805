// McpClient: one MCP server over the stdio transport (tools only). It spawns
// the server (inside the bwrap sandbox unless the session is unsandboxed),
// negotiates the protocol with `initialize` (v4rt offers 2025-11-25 and
// accepts 2025-11-25, 2025-06-18, 2025-03-26 and 2024-11-05 back), lists tools
// (following nextCursor), calls them with a per-request timeout, sends
// notifications/cancelled when a call is cancelled or times out, answers the
// server's ping, and notes notifications/tools/list_changed. A server that
// dies fails its pending calls with a message naming how it ended and its
// last stderr lines; the next call restarts it (at most kMaxRestarts times).
// Thread-safe: calls may come from several threads.
//
// McpServerConfig is the shape Claude Code uses under "mcpServers":
//   {"name": {"command": "npx", "args": ["-y", "pkg"], "env": {"K": "v"}}}
// ("url"/"headers" select the HTTP transport, which is not implemented yet:
// such servers are refused with a message saying so).
#pragma once

#include <condition_variable>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "tools/mcp/jsonrpc.h"
#include "tools/tool.h"

namespace v4rt::tools {
class Sandbox;
class ToolRegistry;
}  // namespace v4rt::tools

namespace v4rt::tools::mcp {

class StdioConnection;

struct McpServerConfig {
  std::string name;                                       // [A-Za-z0-9_-]+, the key under mcpServers
  std::string command;                                    // stdio: program (PATH lookup inside the sandbox)
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> env;   // added to the sandbox's environment
  std::string url;                                        // HTTP (not implemented)
  std::vector<std::pair<std::string, std::string>> headers;
  double request_timeout_s = 60;                          // per request ("timeout" in ms in the file, as Claude Code)
  double startup_timeout_s = 30;                          // initialize
};

// Parses {"name": {...}, ...}; InvalidArgument naming source and key.
Result<std::vector<McpServerConfig>> parse_mcp_servers(const nlohmann::json& servers, const std::string& source);

struct McpToolInfo {
  std::string name;
  std::string description;
  nlohmann::json input_schema;
};

// The model-visible name: mcp__<server>__<tool> (characters outside
// [A-Za-z0-9_-] become '_').
std::string mcp_tool_name(const std::string& server, const std::string& tool);

// Maps a CallToolResult to text: text blocks as they are, other blocks as a
// bracketed line, structuredContent as JSON when no text block came with it.
std::string render_call_result(const nlohmann::json& result);

class McpClient {
 public:
  static constexpr int kMaxRestarts = 3;
  // sandbox: borrowed, may be null (then the server runs unsandboxed); cwd: the workspace.
  McpClient(McpServerConfig config, const Sandbox* sandbox, std::filesystem::path cwd);
  ~McpClient();
  McpClient(const McpClient&) = delete;
  McpClient& operator=(const McpClient&) = delete;

  // Spawns the server and runs the handshake.
  Status connect();
  Result<std::vector<McpToolInfo>> list_tools();
  // isError results come back as an error Status carrying the server's text.
  Result<ToolOutput> call_tool(const std::string& tool, const nlohmann::json& arguments, std::stop_token stop);

  const McpServerConfig& config() const { return config_; }
  std::string protocol_version() const;
  int restarts() const;
  bool tools_changed() const;
  bool alive() const;
  // Last stderr bytes of the current server process.
  std::string stderr_tail() const;
  // The process v4rt spawned (bwrap, or the shell that execs the server); -1 when none.
  long server_pid() const;

 private:
  Result<nlohmann::json> request(const std::string& method, const nlohmann::json& params, std::stop_token stop,
                                 double timeout_s);
  void on_line(uint64_t generation, std::string line);
  void on_closed(uint64_t generation, const std::string& why);
  Status ensure_connected();

  McpServerConfig config_;
  const Sandbox* sandbox_;
  std::filesystem::path cwd_;
  std::mutex connect_mu_;  // serialises connect/restart; taken before mu_
  mutable std::mutex mu_;  // guards everything below
  std::condition_variable cv_;
  std::unique_ptr<StdioConnection> conn_;
  uint64_t generation_ = 0;       // of conn_; callbacks of older connections are ignored
  bool dead_ = true;
  std::string dead_reason_;
  long long next_id_ = 1;
  std::map<long long, std::optional<Message>> pending_;
  std::string protocol_version_;
  int restarts_ = 0;
  int connects_ = 0;
  bool tools_changed_ = false;
};

// Starts every server, lists its tools and registers one adapter per tool
// (kind kOther: the permission policy asks unless a rule allows it), source
// "mcp:<server>". A server that cannot start or list is skipped with a
// warning naming it and the fault.
void register_mcp_servers(const std::vector<McpServerConfig>& servers, const Sandbox* sandbox,
                          const std::filesystem::path& workspace, ToolRegistry& registry,
                          std::vector<std::string>* warnings);

}  // namespace v4rt::tools::mcp
