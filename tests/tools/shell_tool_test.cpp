// shell and job tools, the bwrap sandbox and the subprocess runner.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "tool_fixture.h"
#include "tools/subprocess.h"

namespace v4rt::tools {
namespace {

class ShellToolTest : public ToolFixture {
 protected:
  void SetUp() override {
    Status s = Sandbox::probe();
    if (!s.ok()) GTEST_SKIP() << "bwrap cannot create namespaces here: " << s.message();
    ToolFixture::SetUp();
  }
  std::string run(const std::string& cmd, int timeout = 20) {
    auto r = call("shell", {{"command", cmd}, {"timeout", timeout}});
    EXPECT_TRUE(r.ok()) << r.status().to_string();
    return r.ok() ? r->text : "";
  }
};


TEST_F(ShellToolTest, RunsInTheWorkspace) {
  put("hello.txt", "hi\n");
  std::string out = run("pwd; cat hello.txt; echo err >&2; exit 3");
  EXPECT_NE(out.find("exit code 3\n"), std::string::npos) << out;
  EXPECT_NE(out.find(root().string()), std::string::npos);
  EXPECT_NE(out.find("hi\n"), std::string::npos);
  EXPECT_NE(out.find("err\n"), std::string::npos);
  run("echo made > made.txt");
  EXPECT_EQ(get("made.txt"), "made\n");
}

TEST_F(ShellToolTest, SandboxDeniesWritesOutsideTheWorkspace) {
  auto outside = dir_.path().parent_path() / ("v4rt-sandbox-escape-" + std::to_string(::getpid()));
  // /tmp inside the sandbox is private: a write there never reaches the host.
  std::string out = run("echo x > " + outside.string() + "; touch /etc/v4rt-escape; echo etc=$?;"
                        " touch /usr/v4rt-escape; echo usr=$?");
  EXPECT_FALSE(std::filesystem::exists(outside)) << out;
  EXPECT_FALSE(std::filesystem::exists("/etc/v4rt-escape"));
  EXPECT_FALSE(std::filesystem::exists("/usr/v4rt-escape"));
  EXPECT_EQ(out.find("etc=0"), std::string::npos) << out;
  EXPECT_EQ(out.find("usr=0"), std::string::npos) << out;
  EXPECT_NE(out.find("Read-only file system"), std::string::npos) << out;
}

TEST_F(ShellToolTest, SandboxDeniesNetwork) {
  v4rt::testing::LoopbackListener l;
  std::string probe = "exec 3<>/dev/tcp/127.0.0.1/" + std::to_string(l.port()) + " && echo CONNECTED";
  std::string out = run(probe);
  EXPECT_EQ(out.find("CONNECTED"), std::string::npos) << out;
  // The same command outside the sandbox does connect: the listener works.
  SandboxOptions so;
  so.allow_network = true;
  Sandbox open_sb(so, root());
  SandboxedCommand sc = open_sb.wrap(probe, root());
  ProcessOptions po;
  po.timeout_s = 20;
  po.env = sc.env;
  auto r = run_process(sc.argv, po);
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r->output.find("CONNECTED"), std::string::npos) << r->output;
}

TEST_F(ShellToolTest, TimeoutKillsTheCommand) {
  auto t0 = std::chrono::steady_clock::now();
  std::string out = run("sleep 30", 1);
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_NE(out.find("timed out after 1s"), std::string::npos) << out;
  EXPECT_LT(s, 10);
}

TEST_F(ShellToolTest, OutputIsCapped) {
  ctx_.max_output_bytes = 2000;
  std::string out = run("seq 1 100000");
  EXPECT_LT(out.size(), 2300u);
  EXPECT_NE(out.find("bytes of output left out"), std::string::npos);
  EXPECT_NE(out.find("\n100000\n"), std::string::npos);  // the tail is kept
}

TEST_F(ShellToolTest, CancellationStopsTheCommand) {
  std::stop_source src;
  ctx_.stop = src.get_token();
  std::thread t([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    src.request_stop();
  });
  auto t0 = std::chrono::steady_clock::now();
  auto r = call("shell", {{"command", "sleep 30"}});
  t.join();
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().is_cancelled());
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 10);
}

