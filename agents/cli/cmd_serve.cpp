// `v4rt serve`: the OpenAI- and Anthropic-compatible HTTP server on a local
// checkpoint (runtime/server/). Loads the engine, opens the session store
// (prefix cache across requests and restarts), binds 127.0.0.1 by default and
// serves until SIGTERM/SIGINT, which drains running requests and exits 0.
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include "agents/cli/commands.h"
#include "agents/cli/flags.h"
#include "base/state_dirs.h"
#include "base/thread_pool.h"
#include "runtime/engine.h"
#include "runtime/scheduler.h"
#include "runtime/server/http_server.h"

namespace v4rt::cli {

namespace {

std::atomic<int> g_stop_signals{0};  // the one mutable global: a signal handler needs it
void on_stop_signal(int) { g_stop_signals.fetch_add(1); }

}  // namespace

int cmd_serve(int argc, char** argv) {
  std::string model, tokenizer, store, host = "127.0.0.1", api_key_env, model_name;
  bool no_store = false, no_mtp = false, no_access_log = false;
  int port = 8080, threads = 0, max_queue = 16, timeout = 600, max_tokens = 2048, drain = 30, max_body_mb = 8;
  FlagSet f("v4rt serve --model DIR [flags]",
            "Serves the checkpoint over HTTP: OpenAI POST /v1/chat/completions, /v1/completions, GET /v1/models; "
            "Anthropic POST /v1/messages, /v1/messages/count_tokens; GET /health, /metrics. Requests run one at a "
            "time in arrival order; a request whose prompt extends an earlier one (this run or, with the store, an "
            "earlier run) reuses its computed prefix and reports it as cached tokens. docs/serve.md.",
            "v4rt serve --model ./ckpt --port 8080 --api-key-env V4RT_API_KEY");
  f.add_string("model", &model, "checkpoint directory", "DIR", "V4RT_MODEL");
  f.add_string("tokenizer", &tokenizer, "tokenizer.json when the checkpoint has none", "PATH");
  f.add_string("store", &store, "session store directory (default: $XDG_DATA_HOME/v4rt/store)", "DIR", "V4RT_STORE");
  f.add_bool("no-store", &no_store, "no session store (prefix reuse only from the last request's warm state)");
  f.add_string("host", &host, "address to bind (default 127.0.0.1; anything else exposes the model)", "ADDR");
  f.add_int("port", &port, "port to bind (0: any free port; the chosen one is printed)");
  f.add_string("api-key-env", &api_key_env,
               "name of the environment variable holding the API key clients must send (Bearer or x-api-key)",
               "NAME");
  f.add_string("model-name", &model_name, "model id reported by /v1/models (default: the checkpoint folder name)");
  f.add_int("threads", &threads, "engine worker threads (0: one per hardware thread)", "V4RT_THREADS");
  f.add_int("max-queue", &max_queue, "requests that may wait for the engine; more get 429 (default 16)");
  f.add_int("max-body-mb", &max_body_mb, "largest request body in MiB; larger gets 413 (default 8)");
  f.add_int("request-timeout", &timeout, "seconds a request may take from arrival to its last token (default 600)");
  f.add_int("default-max-tokens", &max_tokens, "max_tokens of OpenAI requests that give none (default 2048)");
  f.add_int("drain-timeout", &drain, "seconds SIGTERM waits for running requests before cancelling them (default 30)");
  f.add_bool("no-mtp", &no_mtp, "do not draft with the MTP block");
  f.add_bool("no-access-log", &no_access_log, "no JSON access-log line per request on stderr");
  if (Status s = f.parse(argc, argv); !s.ok()) return report(s, "v4rt serve --help");
  if (f.help_requested()) {
    std::printf("%s", f.help().c_str());
    return 0;
  }
  if (model.empty()) return report(Status::InvalidArgument("--model DIR is required (or set V4RT_MODEL)"));
  if (port < 0 || port > 65535) return report(Status::InvalidArgument("--port must be in [0, 65535]"));
  if (max_queue < 1 || timeout < 1 || max_tokens < 0 || drain < 0 || max_body_mb < 1)
    return report(Status::InvalidArgument(
        "--max-queue, --request-timeout and --max-body-mb must be >= 1; --default-max-tokens, --drain-timeout >= 0"));

  runtime::server::ServerOptions so;
  so.host = host;
  so.port = port;
  so.max_queue = static_cast<size_t>(max_queue);
  so.max_body_bytes = static_cast<size_t>(max_body_mb) << 20;
  so.request_timeout_s = timeout;
  so.default_max_tokens = max_tokens;
  so.drain_timeout_s = drain;
  so.access_log = !no_access_log;
  if (!api_key_env.empty()) {
    const char* key = std::getenv(api_key_env.c_str());
    if (!key || !*key)
      return report(Status::InvalidArgument("--api-key-env " + api_key_env +
                                            ": the variable is unset or empty; export the key in it first"));
    so.api_key = key;
  }
  so.model_name = model_name.empty() ? std::filesystem::path(model).lexically_normal().filename().string() : model_name;
  if (so.model_name.empty()) so.model_name = std::filesystem::absolute(model).parent_path().filename().string();
  if (so.api_key.empty() && host != "127.0.0.1" && host != "localhost" && host != "::1")
    std::fprintf(stderr, "v4rt serve: warning: listening on %s without --api-key-env: anyone who can reach it can use the model\n",
                 host.c_str());

  runtime::EngineOptions eo;
  eo.model_dir = model;
  eo.tokenizer = tokenizer;
  eo.use_mtp = !no_mtp;
  if (!no_store) eo.store_dir = store.empty() ? default_store_dir() : std::filesystem::path(store);
  ThreadPool pool(threads);
  auto engine = runtime::Engine::create(eo, pool);
  if (!engine.ok()) return report(engine.status());
  if (!(*engine)->tokenizer())
    return report(Status::InvalidArgument("the checkpoint has no tokenizer.json; pass --tokenizer PATH"));

  runtime::Scheduler scheduler(**engine, so.max_queue);
  runtime::server::HttpServer server(so, scheduler);
  auto bound = server.bind();
  if (!bound.ok()) return report(bound.status());

  g_stop_signals = 0;
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
  std::jthread watcher([&server](std::stop_token st) {
    while (!st.stop_requested()) {
      if (g_stop_signals.load() > 0) {
        std::fprintf(stderr, "v4rt serve: stopping: draining running requests\n");
        server.shutdown();
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  std::fprintf(stderr, "v4rt serve: model %s, store %s, listening on http://%s:%d\n", so.model_name.c_str(),
               eo.store_dir.empty() ? "(none)" : eo.store_dir.c_str(), host.c_str(), *bound);
  std::fflush(stderr);
  Status s = server.run();
  watcher.request_stop();
  watcher.join();
  server.shutdown();
  if (!s.ok()) return report(s);
  std::fprintf(stderr, "v4rt serve: stopped\n");
  return 0;
}

}  // namespace v4rt::cli
