// Python-compatible JSON (see py_json.h). The grammar and number handling
// follow CPython's json module (Lib/json/scanner.py, Lib/json/encoder.py):
// number regex (-?(?:0|[1-9]\d*))(\.\d+)?([eE][-+]?\d+)?, whitespace
// [ \t\n\r], int() for integers (4300-digit limit of CPython >= 3.11),
// float() for the rest, repr() when writing floats.
#include "parsers/py_json.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <system_error>

#include "base/utf8.h"

namespace v4rt::parsers {

PyJson::PyJson() = default;
PyJson::~PyJson() = default;
PyJson::PyJson(const PyJson&) = default;
PyJson::PyJson(PyJson&&) noexcept = default;
PyJson& PyJson::operator=(const PyJson&) = default;
PyJson& PyJson::operator=(PyJson&&) noexcept = default;

namespace {

constexpr int kMaxDepth = 512;
constexpr size_t kMaxIntDigits = 4300;  // CPython sys.int_info.default_max_str_digits

bool is_digit(char c) { return c >= '0' && c <= '9'; }

class Parser {
 public:
  explicit Parser(std::string_view text) : s_(text) {}

  Result<PyJson> parse_document() {
    PyJson v;
    skip_ws();
    V4RT_RETURN_IF_ERROR(parse_value(v, 0));
    skip_ws();
    if (pos_ != s_.size()) return fail("extra data after the JSON value");
    return v;
  }

 private:
  Status fail(std::string_view what) const {
    return Status::InvalidArgument(std::string("JSON text: ") + std::string(what) + " at byte " + std::to_string(pos_) +
                                   "; pass valid JSON (Python json.loads rules)");
  }

  void skip_ws() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) ++pos_;
  }

  bool consume(std::string_view lit) {
    if (s_.substr(pos_, lit.size()) == lit) {
      pos_ += lit.size();
      return true;
    }
    return false;
  }

  Status parse_value(PyJson& out, int depth) {
    if (depth > kMaxDepth) return fail("nesting deeper than 512 levels");
    if (pos_ >= s_.size()) return fail("expecting a value, found end of text");
    char c = s_[pos_];
    switch (c) {
      case '"':
        out.kind = PyJson::Kind::kString;
        return parse_string(out.text);
      case '{':
        return parse_object(out, depth);
      case '[':
        return parse_array(out, depth);
      case 'n':
        if (consume("null")) {
          out.kind = PyJson::Kind::kNull;
          return Status::Ok();
        }
        break;
      case 't':
        if (consume("true")) {
          out.kind = PyJson::Kind::kBool;
          out.boolean = true;
          return Status::Ok();
        }
        break;
      case 'f':
        if (consume("false")) {
          out.kind = PyJson::Kind::kBool;
          out.boolean = false;
          return Status::Ok();
        }
        break;
      case 'N':
        if (consume("NaN")) return set_number(out, "NaN");
        break;
      case 'I':
        if (consume("Infinity")) return set_number(out, "Infinity");
        break;
      case '-':
        if (consume("-Infinity")) return set_number(out, "-Infinity");
        return parse_number(out);
      default:
        if (is_digit(c)) return parse_number(out);
        break;
    }
    return fail("expecting a value");
  }

  static Status set_number(PyJson& out, std::string text) {
    out.kind = PyJson::Kind::kNumber;
    out.text = std::move(text);
    return Status::Ok();
  }

