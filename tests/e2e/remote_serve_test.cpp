// The two halves of the scale-out story meet: `v4rt code --backend
// openai-completions:URL` against a real `v4rt serve`. The completions
// backend sends the prompt rendered byte-stably by our encoder, so the
// server's prefix cache hits: a second task on the same repository reports
// the whole prompt as cached by the server and skips its prefill.
#include "code_replay_util.h"
#include "serve_util.h"

namespace v4rt::testing {
namespace {

namespace fs = std::filesystem;

nlohmann::json turn_end(const std::string& out) {
  for (const auto& e : code::events(out))
    if (e.value("type", "") == "turn_end") return e;
  return nlohmann::json();
}

TEST(RemoteServeE2E, SecondTaskReportsThePromptAsCachedByTheServer) {
  TempDir dir;
  std::string why;
  fs::path ckpt = serve::make_tiny_checkpoint(dir.path(), &why);
  ASSERT_FALSE(ckpt.empty()) << "cannot create the tiny checkpoint: " << why;
  serve::ServeProcess server;
  ASSERT_TRUE(server.start({"--model", ckpt.string(), "--store", (dir.path() / "store").string(), "--threads", "2"},
                           dir.path() / "serve.log", &why))
      << why;
  const fs::path repo = dir.path() / "repo";
  code::make_git_repo(repo, {{"a.txt", "hello\n"}});
  // The tiny model has 2048 positions: no repository prefix, one tool.
  const std::string cmd = "env OPENAI_API_KEY=sk-test-remote-serve-4b1d " + shell_quote(v4rt_binary().string()) +
                          " code -p 'say hi' --backend openai-completions:http://127.0.0.1:" +
                          std::to_string(server.port()) + " --remote-model tiny --workspace " +
                          shell_quote(repo.string()) + " --state-dir " + shell_quote((dir.path() / "state").string()) +
                          " --max-steps 1 --max-turn-tokens 8 --repo-context-tokens 0 --tools read" +
                          " --output-format stream-json";
  auto first = run_command(cmd);
  auto second = run_command(cmd);
  // Random weights stop on the token budget (exit 1); a backend error would say so.
  ASSERT_LE(first.exit_code, 1) << first.err << "\nserver log:\n" << server.log();
  ASSERT_LE(second.exit_code, 1) << second.err << "\nserver log:\n" << server.log();
  nlohmann::json a = turn_end(first.out), b = turn_end(second.out);
  ASSERT_TRUE(a.is_object()) << first.out << first.err;
  ASSERT_TRUE(b.is_object()) << second.out << second.err;
  const int64_t prompt = a["prompt_tokens"].get<int64_t>();
  EXPECT_GT(prompt, 500);
  EXPECT_EQ(a["reused_tokens"].get<int64_t>(), 0) << "a fresh server has nothing cached";
  EXPECT_EQ(b["prompt_tokens"].get<int64_t>(), prompt) << "the same task renders the same prompt";
  EXPECT_EQ(b["reused_tokens"].get<int64_t>(), prompt) << "the server reports the whole prompt as cached";
  EXPECT_EQ(server.terminate(), 0) << server.log();
}

}  // namespace
}  // namespace v4rt::testing
