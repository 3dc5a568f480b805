// The pids cgroup that caps sandboxed processes: joined before exec, enforced,
// and emptied and removed with its owner.
#include "tools/sandbox_cgroup.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <thread>

#include "base/file_util.h"
#include "tools/subprocess.h"

namespace v4rt::tools {
namespace {

TEST(PidsCgroupTest, CapsJoinsAndCleansUp) {
  auto cg = PidsCgroup::create(8);
  if (!cg.ok()) GTEST_SKIP() << "no pids cgroup here: " << cg.status().message();
  std::filesystem::path dir = (*cg)->dir();
  ProcessOptions po;
  po.limits.cgroup_procs_fd = (*cg)->procs_fd();
  po.timeout_s = 30;
  // More children than pids.max allows: some forks fail; the command is inside the cgroup.
  auto r = run_process({"/bin/sh", "-c",
                        "cat /proc/self/cgroup; for i in 1 2 3 4 5 6 7 8 9 10 11 12; do sleep 2 & done; wait"},
                       po);
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r->output.find(dir.filename().string()), std::string::npos) << r->output;
  EXPECT_NE(r->output.find("fork"), std::string::npos) << "12 children fit under pids.max 8:\n" << r->output;
  // The killed children leave the cgroup once reaped (by init: their shell is gone).
  for (int i = 0; i < 200; ++i) {
    auto current = read_file(dir / "pids.current");
    if (current.ok() && std::atol(current->c_str()) == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  // A process that escaped its group (new session) is still killed with the cgroup.
  BackgroundOptions bo;
  bo.limits.cgroup_procs_fd = (*cg)->procs_fd();
  auto bg = BackgroundProcess::start({"/bin/sh", "-c", "setsid sleep 300 & echo $!; wait"}, "/tmp", bo);
  ASSERT_TRUE(bg.ok());
  pid_t escaped = 0;
  for (int i = 0; i < 100 && escaped == 0; ++i) {
    escaped = static_cast<pid_t>(std::atol((*bg)->output_tail(64).c_str()));
    if (escaped == 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_GT(escaped, 0) << (*bg)->output_tail(4096);
  EXPECT_EQ(::kill(escaped, 0), 0);
  bg->reset();  // stops and reaps the shell; the setsid'd sleep lives on
  EXPECT_EQ(::kill(escaped, 0), 0);
  cg->reset();
  EXPECT_FALSE(std::filesystem::exists(dir));
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {  // killed; reaped by init
    auto text = read_file("/proc/" + std::to_string(escaped) + "/stat");
    std::string stat = text.ok() ? *text : "";
    gone = stat.empty() || stat.find(") Z ") != std::string::npos;
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(gone) << "the escaped process " << escaped << " survived its cgroup";
}

}  // namespace
}  // namespace v4rt::tools
