// HttpServer: the OpenAI- and Anthropic-compatible HTTP API over a Scheduler
// (cpp-httplib). Routes: POST /v1/chat/completions, POST /v1/completions,
// GET /v1/models, POST /v1/messages, POST /v1/messages/count_tokens,
// GET /health, GET /metrics. docs/serve.md describes the behaviour.
//
// Production limits: request bodies above max_body_bytes get 413; when the
// scheduler queue is full a request gets 429 with Retry-After; a request
// running longer than request_timeout_s is cancelled (504, or an error event
// on a stream); a streaming client that disconnects cancels its generation
// (detected on the next write: a token or a keep-alive comment every second);
// with an API key every /v1 route needs `Authorization: Bearer KEY` or
// `x-api-key: KEY` (constant-time compare). Errors use each API's own error
// shape. shutdown() (SIGTERM) stops accepting requests (503), lets running
// and queued ones finish (at most drain_timeout_s, then cancels them) and
// returns from run().
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "base/status.h"
#include "runtime/scheduler.h"

namespace v4rt::runtime::server {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                     // 0: any free port (bind() returns it)
  std::string api_key;                 // empty: no authentication
  std::string model_name = "v4rt";     // the id /v1/models reports and responses carry
  size_t max_body_bytes = 8u << 20;
  size_t max_queue = 16;               // requests waiting for the engine (the running one excluded)
  int request_timeout_s = 600;         // wall time from arrival to the end of generation
  int default_max_tokens = 2048;       // OpenAI requests without max_tokens
  int drain_timeout_s = 30;            // shutdown: how long running requests may still take
  bool access_log = true;              // one JSON line per request on stderr
};

// Constant-time equality for secrets (time depends on the lengths only).
bool secret_equals(const std::string& a, const std::string& b);

class HttpServer {
 public:
  // scheduler (and its engine, which must have a tokenizer) are borrowed.
  HttpServer(ServerOptions options, Scheduler& scheduler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds the listening socket; returns the port (IoError naming host:port).
  Result<int> bind();
  // Serves until shutdown(); returns after the drain.
  Status run();
  // Thread-safe; idempotent. Begins the drain and makes run() return.
  void shutdown();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace v4rt::runtime::server
