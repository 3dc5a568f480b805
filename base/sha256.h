// SHA-256 (FIPS 180-4), for digests that must not collide by accident or by
// design: the approval record of project settings, pinned template texts.
// Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace v4rt {

// Lower-case hex SHA-256 of data.
std::string sha256_hex(std::string_view data);

}  // namespace v4rt
