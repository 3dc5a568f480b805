#include "base/check.h"

#include <cstdio>
#include <cstdlib>

namespace v4rt {

void check_failed(std::string_view why, const SourceLocation& loc) {
  std::fprintf(stderr, "v4rt: internal invariant broken at %s:%u (%s): %.*s\n", loc.file_name(),
               static_cast<unsigned>(loc.line()), loc.function_name(), static_cast<int>(why.size()),
               why.data());
  std::abort();
}

}  // namespace v4rt
