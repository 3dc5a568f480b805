// shell_words: parses a bash command line into the simple commands it would
// run, so that permission rules judge commands, not raw strings. Quoting is
// resolved ('...', "...", \x, $'...'), lists are split (; && || | |& & and
// newlines), subshells ( ... ) and groups { ...; } are entered, redirections
// are kept apart from argv, leading assignments (FOO=bar cmd) are recorded.
// Command substitution $(...) and `...` and process substitution <(...)
// >(...) are parsed recursively: their commands are listed too, marked with
// their nesting depth. What a rule cannot see through is recorded, never
// guessed: parameter expansion ($X, ${X}), arithmetic ($((...)), ((...))),
// globs, brace and tilde expansion, here-documents, compound commands (if,
// for, while, until, case, select, [[ ]], function definitions). Text bash
// would reject, or that this parser does not understand (an unbalanced
// quote, a stray ')', a NUL byte), gives an unparseable result with the reason; the
// commands recovered before the fault are still listed (for deny rules).
// Input size and nesting depth are bounded. Thread-safe (pure functions).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace v4rt::tools {

// Things in a command line that a rule cannot see through (bit set).
enum ShellOpaque : uint32_t {
  kShellParamExpansion = 1u << 0,  // $X, ${X}, $1, $@ ...: value known only when it runs
  kShellArithmetic = 1u << 1,      // $((...)) or ((...))
  kShellGlob = 1u << 2,            // unquoted * ? [...] in a word
  kShellBrace = 1u << 3,           // unquoted {a,b} / {1..3}
  kShellTilde = 1u << 4,           // unquoted ~ at the start of a word
  kShellHeredoc = 1u << 5,         // << here-document (its body is not parsed)
  kShellCompound = 1u << 6,        // if/for/while/until/case/select/[[ ]]/function definition
  kShellSubstitution = 1u << 7,    // $(...), `...`, <(...), >(...) (inner commands are listed)
};

// Renders a ShellOpaque bit set as words ("parameter expansion, glob").
std::string shell_opaque_names(uint32_t bits);

struct ShellWord {
  // The value with quotes removed. Parts that expand when the command runs
  // (expansions, substitutions, unquoted globs) are kept as written, so that
  // "a$(b)" reads as such; `literal` says whether there were any.
  std::string text;
  bool literal = true;
};

struct ShellRedirection {
  int fd = -1;         // explicit file descriptor (2 in 2>x), -1: the operator's default, -2: {NAME}>x
  std::string op;      // < > >> >| <> &> &>> >& <& << <<- <<<
  ShellWord target;    // file, fd number (2>&1), here-string or here-document delimiter
  // Whether this may write or create a file named by target (not a fd
  // duplication, not a here-string/here-document).
  bool writes_file() const;
  bool reads_file() const;
};

struct ShellCommand {
  std::vector<std::string> assignments;        // NAME=value before the command word (quotes removed)
  std::vector<ShellWord> words;                 // argv
  std::vector<ShellRedirection> redirections;  // in order of appearance
  int substitution_depth = 0;                   // 0: runs at top level; n: inside n nested substitutions
  uint32_t opaque = 0;                          // ShellOpaque bits found in this command's own words
  // argv joined with single spaces (quotes resolved); "" when there are no words.
  std::string joined() const;
  // Whether argv[0] is known before the command runs (no expansion in it).
  bool name_literal() const { return !words.empty() && words[0].literal; }
};

struct ShellParse {
  bool ok = true;
  std::string error;                  // when !ok: what could not be parsed and where (byte offset)
  std::vector<ShellCommand> commands;  // in source order; a substitution's commands before the command holding it
  uint32_t opaque = 0;                // union of every command's bits plus structural ones (compound, heredoc)
};

struct ShellParseLimits {
  size_t max_bytes = 128 * 1024;  // longer input is unparseable
  int max_depth = 32;             // nesting of substitutions, subshells, groups
  size_t max_commands = 4096;     // more simple commands is unparseable
};

ShellParse parse_shell_words(std::string_view line, const ShellParseLimits& limits = {});

// One line for a person: "runs 2 commands: echo hi ; rm -f a.txt", then what
// could not be seen through or parsed. Text is raw; escape it for a terminal.
std::string describe_shell_parse(const ShellParse& parse, size_t max_bytes = 400);

}  // namespace v4rt::tools
