#include "tools/hooks.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "test_util.h"

namespace v4rt::tools {
namespace {

TEST(HooksTest, PreHookBlocksWithItsMessageAndSeesTheCall) {
  testing::TempDir dir;
  Hooks h;
  ASSERT_TRUE(h.add_json({{"pre_tool", {{{"command", "cat > seen.json; echo nope >&2; exit 2"}, {"tools", {"shell"}}}}}},
                         "settings.json")
                  .ok());
  auto out = h.run_pre(dir.path(), "shell", {{"command", "rm -rf /"}});
  EXPECT_TRUE(out.blocked);
  EXPECT_NE(out.message.find("nope"), std::string::npos) << out.message;
  std::ifstream f(dir.path() / "seen.json");
  std::string seen((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  EXPECT_NE(seen.find("rm -rf /"), std::string::npos) << seen;
  EXPECT_FALSE(h.run_pre(dir.path(), "read", {{"path", "a"}}).blocked);  // not for this tool
}

TEST(HooksTest, PostHookFailureIsAppended) {
  testing::TempDir dir;
  Hooks h;
  ASSERT_TRUE(h.add_json({{"post_tool", {"exit 0", "echo lint failed; exit 1"}}}, "s").ok());
  std::string extra = h.run_post(dir.path(), "write", {{"path", "a"}}, "created a", false);
  EXPECT_NE(extra.find("lint failed"), std::string::npos) << extra;
  EXPECT_FALSE(h.add_json({{"pre_tool", "x"}}, "s").ok());
  EXPECT_FALSE(h.add_json({{"pre_tool", {42}}}, "s").ok());
}

}  // namespace
}  // namespace v4rt::tools
