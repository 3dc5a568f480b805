#include "agents/backends/http_stream.h"

#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <random>
#include <thread>

namespace v4rt::agents::backends {

namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kMaxErrorBody = 64 * 1024;

// What one try saw; the callbacks fill it.
struct Try {
  CURL* easy = nullptr;
  std::stop_token stop;
  const BodySink* sink = nullptr;
  double idle_timeout_s = 0;
  Clock::time_point start, last_activity;
  double first_byte_s = -1;
  bool any_byte = false;     // a header or body byte arrived
  size_t delivered = 0;      // 2xx body bytes handed to the sink
  bool sink_stopped = false;
  bool cancelled = false;
  bool timed_out = false;
  double retry_after_s = -1;
  std::string error_body;
};

long response_code(CURL* easy) {
  long code = 0;
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
  return code;
}

size_t on_write(char* data, size_t size, size_t n, void* user) {
  Try& t = *static_cast<Try*>(user);
  const size_t len = size * n;
  t.any_byte = true;
  t.last_activity = Clock::now();
  long code = response_code(t.easy);
  if (code >= 200 && code < 300) {
    if (t.first_byte_s < 0) t.first_byte_s = std::chrono::duration<double>(t.last_activity - t.start).count();
    t.delivered += len;
    if (!(*t.sink)(std::string_view(data, len))) {
      t.sink_stopped = true;
      return 0;  // aborts the transfer (CURLE_WRITE_ERROR)
    }
  } else if (t.error_body.size() < kMaxErrorBody) {
    t.error_body.append(data, std::min(len, kMaxErrorBody - t.error_body.size()));
  }
  return len;
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
  Try& t = *static_cast<Try*>(user);
  const size_t len = size * n;
  t.any_byte = true;
  t.last_activity = Clock::now();
  std::string_view line(data, len);
  if (line.rfind("HTTP/", 0) == 0) t.retry_after_s = -1;  // a new response (after 100 Continue)
  constexpr std::string_view kName = "retry-after:";
  if (line.size() > kName.size()) {
    std::string head(line.substr(0, kName.size()));
    std::transform(head.begin(), head.end(), head.begin(), [](unsigned char c) { return std::tolower(c); });
    if (head == kName) t.retry_after_s = parse_retry_after(line.substr(kName.size()));
  }
  return len;
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  Try& t = *static_cast<Try*>(user);
  if (t.stop.stop_requested()) {
    t.cancelled = true;
    return 1;
  }
  if (t.idle_timeout_s > 0 &&
      std::chrono::duration<double>(Clock::now() - t.last_activity).count() > t.idle_timeout_s) {
    t.timed_out = true;
    return 1;
  }
  return 0;
}

struct EasyDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

// Sleeps up to `seconds`, returning early (false) when stop is requested.
bool sleep_unless_stopped(double seconds, std::stop_token stop) {
  auto until = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  while (Clock::now() < until) {
    if (stop.stop_requested()) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return !stop.stop_requested();
}

bool retryable_curl_error(CURLcode c) {
  switch (c) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_GOT_NOTHING:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_OPERATION_TIMEDOUT:  // the connect timeout
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return true;
    default:
      return false;
  }
}

struct MultiDeleter {
  void operator()(CURLM* m) const { curl_multi_cleanup(m); }
};

// curl_easy_perform, but polling in 50 ms steps so that a stop request or the
// idle timeout ends the transfer within 50 ms even while the server is silent
// (libcurl calls the progress callback only about once a second then).
CURLcode perform(CURL* e, Try& t) {
  std::unique_ptr<CURLM, MultiDeleter> multi(curl_multi_init());
  if (!multi || curl_multi_add_handle(multi.get(), e) != CURLM_OK) return curl_easy_perform(e);
  int running = 1;
  CURLcode rc = CURLE_OK;
  while (running) {
    if (curl_multi_perform(multi.get(), &running) != CURLM_OK) {
      rc = CURLE_RECV_ERROR;
      break;
    }
    if (!running) break;
    if (on_progress(&t, 0, 0, 0, 0) != 0) {
      rc = CURLE_ABORTED_BY_CALLBACK;
      break;
    }
    curl_multi_poll(multi.get(), nullptr, 0, 50, nullptr);
  }
  int left = 0;
  while (CURLMsg* m = curl_multi_info_read(multi.get(), &left))
    if (m->msg == CURLMSG_DONE && m->easy_handle == e) rc = m->data.result;
  curl_multi_remove_handle(multi.get(), e);
  return rc;
}

}  // namespace

