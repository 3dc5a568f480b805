// libFuzzer target for the MCP stdio message reader (tools/mcp/jsonrpc.h) and
// the tool-result renderer (tools/mcp/mcp_client.h). Input: bytes a server
// writes on stdout. Checks, besides ASan/UBSan and the time limit:
//   - the line splitter gives the same lines whatever the chunking (one
//     feed vs. byte-sized pieces), and no line holds '\n' or exceeds the cap;
//   - every line parses to a message or a clean error; a parsed message of a
//     kind has that kind's fields (responses an id, requests a method);
//   - rendering any result object never faults.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "tools/mcp/jsonrpc.h"
#include "tools/mcp/mcp_client.h"

namespace {

using namespace v4rt::tools::mcp;

void require(bool cond, const char* what) {
  if (!cond) {
    std::fprintf(stderr, "invariant failed: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  constexpr size_t kCap = 4096;
  LineBuffer whole(kCap), pieces(kCap);
  std::vector<std::string> a, b;
  (void)whole.feed(in, &a);
  for (size_t i = 0; i < in.size(); i += 7) (void)pieces.feed(in.substr(i, 7), &b);
  require(a == b, "chunking changes the lines");
  for (const auto& line : a) {
    require(line.find('\n') == std::string::npos, "a line holds a newline");
    require(line.size() <= kCap, "a line exceeds the cap");
    auto m = parse_message(line);
    if (!m) {
      require(!m.status().message().empty(), "an error without a message");
      continue;
    }
    switch (m->kind) {
      case MessageKind::kRequest:
        require(!m->id.is_null() && m->id.is_primitive(), "request without id");
        break;
      case MessageKind::kNotification:
        require(m->id.is_null(), "notification with id");
        break;
      case MessageKind::kResult:
        (void)render_call_result(m->result.is_object() ? m->result : nlohmann::json::object());
        require(!m->id.is_null(), "result without id");
        break;
      case MessageKind::kError:
        require(!m->id.is_null(), "error without id");
        break;
    }
  }
  return 0;
}
