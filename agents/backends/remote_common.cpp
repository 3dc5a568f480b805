#include "agents/backends/remote_common.h"

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

#include "base/terminal_text.h"

namespace v4rt::agents::backends {

namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// The server's own words: error.message (OpenAI, Anthropic) or the body's start.
std::string server_message(const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  std::string msg;
  if (!j.is_discarded() && j.is_object()) {
    const auto& e = j.contains("error") ? j["error"] : j;
    if (e.is_object() && e.contains("message") && e["message"].is_string()) msg = e["message"].get<std::string>();
    else if (e.is_string()) msg = e.get<std::string>();
    else if (j.contains("detail") && j["detail"].is_string()) msg = j["detail"].get<std::string>();
  }
  if (msg.empty()) msg = body;
  if (msg.size() > 300) msg = msg.substr(0, 300) + "...";
  return msg;
}

// s with its message scrubbed of the key, same code.
Status redacted(const Status& s, const RemoteOptions& o) {
  std::string m = redact(s.message(), o);
  if (m == s.message()) return s;
  switch (s.code()) {
    case Status::Code::kOk: return s;
    case Status::Code::kInvalidArgument: return Status::InvalidArgument(m);
    case Status::Code::kNotFound: return Status::NotFound(m);
    case Status::Code::kCorruption: return Status::Corruption(m);
    case Status::Code::kIoError: return Status::IoError(m);
    case Status::Code::kUnsupported: return Status::Unsupported(m);
    case Status::Code::kCancelled: return Status::Cancelled(m);
    case Status::Code::kResourceExhausted: return Status::ResourceExhausted(m);
    case Status::Code::kInternal: return Status::Internal(m);
  }
  return Status::Internal(m);
}

}  // namespace

std::string endpoint_url(std::string_view base, std::string_view path) {
  std::string b(base);
  while (!b.empty() && b.back() == '/') b.pop_back();
  if (ends_with(b, "/" + std::string(path))) return b;
  if (ends_with(b, "/v1")) return b + "/" + std::string(path);
  return b + "/v1/" + std::string(path);
}

std::string redact(std::string text, const RemoteOptions& o) {
  if (o.api_key.empty()) return text;
  for (size_t p; (p = text.find(o.api_key)) != std::string::npos;) text.replace(p, o.api_key.size(), "[redacted]");
  return text;
}

Status http_error_status(std::string_view what, const std::string& url, const HttpResult& r, const RemoteOptions& o) {
  std::string msg = terminal_safe(redact(server_message(r.error_body), o));
  std::string head = std::string(what) + " " + url + ": HTTP " + std::to_string(r.status) + " (" + msg + ")";
  if (r.retries > 0) head += " after " + std::to_string(r.retries) + " retries";
  const std::string env = o.api_key_env.empty() ? std::string("the API key variable") : "$" + o.api_key_env;
  std::string l = lower(msg);
  bool model_problem = (l.find("model") != std::string::npos) &&
                       (l.find("not found") != std::string::npos || l.find("not exist") != std::string::npos ||
                        l.find("does not exist") != std::string::npos || l.find("unknown") != std::string::npos ||
                        l.find("invalid") != std::string::npos);
  if (r.status == 401)
    return Status::InvalidArgument(head + (o.api_key.empty() ? "; no API key was sent: " + env + " is empty; export it"
                                                             : "; the server refused the key in " + env) +
                                   " (or name another variable with --api-key-env)");
  if (r.status == 403)
    return Status::InvalidArgument(head + "; the key in " + env +
                                   " is not allowed to use this model or endpoint; check its permissions or --remote-model");
  if (model_problem && (r.status == 404 || r.status == 400))
    return Status::NotFound(head + "; the server does not serve model '" + o.model +
                            "': pass its name with --remote-model (GET " + endpoint_url(o.base_url, "models") +
                            " lists them)");
  if (r.status == 404)
    return Status::NotFound(head + "; no such endpoint: check the URL of --backend (the server's base URL, e.g. "
                                   "http://host:8000 or https://api.deepseek.com)");
  if (r.status == 429)
    return Status::ResourceExhausted(head + "; the server is rate-limiting: wait, or lower the request rate");
  if (r.status >= 500) return Status::IoError(head + "; the server failed; try again later");
  return Status::InvalidArgument(head + "; the server rejected the request");
}

Result<SsePost> post_sse(std::string_view what, const std::string& url, const std::string& json_body,
                         const std::vector<std::string>& auth_headers, const RemoteOptions& o, std::stop_token stop,
                         const SseHandler& on_event) {
  HttpRequest req;
  req.url = url;
  req.body = json_body;
  req.headers = {"Content-Type: application/json", "Accept: text/event-stream"};
  for (const auto& h : auth_headers) req.headers.push_back(h);
  for (const auto& h : o.extra_headers) req.headers.push_back(h);
  SseReader reader;
  Status handler_error;
  std::vector<SseEvent> events;
  auto sink = [&](std::string_view bytes) {
    reader.feed(bytes, events);
    for (const auto& e : events) {
      handler_error = on_event(e);
      if (!handler_error.ok()) break;
    }
    events.clear();
    return handler_error.ok();
  };
  auto r = http_post_stream(req, o.http, stop, sink, what);
  if (!r.ok()) return redacted(r.status(), o);
  if (!handler_error.ok()) return redacted(handler_error, o);
  if (r->cancelled) return SsePost{*r, false, reader.bytes_seen()};
  if (r->status < 200 || r->status >= 300) return http_error_status(what, url, *r, o);
  return SsePost{*r, reader.pending(), reader.bytes_seen()};
}

}  // namespace v4rt::agents::backends
