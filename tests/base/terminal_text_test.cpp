#include "base/terminal_text.h"

#include <gtest/gtest.h>

namespace v4rt {
namespace {

TEST(TerminalSafe, PlainTextAndUtf8Unchanged) {
  EXPECT_EQ(terminal_safe("ls -la src/\n\tdone"), "ls -la src/\n\tdone");
  EXPECT_EQ(terminal_safe("caf\xC3\xA9 \xE2\x9C\x93 \xF0\x9F\xA9\xB7"), "caf\xC3\xA9 \xE2\x9C\x93 \xF0\x9F\xA9\xB7");
}

TEST(TerminalSafe, EscapeSequencesCannotRedrawTheLine) {
  // "rm -rf ~" followed by: carriage return, erase line, then a harmless-looking command.
  std::string attack = "rm -rf ~\r\x1b[2K\x1b[1Aecho hello";
  std::string shown = terminal_safe(attack);
  EXPECT_EQ(shown, "rm -rf ~\\r\\e[2K\\e[1Aecho hello");
  for (char c : shown) EXPECT_FALSE(static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t');
  // OSC window title, BEL-terminated; backspaces.
  EXPECT_EQ(terminal_safe("\x1b]0;pwned\x07"), "\\e]0;pwned\\x07");
  EXPECT_EQ(terminal_safe("abc\b\b\bxyz"), "abc\\x08\\x08\\x08xyz");
  EXPECT_EQ(terminal_safe("a\x7F"), "a\\x7f");
}

TEST(TerminalSafe, C1ControlsBidiAndInvalidBytesAreEscaped) {
  EXPECT_EQ(terminal_safe("\xC2\x9B" "2J"), "\\u009b2J");                  // C1 CSI
  EXPECT_EQ(terminal_safe("ok\xE2\x80\xAEtxt.exe"), "ok\\u202etxt.exe");   // right-to-left override
  EXPECT_EQ(terminal_safe("\xE2\x81\xA6x"), "\\u2066x");                   // isolate
  EXPECT_EQ(terminal_safe("a\xFF" "b\xC3"), "a\\xffb\\xc3");               // invalid / truncated
  EXPECT_EQ(terminal_safe("\xC0\xAF"), "\\xc0\\xaf");                      // overlong '/'
  EXPECT_EQ(terminal_safe("\xED\xA0\x80"), "\\xed\\xa0\\x80");             // surrogate
}

TEST(TerminalSafe, NewlinesAndTabsCanBeEscapedToo) {
  TerminalSafeOptions one_line;
  one_line.keep_newlines = false;
  one_line.keep_tabs = false;
  EXPECT_EQ(terminal_safe("a\nb\tc", one_line), "a\\nb\\tc");
}

}  // namespace
}  // namespace v4rt
