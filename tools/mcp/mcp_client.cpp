#include "tools/mcp/mcp_client.h"

#include <chrono>
#include <set>

#include "tools/mcp/stdio_connection.h"
#include "tools/sandbox.h"
#include "tools/tool_registry.h"

namespace v4rt::tools::mcp {

namespace fs = std::filesystem;

namespace {

const char kOfferedVersion[] = "2025-11-25";
const std::set<std::string> kAcceptedVersions = {"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"};

bool valid_server_name(const std::string& n) {
  if (n.empty() || n.size() > 32) return false;
  for (char c : n)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
      return false;
  return true;
}

std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

Result<std::vector<std::pair<std::string, std::string>>> string_map(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object()) return Status::InvalidArgument(where + " must be an object of strings");
  std::vector<std::pair<std::string, std::string>> out;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!it.value().is_string()) return Status::InvalidArgument(where + "." + it.key() + " must be a string");
    out.emplace_back(it.key(), it.value().get<std::string>());
  }
  return out;
}

}  // namespace

Result<std::vector<McpServerConfig>> parse_mcp_servers(const nlohmann::json& servers, const std::string& source) {
  if (!servers.is_object())
    return Status::InvalidArgument(source + ": \"mcpServers\" must be an object of servers by name");
  std::vector<McpServerConfig> out;
  for (auto it = servers.begin(); it != servers.end(); ++it) {
    const std::string where = source + ": mcpServers." + it.key();
    if (!valid_server_name(it.key()))
      return Status::InvalidArgument(where + ": a server name is 1-32 characters from [A-Za-z0-9_-]");
    const nlohmann::json& s = it.value();
    if (!s.is_object()) return Status::InvalidArgument(where + " must be an object");
    McpServerConfig c;
    c.name = it.key();
    for (auto k = s.begin(); k != s.end(); ++k) {
      const std::string& key = k.key();
      const nlohmann::json& v = k.value();
      if (key == "command") {
        if (!v.is_string() || v.get<std::string>().empty())
          return Status::InvalidArgument(where + ".command must be a non-empty string");
        c.command = v.get<std::string>();
      } else if (key == "args") {
        if (!v.is_array()) return Status::InvalidArgument(where + ".args must be an array of strings");
        for (const auto& a : v) {
          if (!a.is_string()) return Status::InvalidArgument(where + ".args must be an array of strings");
          c.args.push_back(a.get<std::string>());
        }
      } else if (key == "env" || key == "headers") {
        auto m = string_map(v, where + "." + key);
        if (!m) return m.status();
        (key == "env" ? c.env : c.headers) = std::move(*m);
      } else if (key == "url") {
        if (!v.is_string()) return Status::InvalidArgument(where + ".url must be a string");
        c.url = v.get<std::string>();
      } else if (key == "timeout") {
        if (!v.is_number() || v.get<double>() <= 0)
          return Status::InvalidArgument(where + ".timeout must be a positive number of milliseconds");
        c.request_timeout_s = v.get<double>() / 1000.0;
      } else if (key == "type") {
        if (!v.is_string()) return Status::InvalidArgument(where + ".type must be a string");
      } else {
        return Status::InvalidArgument(where + ": unknown key \"" + key +
                                       "\"; known: command, args, env, url, headers, type, timeout");
      }
    }
    if (c.command.empty() && c.url.empty())
      return Status::InvalidArgument(where + ": needs \"command\" (stdio) or \"url\" (HTTP)");
    out.push_back(std::move(c));
  }
  return out;
}

std::string mcp_tool_name(const std::string& server, const std::string& tool) {
  std::string out = "mcp__" + server + "__";
  for (char c : tool)
    out += ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-') ? c
                                                                                                              : '_';
  return out;
}

