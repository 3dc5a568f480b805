// Renderers and Ctrl-C handling of `v4rt code`.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "agents/cli/code_cli.h"
#include "base/terminal_text.h"

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

// Hostile text (the model's, a tool's) made inert for the terminal (issue 11, hole 9).
std::string safe(const std::string& s) { return terminal_safe(s); }

// One line of at most max bytes, escaped: newlines and tabs become spaces
// first, then every control character is escaped; cut on a UTF-8 boundary.
std::string one_line(const std::string& s, size_t max) {
  std::string flat;
  for (char c : s) flat += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
  std::string out = terminal_safe(flat);
  if (out.size() <= max) return out;
  size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
  return out.substr(0, cut) + "...";
}

// Streamed deltas may split a UTF-8 sequence; escaping half a character would
// show it as \xNN. Keeps an incomplete tail back until the next delta.
class Utf8Joiner {
 public:
  std::string take(const std::string& piece) {
    pending_ += piece;
    size_t keep = incomplete_tail(pending_);
    std::string ready = pending_.substr(0, pending_.size() - keep);
    pending_.erase(0, pending_.size() - keep);
    return ready;
  }
  std::string flush() { return std::exchange(pending_, std::string()); }

 private:
  static size_t incomplete_tail(const std::string& s) {
    for (size_t back = 1; back <= 3 && back <= s.size(); ++back) {
      unsigned char c = static_cast<unsigned char>(s[s.size() - back]);
      if ((c & 0xC0) == 0x80) continue;  // continuation byte: look further back
      size_t need = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
      return need > back ? back : 0;
    }
    return 0;
  }
  std::string pending_;
};

// stdout carries only the final answer when it is not a terminal (`> out.txt`,
// a pipe): narration between tool calls streams to stderr with the activity,
// and the answer is written to stdout once the run ends. On a terminal the
// text streams to stdout as it comes (the interactive view).
}  // namespace

// A shell result that ran but failed (non-zero exit, timeout) is a failure to the user too.
bool shell_result_failed(const std::string& name, const std::string& text) {
  if (name != "shell") return false;
  if (text.rfind("timed out after", 0) == 0) return true;
  return text.rfind("exit code ", 0) == 0 && text.rfind("exit code 0\n", 0) != 0;
}

std::string tool_result_view(const std::string& name, const std::string& id, const std::string& text, bool is_error,
                             bool color) {
  constexpr size_t kHead = 6, kTail = 8;
  const bool failed = is_error || shell_result_failed(name, text);
  std::vector<std::string> lines;
  for (size_t p = 0; p < text.size();) {
    size_t nl = text.find('\n', p);
    if (nl == std::string::npos) nl = text.size();
    lines.push_back(text.substr(p, nl - p));
    p = nl + 1;
  }
  std::string label = (failed ? "  ! " : "  = ") + one_line(name, 40) + " " + one_line(id, 40) +
                      (failed ? " FAILED" : "") + (lines.size() > 1 ? " (" + std::to_string(lines.size()) + " lines)" : "");
  std::string out = (color && failed ? "\033[31m" + label + "\033[0m" : color ? "\033[2m" + label + "\033[0m" : label) + "\n";
  auto show = [&](size_t i) {
    std::string l = "    " + one_line(lines[i], 300);
    out += (color ? "\033[2m" + l + "\033[0m" : l) + "\n";
  };
  if (lines.size() <= kHead + kTail + 1) {
    for (size_t i = 0; i < lines.size(); ++i) show(i);
  } else {  // head and tail: the assertion at the end of a test run stays visible
    for (size_t i = 0; i < kHead; ++i) show(i);
    out += "    ... " + std::to_string(lines.size() - kHead - kTail) + " lines ...\n";
    for (size_t i = lines.size() - kTail; i < lines.size(); ++i) show(i);
  }
  return out;
}

