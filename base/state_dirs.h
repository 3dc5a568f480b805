// Where v4rt keeps its own files when the user does not say: the one rule for
// every command. Thread-safe (reads the environment only).
#pragma once

#include <filesystem>

namespace v4rt {

// The session store: $XDG_DATA_HOME/v4rt/store, else $HOME/.local/share/v4rt/store;
// empty when neither variable is set (the caller then runs without a store).
std::filesystem::path default_store_dir();

}  // namespace v4rt
