#include "tools/command_analysis.h"

#include <algorithm>
#include <initializer_list>

namespace v4rt::tools {

namespace {

// Wrappers nest (env nice timeout bash -c "eval ..."); beyond this the line needs approval.
constexpr int kMaxUnwrapDepth = 8;

std::string basename_of(const std::string& word) {
  size_t slash = word.find_last_of('/');
  return slash == std::string::npos || slash + 1 == word.size() ? word : word.substr(slash + 1);
}

bool one_of(std::string_view s, std::initializer_list<std::string_view> set) {
  return std::find(set.begin(), set.end(), s) != set.end();
}

// Variables whose value changes which program runs or what a shell executes.
bool dangerous_variable(std::string_view assignment) {
  std::string_view name = assignment.substr(0, assignment.find_first_of("+=["));
  if (name.rfind("LD_", 0) == 0 || name.rfind("GIT_", 0) == 0 || name.rfind("BASH_FUNC_", 0) == 0) return true;
  return one_of(name, {"PATH", "BASH_ENV", "ENV", "IFS", "SHELLOPTS", "BASHOPTS", "PS4", "PROMPT_COMMAND",
                       "GLOBIGNORE", "CDPATH", "PAGER", "EDITOR", "VISUAL", "LESSOPEN", "MANPAGER", "PERL5OPT",
                       "PERL5LIB", "PYTHONPATH", "PYTHONSTARTUP", "NODE_OPTIONS", "RUBYOPT", "GCONV_PATH",
                       "MALLOC_CHECK_", "HOSTALIASES", "TMPDIR", "BASH_XTRACEFD"});
}

bool is_shell(std::string_view name) {
  return one_of(name, {"bash", "sh", "dash", "zsh", "ksh", "mksh", "ash", "rbash", "yash", "fish", "tcsh", "csh"});
}

class Analyzer {
 public:
  Analyzer(CommandAnalysis& out, const ShellParseLimits& limits) : out_(out), limits_(limits) {}

  void add_parse(const ShellParse& p, int depth) {
    if (!p.ok) {
      out_.needs_approval.push_back("the command line could not be parsed (" + p.error + ")");
      out_.hidden.push_back("unparseable text");
    }
    if (p.opaque & kShellCompound) out_.needs_approval.push_back("it has a compound command (if/for/while/case/function)");
    if (p.opaque & kShellHeredoc) {
      out_.needs_approval.push_back("it has a here-document");
      out_.hidden.push_back("a here-document body (substitutions in it run)");
    }
    if (p.opaque & kShellArithmetic) {
      out_.needs_approval.push_back("it has an arithmetic expression");
      out_.hidden.push_back("an arithmetic expression (it can run substitutions)");
    }
    for (const ShellCommand& c : p.commands) add_command(c, depth + c.substitution_depth);
  }

 private:
  void push(const std::vector<ShellWord>& words, size_t from, int depth, std::string needs, bool deny_only,
            bool open_args = false) {
    AnalyzedCommand a;
    for (size_t i = from; i < words.size(); ++i) a.text += (i == from ? "" : " ") + words[i].text;
    a.basename_text = basename_of(words[from].text);
    for (size_t i = from + 1; i < words.size(); ++i) a.basename_text += " " + words[i].text;
    a.needs_approval = std::move(needs);
    a.deny_only = deny_only;
    a.open_args = open_args;
    a.depth = depth;
    out_.commands.push_back(std::move(a));
  }

  void add_nested_text(const std::string& text, int depth, const std::string& what) {
    if (depth > kMaxUnwrapDepth) {
      out_.needs_approval.push_back(what + " nested too deeply to analyse");
      out_.hidden.push_back(what + " nested too deeply");
      return;
    }
    ShellParse inner = parse_shell_words(text, limits_);
    add_parse(inner, depth);
  }

  void add_command(const ShellCommand& c, int depth) {
    for (const auto& r : c.redirections) out_.redirections.push_back(r);
    for (const auto& a : c.assignments)
      if (dangerous_variable(a))
        out_.needs_approval.push_back("it sets " + a.substr(0, a.find('=')) + ", which changes what runs");
    if (!c.words.empty()) unwrap(c.words, 0, depth);
  }

