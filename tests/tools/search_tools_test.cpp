// list, glob, grep.
#include "tool_fixture.h"

#include <atomic>
#include <chrono>
#include <thread>

namespace v4rt::tools {
namespace {

class SearchToolsTest : public ToolFixture {
 protected:
  void SetUp() override {
    ToolFixture::SetUp();
    put(".gitignore", "build/\n*.log\n");
    put("src/main.cpp", "int main() {\n  return compute(42);\n}\n");
    put("src/util/math.cpp", "int compute(int x) { return x * 2; }\n");
    put("src/util/.gitignore", "generated.cpp\n");
    put("src/util/generated.cpp", "int compute_generated();\n");
    put("build/out.cpp", "int compute_built();\n");
    put("run.log", "compute log\n");
    put("README.md", "Call compute.\n");
    put("blob.bin", std::string("compute\0\0", 9));
    std::filesystem::create_directories(root() / ".git");
    put(".git/config", "compute\n");
  }
};

TEST_F(SearchToolsTest, ListShowsChildrenAndSkipsIgnored) {
  auto r = call("list", nlohmann::json::object());
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_NE(r->text.find("src/  (3 files)"), std::string::npos) << r->text;
  EXPECT_NE(r->text.find("README.md\n"), std::string::npos);
  EXPECT_EQ(r->text.find("build"), std::string::npos) << r->text;
  EXPECT_EQ(r->text.find("run.log"), std::string::npos);
  EXPECT_EQ(r->text.find(".git/"), std::string::npos);
  auto sub = call("list", {{"path", "src/util"}});
  ASSERT_TRUE(sub.ok());
  EXPECT_EQ(sub->text, ".gitignore\nmath.cpp\n");
}

TEST_F(SearchToolsTest, GlobMatchesAcrossDirectories) {
  auto r = call("glob", {{"pattern", "**/*.cpp"}});
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r->text.find("src/main.cpp"), std::string::npos);
  EXPECT_NE(r->text.find("src/util/math.cpp"), std::string::npos);
  EXPECT_EQ(r->text.find("generated"), std::string::npos);
  EXPECT_EQ(r->text.find("build/"), std::string::npos);
  auto none = call("glob", {{"pattern", "*.rs"}});
  ASSERT_TRUE(none.ok());
  EXPECT_NE(none->text.find("no files match"), std::string::npos);
  EXPECT_FALSE(call("glob", {{"pattern", "../*"}}).ok());
}

TEST_F(SearchToolsTest, GrepFindsLinesRespectingIgnoresAndBinaries) {
  auto r = call("grep", {{"pattern", "compute\\("}});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_NE(r->text.find("src/main.cpp:2:  return compute(42);"), std::string::npos) << r->text;
  EXPECT_NE(r->text.find("src/util/math.cpp:1:"), std::string::npos);
  EXPECT_EQ(r->text.find("generated"), std::string::npos);
  EXPECT_EQ(r->text.find("build/"), std::string::npos);
  EXPECT_EQ(r->text.find("blob.bin"), std::string::npos);
  EXPECT_EQ(r->text.find(".git/"), std::string::npos);
  auto g = call("grep", {{"pattern", "compute"}, {"glob", "*.md"}});
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->text, "README.md:1:Call compute.\n");
  auto p = call("grep", {{"pattern", "return"}, {"path", "src/util"}});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->text, "src/util/math.cpp:1:int compute(int x) { return x * 2; }\n");
  auto perl = call("grep", {{"pattern", "(?i)COMPUTE\\(\\d+\\)"}});
  ASSERT_TRUE(perl.ok()) << perl.status().to_string();
  EXPECT_EQ(perl->text, "src/main.cpp:2:  return compute(42);\n");
  auto anchored = call("grep", {{"pattern", "^int"}, {"path", "src"}});
  ASSERT_TRUE(anchored.ok());
  EXPECT_EQ(anchored->text, "src/main.cpp:1:int main() {\nsrc/util/math.cpp:1:int compute(int x) { return x * 2; }\n");
  auto bad = call("grep", {{"pattern", "compute("}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("not a valid regular expression"), std::string::npos);
}

TEST_F(SearchToolsTest, GrepIsFastOnManyFiles) {
  for (int d = 0; d < 20; ++d)
    for (int f = 0; f < 100; ++f) {
      std::string body;
      for (int l = 0; l < 50; ++l) {
        body.append("some ordinary line of code number ");
        body.append(std::to_string(l));
        body.push_back('\n');
      }
      if (d == 7 && f == 42) body.append("needle_here\n");
      std::string name = "d";
      name.append(std::to_string(d)).append("/f").append(std::to_string(f)).append(".txt");
      put(name, body);
    }
  auto t0 = std::chrono::steady_clock::now();
  auto r = call("grep", {{"pattern", "needle_[a-z]+"}});
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->text, "d7/f42.txt:51:needle_here\n");
  EXPECT_LT(s, 5.0) << "grep over 2000 files took " << s << "s";
}

