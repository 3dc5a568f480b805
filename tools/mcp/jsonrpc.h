// JSON-RPC 2.0 framing for MCP's stdio transport: one JSON message per line
// (no embedded newlines). LineBuffer cuts a byte stream into lines with a
// length cap; parse_message classifies one line. Bad input from a server
// (not JSON, not JSON-RPC 2.0, an id of the wrong type, an overlong line)
// is an InvalidArgument naming the fault, never a crash.
// Not thread-safe (LineBuffer); parse_message is reentrant.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace v4rt::tools::mcp {

enum class MessageKind { kRequest, kNotification, kResult, kError };

struct Message {
  MessageKind kind = MessageKind::kNotification;
  nlohmann::json id;        // string or integer (requests and responses); null otherwise
  std::string method;       // requests and notifications
  nlohmann::json params;    // requests and notifications (object or array, or null)
  nlohmann::json result;    // kResult
  long long error_code = 0; // kError
  std::string error_message;
  nlohmann::json error_data;
};

// Parses one line (without its newline). A JSON array (batch) is refused: MCP
// since 2025-06-18 sends none.
Result<Message> parse_message(std::string_view line);

// One line of JSON for a request / notification (compact, newline-free).
std::string request_line(long long id, const std::string& method, const nlohmann::json& params);
std::string notification_line(const std::string& method, const nlohmann::json& params);
std::string error_response_line(const nlohmann::json& id, long long code, const std::string& message);

class LineBuffer {
 public:
  explicit LineBuffer(size_t max_line_bytes = 64u << 20) : max_(max_line_bytes) {}
  // Appends bytes; complete lines (CR before LF dropped, empty lines skipped)
  // go to *lines. ResourceExhausted when a line grows past the cap (the
  // buffer is then cleared up to the next newline).
  Status feed(std::string_view bytes, std::vector<std::string>* lines);

 private:
  size_t max_;
  std::string partial_;
  bool skipping_ = false;  // inside an overlong line, dropping until '\n'
};

}  // namespace v4rt::tools::mcp