std::string render_call_result(const nlohmann::json& result) {
  std::string out;
  bool any_text = false;
  auto add = [&](const std::string& s) {
    if (!out.empty()) out += "\n";
    out += s;
  };
  auto content = result.find("content");
  if (content != result.end() && content->is_array()) {
    for (const auto& b : *content) {
      if (!b.is_object()) continue;
      std::string type = b.value("type", "");
      if (type == "text" && b.contains("text") && b["text"].is_string()) {
        add(b["text"].get<std::string>());
        any_text = true;
      } else if (type == "image" || type == "audio") {
        std::string data = b.contains("data") && b["data"].is_string() ? b["data"].get<std::string>() : "";
        add("[" + type + " " + b.value("mimeType", std::string("?")) + ", " + std::to_string(data.size() * 3 / 4) +
            " bytes, not shown]");
      } else if (type == "resource_link") {
        add("[resource link " + b.value("uri", std::string("?")) +
            (b.contains("name") && b["name"].is_string() ? " (" + b["name"].get<std::string>() + ")" : "") + "]");
      } else if (type == "resource" && b.contains("resource") && b["resource"].is_object()) {
        const auto& r = b["resource"];
        if (r.contains("text") && r["text"].is_string()) {
          add("[resource " + r.value("uri", std::string("?")) + "]\n" + r["text"].get<std::string>());
          any_text = true;
        } else {
          add("[resource " + r.value("uri", std::string("?")) + ", binary, not shown]");
        }
      } else {
        add("[" + (type.empty() ? std::string("unknown") : type) + " content, not shown]");
      }
    }
  }
  auto structured = result.find("structuredContent");
  if (structured != result.end() && !structured->is_null() && !any_text)
    add(structured->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  return out;
}

McpClient::McpClient(McpServerConfig config, const Sandbox* sandbox, fs::path cwd)
    : config_(std::move(config)), sandbox_(sandbox), cwd_(std::move(cwd)) {}

McpClient::~McpClient() {
  std::unique_ptr<StdioConnection> old;
  {
    std::lock_guard<std::mutex> lock(mu_);
    old = std::move(conn_);
    ++generation_;
  }
  old.reset();  // joins its threads outside mu_
}

std::string McpClient::protocol_version() const {
  std::lock_guard<std::mutex> lock(mu_);
  return protocol_version_;
}
int McpClient::restarts() const {
  std::lock_guard<std::mutex> lock(mu_);
  return restarts_;
}
bool McpClient::tools_changed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return tools_changed_;
}
bool McpClient::alive() const {
  std::lock_guard<std::mutex> lock(mu_);
  return conn_ && !dead_;
}
std::string McpClient::stderr_tail() const {
  std::lock_guard<std::mutex> lock(mu_);
  return conn_ ? conn_->stderr_tail() : std::string();
}

long McpClient::server_pid() const {
  std::lock_guard<std::mutex> lock(mu_);
  return conn_ && !dead_ ? static_cast<long>(conn_->pid()) : -1;
}

Status McpClient::connect() {
  const std::string who = "MCP server '" + config_.name + "'";
  if (!config_.url.empty())
    return Status::Unsupported(who + ": the HTTP transport (\"url\") is not implemented yet; run it over stdio "
                               "with \"command\"");
  std::unique_ptr<StdioConnection> old;
  uint64_t gen;
  {
    std::lock_guard<std::mutex> lock(mu_);
    old = std::move(conn_);
    gen = ++generation_;
    dead_ = true;
  }
  old.reset();
  std::string cmd = "exec";
  if (!config_.env.empty()) {
    cmd += " env";
    for (const auto& [k, v] : config_.env) cmd += " " + quote(k + "=" + v);
  }
  cmd += " " + quote(config_.command);
  for (const auto& a : config_.args) cmd += " " + quote(a);
  std::vector<std::string> argv;
  std::optional<std::vector<std::string>> env;
  if (sandbox_) {
    SandboxedCommand sc = sandbox_->wrap(cmd, cwd_);
    argv = std::move(sc.argv);
    env = std::move(sc.env);
  } else {
    argv = {"/bin/sh", "-c", cmd};
  }
  StdioCallbacks cb;
  cb.on_line = [this, gen](std::string line) { on_line(gen, std::move(line)); };
  cb.on_closed = [this, gen](const std::string& why) { on_closed(gen, why); };
  auto conn = StdioConnection::start(argv, env, cwd_, std::move(cb));
  if (!conn) return Status::IoError(who + ": " + conn.status().message());
  {
    std::lock_guard<std::mutex> lock(mu_);
    conn_ = std::move(*conn);
    dead_ = false;
    dead_reason_.clear();
    ++connects_;
  }
  nlohmann::json params = {{"protocolVersion", kOfferedVersion},
                           {"capabilities", nlohmann::json::object()},
                           {"clientInfo", {{"name", "v4rt"}, {"version", "0.1.0"}}}};
  auto r = request("initialize", params, {}, config_.startup_timeout_s);
  if (!r) return Status::IoError(who + ": initialize failed: " + r.status().message());
  std::string version = r->is_object() ? r->value("protocolVersion", std::string()) : std::string();
  if (!kAcceptedVersions.count(version)) {
    std::string list;
    for (const auto& v : kAcceptedVersions) list += (list.empty() ? "" : ", ") + v;
    return Status::Unsupported(who + " speaks MCP protocol version '" + version + "'; v4rt speaks " + list +
                               "; use a server release that supports one of them");
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    protocol_version_ = version;
    if (!conn_) return Status::IoError(who + ": closed during initialize");
  }
  std::lock_guard<std::mutex> lock(mu_);
  return conn_->send(notification_line("notifications/initialized", nlohmann::json::object()));
}

