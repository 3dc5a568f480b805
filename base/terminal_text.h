// Text that came from the model, a tool, a file or a document is hostile when
// it reaches a terminal: escape sequences can erase a line and draw another
// (an approval prompt that shows `ls` while the command is `rm -rf ~`), move
// the cursor, retitle the window or hide characters. terminal_safe() makes
// such text inert before it is shown to the user. Thread-safe (pure).
#pragma once

#include <string>
#include <string_view>

namespace v4rt {

struct TerminalSafeOptions {
  bool keep_newlines = true;  // '\n' passes (multi-line output); '\r' is always escaped
  bool keep_tabs = true;
};

// Every C0 control (except the kept '\n'/'\t'), DEL, C1 control (U+0080..U+009F),
// bidirectional override/isolate (U+202A..U+202E, U+2066..U+2069, U+200E/F, U+061C)
// and invalid UTF-8 byte is written as a visible escape: \e, \r, \x07, \u202e,
// \xff. Everything else (printable ASCII, valid UTF-8) is unchanged.
std::string terminal_safe(std::string_view text, const TerminalSafeOptions& options = {});

}  // namespace v4rt
