// End to end: the real v4rt binary, `v4rt code -p` with the remote backends
// (openai-completions, openai-chat) against a real HTTP server on 127.0.0.1
// that replays recorded SSE responses; real tools in a temporary git
// repository, the real bwrap sandbox. The read -> edit -> test -> fix task of
// code_agent_test.cpp, through HTTP, with a 429 (Retry-After) and a 500 on the
// way; a 401, a dropped stream and a silent server; the API key never leaves
// the request header.
#include <filesystem>

#include "code_replay_util.h"
#include "remote_sse_server.h"
#include "tools/sandbox.h"

namespace v4rt::testing::code {
namespace {

namespace fs = std::filesystem;

const std::string kKey = "sk-e2e-KEY-d41d8cd98f00b204e980";

const char kCalc[] = "add() {\n  echo $(( $1 - $2 ))\n}\n";
const char kTest[] =
    "#!/bin/sh\n. ./calc.sh\nr=$(add 2 3)\nif [ \"$r\" = 5 ]; then echo PASS; else echo \"FAIL: add 2 3 = $r\"; exit 1; fi\n";

class RemoteCodeE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    repo_ = dir_.path() / "repo";
    state_ = dir_.path() / "state";
  }
  void need_sandbox() {
    if (!tools::Sandbox::probe().ok())
      GTEST_SKIP() << "bwrap cannot create namespaces here: " << tools::Sandbox::probe().message();
  }
  CommandResult run(const std::string& backend, const std::string& extra = "") {
    return run_command("env OPENAI_API_KEY=" + shell_quote(kKey) + " " + shell_quote(v4rt_binary().string()) +
                       " code -p 'fix the tests' --backend " + shell_quote(backend) + " --workspace " +
                       shell_quote(repo_.string()) + " --state-dir " + shell_quote(state_.string()) +
                       " --remote-model deepseek-v4 --output-format stream-json " + extra);
  }
  // The key appears nowhere: stdout, stderr, every file of the state dir and the workspace.
  void expect_key_nowhere(const CommandResult& r) {
    EXPECT_EQ(r.out.find(kKey), std::string::npos);
    EXPECT_EQ(r.err.find(kKey), std::string::npos);
    for (const fs::path& root : {state_, repo_}) {
      if (!fs::exists(root)) continue;
      for (const auto& e : fs::recursive_directory_iterator(root))
        if (e.is_regular_file()) {
          EXPECT_EQ(get(e.path()).find(kKey), std::string::npos) << e.path();
        }
    }
  }
  TempDir dir_;
  fs::path repo_, state_;
};

// A DSML turn as a server streams it: EOS removed (finish_reason "stop" ends
// the turn), cut into pieces of about 7 bytes that split DSML markers (JSON
// strings hold whole UTF-8 characters, so a cut never falls inside one).
std::vector<std::string> pieces_of(std::string turn_text) {
  turn_text.resize(turn_text.size() - kEos.size());
  std::vector<std::string> out;
  for (size_t i = 0; i < turn_text.size();) {
    size_t j = std::min(turn_text.size(), i + 7);
    while (j < turn_text.size() && (static_cast<unsigned char>(turn_text[j]) & 0xC0) == 0x80) ++j;
    out.push_back(turn_text.substr(i, j - i));
    i = j;
  }
  return out;
}

void expect_task_done(const CommandResult& r, const fs::path& repo) {
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_EQ(get(repo / "calc.sh"), "add() {\n  echo $(( $1 + $2 ))\n}\n");
  auto ev = events(r.out);
  auto results = of_type(ev, "tool_result");
  ASSERT_EQ(results.size(), 5u) << r.out;
  for (const auto& res : results) EXPECT_FALSE(res["is_error"].get<bool>()) << res.dump();
  EXPECT_NE(results[2]["output"].get<std::string>().find("FAIL: add 2 3 = 6"), std::string::npos);
  EXPECT_NE(results[4]["output"].get<std::string>().find("PASS"), std::string::npos);
  auto done = of_type(ev, "done");
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0]["stop_reason"], "answered");
  EXPECT_EQ(done[0]["steps"], 6);
}