Status McpClient::ensure_connected() {
  std::lock_guard<std::mutex> c(connect_mu_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (conn_ && !dead_) return Status::Ok();
    if (connects_ > 0) {
      if (restarts_ >= kMaxRestarts)
        return Status::IoError("MCP server '" + config_.name + "' " + dead_reason_ + " and was already restarted " +
                               std::to_string(kMaxRestarts) + " times; fix the server and start a new session");
      ++restarts_;
    }
  }
  return connect();
}

void McpClient::on_line(uint64_t generation, std::string line) {
  auto m = parse_message(line);
  if (!m) return;  // not JSON-RPC: ignored (a server's stray stdout line)
  std::unique_lock<std::mutex> lock(mu_);
  if (generation != generation_) return;
  switch (m->kind) {
    case MessageKind::kResult:
    case MessageKind::kError: {
      if (!m->id.is_number_integer()) return;
      auto it = pending_.find(m->id.get<long long>());
      if (it == pending_.end()) return;  // late answer to a cancelled request
      it->second = std::move(*m);
      cv_.notify_all();
      return;
    }
    case MessageKind::kNotification:
      if (m->method == "notifications/tools/list_changed") tools_changed_ = true;
      return;
    case MessageKind::kRequest: {
      // v4rt offers no client capabilities (roots, sampling, elicitation): only ping is answered.
      std::string reply =
          m->method == "ping"
              ? nlohmann::json({{"jsonrpc", "2.0"}, {"id", m->id}, {"result", nlohmann::json::object()}}).dump() + "\n"
              : error_response_line(m->id, -32601, "v4rt does not support '" + m->method + "'");
      if (conn_) (void)conn_->send(reply);
      return;
    }
  }
}

void McpClient::on_closed(uint64_t generation, const std::string& why) {
  std::lock_guard<std::mutex> lock(mu_);
  if (generation != generation_) return;
  dead_ = true;
  dead_reason_ = why;
  cv_.notify_all();
}

Result<nlohmann::json> McpClient::request(const std::string& method, const nlohmann::json& params,
                                          std::stop_token stop, double timeout_s) {
  const std::string who = "MCP server '" + config_.name + "'";
  long long id;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!conn_ || dead_) return Status::IoError(who + " is not running");
    id = next_id_++;
    pending_[id] = std::nullopt;
    if (Status s = conn_->send(request_line(id, method, params)); !s.ok()) {
      pending_.erase(id);
      return Status::IoError(who + ": " + s.message());
    }
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    auto it = pending_.find(id);
    if (it->second) {
      Message m = std::move(*it->second);
      pending_.erase(it);
      if (m.kind == MessageKind::kError)
        return Status::InvalidArgument(who + " answered " + method + " with error " + std::to_string(m.error_code) +
                                       ": " + m.error_message);
      return std::move(m.result);
    }
    if (dead_) {
      pending_.erase(it);
      std::string tail = conn_ ? conn_->stderr_tail() : std::string();
      if (tail.size() > 1000) tail = tail.substr(tail.size() - 1000);
      return Status::IoError(who + " " + dead_reason_ + " during " + method +
                             (tail.empty() ? std::string() : "; its last stderr: " + tail) +
                             "; it is restarted on the next call");
    }
    bool stopped = stop.stop_requested();
    bool late = std::chrono::steady_clock::now() >= deadline;
    if (stopped || late) {
      pending_.erase(it);
      // Tell the server (initialize must not be cancelled; it is simply abandoned).
      if (method != "initialize" && conn_)
        (void)conn_->send(notification_line(
            "notifications/cancelled",
            {{"requestId", id}, {"reason", stopped ? "cancelled by the user" : "timed out in the client"}}));
      if (stopped) return Status::Cancelled(who + ": " + method + " cancelled");
      return Status::ResourceExhausted(who + " did not answer " + method + " within " +
                                       std::to_string(static_cast<int>(timeout_s)) +
                                       " s; the request was cancelled");
    }
    cv_.wait_for(lock, std::chrono::milliseconds(50));
  }
}

