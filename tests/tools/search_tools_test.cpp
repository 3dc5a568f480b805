// list, glob, grep.
#include "tool_fixture.h"

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

}  // namespace
}  // namespace v4rt::tools
