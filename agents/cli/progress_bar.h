// ProgressBar: renders Progress callbacks (phase, done, total) on stderr, the
// way style.md §6 describes: redrawn in place on a terminal
//   prefill 48.0K/131.1K tok [####........] 37%  212 tok/s  eta 6m31s
// and one line per 10% otherwise. A phase shorter than 0.5 s prints nothing.
// Quiet mode prints nothing. Not thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "base/progress.h"

namespace v4rt::cli {

class ProgressBar {
 public:
  enum class Unit { kTokens, kBytes, kBlocks };
  // tty: whether `out` is a terminal (the caller decides, normally isatty(fileno(out))).
  ProgressBar(FILE* out, bool tty, bool quiet = false);
  ~ProgressBar();

  // Returns true (keep going). A new phase name starts a new bar.
  bool update(std::string_view phase, uint64_t done, uint64_t total, Unit unit);
  // Ends the current bar's line (on a TTY); no-op otherwise.
  void finish();
  // A Progress callback bound to this bar; `stop` (optional) is polled to cancel.
  Progress callback(Unit unit, const std::atomic<bool>* stop = nullptr);

  // The text of one bar line (no '\r'/'\n'), for tests.
  static std::string render(std::string_view phase, uint64_t done, uint64_t total, Unit unit, double rate_per_s);

 private:
  FILE* out_;
  bool tty_, quiet_;
  std::string phase_;
  int last_decile_ = -1;
  bool open_line_ = false;
  bool shown_ = false;  // the current phase has printed (it ran long enough)
  std::chrono::steady_clock::time_point start_, last_draw_;
};

// "48.0K", "1.2M" for tokens; "12.3 MB" for bytes.
std::string human_count(uint64_t n, ProgressBar::Unit unit);
// "6m31s", "2h05m", "12s".
std::string human_duration(double seconds);

}  // namespace v4rt::cli
