#include "tools/permission_policy.h"

#include <gtest/gtest.h>

namespace v4rt::tools {
namespace {

PermissionRequest req(const std::string& tool, ToolKind kind, const std::string& subject, bool sandboxed = true) {
  return PermissionRequest{tool, kind, subject, sandboxed};
}

TEST(PermissionPolicyTest, ModeDefaults) {
  PermissionPolicy ro(PermissionMode::kReadOnly);
  EXPECT_EQ(ro.decide(req("read", ToolKind::kRead, "a")).decision, Decision::kAllow);
  EXPECT_EQ(ro.decide(req("write", ToolKind::kEdit, "a")).decision, Decision::kDeny);
  EXPECT_EQ(ro.decide(req("shell", ToolKind::kExecute, "ls")).decision, Decision::kAsk);
  PermissionPolicy ww(PermissionMode::kWorkspaceWrite);
  EXPECT_EQ(ww.decide(req("write", ToolKind::kEdit, "a")).decision, Decision::kAllow);
  EXPECT_EQ(ww.decide(req("shell", ToolKind::kExecute, "ls")).decision, Decision::kAllow);
  EXPECT_EQ(ww.decide(req("shell", ToolKind::kExecute, "ls", false)).decision, Decision::kAsk);
  EXPECT_EQ(ww.decide(req("web_fetch", ToolKind::kOther, "")).decision, Decision::kAsk);
  PermissionPolicy full(PermissionMode::kFull);
  EXPECT_EQ(full.decide(req("shell", ToolKind::kExecute, "rm -rf x", false)).decision, Decision::kAllow);
}

TEST(PermissionPolicyTest, DenyWinsOverAskOverAllow) {
  PermissionPolicy p(PermissionMode::kFull);
  p.add_rule(*parse_rule("shell", Decision::kAllow));
  p.add_rule(*parse_rule("shell(git push*)", Decision::kAsk));
  p.add_rule(*parse_rule("shell(git push --force*)", Decision::kDeny));
  EXPECT_EQ(p.decide(req("shell", ToolKind::kExecute, "git status")).decision, Decision::kAllow);
  EXPECT_EQ(p.decide(req("shell", ToolKind::kExecute, "git push origin main")).decision, Decision::kAsk);
  auto v = p.decide(req("shell", ToolKind::kExecute, "git push --force origin/main"));
  EXPECT_EQ(v.decision, Decision::kDeny);
  EXPECT_NE(v.reason.find("git push --force*"), std::string::npos);
}

TEST(PermissionPolicyTest, PathPatternsAndWildcardTool) {
  PermissionPolicy p(PermissionMode::kWorkspaceWrite);
  p.add_rule(*parse_rule("write(secrets/**)", Decision::kDeny));
  p.add_rule(*parse_rule("*(.env)", Decision::kDeny));
  EXPECT_EQ(p.decide(req("write", ToolKind::kEdit, "secrets/a/b.txt")).decision, Decision::kDeny);
  EXPECT_EQ(p.decide(req("write", ToolKind::kEdit, "src/a.txt")).decision, Decision::kAllow);
  EXPECT_EQ(p.decide(req("read", ToolKind::kRead, ".env")).decision, Decision::kDeny);
}

TEST(PermissionPolicyTest, ReadOnlyAllowsRuleApprovedCommands) {
  PermissionPolicy p(PermissionMode::kReadOnly);
  p.add_rule(*parse_rule("shell(make test)", Decision::kAllow));
  EXPECT_EQ(p.decide(req("shell", ToolKind::kExecute, "make test")).decision, Decision::kAllow);
  EXPECT_EQ(p.decide(req("shell", ToolKind::kExecute, "make install")).decision, Decision::kAsk);
}

TEST(PermissionPolicyTest, ParsesRulesAndJson) {
  EXPECT_FALSE(parse_rule("shell(", Decision::kAllow).ok());
  EXPECT_FALSE(parse_rule("shell()", Decision::kAllow).ok());
  EXPECT_FALSE(parse_rule("", Decision::kAllow).ok());
  auto r = parse_rule("grep(src/*)", Decision::kDeny);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->tool, "grep");
  EXPECT_EQ(r->pattern, "src/*");
  PermissionPolicy p;
  ASSERT_TRUE(p.add_json({{"mode", "read-only"}, {"allow", {"shell(ls*)"}}, {"deny", {"read(.env)"}}}, "x.json").ok());
  EXPECT_EQ(p.mode(), PermissionMode::kReadOnly);
  EXPECT_EQ(p.rules().size(), 2u);
  Status bad = p.add_json({{"mode", "yolo"}}, ".v4rt/settings.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find(".v4rt/settings.json"), std::string::npos);
  EXPECT_NE(bad.message().find("workspace-write"), std::string::npos);
  EXPECT_FALSE(p.add_json({{"allow", "shell"}}, "x").ok());
  EXPECT_FALSE(parse_permission_mode("all").ok());
}

}  // namespace
}  // namespace v4rt::tools
