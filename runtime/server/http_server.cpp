#include "runtime/server/http_server.h"

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <list>
#include <mutex>
#include <random>
#include <sstream>
#include <utility>

#include <nlohmann/json.hpp>

#include "model/config.h"
#include "parsers/chat_encoder.h"
#include "runtime/prompt_tokens.h"
#include "runtime/server/api_request.h"
#include "runtime/server/response_format.h"
#include "runtime/tokenizer/tokenizer.h"

namespace v4rt::runtime::server {

namespace {

using json = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

bool is_anthropic_path(const std::string& path) { return path.rfind("/v1/messages", 0) == 0; }

// Each API's error shape, by HTTP status.
json error_body(bool anthropic, int status, const std::string& message) {
  if (anthropic) {
    const char* type = status == 400 ? "invalid_request_error"
                       : status == 401 ? "authentication_error"
                       : status == 404 ? "not_found_error"
                       : status == 413 ? "request_too_large"
                       : status == 429 ? "rate_limit_error"
                       : status == 503 ? "overloaded_error"
                       : status == 504 ? "timeout_error"
                                       : "api_error";
    return {{"type", "error"}, {"error", {{"type", type}, {"message", message}}}};
  }
  const char* type = status == 401   ? "authentication_error"
                     : status == 429 ? "rate_limit_exceeded"
                     : status >= 500 ? "server_error"
                                     : "invalid_request_error";
  json code = status == 401 ? json("invalid_api_key") : json(nullptr);
  return {{"error", {{"message", message}, {"type", type}, {"param", nullptr}, {"code", code}}}};
}

void send_error(const httplib::Request& req, httplib::Response& res, int status, const std::string& message) {
  res.status = status;
  res.set_content(dump(error_body(is_anthropic_path(req.path), status, message)), "application/json");
}

// State shared by the HTTP thread of one request and the scheduler's worker.
struct Exchange {
  std::mutex mu;
  std::condition_variable cv;
  std::unique_ptr<ResponseFormatter> fmt;
  std::string pending;  // SSE bytes not yet written
  std::shared_ptr<Ticket> ticket;
  bool done = false;      // the ticket has its result
  bool finished = false;  // the last frames are in `pending`
  bool stream = false;
  bool anthropic = false;
  Clock::time_point deadline;
  std::string parse_error;
};

}  // namespace

bool secret_equals(const std::string& a, const std::string& b) {
  volatile unsigned char diff = static_cast<unsigned char>(a.size() != b.size());
  const size_t n = a.size() > b.size() ? a.size() : b.size();
  for (size_t i = 0; i < n; ++i) {
    unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff = diff | static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

struct HttpServer::Impl {
  ServerOptions opt;
  Scheduler& scheduler;
  parsers::ChatEncoder encoder;
  httplib::Server http;
  std::atomic<bool> draining{false};
  std::once_flag shutdown_once;
  std::mutex live_mu;
  std::list<std::weak_ptr<Ticket>> live;  // submitted tickets (for the drain timeout)
  std::mt19937_64 ids{std::random_device{}()};
  std::mutex ids_mu;
  // Metrics.
  std::atomic<uint64_t> requests{0}, errors{0}, prompt_tokens{0}, cached_tokens{0}, generated_tokens{0};
  std::atomic<uint64_t> prefill_us{0}, decode_us{0}, prefilled_tokens{0};

  Impl(ServerOptions o, Scheduler& s) : opt(std::move(o)), scheduler(s) {}

  std::string new_id(const char* prefix) {
    std::lock_guard<std::mutex> lock(ids_mu);
    char buf[40];
    std::snprintf(buf, sizeof buf, "%s%016llx", prefix, static_cast<unsigned long long>(ids()));
    return buf;
  }

  bool authorized(const httplib::Request& req) {
    if (opt.api_key.empty()) return true;
    std::string key;
    if (req.has_header("x-api-key")) key = req.get_header_value("x-api-key");
    std::string auth = req.get_header_value("Authorization");
    if (auth.size() > 7 && (auth.compare(0, 7, "Bearer ") == 0 || auth.compare(0, 7, "bearer ") == 0))
      key = auth.substr(7);
    return secret_equals(key, opt.api_key);
  }

  // Common guard of the /v1 routes; false when an error was sent.
  bool admit(const httplib::Request& req, httplib::Response& res) {
    requests++;
    if (!authorized(req)) {
      res.set_header("WWW-Authenticate", "Bearer");
      send_error(req, res, 401, "missing or wrong API key: send 'Authorization: Bearer KEY' or 'x-api-key: KEY'");
      return false;
    }
    if (draining) {
      send_error(req, res, 503, "the server is shutting down; retry later");
      return false;
    }
    return true;
  }

  void setup() {
    http.set_payload_max_length(opt.max_body_bytes);
    http.set_read_timeout(30, 0);
    http.set_write_timeout(30, 0);
    const size_t threads = opt.max_queue + 8;
    http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    http.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
      if (!res.body.empty()) return;
      std::string msg = res.status == 413   ? "the request body is too large"
                        : res.status == 404 ? "no route " + req.method + " " + req.path
                                            : "request failed with HTTP " + std::to_string(res.status);
      res.set_content(dump(error_body(is_anthropic_path(req.path), res.status, msg)), "application/json");
    });
    http.set_exception_handler([](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
      std::string what = "internal error";
      try {
        if (ep) std::rethrow_exception(ep);
      } catch (const std::exception& e) {
        what = std::string("internal error: ") + e.what();
      } catch (...) {
      }
      send_error(req, res, 500, what);
    });
    if (opt.access_log)
      http.set_logger([](const httplib::Request& req, const httplib::Response& res) {
        json line = {{"time", static_cast<int64_t>(std::time(nullptr))},
                     {"remote", req.remote_addr},
                     {"method", req.method},
                     {"path", req.path},
                     {"status", res.status},
                     {"bytes_in", req.body.size()}};
        std::fprintf(stderr, "%s\n", dump(line).c_str());
      });

    http.Get("/health", [this](const httplib::Request&, httplib::Response& res) {
      SchedulerStats s = scheduler.stats();
      json j = {{"status", draining ? "draining" : "ok"}, {"queued", s.queued}, {"running", s.running}};
      res.status = draining ? 503 : 200;
      res.set_content(dump(j), "application/json");
    });
    http.Get("/metrics", [this](const httplib::Request& req, httplib::Response& res) {
      if (!authorized(req)) return send_error(req, res, 401, "missing or wrong API key");
      res.set_content(metrics(), "text/plain; version=0.0.4");
    });
    http.Get("/v1/models", [this](const httplib::Request& req, httplib::Response& res) {
      if (!admit(req, res)) return;
      json m = {{"id", opt.model_name}, {"object", "model"}, {"created", 0}, {"owned_by", "v4rt"},
                {"type", "model"}, {"display_name", opt.model_name}};
      res.set_content(dump({{"object", "list"}, {"data", json::array({m})}}), "application/json");
    });
    http.Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) {
      if (!admit(req, res)) return;
      auto r = parse_openai_chat(req.body, encoder, opt.default_max_tokens);
      if (!r.ok()) return send_error(req, res, 400, r.status().message());
      generate(req, res, std::move(*r), new_id("chatcmpl-"));
    });
    http.Post("/v1/completions", [this](const httplib::Request& req, httplib::Response& res) {
      if (!admit(req, res)) return;
      auto r = parse_openai_completion(req.body, opt.default_max_tokens);
      if (!r.ok()) return send_error(req, res, 400, r.status().message());
      generate(req, res, std::move(*r), new_id("cmpl-"));
    });
    http.Post("/v1/messages", [this](const httplib::Request& req, httplib::Response& res) {
      if (!admit(req, res)) return;
      auto r = parse_anthropic_messages(req.body, encoder);
      if (!r.ok()) return send_error(req, res, 400, r.status().message());
      generate(req, res, std::move(*r), new_id("msg_"));
    });
    http.Post("/v1/messages/count_tokens", [this](const httplib::Request& req, httplib::Response& res) {
      if (!admit(req, res)) return;
      auto r = parse_anthropic_count_tokens(req.body, encoder);
      if (!r.ok()) return send_error(req, res, 400, r.status().message());
      std::vector<int32_t> ids = token_ids(*r);
      res.set_content(dump({{"input_tokens", ids.size()}}), "application/json");
    });
  }

  std::vector<int32_t> token_ids(const ApiRequest& r) {
    const Tokenizer* tok = scheduler.engine().tokenizer();
    const int32_t bos = scheduler.engine().config().bos_token_id;
    if (r.chat) return prompt_token_ids(*tok, r.prompt, bos);
    std::vector<int32_t> ids = tok->encode(r.raw_prompt);
    if (ids.empty() || ids[0] != bos) ids.insert(ids.begin(), bos);
    return ids;
  }

  std::string metrics() {
    SchedulerStats s = scheduler.stats();
    std::ostringstream o;
    auto line = [&](const char* name, const char* type, const char* help, double v) {
      o << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n' << name << ' ' << v << '\n';
    };
    line("v4rt_requests_total", "counter", "HTTP requests to the API routes", static_cast<double>(requests));
    line("v4rt_request_errors_total", "counter", "generation requests that failed", static_cast<double>(errors));
    line("v4rt_requests_rejected_total", "counter", "requests refused with 429 (queue full)",
         static_cast<double>(s.rejected));
    line("v4rt_prompt_tokens_total", "counter", "prompt tokens of finished requests", static_cast<double>(prompt_tokens));
    line("v4rt_cache_hit_tokens_total", "counter", "prompt tokens reused from the warm state or the session store",
         static_cast<double>(cached_tokens));
    line("v4rt_prefilled_tokens_total", "counter", "prompt tokens computed", static_cast<double>(prefilled_tokens));
    line("v4rt_generated_tokens_total", "counter", "generated tokens", static_cast<double>(generated_tokens));
    line("v4rt_prefill_seconds_total", "counter", "time spent in prefill", prefill_us / 1e6);
    line("v4rt_decode_seconds_total", "counter", "time spent in decode", decode_us / 1e6);
    line("v4rt_queue_depth", "gauge", "requests waiting for the engine", static_cast<double>(s.queued));
    line("v4rt_running", "gauge", "requests on the engine now", s.running ? 1.0 : 0.0);
    return o.str();
  }

  void account(const GenerateResult& r) {
    prompt_tokens += static_cast<uint64_t>(r.stats.prompt_tokens);
    cached_tokens += static_cast<uint64_t>(r.stats.reused_tokens);
    prefilled_tokens += static_cast<uint64_t>(r.stats.prefilled_tokens);
    generated_tokens += static_cast<uint64_t>(r.stats.generated_tokens);
    prefill_us += static_cast<uint64_t>(r.stats.prefill_s * 1e6);
    decode_us += static_cast<uint64_t>(r.stats.decode_s * 1e6);
  }

  void generate(const httplib::Request& req, httplib::Response& res, ApiRequest api, const std::string& id) {
    auto ex = std::make_shared<Exchange>();
    ex->stream = api.stream;
    ex->anthropic = api.api == Api::kAnthropicMessages;
    ex->deadline = Clock::now() + std::chrono::seconds(opt.request_timeout_s);

    GenerateRequest g;
    g.tokens = token_ids(api);
    g.max_tokens = api.max_tokens;
    g.sampling = api.sampling;
    g.stop_strings = api.stop;
    g.stop_at_eos = !api.ignore_eos;
    ex->fmt = make_formatter(api, opt.model_name, id, static_cast<int64_t>(std::time(nullptr)),
                             static_cast<int64_t>(g.tokens.size()));
    ex->pending = ex->fmt->start();

    Callbacks cb;
    cb.on_text = [ex](std::string_view piece) {
      std::lock_guard<std::mutex> lock(ex->mu);
      ex->pending += ex->fmt->feed(piece);
      ex->cv.notify_all();
      return true;
    };
    auto on_done = [ex] {
      std::lock_guard<std::mutex> lock(ex->mu);
      ex->done = true;
      ex->cv.notify_all();
    };
    auto t = scheduler.submit(std::move(g), std::move(cb), on_done);
    if (!t.ok()) {
      if (t.status().is_resource_exhausted()) {
        res.set_header("Retry-After", "1");
        return send_error(req, res, 429, t.status().message());
      }
      return send_error(req, res, 503, t.status().message());
    }
    ex->ticket = *t;
    {
      std::lock_guard<std::mutex> lock(live_mu);
      live.remove_if([](const std::weak_ptr<Ticket>& w) { return w.expired(); });
      live.push_back(ex->ticket);
    }
    if (api.stream)
      stream_response(res, ex);
    else
      whole_response(req, res, ex);
  }

  // Non-streaming: wait for the result (cancel at the deadline), answer once.
  void whole_response(const httplib::Request& req, httplib::Response& res, const std::shared_ptr<Exchange>& ex) {
    bool timed_out = false;
    {
      std::unique_lock<std::mutex> lock(ex->mu);
      if (!ex->cv.wait_until(lock, ex->deadline, [&] { return ex->done; })) {
        timed_out = true;
        ex->ticket->cancel();
        ex->cv.wait(lock, [&] { return ex->done; });
      }
    }
    Result<GenerateResult> r = *ex->ticket->wait_for(0);
    if (timed_out) {
      errors++;
      return send_error(req, res, 504, "the request took longer than " + std::to_string(opt.request_timeout_s) +
                                           " s (--request-timeout) and was cancelled");
    }
    if (!r.ok()) {
      errors++;
      return send_error(req, res, r.status().is_invalid_argument() ? 400 : 500, r.status().message());
    }
    account(*r);
    std::lock_guard<std::mutex> lock(ex->mu);
    ex->fmt->finish(*r);
    res.set_content(dump(ex->fmt->body()), "application/json");
  }

  std::string stream_error(const Exchange& ex, int status, const std::string& message) {
    json e = error_body(ex.anthropic, status, message);
    if (ex.anthropic) return "event: error\ndata: " + dump(e) + "\n\n";
    return "data: " + dump(e) + "\n\ndata: [DONE]\n\n";
  }

  // Streaming: SSE frames as they come; a keep-alive comment each idle second
  // (so a vanished client is noticed while the request waits or prefills).
  void stream_response(httplib::Response& res, const std::shared_ptr<Exchange>& ex) {
    res.set_header("Cache-Control", "no-cache");
    res.set_header("X-Accel-Buffering", "no");
    res.set_chunked_content_provider(
        "text/event-stream",
        [this, ex](size_t, httplib::DataSink& sink) -> bool {
          std::unique_lock<std::mutex> lock(ex->mu);
          for (;;) {
            if (!ex->pending.empty()) {
              std::string out = std::move(ex->pending);
              ex->pending.clear();
              lock.unlock();
              if (!sink.write(out.data(), out.size())) {
                ex->ticket->cancel();
                return false;
              }
              return true;
            }
            if (ex->finished) {
              sink.done();
              return true;
            }
            if (ex->done) {
              Result<GenerateResult> r = *ex->ticket->wait_for(0);
              if (Clock::now() >= ex->deadline) {
                errors++;
                ex->pending += stream_error(*ex, 504, "the request took longer than " +
                                                          std::to_string(opt.request_timeout_s) +
                                                          " s (--request-timeout) and was cancelled");
              } else if (!r.ok()) {
                errors++;
                ex->pending += stream_error(*ex, 500, r.status().message());
              } else {
                account(*r);
                ex->pending += ex->fmt->finish(*r);
              }
              ex->finished = true;
              continue;
            }
            if (Clock::now() >= ex->deadline) ex->ticket->cancel();
            if (!ex->cv.wait_for(lock, std::chrono::seconds(1),
                                 [&] { return ex->done || !ex->pending.empty(); })) {
              lock.unlock();
              static constexpr char kPing[] = ": keep-alive\n\n";
              if (!sink.write(kPing, sizeof kPing - 1)) {
                ex->ticket->cancel();
                return false;
              }
              return true;
            }
          }
        },
        [ex](bool success) {
          if (!success && ex->ticket) ex->ticket->cancel();
        });
  }

  void drain() {
    draining = true;
    const auto until = Clock::now() + std::chrono::seconds(opt.drain_timeout_s);
    while (Clock::now() < until) {
      SchedulerStats s = scheduler.stats();
      if (s.queued == 0 && !s.running) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    {
      std::lock_guard<std::mutex> lock(live_mu);
      for (auto& w : live)
        if (auto t = w.lock()) t->cancel();
    }
    scheduler.drain();
  }
};

HttpServer::HttpServer(ServerOptions options, Scheduler& scheduler)
    : impl_(std::make_unique<Impl>(std::move(options), scheduler)) {
  impl_->setup();
}

HttpServer::~HttpServer() { shutdown(); }

Result<int> HttpServer::bind() {
  int port = impl_->opt.port;
  if (port == 0) {
    port = impl_->http.bind_to_any_port(impl_->opt.host);
    if (port < 0) return Status::IoError("cannot bind " + impl_->opt.host + " to a free port; check --host");
    return port;
  }
  if (!impl_->http.bind_to_port(impl_->opt.host, port))
    return Status::IoError("cannot bind " + impl_->opt.host + ":" + std::to_string(port) +
                           " (in use or not permitted); choose another --port or --host");
  return port;
}

Status HttpServer::run() {
  if (!impl_->http.listen_after_bind() && !impl_->draining)
    return Status::IoError("the HTTP server stopped unexpectedly");
  return Status::Ok();
}

void HttpServer::shutdown() {
  std::call_once(impl_->shutdown_once, [this] {
    impl_->drain();
    impl_->http.stop();
  });
}

}  // namespace v4rt::runtime::server
