// `v4rt chat render` end to end: the real binary, golden render.jsonl on
// stdin, one JSON line out per case, compared byte for byte.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "test_util.h"

namespace v4rt {
namespace {

using json = nlohmann::ordered_json;

std::vector<std::string> split_lines(const std::string& s) {
  std::vector<std::string> lines;
  std::istringstream in(s);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

TEST(CliChatRender, RendersEveryGoldenCaseFromStdin) {
  if (testing::golden_dir().empty()) GTEST_SKIP() << "golden data absent (../shared/golden): nothing to compare";
  std::ifstream file(testing::golden_dir() / "chat" / "render.jsonl", std::ios::binary);
  std::stringstream buffer;
  buffer << file.rdbuf();
  const std::string input = buffer.str();
  const std::vector<std::string> cases = split_lines(input);
  ASSERT_EQ(cases.size(), 60u);

  auto r = testing::run_command(testing::shell_quote(testing::v4rt_binary().string()) + " chat render", input);
  EXPECT_EQ(r.exit_code, 1) << "some golden cases are errors, so the exit code is 1; stderr: " << r.err;
  const std::vector<std::string> out = split_lines(r.out);
  ASSERT_EQ(out.size(), cases.size()) << "one output line per request";
  for (size_t i = 0; i < cases.size(); ++i) {
    json c = json::parse(cases[i]);
    json got = json::parse(out[i], nullptr, false);
    const std::string name = c["name"].get<std::string>();
    ASSERT_FALSE(got.is_discarded()) << "case " << name << ": output is not JSON: " << out[i];
    EXPECT_EQ(got.value("name", ""), name) << "case " << name << ": name not echoed";
    const json& expected = c["expected"];
    if (expected.is_string()) {
      ASSERT_TRUE(got.contains("prompt")) << "case " << name << ": " << out[i];
      EXPECT_EQ(got["prompt"].get<std::string>(), expected.get<std::string>()) << "case " << name;
    } else {
      ASSERT_TRUE(got.contains("error")) << "case " << name << ": " << out[i];
      EXPECT_EQ(got["error"], expected["error"]) << "case " << name << ": " << got.value("message", "");
    }
  }
}

TEST(CliChatRender, TextModeAndBadLines) {
  const std::string bin = testing::shell_quote(testing::v4rt_binary().string());
  auto ok = testing::run_command(bin + " chat render --text",
                                 R"({"messages":[{"role":"user","content":"hi"}],"options":{"thinking_mode":"thinking"}})"
                                 "\n");
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(ok.out, "<\uFF5Cbegin\u2581of\u2581sentence\uFF5C><\uFF5CUser\uFF5C>hi<\uFF5CAssistant\uFF5C><think>");

  auto bad = testing::run_command(bin + " chat render", "not json\n\n{\"messages\": 3}\n");
  EXPECT_EQ(bad.exit_code, 1);
  auto lines = split_lines(bad.out);
  ASSERT_EQ(lines.size(), 2u) << bad.out;
  EXPECT_EQ(json::parse(lines[0])["error"], "invalid_json");
  EXPECT_EQ(json::parse(lines[1])["error"], "invalid_request");

  auto usage = testing::run_command(bin + " chat frobnicate");
  EXPECT_EQ(usage.exit_code, 2);
  auto help = testing::run_command(bin + " chat render --help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("chat render"), std::string::npos);
}

}  // namespace
}  // namespace v4rt
