// CommandAnalysis: what a bash command line would run, as permission rules
// judge it. Built on parse_shell_words(): every simple command (including
// those inside substitutions) is listed, and wrappers are seen through so a
// command cannot ride in under an allowed name:
//   transparent (the inner command is judged; the wrapper only by deny rules):
//     env, command, builtin, exec, busybox, toybox, nice, nohup, setsid,
//     stdbuf, timeout, time, ionice, chrt, taskset, bash/sh/... -c STRING
//     (STRING is parsed like a command line), find -exec/-execdir/-ok
//     (find itself is judged too)
//   unwrapped for deny rules, but a rule can never allow them (approval):
//     eval, su -c, trap, watch (their text is parsed likewise), sudo, doas,
//     pkexec, runuser, xargs (adds arguments at run time),
//     source/. (runs a file), alias (its value is parsed too), a shell
//     reading commands from its input
//   hidden (no rule can see what runs): a command name that expands at run
//     time ($X, $(...), a glob), eval or -c with a computed string, an
//     unparseable line, here-documents and arithmetic (both can run
//     substitutions the parser does not list), hash -p / enable -f (they
//     remap a command name)
// Assignments to variables that change what runs (PATH, LD_*, BASH_ENV,
// IFS, GIT_*, ...) need approval. Not seen through (documented, the sandbox
// is the boundary): scripts and interpreters (python -c, awk system()), git
// aliases, make, and wrappers not listed here. Thread-safe (pure functions).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "tools/shell_words.h"

namespace v4rt::tools {

struct AnalyzedCommand {
  std::string text;           // argv joined with single spaces (quotes resolved)
  std::string basename_text;  // text with argv[0] reduced to its basename (/bin/rm -> rm), for deny rules
  bool open_args = false;     // more arguments are added when it runs (xargs, find -exec ... +)
  bool deny_only = false;     // a wrapper: deny rules see it, allow rules judge the inner command
  std::string needs_approval; // why no rule may allow it ("" when a rule may)
  int depth = 0;              // substitution / wrapper nesting (0: top level)
};

struct CommandAnalysis {
  ShellParse parse;                           // the top-level parse (for descriptions)
  std::vector<AnalyzedCommand> commands;      // every command, wrappers unwrapped
  std::vector<ShellRedirection> redirections; // every redirection, nested ones included
  std::vector<std::string> needs_approval;    // structural reasons no rule may allow the line
  std::vector<std::string> hidden;            // what runs that no rule can see (deny rules cannot judge it)
  std::vector<std::string> raw_pieces;        // unparseable: the raw text cut at ; & | ( ) ` and newlines
};

CommandAnalysis analyze_command_line(std::string_view line, const ShellParseLimits& limits = {});

}  // namespace v4rt::tools
