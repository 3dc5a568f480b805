// UTF-8: encode a code point, decode one, check validity, and find sequence
// boundaries in byte strings that may end mid-character (streamed model text,
// truncated tool output). The one implementation for every folder.
// Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace v4rt::utf8 {

// A continuation byte (10xxxxxx): never the first byte of a character.
inline constexpr bool is_continuation(unsigned char b) { return (b & 0xC0) == 0x80; }

// The length a lead byte announces, from its high bits only (no validation):
// 1 for ASCII and for bytes that cannot lead (continuations), 2 for C0-DF,
// 3 for E0-EF, 4 for F0-FF. For stepping through text already known to be
// valid, or for deciding how many bytes to wait for.
inline constexpr size_t sequence_length(unsigned char lead) {
  return lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
}

// Writes cp's 1-4 byte encoding to out and returns its length.
// Requires: cp <= 0x10FFFF (surrogates are encoded as given; callers that take
// code points from untrusted input replace them first).
size_t encode(uint32_t cp, char* out);
inline void append(std::string& out, uint32_t cp) {
  char buf[4];
  out.append(buf, encode(cp, buf));
}

// The length of the valid UTF-8 sequence at s[i] and its code point in cp;
// 0 if the bytes there are not one (overlong, surrogate, > U+10FFFF, truncated).
// Requires: i < s.size().
size_t decode(std::string_view s, size_t i, uint32_t& cp);

// The length of the longest prefix of s that is valid UTF-8 (RFC 3629).
size_t valid_prefix(std::string_view s);
inline bool is_valid(std::string_view s) { return valid_prefix(s) == s.size(); }

// i moved back to the start of the character that contains byte i; i itself
// when i is 0 or >= s.size().
size_t floor(std::string_view s, size_t i);

// How many bytes at the end of s begin a character that is not complete yet
// (0-3): the bytes to hold back until more text arrives.
size_t incomplete_tail(std::string_view s);

}  // namespace v4rt::utf8