TEST_F(RemoteCodeE2E, CompletionsBackendFixesTheBugWithByteStablePrompts) {
  need_sandbox();
  if (IsSkipped()) return;  // GTEST_SKIP in a helper returns from the helper only
  make_git_repo(repo_, {{"calc.sh", kCalc}, {"test.sh", kTest}});
  std::vector<std::string> turns = {
      turn("Look at the code first.", "", {{"read", {{"path", "calc.sh"}}}}),
      turn("The sign is wrong; try a fix.", "", {{"edit", {{"path", "calc.sh"}, {"old", "$1 - $2"}, {"new", "$1 * $2"}}}}),
      turn("Run the tests.", "", {{"shell", {{"command", "sh test.sh"}}}}),
      turn("6 is wrong; line 2 must add.", "",
           {{"edit", {{"path", "calc.sh"}, {"start_line", "2", false}, {"end_line", "2", false},
                      {"new", "  echo $(( $1 + $2 ))"}}}}),
      turn("Run them again.", "", {{"shell", {{"command", "sh test.sh"}, {"timeout", "30", false}}}}),
      turn("Done.", "Fixed add() in calc.sh: it subtracted; the test passes now."),
  };
  std::vector<ScriptedReply> replies;
  for (size_t i = 0; i < turns.size(); ++i) {
    if (i == 1) replies.push_back(error_reply(429, "rate limited", {{"Retry-After", "1"}}));
    if (i == 3) replies.push_back(error_reply(500, "internal error"));
    // The server reports the previous turn's prompt as cached (100 * i tokens).
    replies.push_back(completions_reply(pieces_of(turns[i]), "stop", 100 * (static_cast<int64_t>(i) + 1), 20,
                                        100 * static_cast<int64_t>(i)));
  }
  ScriptedServer server(replies);
  auto r = run("openai-completions:" + server.url());
  expect_task_done(r, repo_);
  expect_key_nowhere(r);
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 8u);  // 6 turns + the 429 + the 500, each re-sent once
  for (const auto& q : reqs) {
    EXPECT_EQ(q.path, "/v1/completions");
    EXPECT_EQ(q.authorization, "Bearer " + kKey);
  }
  // Byte-stable prompts: each turn's prompt extends the last one by the turn's own output.
  std::vector<std::string> prompts;
  for (size_t i = 0; i < reqs.size(); ++i) {
    if (i == 1 || i == 4) continue;  // the refused tries (same body as the retry)
    prompts.push_back(reqs[i].json()["prompt"].get<std::string>());
  }
  ASSERT_EQ(prompts.size(), 6u);
  for (size_t i = 1; i < prompts.size(); ++i) {
    std::string expect_prefix = prompts[i - 1] + turns[i - 1];
    EXPECT_EQ(prompts[i].compare(0, expect_prefix.size(), expect_prefix), 0) << "turn " << i;
  }
  EXPECT_EQ(reqs[1].body, reqs[2].body);  // the 429'd request was re-sent unchanged
  // Accounting: the server's cached tokens as reused tokens; ttft and retries per turn.
  auto ends = of_type(events(r.out), "turn_end");
  ASSERT_EQ(ends.size(), 6u);
  for (size_t i = 0; i < ends.size(); ++i) {
    EXPECT_EQ(ends[i]["reused_tokens"], 100 * static_cast<int64_t>(i)) << ends[i].dump();
    EXPECT_EQ(ends[i]["prompt_tokens"], 100 * (static_cast<int64_t>(i) + 1));
    EXPECT_EQ(ends[i]["generated_tokens"], 20);
    EXPECT_TRUE(ends[i].contains("ttft_s")) << ends[i].dump();
  }
  EXPECT_EQ(ends[1]["retries"], 1);
  EXPECT_EQ(ends[3]["retries"], 1);
  auto done = of_type(events(r.out), "done");
  EXPECT_EQ(done[0]["reused_tokens"], 1500);
}