  Status parse_number(PyJson& out) {
    const size_t start = pos_;
    bool negative = false;
    if (s_[pos_] == '-') {
      negative = true;
      ++pos_;
    }
    const size_t int_start = pos_;
    if (pos_ >= s_.size() || !is_digit(s_[pos_])) return fail("expecting a value");
    if (s_[pos_] == '0') {
      ++pos_;
    } else {
      while (pos_ < s_.size() && is_digit(s_[pos_])) ++pos_;
    }
    const size_t int_end = pos_;
    bool is_float = false;
    if (pos_ + 1 < s_.size() && s_[pos_] == '.' && is_digit(s_[pos_ + 1])) {
      is_float = true;
      pos_ += 1;
      while (pos_ < s_.size() && is_digit(s_[pos_])) ++pos_;
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      size_t p = pos_ + 1;
      if (p < s_.size() && (s_[p] == '+' || s_[p] == '-')) ++p;
      if (p < s_.size() && is_digit(s_[p])) {
        is_float = true;
        while (p < s_.size() && is_digit(s_[p])) ++p;
        pos_ = p;
      }
    }
    if (!is_float) {
      std::string_view digits = s_.substr(int_start, int_end - int_start);
      if (digits.size() > kMaxIntDigits) {
        return fail("integer literal longer than 4300 digits (Python's int limit)");
      }
      if (digits == "0") return set_number(out, "0");  // "-0" is the int 0
      std::string text = negative ? "-" : "";
      text += digits;
      return set_number(out, std::move(text));
    }
    std::string_view literal = s_.substr(start, pos_ - start);
    double value = 0;
    auto [ptr, ec] = std::from_chars(literal.data(), literal.data() + literal.size(), value);
    if (ec == std::errc::result_out_of_range) {
      value = out_of_range_value(literal, negative);
    } else if (ec != std::errc() || ptr != literal.data() + literal.size()) {
      return fail("malformed number");
    }
    return set_number(out, py_float_repr(value));
  }

  // float() of a literal from_chars reports as out of range: +-inf when the
  // magnitude is huge, +-0.0 when it is tiny.
  static double out_of_range_value(std::string_view literal, bool negative) {
    size_t i = negative ? 1 : 0;
    long magnitude = 0;  // decimal exponent of the leading digit, roughly
    bool leading_zero_int = literal[i] == '0';
    size_t int_digits = 0;
    while (i < literal.size() && is_digit(literal[i])) {
      ++int_digits;
      ++i;
    }
    long frac_leading_zeros = 0;
    if (i < literal.size() && literal[i] == '.') {
      ++i;
      while (i < literal.size() && literal[i] == '0') {
        ++frac_leading_zeros;
        ++i;
      }
      while (i < literal.size() && is_digit(literal[i])) ++i;
    }
    long exp = 0;
    if (i < literal.size() && (literal[i] == 'e' || literal[i] == 'E')) {
      ++i;
      bool exp_neg = false;
      if (literal[i] == '+' || literal[i] == '-') exp_neg = literal[i++] == '-';
      while (i < literal.size() && is_digit(literal[i])) {
        if (exp < 100000000) exp = exp * 10 + (literal[i] - '0');
        ++i;
      }
      if (exp_neg) exp = -exp;
    }
    magnitude = leading_zero_int ? exp - frac_leading_zeros : exp + static_cast<long>(int_digits);
    double v = magnitude > 0 ? HUGE_VAL : 0.0;
    return negative ? -v : v;
  }

  Status parse_hex4(uint32_t& out) {
    if (pos_ + 4 > s_.size()) return fail("truncated \\u escape");
    uint32_t v = 0;
    for (int k = 0; k < 4; ++k) {
      char c = s_[pos_ + k];
      v <<= 4;
      if (c >= '0' && c <= '9') {
        v |= static_cast<uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        v |= static_cast<uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        v |= static_cast<uint32_t>(c - 'A' + 10);
      } else {
        return fail("invalid \\u escape");
      }
    }
    pos_ += 4;
    out = v;
    return Status::Ok();
  }

