#include "tools/mcp/jsonrpc.h"

namespace v4rt::tools::mcp {

namespace {

Status bad(const std::string& why) {
  return Status::InvalidArgument("MCP server sent an invalid JSON-RPC message: " + why);
}

}  // namespace

Result<Message> parse_message(std::string_view line) {
  auto j = nlohmann::json::parse(line.begin(), line.end(), nullptr, false);
  if (j.is_discarded()) return bad("not JSON");
  if (j.is_array()) return bad("a batch (JSON array); MCP sends single messages");
  if (!j.is_object()) return bad("not a JSON object");
  auto v = j.find("jsonrpc");
  if (v == j.end() || !v->is_string() || v->get<std::string>() != "2.0") return bad("\"jsonrpc\" is not \"2.0\"");
  Message m;
  auto id = j.find("id");
  bool has_id = id != j.end() && !id->is_null();
  if (has_id) {
    if (!id->is_string() && !id->is_number_integer()) return bad("\"id\" must be a string or an integer");
    m.id = *id;
  }
  auto method = j.find("method");
  if (method != j.end()) {
    if (!method->is_string()) return bad("\"method\" must be a string");
    m.method = method->get<std::string>();
    auto p = j.find("params");
    if (p != j.end()) {
      if (!p->is_object() && !p->is_array()) return bad("\"params\" must be an object or an array");
      m.params = *p;
    }
    m.kind = has_id ? MessageKind::kRequest : MessageKind::kNotification;
    return m;
  }
  if (!has_id) return bad("neither \"method\" nor \"id\"");
  auto r = j.find("result");
  auto e = j.find("error");
  if ((r != j.end()) == (e != j.end())) return bad("a response needs exactly one of \"result\" and \"error\"");
  if (r != j.end()) {
    m.kind = MessageKind::kResult;
    m.result = *r;
    return m;
  }
  if (!e->is_object()) return bad("\"error\" must be an object");
  auto code = e->find("code");
  if (code == e->end() || !code->is_number_integer()) return bad("\"error.code\" must be an integer");
  m.kind = MessageKind::kError;
  m.error_code = code->get<long long>();
  auto msg = e->find("message");
  m.error_message = msg != e->end() && msg->is_string() ? msg->get<std::string>() : std::string("(no message)");
  auto data = e->find("data");
  if (data != e->end()) m.error_data = *data;
  return m;
}

std::string request_line(long long id, const std::string& method, const nlohmann::json& params) {
  nlohmann::json j = {{"jsonrpc", "2.0"}, {"id", id}, {"method", method}};
  if (!params.is_null()) j["params"] = params;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string notification_line(const std::string& method, const nlohmann::json& params) {
  nlohmann::json j = {{"jsonrpc", "2.0"}, {"method", method}};
  if (!params.is_null()) j["params"] = params;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string error_response_line(const nlohmann::json& id, long long code, const std::string& message) {
  nlohmann::json j = {{"jsonrpc", "2.0"}, {"id", id}, {"error", {{"code", code}, {"message", message}}}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

Status LineBuffer::feed(std::string_view bytes, std::vector<std::string>* lines) {
  Status status = Status::Ok();
  while (!bytes.empty()) {
    size_t nl = bytes.find('\n');
    std::string_view chunk = bytes.substr(0, nl);
    if (skipping_) {
      if (nl == std::string_view::npos) return status;
      skipping_ = false;
    } else if (partial_.size() + chunk.size() > max_) {
      partial_.clear();
      skipping_ = nl == std::string_view::npos;
      status = Status::ResourceExhausted("MCP server sent a line longer than " + std::to_string(max_) +
                                         " bytes; it was dropped");
    } else {
      partial_.append(chunk);
      if (nl != std::string_view::npos) {
        if (!partial_.empty() && partial_.back() == '\r') partial_.pop_back();
        if (!partial_.empty()) lines->push_back(std::move(partial_));
        partial_.clear();
      }
    }
    if (nl == std::string_view::npos) break;
    bytes.remove_prefix(nl + 1);
  }
  return status;
}

}  // namespace v4rt::tools::mcp