  // Judges words[from..] as one command, seeing through wrappers.
  void unwrap(const std::vector<ShellWord>& w, size_t from, int depth) {
    if (from >= w.size()) return;
    if (depth > kMaxUnwrapDepth) {
      push(w, from, depth, "wrappers nested too deeply to analyse", false);
      out_.hidden.push_back("wrappers nested too deeply");
      return;
    }
    if (!w[from].literal) {
      push(w, from, depth, "its command name '" + w[from].text + "' is computed when it runs", false);
      out_.hidden.push_back("a command name computed at run time ('" + w[from].text + "')");
      return;
    }
    const std::string name = basename_of(w[from].text);
    const size_t n = w.size();
    auto lit = [&](size_t i) { return i < n && w[i].literal; };
    auto starts_dash = [&](size_t i) { return i < n && w[i].text.size() > 1 && w[i].text[0] == '-'; };

    // Transparent wrappers: skip their options, judge what they run.
    auto transparent = [&](size_t inner) {
      push(w, from, depth, "", true);
      if (inner < n) unwrap(w, inner, depth + 1);
    };
    if (name == "env") {
      size_t i = from + 1;
      while (i < n) {
        const std::string& t = w[i].text;
        if (t == "-i" || t == "-" || t == "-0" || t == "--ignore-environment" || t == "--null") { ++i; continue; }
        if (t == "-u" || t == "-C" || t == "--unset" || t == "--chdir") { i += 2; continue; }
        if (t.rfind("--unset=", 0) == 0 || t.rfind("--chdir=", 0) == 0 || (t.rfind("-u", 0) == 0 && t.size() > 2)) { ++i; continue; }
        if (t == "--") { ++i; break; }
        if (t.size() > 1 && t[0] == '-') {
          push(w, from, depth, "env option '" + t + "' is not understood by the permission check", false);
          out_.hidden.push_back("env " + t);
          return;
        }
        if (t.find('=') != std::string::npos && t[0] != '=') {
          if (dangerous_variable(t)) out_.needs_approval.push_back("it sets " + t.substr(0, t.find('=')) + ", which changes what runs");
          ++i;
          continue;
        }
        break;
      }
      if (i >= n) return push(w, from, depth, "", false);  // prints the environment
      return transparent(i);
    }
    if (name == "command") {
      size_t i = from + 1;
      while (i < n && (w[i].text == "-p" || w[i].text == "--")) ++i;
      if (i < n && (w[i].text == "-v" || w[i].text == "-V")) return push(w, from, depth, "", false);
      if (i >= n) return push(w, from, depth, "", false);
      return transparent(i);
    }
    if (name == "builtin" || name == "nohup" || name == "busybox" || name == "toybox") {
      if (from + 1 >= n) return push(w, from, depth, "", false);
      return transparent(from + 1 + (w[from + 1].text == "--" ? 1 : 0));
    }
    if (name == "exec") {
      size_t i = from + 1;
      while (i < n && starts_dash(i)) i += w[i].text == "-a" ? 2 : 1;
      if (i >= n) return push(w, from, depth, "", false);
      return transparent(i);
    }
    if (name == "nice" || name == "ionice" || name == "setsid" || name == "stdbuf" || name == "time" ||
        name == "timeout" || name == "chrt" || name == "taskset") {
      // Options that take a separate argument, per wrapper.
      auto takes_arg = [&](const std::string& opt) {
        if (name == "nice") return one_of(opt, {"-n", "--adjustment"});
        if (name == "ionice") return one_of(opt, {"-c", "-n", "--class", "--classdata"});
        if (name == "stdbuf") return one_of(opt, {"-i", "-o", "-e", "--input", "--output", "--error"});
        if (name == "time") return one_of(opt, {"-f", "-o", "--format", "--output"});
        if (name == "timeout") return one_of(opt, {"-s", "-k", "--signal", "--kill-after"});
        return false;
      };
      size_t i = from + 1;
      while (i < n && starts_dash(i)) {
        if (w[i].text == "--") { ++i; break; }
        if (name == "ionice" && (w[i].text == "-p" || w[i].text == "-P" || w[i].text == "-u"))
          return push(w, from, depth, "", false);  // acts on running processes
        i += takes_arg(w[i].text) ? 2 : 1;
      }
      if (name == "timeout" && i < n) ++i;  // DURATION
      if (name == "chrt" && i < n) ++i;     // PRIORITY
      if (name == "taskset" && i < n) ++i;  // MASK
      if (i >= n) return push(w, from, depth, "", false);
      return transparent(i);
    }
    if (name == "find") {
      push(w, from, depth, "", false);
      for (size_t i = from + 1; i < n; ++i) {
        if (!one_of(w[i].text, {"-exec", "-execdir", "-ok", "-okdir"})) continue;
        size_t start = i + 1, end = start;
        while (end < n && w[end].text != ";" && w[end].text != "+") ++end;
        if (start < end) {
          std::vector<ShellWord> inner(w.begin() + static_cast<long>(start), w.begin() + static_cast<long>(end));
          bool plus = end < n && w[end].text == "+";
          if (plus) {
            push(inner, 0, depth + 1, "find -exec ... + adds file names at run time", false, true);
          } else {
            unwrap(inner, 0, depth + 1);
          }
        }
        i = end;
      }
      return;
    }
    if (is_shell(name)) {
      size_t i = from + 1;
      bool dash_c = false, stdin_script = false;
      while (i < n && (starts_dash(i) || (w[i].text.size() > 1 && w[i].text[0] == '+'))) {
        const std::string& t = w[i].text;
        if (t == "--") { ++i; break; }
        if (t == "-o" || t == "+o" || t == "-O" || t == "+O" || t == "--rcfile" || t == "--init-file") { i += 2; continue; }
        if (t[0] == '-' && t[1] != '-' && t.find('c') != std::string::npos) dash_c = true;
        if (t[0] == '-' && t[1] != '-' && t.find('s') != std::string::npos) stdin_script = true;
        ++i;
      }
      if (dash_c) {
        push(w, from, depth, "", true);
        if (i >= n) return;
        if (!lit(i)) {
          out_.needs_approval.push_back(name + " -c runs a command string computed at run time");
          out_.hidden.push_back(name + " -c with a computed string");
          return;
        }
        add_nested_text(w[i].text, depth + 1, name + " -c");
        return;
      }
      if (i >= n || stdin_script) {
        push(w, from, depth, name + " reads the commands to run from its input", false);
        out_.hidden.push_back(name + " reading commands from its input");
        return;
      }
      return push(w, from, depth, "", false);  // a script file: the rule on "bash FILE" decides
    }
    if (name == "alias") {
      // An alias runs its value in place of a later command name (after
      // `shopt -s expand_aliases`): its value is judged like a command line.
      push(w, from, depth, "alias makes a command name run other commands", false);
      for (size_t i = from + 1; i < n; ++i) {
        size_t eq = w[i].text.find('=');
        if (eq == std::string::npos) continue;
        if (!w[i].literal) out_.hidden.push_back("an alias with a computed value");
        else add_nested_text(w[i].text.substr(eq + 1), depth + 1, "alias");
      }
      return;
    }
    if (name == "hash" || name == "enable") {
      bool remaps = false;
      for (size_t i = from + 1; i < n; ++i)
        if (w[i].text == "-p" || w[i].text == "-f") remaps = true;
      if (remaps) {
        push(w, from, depth, name + " -p/-f makes a command name run another program", false);
        out_.hidden.push_back(name + " remapping a command name");
        return;
      }
      return push(w, from, depth, "", false);
    }
    if (name == "eval" || name == "trap" || name == "watch" || name == "su" || name == "sudo" || name == "doas" ||
        name == "pkexec" || name == "runuser" || name == "xargs" || name == "source" || name == ".") {
      unwrap_approval_wrapper(w, from, depth, name);
      return;
    }
    push(w, from, depth, "", false);
  }