  Status parse_string(std::string& out) {
    ++pos_;  // opening quote
    out.clear();
    while (true) {
      if (pos_ >= s_.size()) return fail("unterminated string");
      unsigned char c = static_cast<unsigned char>(s_[pos_]);
      if (c == '"') {
        ++pos_;
        return Status::Ok();
      }
      if (c < 0x20) return fail("control character inside a string");
      if (c != '\\') {
        out += static_cast<char>(c);
        ++pos_;
        continue;
      }
      ++pos_;
      if (pos_ >= s_.size()) return fail("unterminated string");
      char e = s_[pos_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          uint32_t cp = 0;
          V4RT_RETURN_IF_ERROR(parse_hex4(cp));
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            uint32_t lo = 0;
            if (s_.substr(pos_, 2) != "\\u") return fail("lone UTF-16 surrogate in \\u escape");
            pos_ += 2;
            V4RT_RETURN_IF_ERROR(parse_hex4(lo));
            if (lo < 0xDC00 || lo > 0xDFFF) return fail("lone UTF-16 surrogate in \\u escape");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return fail("lone UTF-16 surrogate in \\u escape");
          }
          utf8::append(out, cp);
          break;
        }
        default:
          --pos_;
          return fail("invalid escape in string");
      }
    }
  }

  Status parse_array(PyJson& out, int depth) {
    out.kind = PyJson::Kind::kArray;
    ++pos_;
    skip_ws();
    if (pos_ < s_.size() && s_[pos_] == ']') {
      ++pos_;
      return Status::Ok();
    }
    while (true) {
      skip_ws();
      out.items.emplace_back();
      V4RT_RETURN_IF_ERROR(parse_value(out.items.back(), depth + 1));
      skip_ws();
      if (pos_ < s_.size() && s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < s_.size() && s_[pos_] == ']') {
        ++pos_;
        return Status::Ok();
      }
      return fail("expecting ',' or ']' in an array");
    }
  }

  Status parse_object(PyJson& out, int depth) {
    out.kind = PyJson::Kind::kObject;
    ++pos_;
    skip_ws();
    if (pos_ < s_.size() && s_[pos_] == '}') {
      ++pos_;
      return Status::Ok();
    }
    while (true) {
      skip_ws();
      if (pos_ >= s_.size() || s_[pos_] != '"') return fail("expecting a property name in double quotes");
      std::string key;
      V4RT_RETURN_IF_ERROR(parse_string(key));
      skip_ws();
      if (pos_ >= s_.size() || s_[pos_] != ':') return fail("expecting ':' after a property name");
      ++pos_;
      skip_ws();
      PyJson value;
      V4RT_RETURN_IF_ERROR(parse_value(value, depth + 1));
      // dict semantics: a repeated key keeps its first position, last value.
      bool replaced = false;
      for (auto& member : out.members) {
        if (member.first == key) {
          member.second = std::move(value);
          replaced = true;
          break;
        }
      }
      if (!replaced) out.members.emplace_back(std::move(key), std::move(value));
      skip_ws();
      if (pos_ < s_.size() && s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < s_.size() && s_[pos_] == '}') {
        ++pos_;
        return Status::Ok();
      }
      return fail("expecting ',' or '}' in an object");
    }
  }

  std::string_view s_;
  size_t pos_ = 0;
};

void dump_into(std::string& out, const PyJson& v) {
  switch (v.kind) {
    case PyJson::Kind::kNull: out += "null"; return;
    case PyJson::Kind::kBool: out += v.boolean ? "true" : "false"; return;
    case PyJson::Kind::kNumber: out += v.text; return;
    case PyJson::Kind::kString: append_py_json_string(out, v.text); return;
    case PyJson::Kind::kArray: {
      out += '[';
      for (size_t i = 0; i < v.items.size(); ++i) {
        if (i) out += ", ";
        dump_into(out, v.items[i]);
      }
      out += ']';
      return;
    }
    case PyJson::Kind::kObject: {
      out += '{';
      for (size_t i = 0; i < v.members.size(); ++i) {
        if (i) out += ", ";
        append_py_json_string(out, v.members[i].first);
        out += ": ";
        dump_into(out, v.members[i].second);
      }
      out += '}';
      return;
    }
  }
}

