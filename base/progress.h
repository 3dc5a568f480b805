// Progress reporting and logging sinks. Libraries never print: they call an
// injected Progress callback (phase, done, total) -> keep_going, and log to an
// injected LogSink. The CLI decides how it looks (bars only on a TTY).
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>

namespace v4rt {

// Returns false to ask the caller to stop (cancellation).
using Progress = std::function<bool(std::string_view phase, uint64_t done, uint64_t total)>;

enum class LogLevel { kDebug, kInfo, kWarn, kError };

class LogSink {
 public:
  virtual ~LogSink() = default;
  virtual void log(LogLevel level, std::string_view component, std::string_view message) = 0;
};

}  // namespace v4rt
