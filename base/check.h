// check(): aborts with file:line when an invariant of our own code is broken.
// Bugs are not Statuses: a Status reports a fault of the world (input, disk,
// network, model output); check() reports a fault of v4rt itself.
#pragma once

#include <source_location>
#include <string_view>

namespace v4rt {

#if defined(__cpp_lib_source_location)
using SourceLocation = std::source_location;
#else
// clang 14 (the fuzz build) with libstdc++ 12 lacks std::source_location;
// the same builtins give file, line and function.
class SourceLocation {
 public:
  static constexpr SourceLocation current(const char* file = __builtin_FILE(), unsigned line = __builtin_LINE(),
                                          const char* function = __builtin_FUNCTION()) {
    SourceLocation loc;
    loc.file_ = file;
    loc.line_ = line;
    loc.function_ = function;
    return loc;
  }
  constexpr const char* file_name() const { return file_; }
  constexpr unsigned line() const { return line_; }
  constexpr const char* function_name() const { return function_; }

 private:
  const char* file_ = "";
  unsigned line_ = 0;
  const char* function_ = "";
};
#endif

[[noreturn]] void check_failed(std::string_view why, const SourceLocation& loc);

inline void check(bool cond, std::string_view why, const SourceLocation& loc = SourceLocation::current()) {
  if (!cond) [[unlikely]] check_failed(why, loc);
}

}  // namespace v4rt
