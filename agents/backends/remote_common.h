// Shared parts of the remote backends (openai-completions, openai-chat):
// their options, endpoint URLs, the SSE POST with the API key in a header,
// HTTP errors mapped to statuses that name the fix, and key redaction.
// Nothing here prints; the API key is only ever put in a request header and
// is scrubbed from every message built from server text. Thread-compatible.
#pragma once

#include <functional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "agents/backends/http_stream.h"
#include "agents/backends/sse_reader.h"
#include "base/status.h"

namespace v4rt::agents::backends {

struct RemoteOptions {
  std::string base_url;                    // from the backend spec, e.g. http://127.0.0.1:8000 or .../v1
  std::string model;                       // the server's model name (--remote-model)
  std::string api_key;                     // from the environment; never logged
  std::string api_key_env;                 // the variable's name, for messages
  std::vector<std::string> extra_headers;  // "Name: value" (--header)
  double temperature = -1;                 // < 0: the server's default
  HttpOptions http;
};

// base + "/v1/" + path, unless base already ends with "/v1" (then base + "/" +
// path) or with "/" + path (then base).
std::string endpoint_url(std::string_view base, std::string_view path);

// text with every occurrence of the API key replaced by "[redacted]".
std::string redact(std::string text, const RemoteOptions& o);

// The error for a non-2xx answer (after retries): 401/403 name the key
// variable, 404 and unknown models name --remote-model or the URL.
Status http_error_status(std::string_view what, const std::string& url, const HttpResult& r, const RemoteOptions& o);

// Handles one SSE event; a non-ok Status stops the stream and is returned.
using SseHandler = std::function<Status(const SseEvent& event)>;

// POSTs json_body to url streaming SSE; auth_headers carry the key. Returns
// the HttpResult of a 2xx stream (cancelled when stopped); errors are
// redacted. truncated is set when the stream ended inside an event.
struct SsePost {
  HttpResult http;
  bool truncated = false;
  size_t bytes = 0;
};
Result<SsePost> post_sse(std::string_view what, const std::string& url, const std::string& json_body,
                         const std::vector<std::string>& auth_headers, const RemoteOptions& o, std::stop_token stop,
                         const SseHandler& on_event);

}  // namespace v4rt::agents::backends
