// The example plugin plugins/sqlite_query: loaded from the .so CMake built,
// called directly (confinement, read-only, caps), then driven end to end
// through the real `v4rt code` binary with the replay backend (permissions,
// discovery, project trust) and listed by `v4rt tools list`.
#include <sqlite3.h>

#include "code_replay_util.h"
#include "tools/plugin/plugin_loader.h"
#include "tools/tool_fixture.h"

namespace v4rt::tools {
namespace {

namespace fs = std::filesystem;
using v4rt::testing::run_command;
using v4rt::testing::shell_quote;
using v4rt::testing::v4rt_binary;

fs::path sqlite_plugin() { return v4rt_binary().parent_path() / "plugins" / "sqlite_query.so"; }

void make_db(const fs::path& file, int rows) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
  std::string sql = "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT, note TEXT);";
  for (int i = 1; i <= rows; ++i)
    sql += "INSERT INTO users(name, note) VALUES('user" + std::to_string(i) + "', " + (i == 2 ? "NULL" : "'n'") + ");";
  char* err = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
  sqlite3_free(err);
  sqlite3_close(db);
}

class SqlitePluginTest : public ToolFixture {
 protected:
  void SetUp() override {
    ToolFixture::SetUp();
    auto info = load_plugin(sqlite_plugin(), registry_);
    ASSERT_TRUE(info.ok()) << info.status().to_string();
    ASSERT_EQ(info->tools, std::vector<std::string>{"plugin__sqlite_query"});
    make_db(root() / "app.db", 5);
  }
  Result<ToolOutput> query(const std::string& db, const std::string& sql, int max_rows = 0) {
    nlohmann::json a = {{"database", db}, {"sql", sql}};
    if (max_rows) a["max_rows"] = max_rows;
    return call("plugin__sqlite_query", a);
  }
};

TEST_F(SqlitePluginTest, SelectReturnsATableAndCapsRows) {
  auto r = query("app.db", "SELECT id, name, note FROM users ORDER BY id LIMIT 2");
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->text, "id\tname\tnote\n1\tuser1\tn\n2\tuser2\tNULL\n(2 rows)");
  auto capped = query("app.db", "SELECT name FROM users ORDER BY id", 3);
  ASSERT_TRUE(capped.ok());
  EXPECT_EQ(capped->text, "name\nuser1\nuser2\nuser3\n(3 rows; more rows exist: raise max_rows or add a LIMIT/WHERE)");
  ctx_.max_output_bytes = 20;
  auto cut = query("app.db", "SELECT name FROM users");
  ASSERT_TRUE(cut.ok());
  EXPECT_NE(cut->text.find("[output cut at 20 bytes by the host]"), std::string::npos);
}

TEST_F(SqlitePluginTest, RefusesWritesAttachAndSeveralStatements) {
  std::string before = get("app.db");
  auto w = query("app.db", "DELETE FROM users");
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.status().message().find("only read-only statements"), std::string::npos);
  auto two = query("app.db", "SELECT 1; DELETE FROM users");
  ASSERT_FALSE(two.ok());
  EXPECT_NE(two.status().message().find("one statement"), std::string::npos);
  make_db(dir_.path() / "outside.db", 1);
  auto at = query("app.db", "ATTACH DATABASE '" + (dir_.path() / "outside.db").string() + "' AS o");
  ASSERT_FALSE(at.ok());
  auto bad = query("app.db", "SELEC nonsense");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("SQL error"), std::string::npos);
  EXPECT_EQ(get("app.db"), before) << "the database is never modified";
}

TEST_F(SqlitePluginTest, DatabasePathIsConfinedToTheWorkspace) {
  // ToolFixture's workspace is dir_; put the outside database one level up.
  testing::TempDir outside;
  make_db(outside.path() / "secret.db", 1);
  for (const std::string& p : {(outside.path() / "secret.db").string(), std::string("../secret.db")}) {
    auto r = query(p, "SELECT * FROM users");
    EXPECT_FALSE(r.ok()) << p;
  }
  fs::create_symlink(outside.path() / "secret.db", root() / "link.db");
  auto link = query("link.db", "SELECT * FROM users");
  ASSERT_FALSE(link.ok());
  EXPECT_EQ(link.status().message().find("user1"), std::string::npos);
  auto missing = query("nope.db", "SELECT 1");
  ASSERT_FALSE(missing.ok());
  // Read deny rules apply to the file the plugin opens.
  ctx_.may_read = [](const std::string& rel) { return rel != "app.db"; };
  auto denied = query("app.db", "SELECT 1");
  ASSERT_FALSE(denied.ok());
  EXPECT_NE(denied.status().message().find("read deny rule"), std::string::npos);
}

}  // namespace
}  // namespace v4rt::tools

