#include "base/state_dirs.h"

#include <cstdlib>

namespace v4rt {

std::filesystem::path default_store_dir() {
  const char* xdg = std::getenv("XDG_DATA_HOME");
  if (xdg && *xdg) return std::filesystem::path(xdg) / "v4rt" / "store";
  const char* home = std::getenv("HOME");
  if (home && *home) return std::filesystem::path(home) / ".local" / "share" / "v4rt" / "store";
  return {};
}

}  // namespace v4rt
