// read and write tools.
#include "tool_fixture.h"

namespace v4rt::tools {
namespace {

class ReadToolTest : public ToolFixture {};

TEST_F(ReadToolTest, NumbersLinesAndPages) {
  std::string text;
  for (int i = 1; i <= 10; ++i) text += "line " + std::to_string(i) + "\n";
  put("f.txt", text);
  auto r = call("read", {{"path", "f.txt"}, {"offset", 3}, {"limit", 2}});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->text,
            "3\tline 3\n4\tline 4\n[showing lines 3-4 of 10; call read with offset=5 to see more]\n");
  auto all = call("read", {{"path", "f.txt"}});
  ASSERT_TRUE(all.ok());
  EXPECT_NE(all->text.find("10\tline 10\n"), std::string::npos);
  EXPECT_EQ(all->text.find("showing"), std::string::npos);
}

TEST_F(ReadToolTest, AcceptsQuotedNumbers) {
  put("f.txt", "a\nb\nc\n");
  auto r = call("read", {{"path", "f.txt"}, {"offset", "2"}, {"limit", "1"}});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->text.substr(0, 4), "2\tb\n");
}

TEST_F(ReadToolTest, RemembersWhatWasShown) {
  put("f.txt", "a\nb\nc\nd\n");
  ASSERT_TRUE(call("read", {{"path", "f.txt"}, {"offset", 2}, {"limit", 2}}).ok());
  auto abs = root() / "f.txt";
  EXPECT_TRUE(memory_.knows_range(abs, 2, 3));
  EXPECT_FALSE(memory_.knows_range(abs, 1, 2));
  EXPECT_FALSE(memory_.knows_range(abs, 4, 4));
}

TEST_F(ReadToolTest, ClearErrors) {
  put("bin.dat", std::string("ab\0cd", 5));
  std::filesystem::create_directories(root() / "dir");
  put("f.txt", "x\n");
  struct Case {
    nlohmann::json args;
    const char* needle;
  } cases[] = {
      {{{"path", "missing.txt"}}, "no such file"},
      {{{"path", "dir"}}, "is a directory"},
      {{{"path", "bin.dat"}}, "binary"},
      {{{"path", "f.txt"}, {"offset", 5}}, "past the end"},
      {{{"path", "f.txt"}, {"offset", 0}}, "offset must be >= 1"},
      {{{"offset", 1}}, "missing required argument 'path'"},
      {{{"path", 7}}, "must be a string"},
      {{{"path", "../x"}}, "'..'"},
  };
  for (const auto& c : cases) {
    auto r = call("read", c.args);
    ASSERT_FALSE(r.ok()) << c.args.dump();
    EXPECT_NE(r.status().message().find(c.needle), std::string::npos) << r.status().message();
  }
}

TEST_F(ReadToolTest, WriteCreatesAndReplaces) {
  auto r = call("write", {{"path", "new/dir/a.py"}, {"content", "print(1)\n"}});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->text.rfind("created new/dir/a.py", 0), 0u);
  EXPECT_EQ(get("new/dir/a.py"), "print(1)\n");
  r = call("write", {{"path", "new/dir/a.py"}, {"content", "print(2)\n"}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->text.rfind("replaced", 0), 0u);
  EXPECT_EQ(get("new/dir/a.py"), "print(2)\n");
  EXPECT_TRUE(memory_.knows_range(root() / "new/dir/a.py", 1, 1));
}

TEST_F(ReadToolTest, WriteKeepsPermissionBits) {
  put("run.sh", "echo 1\n");
  std::filesystem::permissions(root() / "run.sh", std::filesystem::perms::owner_all);
  ASSERT_TRUE(call("write", {{"path", "run.sh"}, {"content", "echo 2\n"}}).ok());
  auto p = std::filesystem::status(root() / "run.sh").permissions();
  EXPECT_NE(p & std::filesystem::perms::owner_exec, std::filesystem::perms::none);
}

TEST_F(ReadToolTest, WriteRefusesEscapes) {
  std::filesystem::create_directory_symlink("/tmp", root() / "tmplink");
  EXPECT_FALSE(call("write", {{"path", "/tmp/v4rt-escape.txt"}, {"content", "x"}}).ok());
  EXPECT_FALSE(call("write", {{"path", "tmplink/v4rt-escape.txt"}, {"content", "x"}}).ok());
  EXPECT_FALSE(call("write", {{"path", "../v4rt-escape.txt"}, {"content", "x"}}).ok());
  EXPECT_FALSE(std::filesystem::exists("/tmp/v4rt-escape.txt"));
}

TEST_F(ReadToolTest, SymlinksInsideWorkAndShareFileMemory) {
  put("real.txt", "a\nb\n");
  std::filesystem::create_symlink("real.txt", root() / "alias.txt");
  auto r = call("read", {{"path", "alias.txt"}});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->text, "1\ta\n2\tb\n");
  EXPECT_TRUE(memory_.knows_range(root() / "real.txt", 1, 2));  // keyed by the canonical path
}

TEST_F(ReadToolTest, ReadRefusedByMayReadSaysSo) {
  put("secret.env", "KEY=1\n");
  ctx_.may_read = [](const std::string& rel) { return rel != "secret.env"; };
  auto r = call("read", {{"path", "./secret.env"}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("denied by a permission rule"), std::string::npos) << r.status().message();
  ctx_.may_read = nullptr;
}

TEST_F(ReadToolTest, WriteRefusesProtectedPathsAndSymlinks) {
  put(".git/config", "[core]\n");
  for (const char* p : {".git/config", ".git/hooks/pre-commit", ".v4rt/settings.json"}) {
    auto r = call("write", {{"path", p}, {"content", "x"}});
    ASSERT_FALSE(r.ok()) << p;
    EXPECT_NE(r.status().message().find("is protected: v4rt's and git's configuration"), std::string::npos)
        << r.status().message();
    EXPECT_NE(r.status().message().find("ask the user"), std::string::npos);
  }
  EXPECT_EQ(get(".git/config"), "[core]\n");
  put("real.txt", "r\n");
  std::filesystem::create_symlink("real.txt", root() / "alias.txt");
  auto w = call("write", {{"path", "alias.txt"}, {"content", "x"}});
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.status().message().find("alias.txt is a symlink (to real.txt)"), std::string::npos) << w.status().message();
  EXPECT_EQ(get("real.txt"), "r\n");
}

}  // namespace
}  // namespace v4rt::tools
