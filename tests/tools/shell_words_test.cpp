#include "tools/shell_words.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace v4rt::tools {
namespace {

std::vector<std::string> joined(const ShellParse& p) {
  std::vector<std::string> out;
  for (const auto& c : p.commands) out.push_back(c.joined());
  return out;
}

std::vector<std::string> cmds(std::string_view line) {
  ShellParse p = parse_shell_words(line);
  EXPECT_TRUE(p.ok) << line << ": " << p.error;
  return joined(p);
}

using V = std::vector<std::string>;

TEST(ShellWordsTest, SplitsListsAndPipelines) {
  EXPECT_EQ(cmds("echo hi"), V({"echo hi"}));
  EXPECT_EQ(cmds("  \t echo   hi  "), V({"echo hi"}));
  EXPECT_EQ(cmds("true; rm x"), V({"true", "rm x"}));
  EXPECT_EQ(cmds("a && b || c | d |& e & f\ng"), V({"a", "b", "c", "d", "e", "f", "g"}));
  EXPECT_EQ(cmds("a;b;c"), V({"a", "b", "c"}));
  EXPECT_EQ(cmds("a&&b"), V({"a", "b"}));
  EXPECT_EQ(cmds("a &&\n b"), V({"a", "b"}));
  EXPECT_EQ(cmds("a |\n b"), V({"a", "b"}));
  EXPECT_EQ(cmds("a \\\n b"), V({"a b"}));
  EXPECT_EQ(cmds("! a | b"), V({"a", "b"}));
  EXPECT_EQ(cmds("time -p make"), V({"make"}));
  EXPECT_EQ(cmds(""), V({}));
  EXPECT_EQ(cmds("   # only a comment"), V({}));
  EXPECT_EQ(cmds("echo a#b # comment; rm x"), V({"echo a#b"}));
  EXPECT_EQ(cmds("echo a\n# rm x\nls"), V({"echo a", "ls"}));
}

TEST(ShellWordsTest, ResolvesQuoting) {
  EXPECT_EQ(cmds("'r'm x"), V({"rm x"}));
  EXPECT_EQ(cmds("\"r\"m x"), V({"rm x"}));
  EXPECT_EQ(cmds("r\\m x"), V({"rm x"}));
  EXPECT_EQ(cmds("echo 'a b' \"c d\""), V({"echo a b c d"}));
  EXPECT_EQ(cmds("echo \"a\\\"b\\$c\\\\d\\e\""), V({"echo a\"b$c\\d\\e"}));
  EXPECT_EQ(cmds("echo 'a\\b'"), V({"echo a\\b"}));
  EXPECT_EQ(cmds("$'\\x72\\x6d' x"), V({"rm x"}));
  EXPECT_EQ(cmds("$'\\162m' x"), V({"rm x"}));
  EXPECT_EQ(cmds("$'\\u0072m' x"), V({"rm x"}));
  EXPECT_EQ(cmds("echo $'a\\nb\\tc\\'d'"), V({"echo a\nb\tc'd"}));
  EXPECT_EQ(cmds("echo $'ab\\x00cd'"), V({"echo ab"}));  // bash ends $'' at NUL
  EXPECT_EQ(cmds("echo $\"hi\""), V({"echo hi"}));
  EXPECT_EQ(cmds("echo ''"), V({"echo "}));
  EXPECT_EQ(cmds("echo a$"), V({"echo a$"}));
  ShellParse p = parse_shell_words("'rm' x");
  ASSERT_EQ(p.commands.size(), 1u);
  EXPECT_TRUE(p.commands[0].name_literal());
}

TEST(ShellWordsTest, RecordsRedirectionsApartFromArgv) {
  ShellParse p = parse_shell_words("echo hi > /etc/x 2>&1 >>log <in 3<>rw &>all &>>all2 >|clob <<<word 2>/dev/null");
  ASSERT_TRUE(p.ok) << p.error;
  ASSERT_EQ(p.commands.size(), 1u);
  const auto& c = p.commands[0];
  EXPECT_EQ(c.joined(), "echo hi");
  std::vector<std::string> ops, targets;
  for (const auto& r : c.redirections) {
    ops.push_back((r.fd >= 0 ? std::to_string(r.fd) : "") + r.op);
    targets.push_back(r.target.text);
  }
  EXPECT_EQ(ops, V({">", "2>&", ">>", "<", "3<>", "&>", "&>>", ">|", "<<<", "2>"}));
  EXPECT_EQ(targets, V({"/etc/x", "1", "log", "in", "rw", "all", "all2", "clob", "word", "/dev/null"}));
  EXPECT_TRUE(c.redirections[0].writes_file());
  EXPECT_FALSE(c.redirections[1].writes_file());  // 2>&1
  EXPECT_FALSE(c.redirections[3].writes_file());
  EXPECT_TRUE(c.redirections[3].reads_file());
  EXPECT_FALSE(c.redirections[8].writes_file());  // here-string
  // A redirection can come first, and a word like a2>x is a word then a redirection.
  p = parse_shell_words(">out echo a2>x");
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(p.commands[0].joined(), "echo a2");
  ASSERT_EQ(p.commands[0].redirections.size(), 2u);
  EXPECT_EQ(p.commands[0].redirections[1].target.text, "x");
  // {NAME}>file names a descriptor; it is not the command word.
  p = parse_shell_words("{fd}>log rm x; {a,b}>x");
  ASSERT_TRUE(p.ok) << p.error;
  EXPECT_EQ(p.commands[0].joined(), "rm x");
  EXPECT_EQ(p.commands[0].redirections[0].fd, -2);
  EXPECT_EQ(p.commands[1].joined(), "{a,b}");
  // Redirection of a subshell or group is recorded too.
  p = parse_shell_words("(echo a) > /etc/x; { echo b; } 2> err");
  ASSERT_TRUE(p.ok) << p.error;
  size_t redirs = 0;
  for (const auto& c2 : p.commands) redirs += c2.redirections.size();
  EXPECT_EQ(redirs, 2u);
}

TEST(ShellWordsTest, LeadingAssignments) {
  ShellParse p = parse_shell_words("FOO=bar BAZ=\"a b\" cmd x=y; A=1");
  ASSERT_TRUE(p.ok);
  ASSERT_EQ(p.commands.size(), 2u);
  EXPECT_EQ(p.commands[0].assignments, V({"FOO=bar", "BAZ=a b"}));
  EXPECT_EQ(p.commands[0].joined(), "cmd x=y");
  EXPECT_EQ(p.commands[1].assignments, V({"A=1"}));
  EXPECT_TRUE(p.commands[1].words.empty());
  p = parse_shell_words("arr=(a b c) PATH+=:/x ls");
  ASSERT_TRUE(p.ok) << p.error;
  EXPECT_EQ(p.commands[0].assignments.size(), 2u);
  EXPECT_EQ(p.commands[0].joined(), "ls");
}

TEST(ShellWordsTest, SubstitutionsAreParsedRecursively) {
  ShellParse p = parse_shell_words("echo $(rm x)");
  ASSERT_TRUE(p.ok);
  EXPECT_EQ(joined(p), V({"rm x", "echo $(rm x)"}));
  EXPECT_EQ(p.commands[0].substitution_depth, 1);
  EXPECT_EQ(p.commands[1].substitution_depth, 0);
  EXPECT_FALSE(p.commands[1].words[1].literal);
  EXPECT_TRUE(p.opaque & kShellSubstitution);

  EXPECT_EQ(cmds("echo `rm x`"), V({"rm x", "echo `rm x`"}));
  EXPECT_EQ(cmds("echo \"$(touch x; ls)\""), V({"touch x", "ls", "echo $(touch x; ls)"}));
  EXPECT_EQ(cmds("echo \"`touch y`\""), V({"touch y", "echo `touch y`"}));
  EXPECT_EQ(cmds("diff <(sort a) >(tee b)"), V({"sort a", "tee b", "diff <(sort a) >(tee b)"}));
  EXPECT_EQ(cmds("echo $(echo $(rm deep))"), V({"rm deep", "echo $(rm deep)", "echo $(echo $(rm deep))"}));
  EXPECT_EQ(cmds("echo `echo \\`rm n\\``"), V({"rm n", "echo `rm n`", "echo `echo \\`rm n\\``"}));
  EXPECT_EQ(cmds("echo ${X:-$(rm p)}"), V({"rm p", "echo ${X:-$(rm p)}"}));
  EXPECT_EQ(cmds("x=$(rm a) y"), V({"rm a", "y"}));
  EXPECT_EQ(cmds("echo $(case a in a) rm c;; esac)"), V({"rm c", "echo $(case a in a) rm c;; esac)"}));
  EXPECT_EQ(cmds("cat > $(rm r)"), V({"rm r", "cat"}));
  p = parse_shell_words("echo $(( 1 + $(rm q) ))");
  ASSERT_TRUE(p.ok) << p.error;
  EXPECT_EQ(p.commands[0].joined(), "rm q");
  EXPECT_TRUE(p.opaque & kShellArithmetic);
}

TEST(ShellWordsTest, SubshellsAndGroups) {
  EXPECT_EQ(cmds("(cd a && rm x)"), V({"cd a", "rm x"}));
  EXPECT_EQ(cmds("{ echo a; rm b; }"), V({"echo a", "rm b"}));
  EXPECT_EQ(cmds("( (a) ; {  b ; } )"), V({"a", "b"}));
  EXPECT_EQ(cmds("echo {a,b}"), V({"echo {a,b}"}));
  EXPECT_EQ(cmds("echo }"), V({"echo }"}));
}

TEST(ShellWordsTest, RecordsWhatARuleCannotSeeThrough) {
  auto bits = [](std::string_view line) {
    ShellParse p = parse_shell_words(line);
    EXPECT_TRUE(p.ok) << line << ": " << p.error;
    return p.opaque;
  };
  EXPECT_EQ(bits("echo hi"), 0u);
  EXPECT_TRUE(bits("echo $HOME") & kShellParamExpansion);
  EXPECT_TRUE(bits("echo ${HOME}") & kShellParamExpansion);
  EXPECT_TRUE(bits("echo \"$1\"") & kShellParamExpansion);
  EXPECT_EQ(bits("echo '$HOME'"), 0u);
  EXPECT_TRUE(bits("echo $((1+2))") & kShellArithmetic);
  EXPECT_TRUE(bits("((i++))") & kShellArithmetic);
  EXPECT_TRUE(bits("ls *.txt") & kShellGlob);
  EXPECT_TRUE(bits("ls a?") & kShellGlob);
  EXPECT_TRUE(bits("ls [ab]") & kShellGlob);
  EXPECT_EQ(bits("ls '*.txt'"), 0u);
  EXPECT_EQ(bits("[ -f x ]"), 0u);
  EXPECT_TRUE(bits("echo {a,b}") & kShellBrace);
  EXPECT_TRUE(bits("echo {1..3}") & kShellBrace);
  EXPECT_TRUE(bits("cat ~/x") & kShellTilde);
  EXPECT_TRUE(bits("cat <<EOF\n$(rm x)\nEOF\necho after") & kShellHeredoc);
  EXPECT_TRUE(bits("if true; then echo a; fi") & kShellCompound);
  EXPECT_TRUE(bits("for f in a b; do echo $f; done") & kShellCompound);
  EXPECT_TRUE(bits("while false; do :; done") & kShellCompound);
  EXPECT_TRUE(bits("case x in a|b) echo 1;; *) echo 2;; esac") & kShellCompound);
  EXPECT_TRUE(bits("[[ -n $x && -f y ]]") & kShellCompound);
  EXPECT_TRUE(bits("f() { rm x; }") & kShellCompound);
  EXPECT_TRUE(bits("function g { rm x; }") & kShellCompound);
  ShellParse p = parse_shell_words("$CMD x; \"$(echo rm)\" y; /bin/r? z");
  ASSERT_TRUE(p.ok);
  std::vector<bool> lit;
  for (const auto& c : p.commands) lit.push_back(c.name_literal());
  EXPECT_EQ(lit, std::vector<bool>({false, true, false, false}));  // $CMD, echo rm (inner), "$(...)", /bin/r?
}

TEST(ShellWordsTest, CompoundCommandsStillListTheirCommands) {
  EXPECT_EQ(cmds("if true; then rm a; elif x; then rm b; else rm c; fi"), V({"true", "rm a", "x", "rm b", "rm c"}));
  EXPECT_EQ(cmds("for f in $(ls); do rm \"$f\"; done"), V({"ls", "rm $f"}));
  EXPECT_EQ(cmds("for ((i=0;i<3;i++)); do rm x; done"), V({"rm x"}));
  EXPECT_EQ(cmds("for x do echo; done"), V({"echo"}));
  EXPECT_EQ(cmds("while read l; do rm \"$l\"; done < list"), V({"read l", "rm $l", ""}));
  EXPECT_EQ(cmds("case $x in\n (a) rm a ;;\n b|c) rm b ;&\n *) ;;\nesac"), V({"rm a", "rm b"}));
  EXPECT_EQ(cmds("f() { rm x; }; f"), V({"rm x", "f"}));
  EXPECT_EQ(cmds("[[ $(rm t) == y ]]"), V({"rm t"}));
}

TEST(ShellWordsTest, HereDocumentBodiesAreNotCommands) {
  EXPECT_EQ(cmds("cat <<EOF\nrm x; 'unbalanced\nEOF\necho after"), V({"cat", "echo after"}));
  EXPECT_EQ(cmds("cat <<-'END' > f\n\trm x\n\tEND\nls"), V({"cat", "ls"}));
  EXPECT_EQ(cmds("cat <<A <<B\na\nA\nb\nB\nls"), V({"cat", "ls"}));
}

TEST(ShellWordsTest, UnparseableIsExplicit) {
  using namespace std::string_view_literals;
  for (std::string_view bad : std::initializer_list<std::string_view>{"echo 'abc", "echo \"abc", "echo $(rm x", "echo `rm x", "echo ${x", "a &&", "| a",
                               "a ||", "(a", "a)", "{ a; ", "echo $'abc", "a ;; b", "echo >", "case x in a) b",
                               "[[ -f x", "a (b)", "echo $((1+2)", "if a; then", "; a", "}", "esac",
                               "ls\0; rm x"sv}) {
    ShellParse p = parse_shell_words(bad);
    if (bad == "if a; then") {  // bash waits for more input; we list what we saw but it is incomplete
      EXPECT_TRUE(p.opaque & kShellCompound);
      continue;
    }
    EXPECT_FALSE(p.ok) << "'" << bad << "' parsed as ok";
    EXPECT_FALSE(p.error.empty()) << bad;
  }
  // Commands before the fault are still recovered (deny rules use them).
  ShellParse p = parse_shell_words("true; rm x; echo 'oops");
  EXPECT_FALSE(p.ok);
  EXPECT_GE(p.commands.size(), 2u);
  EXPECT_EQ(p.commands[1].joined(), "rm x");
}

TEST(ShellWordsTest, BoundsInputSizeAndDepth) {
  ShellParseLimits limits;
  limits.max_bytes = 100;
  ShellParse p = parse_shell_words(std::string(101, 'a'), limits);
  EXPECT_FALSE(p.ok);
  EXPECT_NE(p.error.find("bytes"), std::string::npos);
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "$(";
  deep += "rm x";
  for (int i = 0; i < 100; ++i) deep += ")";
  p = parse_shell_words(deep);
  EXPECT_FALSE(p.ok);
  EXPECT_NE(p.error.find("nesting"), std::string::npos) << p.error;
  std::string parens(5000, '(');
  EXPECT_FALSE(parse_shell_words(parens).ok);
  std::string braces;
  for (int i = 0; i < 5000; ++i) braces += "\"${";
  EXPECT_FALSE(parse_shell_words(braces).ok);
  // Pathological but legal input stays fast (linear look-ahead caps).
  auto t0 = std::chrono::steady_clock::now();
  (void)parse_shell_words(std::string(120000, '['));
  (void)parse_shell_words(std::string(120000, '{'));
  (void)parse_shell_words("echo " + std::string(60000, ';'));
  std::string many;
  for (int i = 0; i < 20000; ++i) many += "a;";
  p = parse_shell_words(many);
  EXPECT_FALSE(p.ok);  // more than max_commands
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(s, 2.0);
}

TEST(ShellWordsTest, DescribesForPeople) {
  ShellParse p = parse_shell_words("echo hi; rm -f a.txt > out");
  std::string d = describe_shell_parse(p);
  EXPECT_EQ(d, "runs 2 commands: echo hi ; rm -f a.txt >out");
  d = describe_shell_parse(parse_shell_words("echo $(touch x)"));
  EXPECT_NE(d.find("(substituted) touch x"), std::string::npos) << d;
  EXPECT_NE(d.find("command substitution"), std::string::npos) << d;
  d = describe_shell_parse(parse_shell_words("echo 'x"));
  EXPECT_NE(d.find("NOT PARSEABLE"), std::string::npos) << d;
}

}  // namespace
}  // namespace v4rt::tools
