// A workspace in a fresh temporary directory with every built-in tool
// registered, for the tool tests.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <sstream>

#include "test_util.h"
#include "tools/builtin_tools.h"
#include "tools/file_memory.h"
#include "tools/sandbox.h"
#include "tools/tool_registry.h"
#include "tools/workspace.h"

namespace v4rt::tools {

class ToolFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    auto ws = Workspace::open(dir_.path());
    ASSERT_TRUE(ws.ok()) << ws.status().to_string();
    ws_ = std::make_unique<Workspace>(*ws);
    sandbox_ = std::make_unique<Sandbox>(SandboxOptions{}, ws_->root());
    ASSERT_TRUE(register_builtin_tools(registry_, sandbox_.get()).ok());
    ctx_.workspace = ws_.get();
    ctx_.memory = &memory_;
  }
  const std::filesystem::path& root() const { return ws_->root(); }
  void put(const std::string& rel, const std::string& content) {
    auto p = root() / rel;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
  }
  std::string get(const std::string& rel) const {
    std::ifstream f(root() / rel, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  }
  Result<ToolOutput> call(const std::string& tool, const nlohmann::json& args) {
    Tool* t = registry_.find(tool);
    if (!t) return Status::NotFound("no tool " + tool);
    return t->invoke(args, ctx_);
  }

  testing::TempDir dir_;
  std::unique_ptr<Workspace> ws_;
  std::unique_ptr<Sandbox> sandbox_;
  FileMemory memory_;
  ToolRegistry registry_;
  ToolContext ctx_;
};

}  // namespace v4rt::tools
