#include "runtime/scheduler.h"

#include <chrono>
#include <string>
#include <utility>

namespace v4rt::runtime {

std::optional<Result<GenerateResult>> Ticket::wait_for(int64_t timeout_ms) {
  std::unique_lock<std::mutex> lock(mu_);
  if (!cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return result_.has_value(); }))
    return std::nullopt;
  return *result_;
}

bool Ticket::done() const {
  std::lock_guard<std::mutex> lock(mu_);
  return result_.has_value();
}

Scheduler::Scheduler(Engine& engine, size_t max_queue)
    : engine_(engine), max_queue_(max_queue == 0 ? 1 : max_queue) {
  worker_ = std::jthread([this](std::stop_token st) { run(st); });
}

Scheduler::~Scheduler() {
  drain();
  {
    std::lock_guard<std::mutex> lock(mu_);
    worker_.request_stop();
  }
  cv_.notify_all();
}

Result<std::shared_ptr<Ticket>> Scheduler::submit(GenerateRequest request, Callbacks callbacks,
                                                  std::function<void()> on_done) {
  auto t = std::make_shared<Ticket>();
  t->on_done_ = std::move(on_done);
  t->request_ = std::move(request);
  t->callbacks_ = std::move(callbacks);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (draining_) return Status::Cancelled("the server is shutting down; retry against another instance");
    if (queue_.size() >= max_queue_) {
      ++rejected_;
      return Status::ResourceExhausted("the request queue is full (" + std::to_string(max_queue_) +
                                       " waiting); retry later");
    }
    queue_.push_back(t);
  }
  cv_.notify_all();
  return t;
}

void Scheduler::drain() {
  std::unique_lock<std::mutex> lock(mu_);
  draining_ = true;
  idle_cv_.wait(lock, [&] { return queue_.empty() && !running_; });
}

SchedulerStats Scheduler::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return {queue_.size(), running_, completed_, rejected_};
}

void Scheduler::run(std::stop_token stop) {
  for (;;) {
    std::shared_ptr<Ticket> t;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stop.stop_requested() || !queue_.empty(); });
      if (queue_.empty()) return;  // stop requested and nothing left
      t = std::move(queue_.front());
      queue_.pop_front();
      running_ = true;
    }
    Result<GenerateResult> r = Status::Cancelled("the request was cancelled before it ran");
    if (!t->stop_.stop_requested()) r = engine_.generate(t->request_, t->callbacks_, t->stop_.get_token());
    {
      std::lock_guard<std::mutex> lock(t->mu_);
      t->result_ = std::move(r);
    }
    t->cv_.notify_all();
    t->callbacks_ = {};
    if (t->on_done_) t->on_done_();
    t->on_done_ = nullptr;
    {
      std::lock_guard<std::mutex> lock(mu_);
      running_ = false;
      ++completed_;
      if (queue_.empty()) idle_cv_.notify_all();
    }
  }
}

}  // namespace v4rt::runtime
