// End to end: the real v4rt binary's `session` subcommands on a store made
// through the library (fake state payloads).
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "fake_state.h"
#include "sessions/session_store.h"
#include "test_util.h"

namespace v4rt::sessions {
namespace {

using testing::make_tokens;
using testing::state_for;
using v4rt::testing::run_command;
using v4rt::testing::shell_quote;

std::string v4rt_session(const std::filesystem::path& store, const std::string& args) {
  return shell_quote(v4rt::testing::v4rt_binary().string()) + " session " + args + " --store " +
         shell_quote(store.string());
}

void make_store(const std::filesystem::path& dir) {
  auto store = SessionStore::open(dir, {});
  ASSERT_TRUE(store.ok());
  auto toks = make_tokens(2500, 1);
  for (size_t n : {1200u, 2500u}) {
    auto st = state_for(std::span(toks).first(n));
    SaveOptions o;
    o.session = "chat";
    o.transcript_json = R"([{"role":"user","content":"hello"}])";
    ASSERT_TRUE((*store)->save("model-A", std::span(toks).first(n), {}, st, o).ok());
  }
}

class CmdSession : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(v4rt::testing::v4rt_binary())) GTEST_SKIP() << "v4rt binary not built";
    make_store(dir_.path());
  }
  nlohmann::json json_of(const std::string& args) {
    auto r = run_command(v4rt_session(dir_.path(), args + " --json"));
    EXPECT_EQ(r.exit_code, 0) << args << ": " << r.err;
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.out;
    return j;
  }
  v4rt::testing::TempDir dir_;
};

TEST_F(CmdSession, ListShowForkPinRmGcCheck) {
  auto list = json_of("list");
  ASSERT_EQ(list["sessions"].size(), 1u);
  EXPECT_EQ(list["sessions"][0]["name"], "chat");
  EXPECT_EQ(list["sessions"][0]["tokens"], 2500);
  EXPECT_EQ(list["sessions"][0]["head_tokens"], 2500);
  auto show = json_of("show chat");
  EXPECT_EQ(show["token_ids"].size(), 2500u);
  EXPECT_EQ(show["transcript"][0]["content"], "hello");
  EXPECT_EQ(show["points"].size(), 2u);

  json_of("fork chat alt --at 1200");
  auto alt = json_of("show alt");
  EXPECT_EQ(alt["tokens"], 1200);
  json_of("pin alt");
  EXPECT_EQ(json_of("show alt")["pinned"], true);
  json_of("unpin alt");
  json_of("rm chat");
  auto check = json_of("check");
  EXPECT_EQ(check["ok"], true);
  auto gc = json_of("gc --grace 0");
  EXPECT_EQ(gc["files_removed"], 0);  // rm already freed the blocks only 'chat' used
  auto after = json_of("list");
  EXPECT_EQ(after["sessions"].size(), 1u);
  EXPECT_EQ(after["store"]["blocks"], 1);  // block 0, shared with 'alt'
  EXPECT_EQ(after["store"]["points"], 1);

  auto text = run_command(v4rt_session(dir_.path(), "list"));
  EXPECT_EQ(text.exit_code, 0);
  EXPECT_NE(text.out.find("alt"), std::string::npos);
}

TEST_F(CmdSession, ExportImport) {
  auto file = dir_.path() / "chat.v4rtsession";
  json_of("export chat " + shell_quote(file.string()));
  v4rt::testing::TempDir other;
  auto r = run_command(v4rt_session(other.path(), "import " + shell_quote(file.string()) + " --name copy --json"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto r2 = run_command(v4rt_session(other.path(), "show copy --json"));
  ASSERT_EQ(r2.exit_code, 0) << r2.err;
  EXPECT_EQ(nlohmann::json::parse(r2.out)["head_tokens"], 2500);
}

TEST_F(CmdSession, ErrorsAreClearWithTheDocumentedExitCodes) {
  auto missing = run_command(v4rt_session(dir_.path(), "show nope"));
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("session 'nope' not found"), std::string::npos) << missing.err;
  v4rt::testing::TempDir empty;
  auto none = run_command(v4rt_session(empty.path() / "nostore", "list"));
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_NE(none.err.find("no session store at"), std::string::npos) << none.err;
  EXPECT_FALSE(std::filesystem::exists(empty.path() / "nostore"));
  auto usage = run_command(v4rt_session(dir_.path(), "fork onlyone"));
  EXPECT_EQ(usage.exit_code, 2) << usage.err;
  auto unknown = run_command(shell_quote(v4rt::testing::v4rt_binary().string()) + " session frobnicate");
  EXPECT_EQ(unknown.exit_code, 2);
  auto help = run_command(shell_quote(v4rt::testing::v4rt_binary().string()) + " session --help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("export"), std::string::npos);

  // A damaged block: check fails (exit 1) naming the file; gc --repair fixes it.
  std::filesystem::path victim;
  for (auto& e : std::filesystem::recursive_directory_iterator(dir_.path() / "blocks"))
    if (e.is_regular_file()) victim = e.path();
  std::filesystem::resize_file(victim, 10);
  auto bad = run_command(v4rt_session(dir_.path(), "check"));
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find(victim.filename().string()), std::string::npos) << bad.err;
  EXPECT_EQ(run_command(v4rt_session(dir_.path(), "gc --repair --grace 0")).exit_code, 0);
  EXPECT_EQ(run_command(v4rt_session(dir_.path(), "check")).exit_code, 0);

  // A store written by a newer v4rt.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_.path() / "index.db").c_str(), &db), SQLITE_OK);
  sqlite3_exec(db, "UPDATE meta SET value = '7' WHERE key = 'format_version'", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  auto newer = run_command(v4rt_session(dir_.path(), "list"));
  EXPECT_EQ(newer.exit_code, 1);
  EXPECT_NE(newer.err.find("newer than this v4rt supports"), std::string::npos) << newer.err;
}

}  // namespace
}  // namespace v4rt::sessions
