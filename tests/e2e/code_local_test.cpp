// End to end with the real engine on a tiny random-weight checkpoint: the loop
// reaches a clean stop whatever the model emits, and a second run on an
// unchanged repository restores the cached repository prefix.
#include <set>

#include "code_replay_util.h"

namespace v4rt::testing::code {
namespace {

namespace fs = std::filesystem;

nlohmann::json run_json(const fs::path& ckpt, const fs::path& repo, const fs::path& state, int* exit_code) {
  std::string cmd = shell_quote(v4rt_binary().string()) + " code -p 'fix calc.sh' --model " +
                    shell_quote(ckpt.string()) + " --workspace " + shell_quote(repo.string()) + " --state-dir " +
                    shell_quote(state.string()) +
                    " --output-format json --max-steps 3 --max-turn-tokens 32 --tools read,list --temperature 1.0";
  auto r = run_command(cmd);
  *exit_code = r.exit_code;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << "stdout: " << r.out << "\nstderr: " << r.err;
  return j.is_discarded() ? nlohmann::json::object() : j;
}

TEST(CodeLocalE2E, RandomWeightsStopCleanlyAndReuseTheRepositoryPrefix) {
  TempDir dir;
  fs::path ckpt = dir.path() / "tiny", repo = dir.path() / "repo", state = dir.path() / "state";
  auto init = run_command(shell_quote(v4rt_binary().string()) + " model init --preset tiny --quiet --out " +
                          shell_quote(ckpt.string()));
  if (init.exit_code != 0) GTEST_SKIP() << "cannot create the tiny checkpoint: " << init.err;
  make_git_repo(repo, {{"calc.sh", "add() {\n  echo $(( $1 - $2 ))\n}\n"}, {"README", "calc\n"}});
  int rc1 = -1, rc2 = -1;
  nlohmann::json first = run_json(ckpt, repo, state, &rc1);
  EXPECT_TRUE(rc1 == 0 || rc1 == 1) << rc1;
  const std::set<std::string> clean = {"answered", "max_steps", "max_tokens", "parse_errors", "backend_error"};
  ASSERT_TRUE(first.contains("stop_reason")) << first.dump();
  EXPECT_TRUE(clean.count(first["stop_reason"].get<std::string>())) << first.dump();
  EXPECT_EQ(first["reused_tokens"], 0) << first.dump();
  nlohmann::json second = run_json(ckpt, repo, state, &rc2);
  EXPECT_TRUE(rc2 == 0 || rc2 == 1) << rc2;
  ASSERT_TRUE(second.contains("reused_tokens")) << second.dump();
  // The save points of the first run (every 1024 tokens) cover the unchanged system prefix.
  EXPECT_GE(second["reused_tokens"].get<int64_t>(), 1024) << second.dump();
  EXPECT_LT(second["prefill_s"].get<double>(), first["prefill_s"].get<double>()) << first.dump() << second.dump();
  std::printf("[ measure  ] first run: prompt %lld tokens, prefill %.2fs; second run: reused %lld tokens, prefill %.2fs\n",
              static_cast<long long>(first["prompt_tokens"].get<int64_t>()), first["prefill_s"].get<double>(),
              static_cast<long long>(second["reused_tokens"].get<int64_t>()), second["prefill_s"].get<double>());
}

}  // namespace
}  // namespace v4rt::testing::code