namespace v4rt::testing::code {
namespace {

namespace fs = std::filesystem;

class PluginE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    repo_ = dir_.path() / "repo";
    state_ = dir_.path() / "state";
    home_ = dir_.path() / "home";
    replay_ = dir_.path() / "replay.jsonl";
    make_git_repo(repo_, {{"README.md", "app\n"}});
    tools::make_db(repo_ / "app.db", 3);
    write_replay(replay_, {
        turn("Count the users.", "", {{"plugin__sqlite_query", {{"database", "app.db"}, {"sql", "SELECT count(*) AS n FROM users"}}}}),
        turn("Done.", "There are 3 users."),
    });
  }
  CommandResult run(const std::string& flags) {
    return run_command("env HOME=" + shell_quote(home_.string()) + " " + shell_quote(v4rt_binary().string()) +
                       " code -p task --backend " + shell_quote("replay:" + replay_.string()) + " --workspace " +
                       shell_quote(repo_.string()) + " --state-dir " + shell_quote(state_.string()) +
                       " --output-format stream-json " + flags);
  }
  std::vector<nlohmann::json> results(const CommandResult& r) { return of_type(events(r.out), "tool_result"); }
  TempDir dir_;
  fs::path repo_, state_, home_, replay_;
};

TEST_F(PluginE2E, PluginFlagAndAllowRuleRunTheToolThroughTheAgentLoop) {
  auto r = run("--plugin " + shell_quote(tools::sqlite_plugin().string()) + " --allow plugin__sqlite_query");
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  auto res = results(r);
  ASSERT_EQ(res.size(), 1u) << r.out;
  EXPECT_FALSE(res[0]["is_error"].get<bool>()) << res[0].dump();
  EXPECT_EQ(res[0]["output"], "n\n3\n(1 row)");
}

TEST_F(PluginE2E, WithoutARuleThePluginToolAsksAndHeadlessRefuses) {
  auto r = run("--plugin " + shell_quote(tools::sqlite_plugin().string()));
  auto res = results(r);
  ASSERT_EQ(res.size(), 1u) << r.out << r.err;
  EXPECT_TRUE(res[0]["is_error"].get<bool>()) << res[0].dump();
  EXPECT_EQ(res[0]["output"].get<std::string>().find("n\n3"), std::string::npos);
}

TEST_F(PluginE2E, MissingOrBadPluginFlagStopsWithAClearError) {
  auto r = run("--plugin " + shell_quote((dir_.path() / "nope.so").string()));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("nope.so: no such file"), std::string::npos) << r.err;
  auto bad = run("--plugin " + shell_quote((v4rt_binary().parent_path() / "plugins/testdata/bad_abi.so").string()));
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("plugin ABI version 99"), std::string::npos) << bad.err;
}

TEST_F(PluginE2E, UserPluginsFolderIsDiscovered) {
  fs::create_directories(home_ / ".config/v4rt/plugins");
  fs::copy_file(tools::sqlite_plugin(), home_ / ".config/v4rt/plugins/sqlite_query.so");
  auto r = run("--allow plugin__sqlite_query");
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  auto res = results(r);
  ASSERT_EQ(res.size(), 1u);
  EXPECT_EQ(res[0]["output"], "n\n3\n(1 row)");
}

TEST_F(PluginE2E, ProjectPluginsLoadOnlyFromApprovedSettings) {
  fs::create_directories(repo_ / ".v4rt/plugins");
  fs::copy_file(tools::sqlite_plugin(), repo_ / ".v4rt/plugins/sqlite_query.so");
  put(repo_ / ".v4rt/settings.json", R"({"permissions": {"allow": ["plugin__sqlite_query"]}})");
  // Not approved: the plugin is never opened; the model's call names an unknown tool.
  auto r = run("");
  EXPECT_NE(r.err.find("not loaded: plugins run code on this machine"), std::string::npos) << r.err;
  auto res = results(r);
  ASSERT_EQ(res.size(), 1u) << r.out;
  EXPECT_TRUE(res[0]["is_error"].get<bool>());
  // Approved: loaded, and the approved allow rule applies.
  auto t = run("--trust-project");
  ASSERT_EQ(t.exit_code, 0) << t.err << t.out;
  auto tres = results(t);
  ASSERT_EQ(tres.size(), 1u);
  EXPECT_EQ(tres[0]["output"], "n\n3\n(1 row)");
}

TEST_F(PluginE2E, ToolsListShowsEveryToolWithSourceAndPermission) {
  auto r = run_command("env HOME=" + shell_quote(home_.string()) + " " + shell_quote(v4rt_binary().string()) +
                       " tools list --json --workspace " + shell_quote(repo_.string()) + " --state-dir " +
                       shell_quote(state_.string()) + " --plugin " + shell_quote(tools::sqlite_plugin().string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto list = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(list.is_array()) << r.out;
  std::map<std::string, nlohmann::json> by_name;
  std::vector<std::string> order;
  for (const auto& t : list) {
    by_name[t["name"]] = t;
    order.push_back(t["name"]);
  }
  EXPECT_TRUE(std::is_sorted(order.begin(), order.end()));
  ASSERT_TRUE(by_name.count("plugin__sqlite_query")) << r.out;
  EXPECT_EQ(by_name["plugin__sqlite_query"]["source"], "plugin:sqlite");
  EXPECT_EQ(by_name["plugin__sqlite_query"]["permission"], "ask");
  EXPECT_EQ(by_name["read"]["source"], "builtin");
  EXPECT_EQ(by_name["read"]["permission"], "allow");
  auto text = run_command("env HOME=" + shell_quote(home_.string()) + " " + shell_quote(v4rt_binary().string()) +
                          " tools list --workspace " + shell_quote(repo_.string()) + " --state-dir " +
                          shell_quote(state_.string()));
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("shell"), std::string::npos);
  EXPECT_EQ(text.out.find("plugin__"), std::string::npos);
}

}  // namespace
}  // namespace v4rt::testing::code