namespace {

class TextRenderer : public agents::AgentObserver {
 public:
  explicit TextRenderer(bool color) : color_(color), text_out_(isatty(1) ? stdout : stderr) {}
  void on_event(const agents::AgentEvent& e) override {
    std::lock_guard<std::mutex> lock(mu_);
    using K = agents::AgentEvent::Kind;
    if (in_reasoning_ && e.kind != K::kReasoning) {
      std::fputs(dim(safe(reasoning_.flush())).c_str(), stderr);
      std::fputc('\n', stderr);
      in_reasoning_ = false;
    }
    if (e.kind != K::kText) {
      std::string rest = text_.flush();
      if (!rest.empty()) {
        std::fputs(safe(rest).c_str(), text_out_);
        wrote_text_ = rest.back() != '\n';
      }
    }
    switch (e.kind) {
      case K::kText: {
        std::string t = safe(text_.take(e.text));
        std::fputs(t.c_str(), text_out_);
        std::fflush(text_out_);
        if (!t.empty()) wrote_text_ = t.back() != '\n';
        break;
      }
      case K::kReasoning:
        std::fputs(dim(safe(reasoning_.take(e.text))).c_str(), stderr);
        in_reasoning_ = true;
        break;
      case K::kToolCall:
        end_line();
        std::fprintf(stderr, "%s\n",
                     dim("> " + one_line(e.name, 80) + " " +
                         one_line(e.arguments.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), 160))
                         .c_str());
        break;
      case K::kPermission:
        if (e.decision != "allow")
          std::fprintf(stderr, "  permission %s: %s\n", one_line(e.decision, 16).c_str(), one_line(e.reason, 600).c_str());
        break;
      case K::kToolResult:
        std::fputs(tool_result_view(e.name, e.id, e.text, e.is_error, color_).c_str(), stderr);
        break;
      case K::kParseError:
        end_line();
        std::fprintf(stderr, "v4rt: model output could not be parsed (%s); told the model\n", one_line(e.text, 400).c_str());
        break;
      case K::kCompacted:
        std::fprintf(stderr, "v4rt: %s\n", safe(e.text).c_str());
        break;
      case K::kStart: {
        const nlohmann::json& x = e.extra;
        std::string cwd = x.value("cwd", ".");
        std::fprintf(stderr, "v4rt: %s session %s in %s%s (%s)\n", x.value("resumed", false) ? "resumed" : "new",
                     one_line(x.value("session_id", ""), 80).c_str(), one_line(x.value("workspace", ""), 400).c_str(),
                     cwd == "." ? "" : (", starting in " + one_line(cwd, 200)).c_str(),
                     one_line(x.value("permission_mode", ""), 40).c_str());
        break;
      }
      case K::kDone:
        end_line();
        if (text_out_ != stdout && !e.text.empty()) {
          std::string answer = safe(e.text);
          std::fputs(answer.c_str(), stdout);
          if (answer.back() != '\n') std::fputc('\n', stdout);
          std::fflush(stdout);
        }
        break;
      default:
        break;
    }
  }

 private:
  std::string dim(const std::string& s) const { return color_ ? "\033[2m" + s + "\033[0m" : s; }
  void end_line() {
    if (wrote_text_) std::fputc('\n', text_out_);
    std::fflush(text_out_);
    wrote_text_ = false;
  }
  bool color_;
  FILE* text_out_;  // where streamed text goes: stdout on a terminal, else stderr
  bool wrote_text_ = false;
  bool in_reasoning_ = false;
  Utf8Joiner text_, reasoning_;
  std::mutex mu_;  // guards stdout/stderr interleaving and the joiners
};

class JsonRenderer : public agents::AgentObserver {
 public:
  explicit JsonRenderer(bool stream) : stream_(stream) {}
  void on_event(const agents::AgentEvent& e) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (e.kind == agents::AgentEvent::Kind::kStart) session_id_ = e.extra.value("session_id", "");
    if (stream_) {
      nlohmann::json j = e.to_json();
      if (e.kind == agents::AgentEvent::Kind::kDone && !session_id_.empty()) j["session_id"] = session_id_;
      std::string line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      std::fprintf(stdout, "%s\n", line.c_str());
      std::fflush(stdout);
      return;
    }
    if (e.kind == agents::AgentEvent::Kind::kToolCall) ++calls_;
    if (e.kind == agents::AgentEvent::Kind::kDone) {
      nlohmann::json j = e.to_json();
      j["type"] = "result";
      if (!session_id_.empty()) j["session_id"] = session_id_;
      std::printf("%s\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
      std::fflush(stdout);
    }
  }

 private:
  bool stream_;
  int calls_ = 0;
  std::string session_id_;  // from the init event
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
