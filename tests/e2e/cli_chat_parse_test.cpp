// `v4rt chat parse` end to end: the golden parse.jsonl through the real
// binary, strict and tolerant, plus flags and bad input.
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "test_util.h"

namespace v4rt::testing {
namespace {

using ojson = nlohmann::ordered_json;

std::vector<ojson> lines_of(const std::string& out) {
  std::vector<ojson> v;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) v.push_back(ojson::parse(line));
  return v;
}

std::string golden_parse_file() {
  const auto dir = golden_dir();
  if (dir.empty()) return "";
  return (dir / "chat" / "parse.jsonl").string();
}

TEST(CliChatParse, StrictReproducesEveryGoldenCase) {
  const std::string file = golden_parse_file();
  if (file.empty()) GTEST_SKIP() << "golden data absent (shared/golden/chat/parse.jsonl)";
  auto r = run_command(shell_quote(v4rt_binary().string()) + " chat parse --strict " + shell_quote(file));
  EXPECT_EQ(r.exit_code, 1) << r.err;  // the malformed cases fail
  auto got = lines_of(r.out);
  std::ifstream in(file);
  std::string line;
  size_t i = 0;
  while (std::getline(in, line)) {
    ASSERT_LT(i, got.size());
    ojson c = ojson::parse(line);
    SCOPED_TRACE(c["name"].get<std::string>());
    ojson g = got[i++];
    EXPECT_EQ(g["name"], c["name"]);
    g.erase("name");
    if (c["expected"].contains("error")) {
      EXPECT_EQ(g["error"], c["expected"]["error"]);
      EXPECT_EQ(g["message"], c["expected"]["message"]);
    } else {
      EXPECT_EQ(g.dump(), c["expected"].dump());  // arguments strings byte-identical
    }
  }
  EXPECT_EQ(i, got.size());
  EXPECT_EQ(i, 65u);
}

TEST(CliChatParse, TolerantIsTheDefault) {
  const std::string file = golden_parse_file();
  if (file.empty()) GTEST_SKIP() << "golden data absent (shared/golden/chat/parse.jsonl)";
  auto r = run_command(shell_quote(v4rt_binary().string()) + " chat parse " + shell_quote(file));
  auto got = lines_of(r.out);
  ASSERT_EQ(got.size(), 65u);
  size_t variants = 0, errors = 0;
  for (const auto& g : got) {
    variants += g.contains("dsml_variants") ? 1 : 0;
    errors += g.contains("error") ? 1 : 0;
  }
  // docs/dsml-parsing.md: of the 37 malformed cases 5 stay errors (string="yes",
  // a duplicate parameter, truncation inside an invoke header or parameter
  // attributes); 32 are accepted with a recorded variant, as are the 5
  // truncations the reference itself accepts (missing_closing_tags).
  EXPECT_EQ(errors, 5u);
  EXPECT_EQ(variants, 37u);
}

TEST(CliChatParse, StdinOptionsEventsAndArgumentChecks) {
  const std::string d = "\xEF\xBD\x9C" "DSML" "\xEF\xBD\x9C";
  const std::string eos = "<\xEF\xBD\x9C" "end\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>";
  const std::string text = "\n\n<" + d + "tool_calls>\n<" + d + "invoke name=\"get_weather\">\n<" + d +
                           "parameter name=\"unit\" string=\"true\">kelvin</" + d + "parameter>\n</" + d +
                           "invoke>\n</" + d + "tool_calls>" + eos;
  ojson req = {{"text", text},
               {"tools", ojson::parse(R"([{"type":"function","function":{"name":"get_weather","parameters":
                   {"type":"object","properties":{"location":{"type":"string"},"unit":{"enum":["celsius","fahrenheit"]}},
                    "required":["location"]}}}])")},
               {"options", {{"thinking_mode", "chat"}}}};
  auto r = run_command(shell_quote(v4rt_binary().string()) + " chat parse --events --check-args -", req.dump() + "\n");
  EXPECT_EQ(r.exit_code, 1) << r.err;  // the call does not match its schema
  auto got = lines_of(r.out);
  ASSERT_EQ(got.size(), 4u) << r.out;
  EXPECT_EQ(got[0]["type"], "tool_call_start");
  EXPECT_EQ(got[1]["type"], "tool_arg_delta");
  EXPECT_EQ(got[1]["text"], "kelvin");
  EXPECT_EQ(got[2]["type"], "tool_call_end");
  EXPECT_EQ(got[3]["tool_calls"][0]["function"]["arguments"], "{\"unit\": \"kelvin\"}");
  ASSERT_EQ(got[3]["argument_errors"].size(), 2u);
  EXPECT_EQ(got[3]["argument_errors"][0]["pointer"], "");
  EXPECT_EQ(got[3]["argument_errors"][1]["pointer"], "/unit");
}

TEST(CliChatParse, BadInputIsAnErrorLineNotACrash) {
  auto r = run_command(shell_quote(v4rt_binary().string()) + " chat parse",
                       "not json\n{\"text\": 3}\n{\"text\": \"x\", \"options\": {\"thinking_mode\": \"deep\"}}\n");
  EXPECT_EQ(r.exit_code, 1);
  auto got = lines_of(r.out);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0]["error"], "invalid_json");
  EXPECT_EQ(got[1]["error"], "invalid_request");
  EXPECT_EQ(got[2]["error"], "invalid_thinking_mode");
  auto usage = run_command(shell_quote(v4rt_binary().string()) + " chat parse --no-such-flag");
  EXPECT_EQ(usage.exit_code, 2);
  auto help = run_command(shell_quote(v4rt_binary().string()) + " chat parse --help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("--strict"), std::string::npos);
}

}  // namespace
}  // namespace v4rt::testing