double parse_retry_after(std::string_view value) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) value.remove_suffix(1);
  if (value.empty() || value.size() > 9 || value.find_first_not_of("0123456789") != std::string_view::npos) return -1;
  return static_cast<double>(std::stol(std::string(value)));
}

Result<HttpResult> http_post_stream(const HttpRequest& request, const HttpOptions& options, std::stop_token stop,
                                    const BodySink& on_body, std::string_view what, const RetryObserver& on_retry) {
  const std::string where = std::string(what) + " " + request.url;
  std::unique_ptr<curl_slist, SlistDeleter> headers;
  {
    curl_slist* list = nullptr;
    for (const auto& h : request.headers) list = curl_slist_append(list, h.c_str());
    list = curl_slist_append(list, "Expect:");  // no 100-continue round trip
    headers.reset(list);
  }
  std::mt19937_64 rng(std::random_device{}());
  HttpResult result;
  for (int attempt = 0;; ++attempt) {
    std::unique_ptr<CURL, EasyDeleter> easy(curl_easy_init());
    if (!easy) return Status::Internal(where + ": curl_easy_init failed (out of memory?)");
    Try t;
    t.easy = easy.get();
    t.stop = stop;
    t.sink = &on_body;
    t.idle_timeout_s = options.idle_timeout_s;
    t.start = t.last_activity = Clock::now();
    char errbuf[CURL_ERROR_SIZE] = {};
    CURL* e = easy.get();
    curl_easy_setopt(e, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options.connect_timeout_s * 1000));
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(e, CURLOPT_XFERINFODATA, &t);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    CURLcode rc = perform(e, t);
    result.status = response_code(e);
    result.error_body = std::move(t.error_body);
    result.first_byte_s = t.first_byte_s;
    if (t.cancelled || t.sink_stopped) {
      result.cancelled = true;
      return result;
    }
    const bool retries_left = attempt < options.max_retries;
    std::string reason;
    double wait = -1;
    if (t.timed_out) {
      // Not re-sent: a server that is slow to answer would only get the load twice.
      if (t.delivered > 0)
        return Status::IoError(where + ": the stream stalled (no data for " + std::to_string(options.idle_timeout_s) +
                               " s after " + std::to_string(t.delivered) +
                               " bytes); the turn is lost; retry, or raise --request-timeout-s for a slow server");
      return Status::IoError(where + ": no answer within " + std::to_string(options.idle_timeout_s) +
                             " s (--request-timeout-s); check that the server is up and not overloaded");
    }
    if (rc != CURLE_OK) {
      std::string detail = errbuf[0] ? errbuf : curl_easy_strerror(rc);
      if (t.delivered > 0)
        return Status::IoError(where + ": the connection dropped mid-stream after " + std::to_string(t.delivered) +
                               " bytes (" + detail + "); the request is not re-sent once its answer has started; "
                               "run the task again or resume the session");
      if (t.any_byte || !retryable_curl_error(rc) || !retries_left)
        return Status::IoError(where + ": " + detail +
                               (result.retries ? " (after " + std::to_string(result.retries) + " retries)" : "") +
                               "; check the URL and that the server is reachable");
      reason = detail;
    } else if ((result.status == 429 || result.status >= 500) && retries_left) {
      reason = "HTTP " + std::to_string(result.status);
      if (result.status == 429 && t.retry_after_s >= 0) wait = std::min(t.retry_after_s, options.backoff_max_s);
    } else {
      return result;
    }
    if (wait < 0) {
      double cap = std::min(options.backoff_max_s, options.backoff_initial_s * std::pow(2.0, attempt));
      wait = std::uniform_real_distribution<double>(cap / 2, cap)(rng);  // equal jitter
    }
    if (on_retry) on_retry(attempt + 1, wait, reason);
    if (!sleep_unless_stopped(wait, stop)) {
      result.cancelled = true;
      return result;
    }
    ++result.retries;
  }
}

}  // namespace v4rt::agents::backends