TEST_F(ShellToolTest, BackgroundJobsStatusAndStop) {
  auto r = call("shell", {{"command", "echo started; sleep 0.3; echo finished"}, {"background", true}});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_NE(r->text.find("started job 1"), std::string::npos);
  std::string st;
  for (int i = 0; i < 100; ++i) {
    auto s = call("job", {{"id", 1}});
    ASSERT_TRUE(s.ok());
    st = s->text;
    if (st.find("exited") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_NE(st.find("exited with code 0"), std::string::npos) << st;
  EXPECT_NE(st.find("finished"), std::string::npos) << st;

  ASSERT_TRUE(call("shell", {{"command", "sleep 60"}, {"background", true}}).ok());
  auto s2 = call("job", {{"id", 2}});
  ASSERT_TRUE(s2.ok());
  EXPECT_NE(s2->text.find("running"), std::string::npos);
  auto stop = call("job", {{"id", 2}, {"action", "stop"}});
  ASSERT_TRUE(stop.ok());
  EXPECT_NE(stop->text.find("exited with code"), std::string::npos) << stop->text;
  EXPECT_FALSE(call("job", {{"id", 9}}).ok());
  EXPECT_FALSE(call("job", {{"id", 1}, {"action", "restart"}}).ok());
}

TEST_F(ShellToolTest, ReadOnlyWorkspaceAndTrustedDirectories) {
  put("a.txt", "a\n");
  put(".git/config", "[core]\n");
  put(".v4rt/settings.json", "{}");
  std::string out = run("echo x >> .git/config; echo git=$?; echo '{\"hooks\":{}}' > .v4rt/settings.json; "
                        "echo v4rt=$?; mkdir .git/hooks; echo hooks=$?; echo b > b.txt; echo ws=$?");
  EXPECT_NE(out.find("git=1"), std::string::npos) << out;
  EXPECT_NE(out.find("v4rt=1"), std::string::npos) << out;
  EXPECT_EQ(out.find("hooks=0"), std::string::npos) << out;
  EXPECT_NE(out.find("ws=0"), std::string::npos) << out;
  EXPECT_EQ(get(".git/config"), "[core]\n");
  EXPECT_EQ(get(".v4rt/settings.json"), "{}");
  // Permission mode read-only: the workspace itself is read-only.
  SandboxOptions so;
  so.workspace_writable = false;
  Sandbox ro(so, root());
  SandboxedCommand sc = ro.wrap("echo c > c.txt; echo ws=$?; echo t > /tmp/t && echo tmp=ok", root());
  ProcessOptions po;
  po.env = sc.env;
  auto r = run_process(sc.argv, po);
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r->output.find("Read-only file system"), std::string::npos) << r->output;
  EXPECT_NE(r->output.find("tmp=ok"), std::string::npos) << r->output;
  EXPECT_FALSE(std::filesystem::exists(root() / "c.txt"));
}

TEST_F(ShellToolTest, PrivateHomeAndTmpPersistAfterPrepare) {
  testing::TempDir host_home;  // outside the workspace, as a real $HOME is
  testing::TempDir private_root;
  // Left by a v4rt that was killed (its pid is gone): removed; a live one is kept.
  std::filesystem::create_directories(private_root.path() / "v4rt-sandbox-2147483-dead00" / "home");
  std::filesystem::create_directories(private_root.path() / ("v4rt-sandbox-" + std::to_string(::getppid()) + "-live00"));
  SandboxOptions so;
  so.private_root = private_root.path();
  so.home = host_home.path();
  std::ofstream(so.home / "canary.txt") << "host home secret\n";
  Sandbox sb(so, root());
  ASSERT_TRUE(sb.prepare().ok());
  auto sh = [&](const std::string& cmd) {
    SandboxedCommand sc = sb.wrap(cmd, root());
    ProcessOptions po;
    po.env = sc.env;
    po.limits = sc.limits;
    auto r = run_process(sc.argv, po);
    return r.ok() ? r->output : r.status().to_string();
  };
  std::string first = sh("cat ~/canary.txt; echo h > ~/cache && echo t > /tmp/cache && echo wrote");
  EXPECT_EQ(first.find("host home secret"), std::string::npos) << first;
  EXPECT_NE(first.find("wrote"), std::string::npos) << first;
  EXPECT_EQ(sh("cat ~/cache /tmp/cache"), "h\nt\n");  // kept between the commands of one sandbox
  EXPECT_FALSE(std::filesystem::exists(so.home / "cache"));  // never on the host's $HOME
  EXPECT_FALSE(std::filesystem::exists(private_root.path() / "v4rt-sandbox-2147483-dead00"));
  EXPECT_TRUE(std::filesystem::exists(private_root.path() / ("v4rt-sandbox-" + std::to_string(::getppid()) + "-live00")));
}

TEST_F(ShellToolTest, BadArguments) {
  EXPECT_FALSE(call("shell", {{"command", ""}}).ok());
  EXPECT_FALSE(call("shell", nlohmann::json::object()).ok());
  EXPECT_FALSE(call("shell", {{"command", "true"}, {"timeout", 0}}).ok());
  EXPECT_FALSE(call("shell", {{"command", "true"}, {"cwd", "../"}}).ok());
}

TEST(SubprocessTest, MissingProgramIsAClearError) {
  auto r = run_process({"/nonexistent/v4rt-nothing"}, {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("cannot run '/nonexistent/v4rt-nothing'"), std::string::npos);
}

TEST(SubprocessTest, FeedsStdin) {
  ProcessOptions po;
  po.stdin_data = "abc";
  auto r = run_process({"/bin/cat"}, po);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->output, "abc");
  EXPECT_EQ(r->exit_code, 0);
}

TEST(SubprocessTest, DoesNotWaitForLeftoverChildren) {
  auto t0 = std::chrono::steady_clock::now();
  ProcessOptions po;
  po.timeout_s = 20;
  auto r = run_process({"/bin/sh", "-c", "sleep 30 & echo parent-done"}, po);
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r->output.find("parent-done"), std::string::npos);
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 5);
}

