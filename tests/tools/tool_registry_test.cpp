#include "tools/tool_registry.h"

#include <gtest/gtest.h>

#include "tools/builtin_tools.h"

namespace v4rt::tools {
namespace {

// The smallest tool a user can write: one class, one file.
class EchoTool : public Tool {
 public:
  explicit EchoTool(std::string name) {
    spec_.name = std::move(name);
    spec_.description = "Echo the text back.";
    spec_.kind = ToolKind::kRead;
    spec_.parameters = {{"type", "object"}, {"properties", {{"text", {{"type", "string"}}}}}, {"required", {"text"}}};
  }
  const ToolSpec& spec() const override { return spec_; }
  Result<ToolOutput> invoke(const nlohmann::json& args, ToolContext&) override {
    auto t = arg_string(args, spec_.name, "text");
    if (!t) return t.status();
    return ToolOutput{*t};
  }

 private:
  ToolSpec spec_;
};

TEST(ToolRegistryTest, DeclaresInAFixedOrderWhateverTheAddOrder) {
  ToolRegistry a, b;
  ASSERT_TRUE(a.add(std::make_unique<EchoTool>("zeta")).ok());
  ASSERT_TRUE(a.add(std::make_unique<EchoTool>("alpha")).ok());
  ASSERT_TRUE(b.add(std::make_unique<EchoTool>("alpha")).ok());
  ASSERT_TRUE(b.add(std::make_unique<EchoTool>("zeta")).ok());
  EXPECT_EQ(a.declarations().dump(), b.declarations().dump());
  EXPECT_EQ(a.names(), (std::vector<std::string>{"alpha", "zeta"}));
  EXPECT_EQ(a.declarations()[0]["function"]["name"], "alpha");
}

TEST(ToolRegistryTest, RejectsDuplicatesAndBadNames) {
  ToolRegistry r;
  ASSERT_TRUE(r.add(std::make_unique<EchoTool>("echo")).ok());
  Status dup = r.add(std::make_unique<EchoTool>("echo"));
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.message().find("already registered"), std::string::npos);
  EXPECT_FALSE(r.add(std::make_unique<EchoTool>("has space")).ok());
  EXPECT_FALSE(r.add(std::make_unique<EchoTool>("")).ok());
  EXPECT_TRUE(r.remove("echo").ok());
  EXPECT_FALSE(r.remove("echo").ok());
  EXPECT_EQ(r.find("echo"), nullptr);
}

TEST(ToolRegistryTest, BuiltinsHaveTheStableNames) {
  ToolRegistry r;
  Sandbox sb(SandboxOptions{}, "/tmp");
  ASSERT_TRUE(register_builtin_tools(r, &sb).ok());
  EXPECT_EQ(r.names(), (std::vector<std::string>{"apply_patch", "edit", "glob", "grep", "job", "list", "read",
                                                 "shell", "todo", "write"}));
  ToolContext ctx;
  auto out = EchoTool("echo").invoke({{"text", "hi"}}, ctx);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->text, "hi");
  EXPECT_EQ(truncate_middle(std::string(100, 'a'), 40).find("bytes left out") != std::string::npos, true);
}

}  // namespace
}  // namespace v4rt::tools
