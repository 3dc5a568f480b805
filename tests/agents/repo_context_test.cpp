#include "agents/repo_context.h"

#include <gtest/gtest.h>

#include "../e2e/code_replay_util.h"

namespace v4rt::agents {
namespace {

namespace fs = std::filesystem;
using testing::code::put;

TEST(RepoContextTest, TrackedTextFilesOldestFirstWithinBudget) {
  testing::TempDir dir;
  testing::code::make_git_repo(dir.path(), {{"b.txt", "bbb\n"}, {"a.txt", "aaa\n"}, {"bin.dat", std::string("x\0y", 3)},
                                            {".gitignore", "ignored.txt\n"}});
  put(dir.path() / "ignored.txt", "nope\n");
  put(dir.path() / "untracked.txt", "nope\n");
  auto now = fs::file_time_type::clock::now();
  fs::last_write_time(dir.path() / "b.txt", now - std::chrono::hours(2));
  fs::last_write_time(dir.path() / "a.txt", now - std::chrono::hours(1));
  auto ws = tools::Workspace::open(dir.path());
  ASSERT_TRUE(ws.ok());
  auto ctx = render_repo_context(*ws, {});
  ASSERT_TRUE(ctx.ok()) << ctx.status().to_string();
  ASSERT_GE(ctx->included.size(), 2u);
  // b.txt was modified longest ago: it comes first.
  size_t pb = ctx->text.find("### b.txt"), pa = ctx->text.find("### a.txt");
  ASSERT_NE(pb, std::string::npos);
  ASSERT_NE(pa, std::string::npos);
  EXPECT_LT(pb, pa);
  EXPECT_EQ(ctx->text.find("### ignored.txt"), std::string::npos);
  EXPECT_EQ(ctx->text.find("untracked"), std::string::npos);
  EXPECT_EQ(ctx->text.find("### bin.dat"), std::string::npos);
  EXPECT_NE(std::find(ctx->left_out.begin(), ctx->left_out.end(), "bin.dat"), ctx->left_out.end());
  // Deterministic: the same repository renders the same bytes (a cacheable prefix).
  auto again = render_repo_context(*ws, {});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->text, ctx->text);
}

TEST(RepoContextTest, BudgetLeavesFilesOut) {
  testing::TempDir dir;
  testing::code::make_git_repo(dir.path(), {{"big.txt", std::string(4000, 'x') + "\n"}, {"small.txt", "s\n"}});
  auto ws = tools::Workspace::open(dir.path());
  ASSERT_TRUE(ws.ok());
  RepoContextOptions o;
  o.budget_tokens = 100;
  auto ctx = render_repo_context(*ws, o);
  ASSERT_TRUE(ctx.ok());
  EXPECT_EQ(ctx->included, std::vector<std::string>{"small.txt"});
  EXPECT_NE(ctx->text.find("Not shown"), std::string::npos);
  o.budget_tokens = 0;
  auto none = render_repo_context(*ws, o);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->text, "");
}

}  // namespace
}  // namespace v4rt::agents
