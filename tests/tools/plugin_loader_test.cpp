// The plugin loader against real shared libraries built by CMake
// (plugins/testdata/fixture.c): a good plain-C plugin and each kind of
// plugin the loader must refuse with a clear message.
#include <chrono>
#include <thread>

#include "tool_fixture.h"
#include "tools/permission_policy.h"
#include "tools/plugin/plugin_loader.h"

namespace v4rt::tools {
namespace {

namespace fs = std::filesystem;

fs::path fixture(const std::string& name) {
  return v4rt::testing::v4rt_binary().parent_path() / "plugins" / "testdata" / (name + ".so");
}

class PluginLoaderTest : public ToolFixture {};

TEST_F(PluginLoaderTest, LoadsCPluginNamespacedSortedAndAsksByDefault) {
  size_t before = registry_.list().size();
  auto info = load_plugin(fixture("good_echo"), registry_);
  ASSERT_TRUE(info.ok()) << info.status().to_string();
  EXPECT_EQ(info->name, "echo");
  EXPECT_EQ(info->version, "1.0.0");
  EXPECT_EQ(info->tools, (std::vector<std::string>{"plugin__echo", "plugin__spin"}));
  EXPECT_EQ(registry_.list().size(), before + 2);
  EXPECT_EQ(registry_.source("plugin__echo"), "plugin:echo");
  EXPECT_EQ(registry_.source("read"), "builtin");
  Tool* t = registry_.find("plugin__echo");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->spec().kind, ToolKind::kOther);
  EXPECT_EQ(t->spec().parameters["properties"]["text"]["type"], "string");
  // Declarations stay sorted by name whatever the load order.
  auto names = registry_.names();
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  // kOther: the default policy asks; a rule allows it.
  PermissionPolicy policy;
  PermissionRequest q;
  q.tool = "plugin__echo";
  q.kind = t->spec().kind;
  EXPECT_EQ(policy.decide(q).decision, Decision::kAsk);
  policy.add_rule(*parse_rule("plugin__echo", Decision::kAllow));
  EXPECT_EQ(policy.decide(q).decision, Decision::kAllow);
}

TEST_F(PluginLoaderTest, InvokePassesArgumentsAndErrorsCrossAsStatus) {
  ASSERT_TRUE(load_plugin(fixture("good_echo"), registry_).ok());
  auto r = call("plugin__echo", {{"text", "hi"}});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->text, "echo:{\"text\":\"hi\"}");
  auto e = call("plugin__echo", {{"fail", true}});
  ASSERT_FALSE(e.ok());
  EXPECT_TRUE(e.status().is_invalid_argument());
  EXPECT_NE(e.status().message().find("asked to fail; drop the 'fail' argument"), std::string::npos);
}

TEST_F(PluginLoaderTest, OutputSinkIsCapped) {
  ASSERT_TRUE(load_plugin(fixture("good_echo"), registry_).ok());
  ctx_.max_output_bytes = 1000;
  auto r = call("plugin__spin", nlohmann::json::object());
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->text.rfind("0123456789", 0), 0u);
  EXPECT_NE(r->text.find("[output cut at 1000 bytes by the host]"), std::string::npos);
  EXPECT_LT(r->text.size(), 1100u);
}

TEST_F(PluginLoaderTest, CancellationReachesThePlugin) {
  ASSERT_TRUE(load_plugin(fixture("good_echo"), registry_).ok());
  std::stop_source stop;
  ctx_.stop = stop.get_token();
  ctx_.max_output_bytes = size_t{1} << 40;  // never capped: only cancellation ends the loop
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    stop.request_stop();
  });
  auto r = call("plugin__spin", nlohmann::json::object());
  canceller.join();
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().is_cancelled()) << r.status().to_string();
  EXPECT_NE(r.status().message().find("spin: cancelled"), std::string::npos);
}

void expect_refused(ToolRegistry& registry, const std::string& name, const std::string& needle) {
  size_t before = registry.list().size();
  auto r = load_plugin(fixture(name), registry);
  ASSERT_FALSE(r.ok()) << name << " loaded";
  EXPECT_NE(r.status().message().find(needle), std::string::npos) << r.status().to_string();
  EXPECT_NE(r.status().message().find(fixture(name).string()), std::string::npos) << "names the file";
  EXPECT_EQ(registry.list().size(), before) << "all or nothing";
}

TEST_F(PluginLoaderTest, RefusesBadPluginsWithClearErrors) {
  auto missing = load_plugin(dir_.path() / "nope.so", registry_);
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(missing.status().is_not_found());
  EXPECT_NE(missing.status().message().find("no such file"), std::string::npos);
  expect_refused(registry_, "bad_abi", "built for plugin ABI version 99, this v4rt speaks version 1");
  expect_refused(registry_, "no_entry", "exports no 'v4rt_plugin_entry' function");
  expect_refused(registry_, "null_table", "returned no table");
  expect_refused(registry_, "undefined_symbol", "v4rt_fixture_symbol_that_does_not_exist");
  expect_refused(registry_, "bad_schema", "parameters schema is not a JSON object");
  // Not a shared library at all.
  put("junk.so", "not an ELF file");
  auto junk = load_plugin(root() / "junk.so", registry_);
  ASSERT_FALSE(junk.ok());
  EXPECT_NE(junk.status().message().find("cannot be loaded"), std::string::npos);
}

TEST_F(PluginLoaderTest, RefusesDuplicatePluginAndToolNames) {
  ASSERT_TRUE(load_plugin(fixture("good_echo"), registry_).ok());
  expect_refused(registry_, "dup_plugin", "a plugin named 'echo' is already loaded");
  expect_refused(registry_, "dup_tool", "tool 'echo' (plugin__echo) is already provided by plugin:echo");
  EXPECT_EQ(registry_.source("plugin__echo"), "plugin:echo");
}

TEST_F(PluginLoaderTest, PluginFilesInListsSharedObjectsSorted) {
  put("p/b.so", "");
  put("p/a.so", "");
  put("p/readme.txt", "");
  auto files = plugin_files_in(root() / "p");
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0].filename(), "a.so");
  EXPECT_EQ(files[1].filename(), "b.so");
  EXPECT_TRUE(plugin_files_in(root() / "absent").empty());
}

}  // namespace
}  // namespace v4rt::tools