  // Wrappers a rule never allows; what they run is still listed for deny rules.
  void unwrap_approval_wrapper(const std::vector<ShellWord>& w, size_t from, int depth, const std::string& name) {
    const size_t n = w.size();
    std::string why;
    if (name == "source" || name == ".") why = name + " runs the commands in a file";
    else if (name == "xargs") why = "xargs runs a command with arguments read from its input";
    else if (name == "eval" || name == "trap" || name == "watch") why = name + " runs its arguments as shell code";
    else why = name + " runs a command as another user";
    push(w, from, depth, why, false);
    auto all_literal = [&](size_t a, size_t b) {
      for (size_t i = a; i < b; ++i)
        if (!w[i].literal) return false;
      return true;
    };
    auto join = [&](size_t a, size_t b) {
      std::string s;
      for (size_t i = a; i < b; ++i) s += (i == a ? "" : " ") + w[i].text;
      return s;
    };
    if (name == "eval" || name == "watch") {
      size_t i = from + 1;
      if (name == "watch")
        while (i < n && w[i].text.size() > 1 && w[i].text[0] == '-')
          i += one_of(w[i].text, {"-n", "-d", "--interval", "--differences"}) ? 2 : 1;
      if (i >= n) return;
      if (!all_literal(i, n)) {
        out_.hidden.push_back(name + " of text computed at run time");
        return;
      }
      add_nested_text(join(i, n), depth + 1, name);
      return;
    }
    if (name == "trap") {
      if (from + 1 < n && !w[from + 1].literal) out_.hidden.push_back("trap of text computed at run time");
      else if (from + 1 < n) add_nested_text(w[from + 1].text, depth + 1, "trap");
      return;
    }
    if (name == "su") {
      for (size_t i = from + 1; i + 1 < n; ++i)
        if (w[i].text == "-c" || w[i].text == "--command") {
          if (!w[i + 1].literal) out_.hidden.push_back("su -c with a computed string");
          else add_nested_text(w[i + 1].text, depth + 1, "su -c");
        }
      return;
    }
    if (name == "source" || name == ".") return;
    // sudo, doas, pkexec, runuser, xargs: options, then the command.
    static constexpr std::string_view kWithArg[] = {"-u", "-g", "-h", "-p", "-C", "-D", "-r", "-t", "-U", "-T",
                                                    "--user", "--group", "-I", "-i", "-L", "-n", "-P", "-s",
                                                    "-d", "-E", "-a", "--arg-file", "--delimiter", "--max-args",
                                                    "--max-procs", "--replace", "--max-lines", "--max-chars"};
    size_t i = from + 1;
    while (i < n && w[i].text.size() > 1 && w[i].text[0] == '-') {
      if (w[i].text == "--") { ++i; break; }
      bool arg = std::find(std::begin(kWithArg), std::end(kWithArg), w[i].text) != std::end(kWithArg);
      // xargs -i / -n N / -L N ... ; sudo -n (no argument) is rare enough to skip one word wrongly:
      // a skipped word only shifts which word is judged as the command, and the whole call needs approval anyway.
      i += arg ? 2 : 1;
    }
    if (i < n) {
      bool open = name == "xargs";
      if (open) {
        std::vector<ShellWord> inner(w.begin() + static_cast<long>(i), w.end());
        if (!inner[0].literal) {
          out_.hidden.push_back("xargs with a computed command");
          return;
        }
        push(inner, 0, depth + 1, why, false, true);
        unwrap(inner, 0, depth + 1);
      } else {
        unwrap(w, i, depth + 1);  // judged for deny; the wrapper's own entry already needs approval
      }
    } else if (name == "xargs") {
      AnalyzedCommand echo;
      echo.text = echo.basename_text = "echo";
      echo.open_args = true;
      echo.depth = depth + 1;
      echo.needs_approval = why;
      out_.commands.push_back(std::move(echo));
    }
  }

