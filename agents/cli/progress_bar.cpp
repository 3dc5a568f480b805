#include "agents/cli/progress_bar.h"

#include <cmath>

namespace v4rt::cli {

std::string human_count(uint64_t n, ProgressBar::Unit unit) {
  char buf[32];
  double x = static_cast<double>(n);
  if (unit == ProgressBar::Unit::kBytes) {
    if (x >= 1e9) std::snprintf(buf, sizeof(buf), "%.1f GB", x / 1e9);
    else if (x >= 1e6) std::snprintf(buf, sizeof(buf), "%.1f MB", x / 1e6);
    else if (x >= 1e3) std::snprintf(buf, sizeof(buf), "%.1f kB", x / 1e3);
    else std::snprintf(buf, sizeof(buf), "%llu B", static_cast<unsigned long long>(n));
    return buf;
  }
  if (x >= 1e6) std::snprintf(buf, sizeof(buf), "%.1fM", x / 1e6);
  else if (x >= 1e3) std::snprintf(buf, sizeof(buf), "%.1fK", x / 1e3);
  else std::snprintf(buf, sizeof(buf), "%llu", static_cast<unsigned long long>(n));
  return buf;
}

std::string human_duration(double s) {
  char buf[32];
  if (!std::isfinite(s) || s < 0) return "?";
  long t = std::lround(s);
  if (t >= 3600) std::snprintf(buf, sizeof(buf), "%ldh%02ldm", t / 3600, (t % 3600) / 60);
  else if (t >= 60) std::snprintf(buf, sizeof(buf), "%ldm%02lds", t / 60, t % 60);
  else std::snprintf(buf, sizeof(buf), "%lds", t);
  return buf;
}

std::string ProgressBar::render(std::string_view phase, uint64_t done, uint64_t total, Unit unit, double rate) {
  constexpr int kWidth = 12;
  double frac = total > 0 ? std::min(1.0, static_cast<double>(done) / static_cast<double>(total)) : 0.0;
  int filled = static_cast<int>(frac * kWidth);
  std::string bar(static_cast<size_t>(filled), '#');
  bar.append(static_cast<size_t>(kWidth - filled), '.');
  const char* u = unit == Unit::kTokens ? " tok" : unit == Unit::kBlocks ? " blocks" : "";
  std::string line = std::string(phase) + " " + human_count(done, unit) + "/" + human_count(total, unit) + u + " [" +
                     bar + "] " + std::to_string(static_cast<int>(frac * 100)) + "%";
  if (rate > 0) {
    if (unit == Unit::kTokens) line += "  " + std::to_string(static_cast<long>(std::lround(rate))) + " tok/s";
    else if (unit == Unit::kBlocks) line += "  " + std::to_string(static_cast<long>(std::lround(rate))) + " blocks/s";
    else line += "  " + human_count(static_cast<uint64_t>(rate), unit) + "/s";
    if (done < total) line += "  eta " + human_duration(static_cast<double>(total - done) / rate);
  }
  return line;
}

ProgressBar::ProgressBar(FILE* out, bool tty, bool quiet) : out_(out), tty_(tty), quiet_(quiet) {}

ProgressBar::~ProgressBar() { finish(); }

bool ProgressBar::update(std::string_view phase, uint64_t done, uint64_t total, Unit unit) {
  if (quiet_ || total == 0) return true;
  auto now = std::chrono::steady_clock::now();
  if (phase != phase_) {
    finish();
    phase_ = std::string(phase);
    start_ = now;
    last_decile_ = -1;
    last_draw_ = {};
    shown_ = false;
  }
  double secs = std::chrono::duration<double>(now - start_).count();
  // Quick operations show nothing: a bar appears once a phase has run 0.5 s.
  if (!shown_ && secs < 0.5) return true;
  shown_ = true;
  double rate = secs > 0.05 ? static_cast<double>(done) / secs : 0.0;
  if (tty_) {
    if (done < total && now - last_draw_ < std::chrono::milliseconds(100)) return true;
    last_draw_ = now;
    std::fprintf(out_, "\r\033[K%s", render(phase, done, total, unit, rate).c_str());
    open_line_ = true;
    if (done >= total) finish();
  } else {
    int decile = static_cast<int>(10 * std::min(done, total) / total);
    if (decile > last_decile_) {
      last_decile_ = decile;
      std::fprintf(out_, "%s\n", render(phase, done, total, unit, rate).c_str());
    }
  }
  std::fflush(out_);
  return true;
}

void ProgressBar::finish() {
  if (open_line_) {
    std::fprintf(out_, "\n");
    std::fflush(out_);
    open_line_ = false;
  }
}

Progress ProgressBar::callback(Unit unit, const std::atomic<bool>* stop) {
  return [this, unit, stop](std::string_view phase, uint64_t done, uint64_t total) {
    update(phase, done, total, unit);
    return stop == nullptr || !stop->load();
  };
}

}  // namespace v4rt::cli
