// The official OpenAI and Anthropic npm SDKs against the real `v4rt serve`:
// node runs tests/node/*.mjs as a subprocess. Skips, saying how to install
// them, when node or the packages (scripts/setup.sh --tests) are missing.
#include <string>

#include "serve_util.h"

namespace v4rt::testing::serve {
namespace {

fs::path node_modules() { return source_dir() / "data/npm/node_modules"; }

void run_sdk_script(const std::string& script, const std::string& package) {
  if (run_command("node --version").exit_code != 0) GTEST_SKIP() << "node is not installed (scripts/setup.sh)";
  if (!fs::exists(node_modules() / package / "package.json"))
    GTEST_SKIP() << "npm " << package << " is not installed: run scripts/setup.sh --tests";
  TempDir dir;
  std::string why;
  fs::path ckpt = make_tiny_checkpoint(dir.path(), &why);
  ASSERT_FALSE(ckpt.empty()) << "cannot create the tiny checkpoint: " << why;
  ::setenv("V4RT_SERVE_SDK_KEY", "sdk-key-42", 1);
  ServeProcess s;
  ASSERT_TRUE(s.start({"--model", ckpt.string(), "--store", (dir.path() / "store").string(), "--api-key-env",
                       "V4RT_SERVE_SDK_KEY", "--threads", "2"},
                      dir.path() / "serve.log", &why))
      << why;
  auto r = run_command("V4RT_NPM_DIR=" + shell_quote(node_modules().parent_path().string()) + " node " +
                       shell_quote((source_dir() / "tests/node" / script).string()) + " http://127.0.0.1:" +
                       std::to_string(s.port()) + " sdk-key-42");
  EXPECT_EQ(r.exit_code, 0) << "stdout:\n" << r.out << "\nstderr:\n" << r.err << "\nserver log:\n" << s.log();
  EXPECT_EQ(s.terminate(), 0) << s.log();
}

TEST(ServeSdk, OfficialOpenAINodeSdk) { run_sdk_script("serve_openai_sdk.mjs", "openai"); }
TEST(ServeSdk, OfficialAnthropicNodeSdk) { run_sdk_script("serve_anthropic_sdk.mjs", "@anthropic-ai/sdk"); }

}  // namespace
}  // namespace v4rt::testing::serve
