// `v4rt generate`: one completion from a local checkpoint, streamed to stdout.
// With a session store (default: $XDG_DATA_HOME/v4rt/store) the longest cached
// prefix is restored first and the state is saved after the prefill and at the
// end; --session NAME continues a named session (the prompt is what follows
// the session's text so far).
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <iterator>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "agents/cli/commands.h"
#include "agents/cli/flags.h"
#include "agents/cli/generate_flags.h"
#include "agents/cli/progress_bar.h"
#include "base/file_util.h"
#include "base/thread_pool.h"
#include "runtime/engine.h"

namespace v4rt::cli {

namespace fs = std::filesystem;

namespace {

Result<std::string> read_prompt(const std::string& prompt, const std::string& file) {
  if (!prompt.empty() && !file.empty())
    return Status::InvalidArgument("give either --prompt or --prompt-file, not both");
  if (file.empty()) return prompt;
  if (file == "-") return std::string(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  return read_file(file);
}

// Ctrl+C: the first press stops the generation (what was produced is kept and
// printed); a second press exits with 130 at once. The handler only touches a
// lock-free atomic; a watcher thread turns it into a stop request.
std::atomic<int> g_sigints{0};  // the one mutable global: a signal handler needs it
void on_sigint(int) {
  if (g_sigints.fetch_add(1) > 0) _exit(130);
}

class SigintStop {
 public:
  SigintStop() {
    g_sigints = 0;
    struct sigaction sa {};
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_);
    watcher_ = std::jthread([this](std::stop_token st) {
      while (!st.stop_requested()) {
        if (g_sigints.load() > 0) source_.request_stop();
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    });
  }
  ~SigintStop() {
    watcher_.request_stop();
    watcher_.join();
    sigaction(SIGINT, &old_, nullptr);
  }
  SigintStop(const SigintStop&) = delete;
  SigintStop& operator=(const SigintStop&) = delete;
  std::stop_token token() const { return source_.get_token(); }

 private:
  struct sigaction old_ {};
  std::stop_source source_;
  std::jthread watcher_;
};

}  // namespace

int cmd_generate(int argc, char** argv) {
  FlagSet flags("v4rt generate --model DIR (--prompt TEXT | --prompt-file F) [flags]",
                "Generate text with a local DeepSeek-V4 checkpoint. Text streams to stdout; with --json, JSON Lines: "
                "{\"type\":\"token\",\"text\":...} per piece and a final {\"type\":\"result\",...} with token counts "
                "(prompt, reused from the store, prefilled, generated) and timings. The longest prefix already in the "
                "session store is restored instead of recomputed. --session NAME continues a named session: the "
                "prompt is only the text that FOLLOWS the session so far (never the whole text again). "
                "--max-tokens 0 prefills and saves without generating. The prompt is raw: special-token text in it "
                "(<\uFF5CUser\uFF5C>, </think>, ...) is encoded as special tokens, so never paste untrusted text into it "
                "(v4rt code encodes files, tool results and the task literally).",
                "v4rt generate --model /tmp/v4-small --prompt 'Once upon a time' --max-tokens 64 --temperature 0");
  GenerateFlags g;
  std::string prompt, prompt_file;
  bool json_out = false, stats = false, quiet = false;
  g.declare(flags);
  flags.add_string("prompt", &prompt, "prompt text", "TEXT");
  flags.add_string("prompt-file", &prompt_file, "read the prompt from a file ('-' = stdin)", "F");
  flags.add_bool("json", &json_out, "JSON Lines on stdout (pieces, then a result object)");
  flags.add_bool("stats", &stats, "print token counts and speeds on stderr at the end");
  flags.add_bool("quiet", &quiet, "no progress or warnings on stderr");
  if (Status s = flags.parse(argc, argv); !s.ok()) return report(s, "v4rt generate --help");
  if (flags.help_requested()) {
    std::fputs(flags.help().c_str(), stdout);
    return 0;
  }
  if (!flags.positional().empty())
    return report(Status::InvalidArgument("unexpected argument '" + flags.positional()[0] + "'"),
                  "v4rt generate --help");
  auto text = read_prompt(prompt, prompt_file);
  if (!text.ok()) return report(text.status(), "v4rt generate --help");
  if (text->empty() && g.session.empty() && g.max_tokens > 0)
    return report(Status::InvalidArgument("no prompt: pass --prompt TEXT or --prompt-file F"), "v4rt generate --help");

  runtime::EngineOptions eo;
  runtime::GenerateRequest req;
  if (Status s = g.to_options(flags, eo, req); !s.ok()) return report(s, "v4rt generate --help");
  req.text = *text;

  const bool tty = isatty(fileno(stderr)) != 0;
  ThreadPool pool(g.threads);
  auto engine = runtime::Engine::create(eo, pool);
  if (!engine.ok()) return report(engine.status());

  ProgressBar bar(stderr, tty, quiet);
  runtime::Callbacks cb;
  cb.on_progress = [&](std::string_view phase, uint64_t done, uint64_t total) {
    // The store reports restore/save in blocks, the engine's prefill in tokens.
    return bar.update(phase, done, total, phase == "prefill" ? ProgressBar::Unit::kTokens : ProgressBar::Unit::kBlocks);
  };
  bool wrote_text = false;
  char last = '\n';
  cb.on_text = [&](std::string_view piece) {
    bar.finish();
    if (json_out) {
      nlohmann::json j = {{"type", "token"}, {"text", std::string(piece)}};
      std::printf("%s\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    } else {
      std::fwrite(piece.data(), 1, piece.size(), stdout);
      wrote_text = true;
      last = piece.back();
    }
    std::fflush(stdout);
    return true;
  };
  SigintStop interrupts;
  auto r = (*engine)->generate(req, cb, interrupts.token());
  bar.finish();
  if (!r.ok()) return report(r.status());
  if (!quiet)
    for (const auto& w : r->warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
  const auto& st = r->stats;
  if (json_out) {
    nlohmann::ordered_json j;
    j["type"] = "result";
    j["text"] = r->text;
    j["tokens"] = r->tokens;
    j["stop_reason"] = runtime::stop_reason_name(r->stop_reason);
    j["prompt_tokens"] = st.prompt_tokens;
    j["reused_tokens"] = st.reused_tokens;
    j["reused_from_store"] = st.reused_from_store;
    j["prefilled_tokens"] = st.prefilled_tokens;
    j["generated_tokens"] = st.generated_tokens;
    j["saved_points"] = st.saved_points;
    j["restore_s"] = st.restore_s;
    j["prefill_s"] = st.prefill_s;
    j["decode_s"] = st.decode_s;
    j["save_s"] = st.save_s;
    j["restored_bytes"] = st.restored_bytes;
    j["saved_bytes"] = st.saved_bytes;
    j["prefill_tok_s"] = st.prefill_tok_s();
    j["decode_tok_s"] = st.decode_tok_s();
    j["mtp_drafted"] = st.mtp_drafted;
    j["mtp_accepted"] = st.mtp_accepted;
    if (!g.session.empty()) j["session"] = g.session;
    std::printf("%s\n", j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace).c_str());
  } else if (wrote_text && last != '\n' && isatty(fileno(stdout))) {
    std::printf("\n");
  }
  std::fflush(stdout);
  if (stats || (tty && !quiet && !json_out)) {
    std::fprintf(stderr,
                 "prompt %lld tok (reused %lld, prefilled %lld in %.2fs, %.0f tok/s); generated %lld in %.2fs "
                 "(%.1f tok/s)",
                 static_cast<long long>(st.prompt_tokens), static_cast<long long>(st.reused_tokens),
                 static_cast<long long>(st.prefilled_tokens), st.prefill_s, st.prefill_tok_s(),
                 static_cast<long long>(st.generated_tokens), st.decode_s, st.decode_tok_s());
    if (st.mtp_drafted > 0)
      std::fprintf(stderr, "; MTP accepted %lld/%lld", static_cast<long long>(st.mtp_accepted),
                   static_cast<long long>(st.mtp_drafted));
    std::fprintf(stderr, "; stop: %s\n", runtime::stop_reason_name(r->stop_reason));
  }
  return r->stop_reason == runtime::StopReason::kCancelled ? 130 : 0;
}

}  // namespace v4rt::cli
