#include "base/terminal_text.h"

#include <cstdint>
#include <cstdio>

#include "base/utf8.h"

namespace v4rt {

namespace {

void append_hex_byte(std::string& out, unsigned char c) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "\\x%02x", c);
  out += buf;
}

void append_codepoint(std::string& out, uint32_t cp) {
  char buf[12];
  std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(cp));
  out += buf;
}

bool is_bidi_control(uint32_t cp) {
  return (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200E || cp == 0x200F ||
         cp == 0x061C;
}

}  // namespace

std::string terminal_safe(std::string_view text, const TerminalSafeOptions& options) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7F) {
      if ((c == '\n' && options.keep_newlines) || (c == '\t' && options.keep_tabs)) out += static_cast<char>(c);
      else if (c == 0x1B) out += "\\e";
      else if (c == '\r') out += "\\r";
      else if (c == '\n') out += "\\n";
      else if (c == '\t') out += "\\t";
      else append_hex_byte(out, c);
      ++i;
      continue;
    }
    if (c < 0x80) {
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    uint32_t cp = 0;
    size_t n = utf8::decode(text, i, cp);
    if (n == 0) {
      append_hex_byte(out, c);
      ++i;
      continue;
    }
    if ((cp >= 0x80 && cp <= 0x9F) || is_bidi_control(cp)) append_codepoint(out, cp);
    else out.append(text.substr(i, n));
    i += n;
  }
  return out;
}

}  // namespace v4rt
