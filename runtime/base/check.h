// check(): aborts with file:line when an invariant of our own code is broken.
// Bugs are not Statuses: a Status reports a fault of the world (input, disk,
// network, model output); check() reports a fault of v4rt itself.
#pragma once

#include <source_location>
#include <string_view>

namespace v4rt {

[[noreturn]] void check_failed(std::string_view why, const std::source_location& loc);

inline void check(bool cond, std::string_view why,
                  const std::source_location& loc = std::source_location::current()) {
  if (!cond) [[unlikely]] check_failed(why, loc);
}

}  // namespace v4rt