TEST_F(RemoteCodeE2E, ChatBackendFixesTheBugWithStreamedToolCallDeltas) {
  need_sandbox();
  if (IsSkipped()) return;  // GTEST_SKIP in a helper returns from the helper only
  make_git_repo(repo_, {{"calc.sh", kCalc}, {"test.sh", kTest}});
  std::vector<ScriptedReply> replies = {
      chat_reply({"Look at ", "the code."}, {}, {{"call_r1", "read", {"{\"path\":", " \"calc.sh\"}"}}}, 100, 10, 0),
      error_reply(429, "rate limited", {{"Retry-After", "1"}}),
      chat_reply({"Wrong sign."}, {}, {{"call_e1", "edit", {"{\"path\": \"calc.sh\", \"old\": \"$1 ", "- $2\", \"new\": \"$1 * $2\"}"}}},
                 200, 10, 100),
      chat_reply({"Test."}, {}, {{"call_s1", "shell", {"{\"command\"", ": \"sh test.sh\"}"}}}, 300, 10, 200),
      error_reply(502, "bad gateway"),
      chat_reply({"Must add."}, {},
                 {{"call_e2", "edit", {"{\"path\": \"calc.sh\", \"start_line\": 2, ", "\"end_line\": 2, \"new\": \"  echo $(( $1 + $2 ))\"}"}}},
                 400, 10, 300),
      chat_reply({"Again."}, {}, {{"call_s2", "shell", {"{\"command\": \"sh test.sh\", \"timeout\": 30}"}}}, 500, 10, 400),
      chat_reply({"Done."}, {"Fixed add() ", "in calc.sh."}, {}, 600, 10, 500),
  };
  ScriptedServer server(replies);
  auto r = run("openai-chat:" + server.url() + "/v1");
  expect_task_done(r, repo_);
  expect_key_nowhere(r);
  auto ev = events(r.out);
  auto calls = of_type(ev, "tool_call");
  ASSERT_EQ(calls.size(), 5u);
  EXPECT_EQ(calls[0]["id"], "call_r1");  // the server's ids order the results
  EXPECT_EQ(calls[0]["arguments"]["path"], "calc.sh");
  EXPECT_EQ(calls[3]["arguments"]["start_line"], 2);
  std::string reasoning, text;
  for (const auto& e : of_type(ev, "reasoning")) reasoning += e["text"].get<std::string>();
  for (const auto& e : of_type(ev, "text")) text += e["text"].get<std::string>();
  EXPECT_NE(reasoning.find("Look at the code."), std::string::npos);
  EXPECT_EQ(text, "Fixed add() in calc.sh.");
  EXPECT_EQ(of_type(ev, "done")[0]["result"], "Fixed add() in calc.sh.");
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 8u);
  // The last request carries the whole conversation as OpenAI messages.
  auto last = reqs.back().json();
  EXPECT_EQ(last["model"], "deepseek-v4");
  ASSERT_TRUE(last["tools"].is_array());
  const auto& msgs = last["messages"];
  int tool_results = 0;
  for (const auto& m : msgs) {
    EXPECT_FALSE(m.contains("raw"));
    if (m["role"] == "tool") {
      ++tool_results;
      EXPECT_EQ(m["tool_call_id"].get<std::string>().rfind("call_", 0), 0u);
    }
  }
  EXPECT_EQ(tool_results, 5);
  auto ends = of_type(ev, "turn_end");
  ASSERT_EQ(ends.size(), 6u);
  EXPECT_EQ(ends[5]["reused_tokens"], 500);
}

TEST_F(RemoteCodeE2E, AnthropicBackendFixesTheBugWithToolUseBlocks) {
  need_sandbox();
  if (IsSkipped()) return;  // GTEST_SKIP in a helper returns from the helper only
  make_git_repo(repo_, {{"calc.sh", kCalc}, {"test.sh", kTest}});
  std::vector<ScriptedReply> replies = {
      anthropic_reply({"Look at ", "the code."}, {}, {{"toolu_1", "read", {"{\"path\":", " \"calc.sh\"}"}}}, 100, 10, 0),
      error_reply(529, "overloaded"),
      anthropic_reply({"Wrong sign."}, {}, {{"toolu_2", "edit", {"{\"path\": \"calc.sh\", \"old\": \"$1 ", "- $2\", \"new\": \"$1 * $2\"}"}}},
                      20, 10, 100),
      anthropic_reply({"Test."}, {}, {{"toolu_3", "shell", {"{\"command\"", ": \"sh test.sh\"}"}}}, 20, 10, 200),
      anthropic_reply({"Must add."}, {},
                      {{"toolu_4", "edit", {"{\"path\": \"calc.sh\", \"start_line\": 2, ", "\"end_line\": 2, \"new\": \"  echo $(( $1 + $2 ))\"}"}}},
                      20, 10, 300),
      anthropic_reply({"Again."}, {}, {{"toolu_5", "shell", {"{\"command\": \"sh test.sh\", \"timeout\": 30}"}}}, 20, 10, 400),
      anthropic_reply({"Done."}, {"Fixed add() ", "in calc.sh."}, {}, 20, 10, 500),
  };
  ScriptedServer server(replies);
  auto r = run_command("env ANTHROPIC_API_KEY=" + shell_quote(kKey) + " " + shell_quote(v4rt_binary().string()) +
                       " code -p 'fix the tests' --backend " + shell_quote("anthropic:" + server.url()) +
                       " --workspace " + shell_quote(repo_.string()) + " --state-dir " + shell_quote(state_.string()) +
                       " --remote-model deepseek-v4 --output-format stream-json");
  expect_task_done(r, repo_);
  expect_key_nowhere(r);
  auto ev = events(r.out);
  EXPECT_EQ(of_type(ev, "tool_call")[0]["id"], "toolu_1");
  EXPECT_EQ(of_type(ev, "done")[0]["result"], "Fixed add() in calc.sh.");
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 7u);
  EXPECT_EQ(reqs[0].path, "/v1/messages");
  EXPECT_EQ(reqs[0].x_api_key, kKey);
  auto last = reqs.back().json();
  EXPECT_TRUE(last["system"].is_string());
  EXPECT_EQ(last["tools"][0]["input_schema"]["type"], "object");
  // Tool results go back as tool_result blocks naming the tool_use ids.
  int results = 0;
  for (const auto& m : last["messages"])
    for (const auto& b : m["content"])
      if (b["type"] == "tool_result") {
        ++results;
        EXPECT_EQ(m["role"], "user");
        EXPECT_EQ(b["tool_use_id"].get<std::string>().rfind("toolu_", 0), 0u);
      }
  EXPECT_EQ(results, 5);
  auto ends = of_type(ev, "turn_end");
  ASSERT_EQ(ends.size(), 6u);
  EXPECT_EQ(ends[5]["reused_tokens"], 500);
  EXPECT_EQ(ends[5]["prompt_tokens"], 520);  // input_tokens excludes the cached part
  EXPECT_EQ(ends[1]["retries"], 1);
}

