// Scheduler: runs generation requests from many threads through one Engine.
// A single worker thread owns the engine; requests wait in a bounded FIFO
// queue and run one at a time to completion, in arrival order (fair: no
// request is overtaken). submit() refuses a request when the queue is full
// (ResourceExhausted: the server answers 429) or after drain() began
// (Unavailable as Cancelled). Each request carries its own stop_source: a
// queued request that is cancelled is dropped without running, a running one
// stops between prefill chunks / decode steps (Engine cancellation).
//
// Callbacks of a request run on the worker thread. Thread-safe.
//
// Not done (issue 13, item 1): interleaving the chunked prefill of one
// request with the decode of others, and one batched forward for all running
// sequences; both need the engine split into prefill/decode steps per
// sequence (see docs/serve.md, "Concurrency").
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <thread>

#include "runtime/engine.h"

namespace v4rt::runtime {

// One submitted request: its outcome and its cancellation handle.
class Ticket {
 public:
  // Asks the request to stop (queued: never runs; running: stops at the next step).
  void cancel() { stop_.request_stop(); }
  bool cancelled() const { return stop_.stop_requested(); }
  // Blocks until the request finished or `timeout_ms` passed (nullopt then).
  std::optional<Result<GenerateResult>> wait_for(int64_t timeout_ms);
  bool done() const;

 private:
  friend class Scheduler;
  GenerateRequest request_;
  Callbacks callbacks_;
  std::function<void()> on_done_;
  std::stop_source stop_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::optional<Result<GenerateResult>> result_;
};

struct SchedulerStats {
  size_t queued = 0;       // waiting, not yet running
  bool running = false;    // a request is on the engine now
  uint64_t completed = 0;  // requests finished (any outcome)
  uint64_t rejected = 0;   // refused because the queue was full
};

class Scheduler {
 public:
  // engine is borrowed and must outlive the scheduler; max_queue >= 1 is how
  // many requests may wait (the running one excluded).
  Scheduler(Engine& engine, size_t max_queue);
  ~Scheduler();  // drains (waits for queued and running requests)
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // on_done (optional) runs on the worker thread once the result is set;
  // the callbacks are released then (they may own the ticket's waiter).
  Result<std::shared_ptr<Ticket>> submit(GenerateRequest request, Callbacks callbacks,
                                         std::function<void()> on_done = {});
  // Stops accepting requests and waits until every accepted one finished.
  void drain();
  SchedulerStats stats() const;
  Engine& engine() { return engine_; }

 private:
  void run(std::stop_token stop);

  Engine& engine_;
  const size_t max_queue_;
  mutable std::mutex mu_;
  std::condition_variable cv_;       // work arrived / stop
  std::condition_variable idle_cv_;  // queue empty and nothing running
  std::deque<std::shared_ptr<Ticket>> queue_;
  bool running_ = false;
  bool draining_ = false;
  uint64_t completed_ = 0, rejected_ = 0;
  std::jthread worker_;
};

}  // namespace v4rt::runtime
