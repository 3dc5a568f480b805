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

// A loopback TCP listener on an ephemeral port, closed on destruction.
class Listener {
 public:
  Listener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd_, 8);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~Listener() { ::close(fd_); }
  int port() const { return port_; }

 private:
  int fd_;
  int port_ = 0;
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
  Listener l;
  std::string probe = "exec 3<>/dev/tcp/127.0.0.1/" + std::to_string(l.port()) + " && echo CONNECTED";
  std::string out = run(probe);
  EXPECT_EQ(out.find("CONNECTED"), std::string::npos) << out;
  // The same command outside the sandbox does connect: the listener works.
  SandboxOptions so;
  so.allow_network = true;
  Sandbox open_sb(so, root());
  ProcessOptions po;
  po.timeout_s = 20;
  auto r = run_process(open_sb.wrap(probe, root()), po);
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
  auto argv = sb.wrap("echo hi", "/tmp");
  ASSERT_EQ(argv.size(), 3u);
  EXPECT_EQ(argv[0], "/bin/bash");
}

TEST(SandboxTest, ProbeReportsAMissingBwrap) {
  Status s = Sandbox::probe("/nonexistent/bwrap");
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.is_unsupported());
  EXPECT_NE(s.message().find("--unsandboxed"), std::string::npos);
}

}  // namespace
}  // namespace v4rt::tools