// The key is gone from v4rt's environment before any tool runs: even an
// unsandboxed command that prints its environment does not see it.
TEST_F(RemoteCodeE2E, ToolsNeverSeeTheKey) {
  make_git_repo(repo_, {{"calc.sh", kCalc}});
  ScriptedServer server({chat_reply({"Check."}, {}, {{"call_env", "shell", {"{\"command\": \"env\"}"}}}, 10, 1, 0),
                         chat_reply({}, {"ok"}, {}, 20, 1, 10)});
  auto r = run("openai-chat:" + server.url(), "--unsandboxed --allow 'shell(env)'");
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  auto results = of_type(events(r.out), "tool_result");
  ASSERT_EQ(results.size(), 1u) << r.out;
  EXPECT_FALSE(results[0]["is_error"].get<bool>()) << results[0].dump();
  EXPECT_NE(results[0]["output"].get<std::string>().find("PATH="), std::string::npos) << results[0].dump();
  EXPECT_EQ(results[0]["output"].get<std::string>().find("OPENAI_API_KEY"), std::string::npos);
  expect_key_nowhere(r);
  EXPECT_EQ(server.requests().at(0).authorization, "Bearer " + kKey);
}

TEST_F(RemoteCodeE2E, UnauthorizedIsAClearErrorWithoutTheKey) {
  make_git_repo(repo_, {{"calc.sh", kCalc}});
  ScriptedServer server({error_reply(401, "Incorrect API key provided: " + kKey)});
  auto r = run("openai-chat:" + server.url());
  EXPECT_EQ(r.exit_code, 1) << r.err << r.out;
  EXPECT_NE((r.err + r.out).find("HTTP 401"), std::string::npos) << r.err << r.out;
  EXPECT_NE((r.err + r.out).find("$OPENAI_API_KEY"), std::string::npos) << r.err << r.out;
  expect_key_nowhere(r);
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST_F(RemoteCodeE2E, DroppedStreamStopsTheTaskWithoutResending) {
  make_git_repo(repo_, {{"calc.sh", kCalc}});
  ScriptedReply dropped = completions_reply(pieces_of(turn("Reading", "")), "stop", 10, 1, 0);
  dropped.chunks.resize(2);
  dropped.drop_after_chunks = true;
  ScriptedServer server({dropped, completions_reply({"never"}, "stop", 1, 1, 0)});
  auto r = run("openai-completions:" + server.url());
  EXPECT_EQ(r.exit_code, 1) << r.err << r.out;
  auto done = of_type(events(r.out), "done");
  ASSERT_EQ(done.size(), 1u) << r.out;
  EXPECT_EQ(done[0]["stop_reason"], "backend_error");
  EXPECT_NE(done[0]["error"].get<std::string>().find("mid-stream"), std::string::npos) << done[0].dump();
  EXPECT_EQ(server.requests().size(), 1u);
  expect_key_nowhere(r);
}

TEST_F(RemoteCodeE2E, SilentServerTimesOut) {
  make_git_repo(repo_, {{"calc.sh", kCalc}});
  ScriptedReply silent = completions_reply({"late"}, "stop", 1, 1, 0);
  silent.hang_s = 20;
  ScriptedServer server({silent});
  auto t0 = std::chrono::steady_clock::now();
  auto r = run("openai-completions:" + server.url(), "--request-timeout-s 1");
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(r.exit_code, 1) << r.err << r.out;
  EXPECT_LT(took, 10);
  auto done = of_type(events(r.out), "done");
  ASSERT_EQ(done.size(), 1u) << r.out;
  EXPECT_NE(done[0]["error"].get<std::string>().find("no answer within"), std::string::npos) << done[0].dump();
}

}  // namespace
}  // namespace v4rt::testing::code