Status dump_into(std::string& out, const nlohmann::ordered_json& v, int depth) {
  using json = nlohmann::ordered_json;
  if (depth > kMaxDepth) {
    return Status::InvalidArgument("JSON value nested deeper than 512 levels; flatten it");
  }
  switch (v.type()) {
    case json::value_t::null: out += "null"; return Status::Ok();
    case json::value_t::boolean: out += v.get<bool>() ? "true" : "false"; return Status::Ok();
    case json::value_t::number_integer: out += std::to_string(v.get<int64_t>()); return Status::Ok();
    case json::value_t::number_unsigned: out += std::to_string(v.get<uint64_t>()); return Status::Ok();
    case json::value_t::number_float: out += py_float_repr(v.get<double>()); return Status::Ok();
    case json::value_t::string: append_py_json_string(out, v.get_ref<const std::string&>()); return Status::Ok();
    case json::value_t::array: {
      out += '[';
      bool first = true;
      for (const auto& item : v) {
        if (!first) out += ", ";
        first = false;
        V4RT_RETURN_IF_ERROR(dump_into(out, item, depth + 1));
      }
      out += ']';
      return Status::Ok();
    }
    case json::value_t::object: {
      out += '{';
      bool first = true;
      for (const auto& [key, item] : v.items()) {
        if (!first) out += ", ";
        first = false;
        append_py_json_string(out, key);
        out += ": ";
        V4RT_RETURN_IF_ERROR(dump_into(out, item, depth + 1));
      }
      out += '}';
      return Status::Ok();
    }
    case json::value_t::binary:
    case json::value_t::discarded:
      break;
  }
  return Status::InvalidArgument(std::string("JSON value of type ") + v.type_name() +
                                 " has no Python json.dumps form; use null, bool, number, string, array or object");
}

}  // namespace

Result<PyJson> py_json_loads(std::string_view text) { return Parser(text).parse_document(); }

std::string py_json_dumps(const PyJson& value) {
  std::string out;
  dump_into(out, value);
  return out;
}

Result<std::string> py_json_dumps(const nlohmann::ordered_json& value) {
  std::string out;
  V4RT_RETURN_IF_ERROR(dump_into(out, value, 0));
  return out;
}

std::string py_float_repr(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
  // Shortest round-trip digits, e.g. "-3.25e-10", "1e+05", "0e+00".
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value, std::chars_format::scientific);
  check(ec == std::errc(), "to_chars of a double fits in 64 bytes");
  std::string_view sci(buf, static_cast<size_t>(end - buf));
  std::string out;
  size_t i = 0;
  if (sci[0] == '-') {
    out += '-';
    i = 1;
  }
  std::string digits;
  for (; i < sci.size() && sci[i] != 'e'; ++i) {
    if (sci[i] != '.') digits += sci[i];
  }
  int exp10 = 0;
  std::from_chars(sci.data() + i + 1 + (sci[i + 1] == '+' ? 1 : 0), sci.data() + sci.size(), exp10);
  const int n = static_cast<int>(digits.size());
  const int decpt = exp10 + 1;  // digits before the decimal point in fixed form
  if (decpt <= -4 || decpt > 16) {
    out += digits[0];
    if (n > 1) {
      out += '.';
      out.append(digits, 1, std::string::npos);
    }
    const int e = decpt - 1;
    char ebuf[16];
    std::snprintf(ebuf, sizeof(ebuf), "e%c%02d", e < 0 ? '-' : '+', e < 0 ? -e : e);
    out += ebuf;
  } else if (decpt <= 0) {
    out += "0.";
    out.append(static_cast<size_t>(-decpt), '0');
    out += digits;
  } else if (decpt < n) {
    out.append(digits, 0, static_cast<size_t>(decpt));
    out += '.';
    out.append(digits, static_cast<size_t>(decpt), std::string::npos);
  } else {
    out += digits;
    out.append(static_cast<size_t>(decpt - n), '0');
    out += ".0";
  }
  return out;
}

void append_py_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out += ch;
        }
    }
  }
  out += '"';
}

}  // namespace v4rt::parsers
