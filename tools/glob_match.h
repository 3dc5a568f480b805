// glob_match: shell-style patterns over '/'-separated relative paths, as used
// by the glob tool, .gitignore rules and permission rules.
//   *  any run of characters except '/'      ?  one character except '/'
//   [abc] [a-z] [!x]  a character class      ** any run of characters including '/'
//   "**/" at the start or after '/' also matches zero directories.
// Thread-safe (pure function).
#pragma once

#include <string_view>

namespace v4rt::tools {

bool glob_match(std::string_view pattern, std::string_view path);

}  // namespace v4rt::tools
