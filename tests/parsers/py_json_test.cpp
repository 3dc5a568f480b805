// py_json: Python json.loads / json.dumps(ensure_ascii=False) compatibility.
// Expected strings are what CPython 3.11 prints for the same input.
#include "parsers/py_json.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

namespace v4rt::parsers {
namespace {

std::string roundtrip(std::string_view text) {
  auto v = py_json_loads(text);
  if (!v.ok()) return "ERROR " + v.status().message();
  return py_json_dumps(*v);
}

TEST(PyJson, NumbersReserialiseLikePython) {
  // The golden case tool_call_number_reserialization, element by element.
  EXPECT_EQ(roundtrip("[1.50, 1e5, 1E-7, -0, 12345678901234567890, 0.1, 2.0, -3.25e-10, 1e300]"),
            "[1.5, 100000.0, 1e-07, 0, 12345678901234567890, 0.1, 2.0, -3.25e-10, 1e+300]");
  EXPECT_EQ(roundtrip("-0.0"), "-0.0");
  EXPECT_EQ(roundtrip("123456789012345678901234567890"), "123456789012345678901234567890");
  EXPECT_EQ(roundtrip("-98765432109876543210"), "-98765432109876543210");
  EXPECT_EQ(roundtrip("1e16"), "1e+16");
  EXPECT_EQ(roundtrip("1e15"), "1000000000000000.0");
  EXPECT_EQ(roundtrip("0.0001"), "0.0001");
  EXPECT_EQ(roundtrip("0.00001"), "1e-05");
  EXPECT_EQ(roundtrip("123.456e2"), "12345.6");
  EXPECT_EQ(roundtrip("1.7976931348623157e308"), "1.7976931348623157e+308");
  EXPECT_EQ(roundtrip("5e-324"), "5e-324");
  EXPECT_EQ(roundtrip("1e400"), "Infinity");
  EXPECT_EQ(roundtrip("-1e400"), "-Infinity");
  EXPECT_EQ(roundtrip("1e-400"), "0.0");
  EXPECT_EQ(roundtrip("-1e-400"), "-0.0");
  EXPECT_EQ(roundtrip("0.000e999"), "0.0");
  EXPECT_EQ(roundtrip("[NaN, Infinity, -Infinity]"), "[NaN, Infinity, -Infinity]");
  EXPECT_EQ(roundtrip("0.1e1"), "1.0");
}

TEST(PyJson, FloatRepr) {
  EXPECT_EQ(py_float_repr(0.0), "0.0");
  EXPECT_EQ(py_float_repr(-0.0), "-0.0");
  EXPECT_EQ(py_float_repr(1.0 / 3.0), "0.3333333333333333");
  EXPECT_EQ(py_float_repr(1e22), "1e+22");
  EXPECT_EQ(py_float_repr(123456789.0), "123456789.0");
  EXPECT_EQ(py_float_repr(9007199254740993.0), "9007199254740992.0");
  EXPECT_EQ(py_float_repr(std::numeric_limits<double>::quiet_NaN()), "NaN");
}

TEST(PyJson, StringsEscapeOnlyWhatPythonEscapes) {
  EXPECT_EQ(roundtrip(R"("SELECT \"name\" FROM t WHERE x = 'caf\u00e9' -- \ud83d\ude00\n\ttab \\ \/ slash")"),
            "\"SELECT \\\"name\\\" FROM t WHERE x = 'café' -- 😀\\n\\ttab \\\\ / slash\"");
  EXPECT_EQ(roundtrip(R"("\u0000\u0007\u001f\b\f\r\u007f\u0085\u2028<&>")"),
            "\"\\u0000\\u0007\\u001f\\b\\f\\r\x7f\u0085\u2028<&>\"");
}

TEST(PyJson, ObjectsKeepOrderAndRepeatedKeysBehaveLikeADict) {
  EXPECT_EQ(roundtrip(R"({"b": 1, "a": {"z": [], "y": {}}, "b": 2, "c": null})"),
            R"({"b": 2, "a": {"z": [], "y": {}}, "c": null})");
  EXPECT_EQ(roundtrip(" \t\r\n[ true ,false ] \n"), "[true, false]");
}

TEST(PyJson, RejectsWhatPythonRejects) {
  for (const char* bad : {"", "01", "1.", ".5", "+1", "[1,]", "{\"a\":1,}", "{'a':1}", "\"tab\there\"", "nul",
                          "[1] x", "\"\\x\"", "\"\\ud83d\"", "\"\\ude00\"", "1e", "-", "\xef\xbb\xbf{}", "{1:2}",
                          "infinity", "[", "\"abc"}) {
    auto v = py_json_loads(bad);
    EXPECT_FALSE(v.ok()) << "accepted: " << bad;
    if (!v.ok()) {
      EXPECT_TRUE(v.status().is_invalid_argument());
    }
  }
  EXPECT_FALSE(py_json_loads(std::string(4301, '7')).ok());  // CPython's int digit limit
  EXPECT_TRUE(py_json_loads(std::string(4300, '7')).ok());
  EXPECT_FALSE(py_json_loads(std::string(600, '[') + std::string(600, ']')).ok());
  EXPECT_TRUE(py_json_loads(std::string(500, '[') + std::string(500, ']')).ok());
}

TEST(PyJson, DumpsNlohmannValuesAsPythonWould) {
  auto v = nlohmann::ordered_json::parse(
      R"({"z": 1.0, "a": [1, -2, 18446744073709551615, 0.5, 1e-7], "s": "é\n\"", "n": null, "t": true})");
  auto s = py_json_dumps(v);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(*s, R"({"z": 1.0, "a": [1, -2, 18446744073709551615, 0.5, 1e-07], "s": "é\n\"", "n": null, "t": true})");
  nlohmann::ordered_json deep = nlohmann::ordered_json::array();
  nlohmann::ordered_json* cur = &deep;
  for (int i = 0; i < 600; ++i) {
    cur->push_back(nlohmann::ordered_json::array());
    cur = &(*cur)[0];
  }
  EXPECT_FALSE(py_json_dumps(deep).ok());
  auto bin = nlohmann::ordered_json::binary({1, 2});
  EXPECT_FALSE(py_json_dumps(bin).ok());
}

}  // namespace
}  // namespace v4rt::parsers
