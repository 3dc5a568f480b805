// HttpStream: one streamed HTTP POST over libcurl (HTTP/1.1 or HTTP/2, TLS
// with the system CA bundle), with the reliability rules of the remote
// backends:
//   * retries with exponential backoff and full jitter on connect errors,
//     a connection closed before any response byte, 429 (Retry-After
//     honoured, capped) and 5xx -- only while no byte of a 2xx body has been
//     handed to the caller, so a request whose stream started is never re-sent;
//   * cancellation through the stop_token aborts the transfer at once (the
//     transfer runs on a curl multi handle polled every 50 ms, plus
//     CURLOPT_XFERINFOFUNCTION) and also cuts a backoff sleep short;
//   * connect timeout, and an idle timeout: the server must send a byte within
//     idle_timeout_s of the request and of the previous byte (slow streams
//     survive; a server that never answers does not hang the agent).
// Header values (the API key) never appear in a Status message. Not
// thread-safe; one post() at a time per object, objects are independent.
#pragma once

#include <functional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace v4rt::agents::backends {

struct HttpOptions {
  double connect_timeout_s = 10;   // TCP + TLS handshake
  double idle_timeout_s = 300;     // seconds without a byte from the server (0: no limit)
  int max_retries = 4;             // re-sends after the first try
  double backoff_initial_s = 0.5;  // first backoff; doubles per retry, full jitter
  double backoff_max_s = 30;       // cap of one backoff and of a Retry-After
};

struct HttpRequest {
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string body;
};

struct HttpResult {
  long status = 0;           // HTTP status of the last try (0: none)
  bool cancelled = false;    // the stop_token or the sink stopped the transfer
  int retries = 0;           // tries after the first
  std::string error_body;    // body of a non-2xx response (first 64 KiB)
  double first_byte_s = -1;  // seconds from the successful try's start to its first body byte
};

// Called with the body bytes of a 2xx response as they arrive; return false to stop.
using BodySink = std::function<bool(std::string_view bytes)>;

// Called before each re-send (attempt 1..n, the wait, the reason); for logs and tests.
using RetryObserver = std::function<void(int attempt, double wait_s, const std::string& reason)>;

// Posts and streams. Returns ok with the HttpResult when the transfer ended
// (any HTTP status: the caller maps non-2xx after the retries are spent), or
// an IoError naming `what` and the URL when the connection failed, timed out
// or dropped mid-stream. The caller's sink errors are its own to report.
Result<HttpResult> http_post_stream(const HttpRequest& request, const HttpOptions& options, std::stop_token stop,
                                    const BodySink& on_body, std::string_view what,
                                    const RetryObserver& on_retry = {});

// Seconds from a Retry-After value (delta-seconds only; an HTTP date gives -1).
double parse_retry_after(std::string_view value);

}  // namespace v4rt::agents::backends
