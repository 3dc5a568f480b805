#include "tools/shell_words.h"

#include <utility>

#include "base/utf8.h"

namespace v4rt::tools {

namespace {

bool is_blank(char c) { return c == ' ' || c == '\t'; }
// Characters that end an unquoted word (bash's metacharacters).
bool is_meta(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == ';' || c == '&' || c == '|' || c == '(' || c == ')' ||
         c == '<' || c == '>';
}
bool is_name_start(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

void append_utf8(std::string& out, uint32_t cp) {
  if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
  utf8::append(out, cp);
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Where a command list ends.
enum class ListEnd {
  kEof,    // the whole input
  kParen,  // ')' closes a subshell or a $( ... ) substitution
  kBrace,  // the word '}' closes a group
  kCase,   // ';;', ';&', ';;&' or the word 'esac' ends a case branch
};

struct PendingHeredoc {
  std::string delimiter;
  bool strip_tabs = false;
};

// Recursive-descent parser over one string. Every loop advances i_ or stops;
// nesting (substitutions, subshells, groups, compound commands) is bounded by
// limits.max_depth, so the recursion is too. After the first fault, failed_ is
// set and every function returns promptly.
class Parser {
 public:
  static constexpr int kNamedFd = -2;  // {NAME}>file
  Parser(std::string_view s, const ShellParseLimits& limits, ShellParse& out, int depth, int subst_depth)
      : s_(s), limits_(limits), out_(out), depth_(depth), subst_depth_(subst_depth) {}

  void parse_all() {
    parse_list(ListEnd::kEof);
    if (!failed_ && i_ < s_.size()) fail("unexpected '" + std::string(1, s_[i_]) + "'");
  }
  bool failed() const { return failed_; }

 private:
  // ---- low-level helpers ----
  bool eof() const { return failed_ || i_ >= s_.size(); }
  char peek(size_t ahead = 0) const { return i_ + ahead < s_.size() ? s_[i_ + ahead] : '\0'; }
  bool starts(std::string_view t) const { return s_.substr(i_).substr(0, t.size()) == t; }

  void fail(const std::string& why) {
    if (failed_) return;
    failed_ = true;
    out_.ok = false;
    out_.error = why + " at byte " + std::to_string(i_);
  }

  bool enter() {
    if (++depth_ > limits_.max_depth) {
      fail("nesting deeper than " + std::to_string(limits_.max_depth) + " levels");
      return false;
    }
    return true;
  }
  void leave() { --depth_; }

  // Skips blanks and backslash-newline continuations (not newlines).
  void skip_blanks() {
    while (!eof()) {
      if (is_blank(peek())) {
        ++i_;
      } else if (peek() == '\\' && peek(1) == '\n') {
        i_ += 2;
      } else {
        break;
      }
    }
  }
  void skip_comment() {
    if (peek() == '#')
      while (!eof() && peek() != '\n') ++i_;
  }
  // Consumes one newline; a pending here-document's body starts after it.
  void consume_newline() {
    ++i_;
    while (!heredocs_.empty() && !failed_) {
      PendingHeredoc h = std::move(heredocs_.front());
      heredocs_.erase(heredocs_.begin());
      read_heredoc_body(h);
    }
  }
  void skip_blanks_newlines_comments() {
    while (!eof()) {
      skip_blanks();
      skip_comment();
      if (peek() == '\n') consume_newline();
      else break;
    }
  }

  void read_heredoc_body(const PendingHeredoc& h) {
    // Lines up to one that is exactly the delimiter (after leading tabs with <<-);
    // bash accepts end of input in its place, with a warning.
    while (i_ < s_.size()) {
      size_t end = s_.find('\n', i_);
      if (end == std::string_view::npos) end = s_.size();
      std::string_view line = s_.substr(i_, end - i_);
      if (h.strip_tabs)
        while (!line.empty() && line.front() == '\t') line.remove_prefix(1);
      i_ = end < s_.size() ? end + 1 : end;
      if (line == h.delimiter) return;
    }
  }

  bool word_ends() const { return eof() || is_meta(peek()); }

  // Whether the next characters form the unquoted reserved word w.
  bool at_word(std::string_view w) const {
    if (!starts(w)) return false;
    size_t j = i_ + w.size();
    return j >= s_.size() || is_meta(s_[j]);
  }

  // ---- lists, pipelines, commands ----
  bool at_list_end(ListEnd end) const {
    switch (end) {
      case ListEnd::kEof: return false;
      case ListEnd::kParen: return peek() == ')';
      case ListEnd::kBrace: return at_word("}");
      case ListEnd::kCase: return starts(";;") || starts(";&") || at_word("esac");
    }
    return false;
  }

  void parse_list(ListEnd end) {
    while (true) {
      skip_blanks_newlines_comments();
      if (eof()) {
        if (!failed_ && end == ListEnd::kParen) fail("missing ')'");
        if (!failed_ && end == ListEnd::kBrace) fail("missing '}'");
        if (!failed_ && end == ListEnd::kCase) fail("missing 'esac'");
        return;
      }
      if (at_list_end(end)) return;
      if (peek() == ')') {
        fail("unexpected ')'");
        return;
      }
      if (peek() == ';' || peek() == '&' || peek() == '|') {
        fail("unexpected '" + std::string(1, peek()) + "' where a command should start");
        return;
      }
      parse_pipeline();
      if (failed_) return;
      skip_blanks();
      skip_comment();
      if (eof() || at_list_end(end)) continue;
      if (starts("&&") || starts("||")) {
        i_ += 2;
        skip_blanks_newlines_comments();
        if (eof() || at_list_end(end) || peek() == ')') {
          fail("a command must follow && or ||");
          return;
        }
      } else if (starts(";;")) {
        fail("';;' outside a case statement");
        return;
      } else if (peek() == ';' || peek() == '&') {
        ++i_;
      } else if (peek() == '\n') {
        consume_newline();
      } else if (peek() != ')') {
        fail("unexpected '" + std::string(1, peek()) + "'");
        return;
      }
    }
  }

  void parse_pipeline() {
    while (true) {
      parse_command();
      if (failed_) return;
      skip_blanks();
      if (peek() == '|' && peek(1) != '|') {
        i_ += peek(1) == '&' ? 2 : 1;  // |& is 2>&1 |
        skip_blanks_newlines_comments();
        if (eof() || peek() == ')' || peek() == ';' || peek() == '|' || peek() == '&') {
          fail("a command must follow '|'");
          return;
        }
        continue;
      }
      return;
    }
  }

  void push(ShellCommand&& c) {
    if (c.words.empty() && c.assignments.empty() && c.redirections.empty()) return;
    if (out_.commands.size() >= limits_.max_commands) {
      fail("more than " + std::to_string(limits_.max_commands) + " commands");
      return;
    }
    c.substitution_depth = subst_depth_;
    out_.opaque |= c.opaque;
    out_.commands.push_back(std::move(c));
  }

  // Redirections after a compound command: `( ... ) > f`, `{ ...; } 2>&1`.
  void trailing_redirections() {
    ShellCommand c;
    while (!failed_) {
      skip_blanks();
      if (!parse_redirection(c)) break;
    }
    push(std::move(c));
  }

  void compound(uint32_t bit = kShellCompound) { out_.opaque |= bit; }

  void parse_command() {
    skip_blanks();
    if (eof()) return;
    if (!enter()) return;
    parse_command_inner();
    leave();
  }

  void parse_command_inner() {
    if (starts("((")) {  // arithmetic command
      compound(kShellArithmetic);
      i_ += 2;
      scan_arithmetic();
      trailing_redirections();
      return;
    }
    if (peek() == '(') {
      ++i_;
      parse_list(ListEnd::kParen);
      if (failed_) return;
      ++i_;  // ')'
      trailing_redirections();
      return;
    }
    if (at_word("{")) {
      ++i_;
      parse_list(ListEnd::kBrace);
      if (failed_) return;
      ++i_;  // '}'
      trailing_redirections();
      return;
    }
    // Reserved words that open or continue a compound command: what follows is
    // another command in command position.
    for (std::string_view kw : {"if", "then", "elif", "else", "while", "until", "do", "coproc"}) {
      if (at_word(kw)) {
        compound();
        i_ += kw.size();
        skip_blanks_newlines_comments();
        if (!eof() && !at_word("fi") && !at_word("done")) parse_command();
        return;
      }
    }
    for (std::string_view kw : {"fi", "done", "esac", "}"}) {
      if (at_word(kw)) {
        if (kw == "}" || kw == "esac") {
          fail("unexpected '" + std::string(kw) + "'");
          return;
        }
        compound();
        i_ += kw.size();
        trailing_redirections();
        return;
      }
    }
    if (at_word("!")) {  // pipeline negation
      ++i_;
      parse_command();
      return;
    }
    if (at_word("time")) {
      i_ += 4;
      skip_blanks();
      if (at_word("-p")) i_ += 2;
      parse_command();
      return;
    }
    if (at_word("for") || at_word("select")) {
      parse_for();
      return;
    }
    if (at_word("case")) {
      parse_case();
      return;
    }
    if (at_word("[[")) {
      parse_double_bracket();
      return;
    }
    if (at_word("function")) {
      compound();
      i_ += 8;
      skip_blanks();
      ShellWord name;
      if (!lex_word(name, nullptr)) return;
      skip_blanks();
      if (starts("()")) i_ += 2;
      skip_blanks_newlines_comments();
      parse_command();
      return;
    }
    parse_simple_command();
  }

  void parse_for() {
    compound();
    i_ += at_word("for") ? 3 : 6;
    skip_blanks();
    if (starts("((")) {
      compound(kShellArithmetic);
      i_ += 2;
      if (scan_arithmetic()) for_body();
      return;
    }
    ShellWord name;
    if (!lex_word(name, nullptr)) return;
    skip_blanks_newlines_comments();
    if (at_word("in")) {
      i_ += 2;
      // The words are expanded (substitutions in them run); they are not a command.
      ShellCommand discard;
      while (!failed_) {
        skip_blanks();
        if (eof() || peek() == ';' || peek() == '\n') break;
        ShellWord w;
        if (!lex_word(w, &discard)) return;
      }
      out_.opaque |= discard.opaque;
    }
    for_body();
  }

  // "; do LIST done" after a for/select head ("for x do" needs no ';').
  void for_body() {
    skip_blanks();
    if (peek() == ';') ++i_;
    else if (peek() == '\n') consume_newline();
    skip_blanks_newlines_comments();
    if (at_word("do")) parse_command();
  }

  void parse_case() {
    compound();
    i_ += 4;
    skip_blanks();
    ShellCommand discard;
    ShellWord subject;
    if (!lex_word(subject, &discard)) return;
    skip_blanks_newlines_comments();
    if (!at_word("in")) {
      fail("'case WORD' must be followed by 'in'");
      return;
    }
    i_ += 2;
    while (!failed_) {
      skip_blanks_newlines_comments();
      if (eof()) {
        fail("missing 'esac'");
        return;
      }
      if (at_word("esac")) {
        i_ += 4;
        trailing_redirections();
        return;
      }
      if (peek() == '(') ++i_;
      // Patterns: words separated by '|', up to ')'.
      while (!failed_) {
        skip_blanks();
        if (eof()) {
          fail("missing ')' after a case pattern");
          return;
        }
        ShellWord pat;
        if (!lex_word(pat, &discard)) return;
        if (pat.text.empty() && peek() != ')' && peek() != '|') {
          fail("unexpected '" + std::string(1, peek()) + "' in a case pattern");
          return;
        }
        skip_blanks();
        if (peek() == '|') {
          ++i_;
          continue;
        }
        if (peek() == ')') {
          ++i_;
          break;
        }
        fail("missing ')' after a case pattern");
        return;
      }
      parse_list(ListEnd::kCase);
      if (failed_) return;
      if (starts(";;&")) i_ += 3;
      else if (starts(";;") || starts(";&")) i_ += 2;
    }
  }

  void parse_double_bracket() {
    compound();
    i_ += 2;
    ShellCommand discard;
    while (!failed_) {
      skip_blanks();
      if (eof() || peek() == '\n') {
        fail("missing ']]'");
        return;
      }
      if (at_word("]]")) {
        i_ += 2;
        out_.opaque |= discard.opaque;
        trailing_redirections();
        return;
      }
      if (is_meta(peek()) && peek() != '<' && peek() != '>') {
        ++i_;  // && || ( ) ! are operators of the test, not of the shell
        continue;
      }
      if ((peek() == '<' || peek() == '>') && peek(1) != '(') {
        ++i_;
        continue;
      }
      ShellWord w;
      if (!lex_word(w, &discard)) return;
    }
  }

  static bool assignment_shape(std::string_view raw) {
    if (raw.empty() || !is_name_start(raw[0])) return false;
    size_t j = 1;
    while (j < raw.size() && is_name_char(raw[j])) ++j;
    if (j < raw.size() && raw[j] == '[') {
      size_t close = raw.find(']', j);
      if (close == std::string_view::npos) return false;
      j = close + 1;
    }
    if (j < raw.size() && raw[j] == '+') ++j;
    return j < raw.size() && raw[j] == '=';
  }

  void parse_simple_command() {
    ShellCommand c;
    while (!failed_) {
      skip_blanks();
      if (eof()) break;
      char ch = peek();
      if (ch == '\n' || ch == ';' || ch == ')' || ch == '|') break;
      if (ch == '&' && peek(1) != '>') break;
      if (ch == '#') {
        skip_comment();
        break;
      }
      if (ch == '(') {
        // NAME () compound-command: a function definition.
        if (c.words.size() == 1 && c.redirections.empty() && c.assignments.empty()) {
          ++i_;
          skip_blanks();
          if (peek() != ')') {
            fail("unexpected '(' after a command word");
            return;
          }
          ++i_;
          compound();
          skip_blanks_newlines_comments();
          parse_command();
          return;
        }
        fail("unexpected '('");
        return;
      }
      if (parse_redirection(c)) continue;
      if (failed_) return;
      size_t start = i_;
      ShellWord w;
      if (!lex_word(w, &c)) break;
      std::string_view raw = s_.substr(start, i_ - start);
      if (c.words.empty() && assignment_shape(raw)) {
        if (peek() == '(' && raw.back() == '=') {  // NAME=(array words)
          ++i_;
          while (!failed_) {
            skip_blanks_newlines_comments();
            if (eof()) {
              fail("missing ')' after an array assignment");
              return;
            }
            if (peek() == ')') {
              ++i_;
              break;
            }
            ShellWord elem;
            if (!lex_word(elem, &c)) return;
            if (elem.text.empty() && peek() != ')') {
              fail("unexpected '" + std::string(1, peek()) + "' in an array assignment");
              return;
            }
            w.text += (w.text.back() == '=' ? "" : " ") + elem.text;
          }
        }
        c.assignments.push_back(std::move(w.text));
        continue;
      }
      c.words.push_back(std::move(w));
    }
    push(std::move(c));
  }

  // Parses a redirection at i_ into c; false (nothing consumed) if there is none.
  bool parse_redirection(ShellCommand& c) {
    size_t start = i_;
    int fd = -1;
    size_t j = i_;
    while (j < s_.size() && is_digit(s_[j]) && j - i_ < 9) ++j;
    if (j > i_ && j < s_.size() && (s_[j] == '<' || s_[j] == '>')) {
      fd = std::stoi(std::string(s_.substr(i_, j - i_)));
    } else if (peek() == '{' && i_ + 1 < s_.size() && is_name_start(s_[i_ + 1])) {
      // {NAME}>file: bash allocates a descriptor and stores it in NAME; not a word.
      j = i_ + 2;
      while (j < s_.size() && is_name_char(s_[j])) ++j;
      if (j + 1 < s_.size() && s_[j] == '}' && (s_[j + 1] == '<' || s_[j + 1] == '>')) {
        ++j;
        fd = kNamedFd;
      } else {
        j = i_;
      }
    } else {
      j = i_;
    }
    if (j >= s_.size()) return false;
    std::string_view rest = s_.substr(j);
    static constexpr std::string_view kOps[] = {"&>>", "<<<", "<<-", "&>", ">>", ">|", ">&", "<&", "<>", "<<", "<", ">"};
    std::string_view op;
    for (std::string_view o : kOps)
      if (rest.substr(0, o.size()) == o) {
        op = o;
        break;
      }
    if (op.empty()) return false;
    if ((op == "<" || op == ">") && rest.size() > 1 && rest[1] == '(') return false;  // process substitution
    if (fd >= 0 && op[0] == '&') return false;
    i_ = j + op.size();
    skip_blanks();
    ShellRedirection r;
    r.fd = fd;
    r.op = std::string(op);
    if (word_ends()) {
      i_ = start;
      fail("redirection '" + r.op + "' has no target");
      return false;
    }
    if (!lex_word(r.target, &c)) return false;
    if (r.target.text.empty() && r.target.literal && s_.substr(start, i_ - start).find_first_of("'\"") == std::string_view::npos) {
      fail("redirection '" + r.op + "' has no target");
      return false;
    }
    if (op == "<<" || op == "<<-") {
      PendingHeredoc h;
      // The delimiter is the word with quotes removed; quoting it only stops expansion in the body.
      h.delimiter = r.target.text;
      h.strip_tabs = op == "<<-";
      heredocs_.push_back(std::move(h));
      c.opaque |= kShellHeredoc;
    }
    c.redirections.push_back(std::move(r));
    return true;
  }

  // ---- words ----

  // Lexes one word at i_ (up to an unquoted metacharacter, except <( and >(
  // which start a process substitution inside a word). Substitutions found
  // are parsed and their commands pushed; expansion kinds go into
  // holder->opaque. Returns false on a fault (failed_ set) or when no
  // character was consumed (w stays empty).
  bool lex_word(ShellWord& w, ShellCommand* holder) {
    size_t start = i_;
    uint32_t bits = 0;
    while (!eof()) {
      char ch = peek();
      if ((ch == '<' || ch == '>') && peek(1) == '(') {
        size_t s0 = i_;
        i_ += 2;
        if (!parse_substitution_body(ListEnd::kParen)) return false;
        ++i_;  // ')'
        w.text += s_.substr(s0, i_ - s0);
        w.literal = false;
        bits |= kShellSubstitution;
        continue;
      }
      if (is_meta(ch)) break;
      if (ch == '\\') {
        if (peek(1) == '\n') {
          i_ += 2;
        } else if (i_ + 1 < s_.size()) {
          w.text += s_[i_ + 1];
          i_ += 2;
        } else {
          w.text += '\\';
          ++i_;
        }
        continue;
      }
      if (ch == '\'') {
        size_t close = s_.find('\'', i_ + 1);
        if (close == std::string_view::npos) {
          fail("unterminated single quote");
          return false;
        }
        w.text += s_.substr(i_ + 1, close - i_ - 1);
        i_ = close + 1;
        continue;
      }
      if (ch == '"') {
        ++i_;
        if (!lex_double_quoted(w, bits)) return false;
        continue;
      }
      if (ch == '$' && peek(1) == '\'') {
        i_ += 2;
        if (!lex_ansi_c(w)) return false;
        continue;
      }
      if (ch == '$' && peek(1) == '"') {  // $"..." : locale translation, quoted like "..."
        i_ += 2;
        if (!lex_double_quoted(w, bits)) return false;
        continue;
      }
      if (ch == '$' || ch == '`') {
        if (!lex_expansion(w, bits)) return false;
        continue;
      }
      if (ch == '*' || ch == '?' || (ch == '[' && bracket_closes())) {
        bits |= kShellGlob;
        w.literal = false;
      } else if (ch == '{' && brace_expands()) {
        bits |= kShellBrace;
        w.literal = false;
      } else if (ch == '~' && i_ == start) {
        bits |= kShellTilde;
        w.literal = false;
      }
      w.text += ch;
      ++i_;
    }
    if (holder) holder->opaque |= bits;
    else out_.opaque |= bits;
    return i_ > start;
  }

  // An unquoted '[' starts a glob class only if a ']' follows within the
  // word. The look-ahead is capped (linear time on "[[[[..."); past the cap
  // the answer is "glob", the side a rule cannot see through.
  static constexpr size_t kLookAhead = 256;
  bool bracket_closes() const {
    for (size_t j = i_ + 1; j < s_.size() && !is_meta(s_[j]); ++j) {
      if (j - i_ > kLookAhead) return true;
      if (s_[j] == ']') return true;
    }
    return false;
  }
  // An unquoted '{' is a brace expansion if a ',' or '..' comes before its
  // '}' within the word (capped look-ahead as above: past it, "expands").
  bool brace_expands() const {
    bool sep = false;
    for (size_t j = i_ + 1; j < s_.size() && !is_meta(s_[j]); ++j) {
      if (j - i_ > kLookAhead) return true;
      if (s_[j] == ',' || (s_[j] == '.' && j + 1 < s_.size() && s_[j + 1] == '.')) sep = true;
      if (s_[j] == '}') return sep;
    }
    return false;
  }

  // After the opening '"'; consumes through the closing '"'.
  bool lex_double_quoted(ShellWord& w, uint32_t& bits) {
    while (true) {
      if (eof()) {
        if (!failed_) fail("unterminated double quote");
        return false;
      }
      char ch = peek();
      if (ch == '"') {
        ++i_;
        return true;
      }
      if (ch == '\\') {
        char n = peek(1);
        if (n == '\n') {
          i_ += 2;
        } else if (n == '$' || n == '`' || n == '"' || n == '\\') {
          w.text += n;
          i_ += 2;
        } else {
          w.text += '\\';
          ++i_;
        }
        continue;
      }
      if (ch == '$' || ch == '`') {
        if (!lex_expansion(w, bits)) return false;
        continue;
      }
      w.text += ch;
      ++i_;
    }
  }

  // After "$'"; decodes ANSI-C escapes through the closing quote. bash ends
  // the string at a decoded NUL byte.
  bool lex_ansi_c(ShellWord& w) {
    bool nul = false;
    auto put = [&](char c) {
      if (c == '\0') nul = true;
      if (!nul) w.text += c;
    };
    while (true) {
      if (eof()) {
        if (!failed_) fail("unterminated $'...' string");
        return false;
      }
      char ch = peek();
      if (ch == '\'') {
        ++i_;
        return true;
      }
      if (ch != '\\') {
        put(ch);
        ++i_;
        continue;
      }
      char e = peek(1);
      i_ += 2;
      switch (e) {
        case 'a': put('\a'); break;
        case 'b': put('\b'); break;
        case 'e': case 'E': put('\x1b'); break;
        case 'f': put('\f'); break;
        case 'n': put('\n'); break;
        case 'r': put('\r'); break;
        case 't': put('\t'); break;
        case 'v': put('\v'); break;
        case '\\': put('\\'); break;
        case '\'': put('\''); break;
        case '"': put('"'); break;
        case '?': put('?'); break;
        case 'c': {
          char x = peek();
          if (x == '\0' && i_ >= s_.size()) { put('\\'); put('c'); break; }
          ++i_;
          put(static_cast<char>(x & 0x1F));
          break;
        }
        case 'x': case 'u': case 'U': {
          size_t max = e == 'x' ? 2 : (e == 'u' ? 4 : 8);
          uint32_t v = 0;
          size_t n = 0;
          while (n < max && hex_value(peek()) >= 0) {
            v = v * 16 + static_cast<uint32_t>(hex_value(peek()));
            ++i_;
            ++n;
          }
          if (n == 0) {
            put('\\');
            put(e);
          } else if (e == 'x') {
            put(static_cast<char>(v));
          } else if (v == 0) {
            nul = true;
          } else if (!nul) {
            append_utf8(w.text, v);
          }
          break;
        }
        case '\0':
          if (i_ > s_.size()) {  // a lone backslash at the end: unterminated
            i_ = s_.size();
            fail("unterminated $'...' string");
            return false;
          }
          put('\0');
          break;
        default:
          if (e >= '0' && e <= '7') {
            uint32_t v = static_cast<uint32_t>(e - '0');
            for (int n = 0; n < 2 && peek() >= '0' && peek() <= '7'; ++n) {
              v = v * 8 + static_cast<uint32_t>(peek() - '0');
              ++i_;
            }
            put(static_cast<char>(v & 0xFF));
          } else {
            put('\\');
            put(e);
          }
      }
    }
  }

  // At '$' or '`' (unquoted or in double quotes). Appends the construct as
  // written to w.text and marks w non-literal when it expands.
  bool lex_expansion(ShellWord& w, uint32_t& bits) {
    size_t s0 = i_;
    auto keep = [&](uint32_t bit) {
      w.text += s_.substr(s0, i_ - s0);
      w.literal = false;
      bits |= bit;
    };
    if (peek() == '`') {
      if (!parse_backticks()) return false;
      keep(kShellSubstitution);
      return true;
    }
    char n = peek(1);
    if (n == '(' && peek(2) == '(') {
      i_ += 3;
      if (!scan_arithmetic()) return false;
      keep(kShellArithmetic);
      return true;
    }
    if (n == '(') {
      i_ += 2;
      if (!parse_substitution_body(ListEnd::kParen)) return false;
      ++i_;  // ')'
      keep(kShellSubstitution);
      return true;
    }
    if (n == '{') {
      i_ += 2;
      if (!scan_braced_parameter(w, bits)) return false;
      keep(kShellParamExpansion);
      return true;
    }
    if (is_name_start(n)) {
      i_ += 2;
      while (!eof() && is_name_char(peek())) ++i_;
      keep(kShellParamExpansion);
      return true;
    }
    if (is_digit(n) || n == '@' || n == '*' || n == '#' || n == '?' || n == '$' || n == '!' || n == '-') {
      i_ += 2;
      keep(kShellParamExpansion);
      return true;
    }
    w.text += '$';  // a lone '$' is literal
    ++i_;
    return true;
  }

  // Parses the commands of $( ... ) or <( ... ) up to (not past) the ')'.
  bool parse_substitution_body(ListEnd end) {
    if (!enter()) return false;
    ++subst_depth_;
    parse_list(end);
    --subst_depth_;
    leave();
    return !failed_;
  }

  // At '`': finds the closing backquote, undoes the backslash escaping bash
  // applies inside it, and parses the result as a nested command line.
  bool parse_backticks() {
    size_t j = i_ + 1;
    std::string inner;
    while (true) {
      if (j >= s_.size()) {
        fail("unterminated backquote");
        return false;
      }
      char ch = s_[j];
      if (ch == '`') break;
      if (ch == '\\' && j + 1 < s_.size() && (s_[j + 1] == '`' || s_[j + 1] == '\\' || s_[j + 1] == '$')) {
        inner += s_[j + 1];
        j += 2;
        continue;
      }
      inner += ch;
      ++j;
    }
    i_ = j + 1;
    if (!enter()) return false;
    Parser p(inner, limits_, out_, depth_, subst_depth_ + 1);
    p.parse_all();
    leave();
    if (p.failed()) {
      if (out_.error.find("inside `...`") == std::string::npos) out_.error += " (inside `...`)";
      failed_ = true;
      return false;
    }
    return true;
  }

  // After "${": through the matching '}'. Substitutions inside run, so they are parsed.
  bool scan_braced_parameter(ShellWord& w, uint32_t& bits) {
    if (!enter()) return false;
    bool ok = scan_braced_parameter_inner(w, bits);
    leave();
    return ok;
  }
  bool scan_braced_parameter_inner(ShellWord& w, uint32_t& bits) {
    int depth = 1;
    ShellWord scratch;
    while (true) {
      if (eof()) {
        if (!failed_) fail("unterminated ${...}");
        return false;
      }
      char ch = peek();
      if (ch == '\\') {
        i_ += 2;
        continue;
      }
      if (ch == '\'') {
        size_t close = s_.find('\'', i_ + 1);
        if (close == std::string_view::npos) {
          fail("unterminated single quote inside ${...}");
          return false;
        }
        i_ = close + 1;
        continue;
      }
      if (ch == '"') {
        ++i_;
        if (!lex_double_quoted(scratch, bits)) return false;
        continue;
      }
      if (ch == '$' || ch == '`') {
        if (!lex_expansion(scratch, bits)) return false;
        continue;
      }
      if (ch == '{') ++depth;
      if (ch == '}' && --depth == 0) {
        ++i_;
        (void)w;
        return true;
      }
      ++i_;
    }
  }

  // After "((" or "$((": through the matching "))". Substitutions inside run and are parsed.
  bool scan_arithmetic() {
    if (!enter()) return false;
    bool ok = scan_arithmetic_inner();
    leave();
    return ok;
  }
  bool scan_arithmetic_inner() {
    int depth = 2;
    ShellWord scratch;
    uint32_t bits = 0;
    while (true) {
      if (eof()) {
        if (!failed_) fail("unterminated arithmetic (( ... ))");
        return false;
      }
      char ch = peek();
      if (ch == '$' || ch == '`') {
        if (!lex_expansion(scratch, bits)) return false;
        continue;
      }
      if (ch == '"') {
        ++i_;
        if (!lex_double_quoted(scratch, bits)) return false;
        continue;
      }
      if (ch == '\'') {
        size_t close = s_.find('\'', i_ + 1);
        if (close == std::string_view::npos) {
          fail("unterminated single quote inside (( ... ))");
          return false;
        }
        i_ = close + 1;
        continue;
      }
      ++i_;
      if (ch == '(') ++depth;
      if (ch == ')' && --depth == 0) {
        out_.opaque |= bits | kShellArithmetic;
        return true;
      }
    }
  }

  std::string_view s_;
  size_t i_ = 0;
  const ShellParseLimits& limits_;
  ShellParse& out_;
  int depth_;
  int subst_depth_;
  bool failed_ = false;
  std::vector<PendingHeredoc> heredocs_;
};

}  // namespace

bool ShellRedirection::writes_file() const {
  if (op == "<" || op == "<<" || op == "<<-" || op == "<<<" || op == "<&") return false;
  if (op == ">&" && (target.text == "-" || (!target.text.empty() && target.text.find_first_not_of("0123456789") ==
                                                                             std::string::npos)))
    return false;  // fd duplication (2>&1) or close (>&-)
  return true;
}

bool ShellRedirection::reads_file() const { return op == "<" || op == "<>"; }

std::string ShellCommand::joined() const {
  std::string out;
  for (const auto& w : words) {
    if (!out.empty()) out += ' ';
    out += w.text;
  }
  return out;
}

std::string shell_opaque_names(uint32_t bits) {
  static constexpr std::pair<uint32_t, const char*> kNames[] = {
      {kShellParamExpansion, "parameter expansion"}, {kShellArithmetic, "arithmetic"},
      {kShellGlob, "glob"},                          {kShellBrace, "brace expansion"},
      {kShellTilde, "tilde expansion"},              {kShellHeredoc, "here-document"},
      {kShellCompound, "compound command"},          {kShellSubstitution, "command substitution"}};
  std::string out;
  for (const auto& [bit, name] : kNames)
    if (bits & bit) out += (out.empty() ? "" : ", ") + std::string(name);
  return out;
}

ShellParse parse_shell_words(std::string_view line, const ShellParseLimits& limits) {
  ShellParse out;
  if (line.size() > limits.max_bytes) {
    out.ok = false;
    out.error = "command is " + std::to_string(line.size()) + " bytes, more than the " +
                std::to_string(limits.max_bytes) + " the permission check parses";
    return out;
  }
  if (line.find('\0') != std::string_view::npos) {
    // bash receives the command as a C string and would see only the text
    // before the NUL: what we parse and what runs could differ.
    out.ok = false;
    out.error = "command contains a NUL byte at byte " + std::to_string(line.find('\0'));
    return out;
  }
  Parser p(line, limits, out, 0, 0);
  p.parse_all();
  return out;
}

std::string describe_shell_parse(const ShellParse& parse, size_t max_bytes) {
  std::string out;
  size_t n = parse.commands.size();
  std::string list;
  for (const auto& c : parse.commands) {
    std::string one = c.joined();
    for (const auto& r : c.redirections)
      one += (one.empty() ? "" : " ") + (r.fd >= 0 ? std::to_string(r.fd) : r.fd == -2 ? "{fd}" : "") + r.op +
             r.target.text;
    if (c.substitution_depth > 0) one = "(substituted) " + one;
    list += (list.empty() ? "" : " ; ") + one;
  }
  if (list.size() > max_bytes) list = list.substr(0, max_bytes) + "...";
  out = "runs " + std::to_string(n) + (n == 1 ? " command: " : " commands: ") + list;
  if (parse.opaque) out += "; cannot see through: " + shell_opaque_names(parse.opaque);
  if (!parse.ok) out += "; NOT PARSEABLE: " + parse.error;
  return out;
}

}  // namespace v4rt::tools