Result<std::vector<McpToolInfo>> McpClient::list_tools() {
  V4RT_RETURN_IF_ERROR(ensure_connected());
  std::vector<McpToolInfo> out;
  std::string cursor;
  for (int page = 0; page < 100; ++page) {
    nlohmann::json params = nlohmann::json::object();
    if (!cursor.empty()) params["cursor"] = cursor;
    auto r = request("tools/list", params, {}, config_.request_timeout_s);
    if (!r) return r.status();
    if (!r->is_object() || !r->contains("tools") || !(*r)["tools"].is_array())
      return Status::InvalidArgument("MCP server '" + config_.name + "': tools/list result has no tools array");
    for (const auto& t : (*r)["tools"]) {
      if (!t.is_object() || !t.contains("name") || !t["name"].is_string()) continue;
      McpToolInfo info;
      info.name = t["name"].get<std::string>();
      info.description = t.value("description", std::string());
      info.input_schema = t.contains("inputSchema") && t["inputSchema"].is_object()
                              ? t["inputSchema"]
                              : nlohmann::json({{"type", "object"}});
      out.push_back(std::move(info));
    }
    auto next = r->find("nextCursor");
    if (next == r->end() || !next->is_string() || next->get<std::string>().empty()) {
      std::lock_guard<std::mutex> lock(mu_);
      tools_changed_ = false;
      return out;
    }
    cursor = next->get<std::string>();
  }
  return Status::InvalidArgument("MCP server '" + config_.name + "': tools/list has more than 100 pages");
}

Result<ToolOutput> McpClient::call_tool(const std::string& tool, const nlohmann::json& arguments,
                                        std::stop_token stop) {
  V4RT_RETURN_IF_ERROR(ensure_connected());
  auto r = request("tools/call", {{"name", tool}, {"arguments", arguments.is_object() ? arguments : nlohmann::json::object()}},
                   stop, config_.request_timeout_s);
  if (!r) return r.status();
  if (!r->is_object()) return Status::InvalidArgument("MCP server '" + config_.name + "': tools/call result is not an object");
  std::string text = render_call_result(*r);
  if (r->value("isError", false))
    return Status::InvalidArgument(text.empty() ? config_.name + "/" + tool + " reported an error without text" : text);
  return ToolOutput{std::move(text)};
}

namespace {

class McpTool : public Tool {
 public:
  McpTool(std::shared_ptr<McpClient> client, std::string remote_name, ToolSpec spec)
      : client_(std::move(client)), remote_(std::move(remote_name)), spec_(std::move(spec)) {}
  const ToolSpec& spec() const override { return spec_; }
  Result<ToolOutput> invoke(const nlohmann::json& args, ToolContext& ctx) override {
    return client_->call_tool(remote_, args, ctx.stop);
  }

 private:
  std::shared_ptr<McpClient> client_;
  std::string remote_;
  ToolSpec spec_;
};

}  // namespace

void register_mcp_servers(const std::vector<McpServerConfig>& servers, const Sandbox* sandbox,
                          const fs::path& workspace, ToolRegistry& registry, std::vector<std::string>* warnings) {
  for (const auto& config : servers) {
    auto client = std::make_shared<McpClient>(config, sandbox, workspace);
    auto tools = client->list_tools();
    if (!tools) {
      if (warnings) warnings->push_back(tools.status().message() + " (its tools are left out)");
      continue;
    }
    for (const auto& t : *tools) {
      ToolSpec spec;
      spec.name = mcp_tool_name(config.name, t.name);
      spec.description = t.description.empty() ? "MCP tool " + t.name + " of server " + config.name : t.description;
      spec.parameters = t.input_schema;
      spec.kind = ToolKind::kOther;
      if (Status s = registry.add(std::make_unique<McpTool>(client, t.name, std::move(spec)), "mcp:" + config.name);
          !s.ok() && warnings)
        warnings->push_back("MCP server '" + config.name + "': tool '" + t.name + "' left out: " + s.message());
    }
  }
}

}  // namespace v4rt::tools::mcp
