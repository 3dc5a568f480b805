// Python-compatible JSON, as DeepSeek's reference chat encoder uses it:
// json.loads, and json.dumps(value, ensure_ascii=False) with the default
// separators ", " and ": ". Thread-safe (pure functions).
//
// Why not nlohmann's dump(): the prompt bytes must match the reference, and
// Python differs in float text (repr: 1e-07, 100000.0, 1e+300), in integers
// of any size, in NaN/Infinity, and in escaping (only '"', '\\' and control
// characters below U+0020; "/", DEL and all non-ASCII are written raw).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace v4rt::parsers {

// A JSON value as Python's json.loads builds it. Object keys keep input
// order; a repeated key keeps its first position and its last value (dict
// semantics). Numbers are stored as the text json.dumps prints for them:
// integers with all their digits ("-0" -> "0"), floats as Python's repr
// ("1.50" -> "1.5", "1E-7" -> "1e-07", overflow -> "Infinity").
struct PyJson {
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };
  // Out of line: the members hold PyJson, incomplete here.
  PyJson();
  ~PyJson();
  PyJson(const PyJson&);
  PyJson(PyJson&&) noexcept;
  PyJson& operator=(const PyJson&);
  PyJson& operator=(PyJson&&) noexcept;

  Kind kind = Kind::kNull;
  bool boolean = false;                                // kBool
  std::string text;                                    // kNumber: dumps text; kString: UTF-8 value
  std::vector<PyJson> items;                           // kArray
  std::vector<std::pair<std::string, PyJson>> members;  // kObject, input order
};

// Parses `text` like Python's json.loads(text) (strict mode): NaN, Infinity
// and -Infinity are accepted; integers longer than 4300 digits, control
// characters inside strings, trailing data and nesting deeper than 512 are
// errors. A lone UTF-16 surrogate escape is an error (it has no UTF-8 form).
Result<PyJson> py_json_loads(std::string_view text);

// json.dumps(value, ensure_ascii=False).
std::string py_json_dumps(const PyJson& value);

// json.dumps(value, ensure_ascii=False) for a value the caller built or
// parsed with nlohmann: doubles print as Python floats (1.0 -> "1.0"),
// integers as Python ints. Strings are written byte for byte (no UTF-8
// validation). Fails on nesting deeper than 512 and on binary values.
Result<std::string> py_json_dumps(const nlohmann::ordered_json& value);

// Python's repr(float): shortest round-trip digits; exponent form when the
// decimal exponent is < -4 or >= 16 ("1e-05", "1e+16"), otherwise fixed with
// at least one fractional digit ("100000.0"); "NaN", "Infinity", "-Infinity"
// as json.dumps writes them.
std::string py_float_repr(double value);

// Appends `s` as a JSON string literal, escaped as json.dumps(ensure_ascii=False) does.
void append_py_json_string(std::string& out, std::string_view s);

}  // namespace v4rt::parsers
