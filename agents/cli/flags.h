// FlagSet: the one table of a command's flags; it parses argv and renders
// -h/--help from the same declarations (llama.cpp common/arg.cpp idea).
// Flags: --name VALUE or --name=VALUE; bools take no value (--name, --no-name).
// Each flag may name an environment variable used when the flag is absent
// (flag over env); env is read here, in agents/cli, and nowhere below.
// Not thread-safe.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "base/status.h"

namespace v4rt::cli {

class FlagSet {
 public:
  // usage: "v4rt tokenize [flags]"; description: one paragraph; example: one command line.
  FlagSet(std::string usage, std::string description, std::string example = "");

  void add_string(std::string name, std::string* out, std::string help, std::string metavar = "S",
                  std::string env = "");
  void add_int(std::string name, long long* out, std::string help, std::string env = "");
  void add_int(std::string name, int* out, std::string help, std::string env = "");
  void add_double(std::string name, double* out, std::string help, std::string env = "");
  void add_bool(std::string name, bool* out, std::string help, std::string env = "");
  // Repeatable string flag.
  void add_list(std::string name, std::vector<std::string>* out, std::string help,
                std::string metavar = "S");

  // The flag declared last accepts only values >= min (a usage error names it).
  void at_least(double min);

  // Parses args (argv without the program and command names). On --help sets
  // help_requested(). Unknown flags and bad values are InvalidArgument naming the flag.
  Status parse(int argc, char** argv);
  bool help_requested() const { return help_requested_; }
  const std::vector<std::string>& positional() const { return positional_; }
  // Whether the flag appeared on the command line (or via its env var).
  bool was_set(const std::string& name) const;
  std::string help() const;

 public:
  struct Flag {
    std::string name, help, metavar, env, default_text;
    bool is_bool = false;
    std::function<Status(const std::string&)> set;
    bool seen = false;
  };
 private:
  Flag* find(const std::string& name);
  bool is_flag_spelling(const std::string& arg) const;

  std::string usage_, description_, example_;
  std::vector<Flag> flags_;
  std::vector<std::string> positional_;
  bool help_requested_ = false;
};

// Maps a Status to the documented exit codes: 0 ok, 1 failed, 2 usage, 130 interrupted.
int exit_code(const Status& s);
// Prints "v4rt: <message>" to stderr (and a usage hint for usage errors); returns exit_code(s).
int report(const Status& s, const std::string& usage_hint = "");

}  // namespace v4rt::cli