TEST_F(SearchToolsTest, NothingFollowsASymlinkOut) {
  testing::TempDir outside;
  std::filesystem::create_directories(outside.path() / "d");
  std::ofstream(outside.path() / "d" / "secret.cpp") << "compute SECRET\n";
  std::ofstream(outside.path() / "top.cpp") << "compute TOP\n";
  std::filesystem::create_symlink(outside.path() / "d", root() / "dir_out");
  std::filesystem::create_symlink(outside.path() / "top.cpp", root() / "file_out.cpp");
  std::filesystem::create_symlink("src/main.cpp", root() / "in_link.cpp");  // inside: still found
  auto g = call("grep", {{"pattern", "compute"}});
  ASSERT_TRUE(g.ok()) << g.status().to_string();
  EXPECT_EQ(g->text.find("SECRET"), std::string::npos) << g->text;
  EXPECT_EQ(g->text.find("TOP"), std::string::npos) << g->text;
  EXPECT_NE(g->text.find("in_link.cpp:2:"), std::string::npos) << g->text;
  EXPECT_FALSE(call("grep", {{"pattern", "compute"}, {"path", "dir_out"}}).ok());
  EXPECT_FALSE(call("grep", {{"pattern", "compute"}, {"path", "file_out.cpp"}}).ok());
  auto gl = call("glob", {{"pattern", "**/*.cpp"}});
  ASSERT_TRUE(gl.ok());
  EXPECT_EQ(gl->text.find("secret"), std::string::npos) << gl->text;
  EXPECT_EQ(gl->text.find("file_out"), std::string::npos) << gl->text;
  EXPECT_NE(gl->text.find("in_link.cpp"), std::string::npos) << gl->text;
  EXPECT_FALSE(call("list", {{"path", "dir_out"}}).ok());
  auto l = call("list", {});
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->text.find("file_out"), std::string::npos) << l->text;
}

TEST_F(SearchToolsTest, MayReadLeavesRefusedFilesOut) {
  put("secret/key.txt", "compute KEY\n");
  ctx_.may_read = [](const std::string& rel) { return rel.rfind("secret/", 0) != 0 && rel != "src/main.cpp"; };
  std::filesystem::create_symlink("secret/key.txt", root() / "alias.txt");  // refused by its canonical path
  auto g = call("grep", {{"pattern", "compute"}});
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->text.find("KEY"), std::string::npos) << g->text;
  EXPECT_EQ(g->text.find("main.cpp"), std::string::npos) << g->text;
  EXPECT_NE(g->text.find("math.cpp"), std::string::npos) << g->text;
  auto gl = call("glob", {{"pattern", "**"}});
  ASSERT_TRUE(gl.ok());
  EXPECT_EQ(gl->text.find("key.txt"), std::string::npos) << gl->text;
  EXPECT_EQ(gl->text.find("alias.txt"), std::string::npos) << gl->text;
  auto l = call("list", {{"path", "secret"}});
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->text.find("key.txt"), std::string::npos) << l->text;
  // Asked for one refused file: an error that says so.
  auto one = call("grep", {{"pattern", "compute"}, {"path", "src/main.cpp"}});
  ASSERT_FALSE(one.ok());
  EXPECT_NE(one.status().message().find("denied by a permission rule"), std::string::npos) << one.status().message();
  EXPECT_FALSE(call("read", {{"path", "alias.txt"}}).ok());
  EXPECT_FALSE(call("read", {{"path", "./secret//key.txt"}}).ok());
}

// Hole 12: catastrophic backtracking is cut off by the retry limits with a
// message, in well under the time it took before (27 s).
TEST_F(SearchToolsTest, RegexBombIsBoundedWithAMessage) {
  std::string body;
  for (int l = 0; l < 200; ++l) body += std::string(40, 'a') + "!\n";
  put("bomb.txt", body);
  auto t0 = std::chrono::steady_clock::now();
  auto r = call("grep", {{"pattern", "(a+)+$"}, {"path", "bomb.txt"}});
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("too expensive"), std::string::npos) << r.status().message();
  EXPECT_LT(s, 1.5) << "the regex bomb ran " << s << " s";
  // Ordinary patterns on long lines stay well within the limits.
  put("long.txt", std::string(100000, 'x') + "needle" + std::string(100000, 'y') + "\n");
  auto ok = call("grep", {{"pattern", "x+needle\\w*"}, {"path", "long.txt"}});
  ASSERT_TRUE(ok.ok()) << ok.status().to_string();
  EXPECT_NE(ok->text.find("long.txt:1:"), std::string::npos);
}

TEST_F(SearchToolsTest, CancellationIsHonouredWithinASecond) {
  for (int f = 0; f < 40; ++f) {
    std::string body;
    for (int l = 0; l < 20000; ++l) body += "line " + std::to_string(l) + " of ordinary text with words\n";
    put("big/f" + std::to_string(f) + ".txt", body);
  }
  std::stop_source stop;
  ctx_.stop = stop.get_token();
  std::atomic<bool> finished{false};
  std::chrono::steady_clock::time_point end;
  std::thread t([&] {
    // An ordinary pattern (within the retry limits) over ~36 MB: seconds of work.
    auto r = call("grep", {{"pattern", "(?i)(foo|bar|baz|qux|words)\\d{3}z"}});
    end = std::chrono::steady_clock::now();
    EXPECT_TRUE(r.status().is_cancelled()) << r.status().to_string();
    finished = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  auto asked = std::chrono::steady_clock::now();
  stop.request_stop();
  t.join();
  ctx_.stop = {};
  EXPECT_LT(std::chrono::duration<double>(end - asked).count(), 1.0);
  // A walk asked to stop before it starts stops at once.
  std::stop_source pre;
  pre.request_stop();
  ctx_.stop = pre.get_token();
  EXPECT_TRUE(call("glob", {{"pattern", "**"}}).status().is_cancelled());
  EXPECT_TRUE(call("list", {}).status().is_cancelled());
  ctx_.stop = {};
}

}  // namespace
}  // namespace v4rt::tools