TEST(SandboxTest, UnsandboxedRunsTheShellDirectly) {
  SandboxOptions so;
  so.enabled = false;
  Sandbox sb(so, "/tmp");
  SandboxedCommand sc = sb.wrap("echo hi", "/tmp");
  ASSERT_EQ(sc.argv.size(), 3u);
  EXPECT_EQ(sc.argv[0], "/bin/bash");
  EXPECT_FALSE(sc.env.has_value());  // --unsandboxed: the user's own environment
}

TEST(SandboxTest, EnvironmentIsAnAllowList) {
  std::vector<std::string> host = {"PATH=/usr/bin", "HOME=/root", "OPENAI_API_KEY=sk-secret", "LC_ALL=C",
                                   "LANG=C.UTF-8", "AWS_SECRET_ACCESS_KEY=x", "TMPDIR=/var/tmp", "CARGO_HOME=/c",
                                   "NPM_CONFIG_CACHE=/n", "NOEQUALS", "=x"};
  auto env = sandbox_environment(host, {"CARGO_HOME", "NPM_CONFIG_*"});
  std::vector<std::string> want = {"PATH=/usr/bin", "LC_ALL=C", "LANG=C.UTF-8", "CARGO_HOME=/c",
                                   "NPM_CONFIG_CACHE=/n"};
  EXPECT_EQ(env, want);
}

TEST(SandboxTest, ProbeFindsNoCapabilityInside) {
  auto support = Sandbox::detect();
  if (!support.ok()) GTEST_SKIP() << "bwrap cannot create namespaces here: " << support.status().message();
  SandboxOptions so;
  so.disable_userns = support->disable_userns;
  Sandbox sb(so, "/tmp");
  SandboxedCommand sc = sb.wrap("grep -E '^Cap(Eff|Prm|Bnd|Amb)' /proc/self/status; cat /proc/self/uid_map", "/tmp");
  ProcessOptions po;
  po.env = sc.env;
  auto r = run_process(sc.argv, po);
  ASSERT_TRUE(r.ok());
  for (const char* key : {"CapEff:\t0000000000000000", "CapPrm:\t0000000000000000", "CapBnd:\t0000000000000000",
                          "CapAmb:\t0000000000000000"})
    EXPECT_NE(r->output.find(key), std::string::npos) << key << "\n" << r->output;
  EXPECT_EQ(r->output.find("4294967295"), std::string::npos) << "no user namespace:\n" << r->output;
}

// A background job that writes without end keeps at most its caps in memory.
TEST(SubprocessTest, BackgroundOutputIsCapped) {
  BackgroundOptions bo;
  bo.head_bytes = 1024;
  bo.tail_bytes = 64 << 10;
  auto p = BackgroundProcess::start({"/usr/bin/yes", "0123456789abcdef"}, "/tmp", bo);
  ASSERT_TRUE(p.ok()) << p.status().to_string();
  for (int i = 0; i < 200 && (*p)->total_bytes() < (64u << 20); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_GE((*p)->total_bytes(), 64u << 20) << "yes wrote too little to test the cap";
  EXPECT_GT((*p)->dropped_bytes(), (*p)->total_bytes() - (256u << 10));
  EXPECT_LE((*p)->output_tail(1 << 30).size(), 2 * bo.tail_bytes);
  EXPECT_EQ((*p)->output_head(1 << 30).size(), 1024u);
  EXPECT_EQ((*p)->output_head(1 << 30).substr(0, 17), "0123456789abcdef\n");
  (*p)->stop();
  EXPECT_TRUE((*p)->exit_code().has_value());
}

TEST(SubprocessTest, ChildEnvironmentIsReplaced) {
  ProcessOptions po;
  po.env = std::vector<std::string>{"ONLY=this"};
  auto r = run_process({"/usr/bin/env"}, po);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->output, "ONLY=this\n");
}

TEST(SubprocessTest, ProcessLimitIsAppliedBeforeExec) {
  if (::getuid() == 0) GTEST_SKIP() << "RLIMIT_NPROC does not bind uid 0 (the kernel exempts root)";
  ProcessOptions po;
  po.limits.max_processes = 1;  // this user already has at least this process: no fork succeeds
  auto r = run_process({"/bin/sh", "-c", "/bin/true && echo forked"}, po);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->output.find("forked"), std::string::npos) << r->output;
}

TEST(SandboxTest, ProbeReportsAMissingBwrap) {
  Status s = Sandbox::probe("/nonexistent/bwrap");
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.is_unsupported());
  EXPECT_NE(s.message().find("--unsandboxed"), std::string::npos);
}

}  // namespace
}  // namespace v4rt::tools