  CommandAnalysis& out_;
  const ShellParseLimits& limits_;
};

// Unparseable text: cut at separators so that deny rules still see "rm x" in "true; rm x '".
std::vector<std::string> raw_pieces(std::string_view line) {
  std::vector<std::string> out;
  std::string cur;
  auto flush = [&]() {
    std::string norm;
    for (char c : cur) {
      if (c == ' ' || c == '\t' || c == '\'' || c == '"' || c == '\\') {
        if (c == ' ' || c == '\t') {
          if (!norm.empty() && norm.back() != ' ') norm += ' ';
        }
        continue;  // quotes and backslashes dropped: "r'm'" reads as rm
      }
      norm += c;
    }
    while (!norm.empty() && norm.back() == ' ') norm.pop_back();
    if (!norm.empty()) out.push_back(norm);
    cur.clear();
  };
  for (char c : line) {
    if (c == ';' || c == '&' || c == '|' || c == '(' || c == ')' || c == '`' || c == '\n' || c == '{' || c == '}' ||
        c == '$') {
      flush();
      continue;
    }
    cur += c;
  }
  flush();
  return out;
}

}  // namespace

CommandAnalysis analyze_command_line(std::string_view line, const ShellParseLimits& limits) {
  CommandAnalysis out;
  out.parse = parse_shell_words(line, limits);
  Analyzer a(out, limits);
  a.add_parse(out.parse, 0);
  bool any_unparsed = !out.parse.ok;
  for (const auto& r : out.needs_approval)
    if (r.rfind("the command line could not be parsed", 0) == 0) any_unparsed = true;
  if (any_unparsed) out.raw_pieces = raw_pieces(line);
  // Keep each reason once, in order.
  for (auto* list : {&out.needs_approval, &out.hidden}) {
    std::vector<std::string> uniq;
    for (auto& s : *list)
      if (std::find(uniq.begin(), uniq.end(), s) == uniq.end()) uniq.push_back(std::move(s));
    *list = std::move(uniq);
  }
  return out;
}

}  // namespace v4rt::tools
