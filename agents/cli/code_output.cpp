// Renderers and Ctrl-C handling of `v4rt code`.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <thread>

#include "agents/cli/code_cli.h"

namespace v4rt::cli {

namespace {

// Written by the SIGINT handler, read by the watcher thread (lock-free atomics only).
std::atomic<int> g_interrupts{0};
std::atomic<long long> g_last_interrupt_ms{0};

long long now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void on_sigint(int) {
  long long t = now_ms();
  long long last = g_last_interrupt_ms.exchange(t);
  if (g_interrupts.fetch_add(1) > 0 && t - last < 2000) _exit(130);
}

std::string one_line(const std::string& s, size_t max) {
  std::string out;
  for (char c : s) {
    if (out.size() >= max) {
      out += "...";
      break;
    }
    out += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
  }
  return out;
}

class TextRenderer : public agents::AgentObserver {
 public:
  explicit TextRenderer(bool color) : color_(color) {}
  void on_event(const agents::AgentEvent& e) override {
    std::lock_guard<std::mutex> lock(mu_);
    using K = agents::AgentEvent::Kind;
    if (in_reasoning_ && e.kind != K::kReasoning) {
      std::fputc('\n', stderr);
      in_reasoning_ = false;
    }
    switch (e.kind) {
      case K::kText:
        std::fputs(e.text.c_str(), stdout);
        std::fflush(stdout);
        wrote_text_ = !e.text.empty() && e.text.back() != '\n';
        break;
      case K::kReasoning:
        std::fputs(dim(e.text).c_str(), stderr);
        in_reasoning_ = true;
        break;
      case K::kToolCall:
        end_line();
        std::fprintf(stderr, "%s\n", dim("> " + e.name + " " + one_line(e.arguments.dump(), 160)).c_str());
        break;
      case K::kPermission:
        if (e.decision != "allow") std::fprintf(stderr, "  permission %s: %s\n", e.decision.c_str(), e.reason.c_str());
        break;
      case K::kToolResult:
        std::fprintf(stderr, "%s\n", dim(std::string(e.is_error ? "  ! " : "  = ") + one_line(e.text, 200)).c_str());
        break;
      case K::kParseError:
        end_line();
        std::fprintf(stderr, "v4rt: model output could not be parsed (%s); told the model\n", e.text.c_str());
        break;
      case K::kCompacted:
        std::fprintf(stderr, "v4rt: %s\n", e.text.c_str());
        break;
      case K::kDone:
        end_line();
        break;
      default:
        break;
    }
  }

 private:
  std::string dim(const std::string& s) const { return color_ ? "\033[2m" + s + "\033[0m" : s; }
  void end_line() {
    if (wrote_text_) std::fputc('\n', stdout);
    std::fflush(stdout);
    wrote_text_ = false;
  }
  bool color_;
  bool wrote_text_ = false;
  bool in_reasoning_ = false;
  std::mutex mu_;  // guards stdout/stderr interleaving
};

class JsonRenderer : public agents::AgentObserver {
 public:
  explicit JsonRenderer(bool stream) : stream_(stream) {}
  void on_event(const agents::AgentEvent& e) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (stream_) {
      std::string line = e.to_json().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      std::fprintf(stdout, "%s\n", line.c_str());
      std::fflush(stdout);
      return;
    }
    if (e.kind == agents::AgentEvent::Kind::kToolCall) ++calls_;
    if (e.kind == agents::AgentEvent::Kind::kDone) {
      nlohmann::json j = e.to_json();
      j["type"] = "result";
      std::printf("%s\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
      std::fflush(stdout);
    }
  }

 private:
  bool stream_;
  int calls_ = 0;
  std::mutex mu_;  // guards stdout
};

}  // namespace

std::unique_ptr<agents::AgentObserver> make_code_renderer(CodeOutput format, bool color) {
  if (format == CodeOutput::kText) return std::make_unique<TextRenderer>(color);
  return std::make_unique<JsonRenderer>(format == CodeOutput::kStreamJson);
}

InterruptGuard::InterruptGuard() {
  g_interrupts = 0;
  struct sigaction sa {};
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  watcher_ = std::jthread([this](std::stop_token st) {
    while (!st.stop_requested()) {
      if (g_interrupts.load() > 0) source_.request_stop();
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
}

InterruptGuard::~InterruptGuard() {
  watcher_.request_stop();
  if (watcher_.joinable()) watcher_.join();
  signal(SIGINT, SIG_DFL);
}

void InterruptGuard::reset() {
  // Stop the watcher before replacing the source it reads.
  watcher_.request_stop();
  if (watcher_.joinable()) watcher_.join();
  g_interrupts = 0;
  source_ = std::stop_source();
  watcher_ = std::jthread([this](std::stop_token st) {
    while (!st.stop_requested()) {
      if (g_interrupts.load() > 0) source_.request_stop();
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
}

void print_run_summary(const agents::RunSummary& s, const agents::CodingAgent& agent) {
  std::fprintf(stderr, "v4rt: %s after %d step%s, %d tool call%s (%d failed); prompt %lld tokens, reused %lld, "
               "generated %lld; %.1fs; session %s\n",
               s.stop_reason.c_str(), s.steps, s.steps == 1 ? "" : "s", s.tool_calls, s.tool_calls == 1 ? "" : "s",
               s.tool_errors, static_cast<long long>(s.prompt_tokens), static_cast<long long>(s.reused_tokens),
               static_cast<long long>(s.generated_tokens), s.wall_s, agent.session_id().c_str());
}

}  // namespace v4rt::cli
